"""The judge's Python API: kinds, tolerances, shapes, known mistakes, definitions."""

from __future__ import annotations

import pytest

from dlquiz.judge import Mistake, UnusableKey, check, prepare


def test_shape_feedback_names_the_shapes() -> None:
    v = check("x.T", "x", vars=["x:3"])
    assert not v.equivalent
    assert v.feedback.startswith("your answer is 1x3, the answer is 3x1: transposed?")
    v = check("sum(x)", "x", vars=["x:3"])
    assert "a scalar" in v.feedback and "3x1 column" in v.feedback


def test_a_shape_error_inside_the_answer_is_a_wrong_answer_not_unreadable() -> None:
    v = check("W*z", "W@x", vars=["W:3x2", "x:2", "z:3"])
    assert not v.equivalent and not v.unusable and v.mistake == "shape"


def test_unknown_names_are_input_errors_not_new_variables() -> None:
    v = check("yaht - y", "yhat - y")
    assert v.unusable and "unknown name 'yaht'" in v.feedback


def test_domains_decide_equality() -> None:
    assert check("sqrt(x^2)", "x", vars=["x:positive"]).equivalent
    assert not check("sqrt(x^2)", "x", vars=["x"]).equivalent
    assert check("sqrt(p^2)", "p").equivalent  # p defaults to (0, 1)


def test_answers_equal_where_the_expected_one_is_defined() -> None:
    assert check("sqrt(2)/sqrt(n_in+n_out)", "sqrt(2/(n_in+n_out))").equivalent
    assert check("x", "sqrt(x)^2").equivalent  # the key is defined for x >= 0 only
    # ...but an answer undefined where the key is defined is wrong there
    assert not check("log(x)+log(y)", "log(x*y)").equivalent


def test_step_is_told_from_one_by_sampling_both_signs() -> None:
    for seedless_try in range(3):
        assert not check("1", "step(z)", vars=["z"]).equivalent, seedless_try


def test_numeric_tolerance_is_three_significant_figures() -> None:
    assert check("0.731", "1/(1+exp(-1))").equivalent
    assert not check("0.72", "1/(1+exp(-1))").equivalent
    assert check("0", "1e-9").equivalent  # near zero: absolute tolerance
    assert check("0.7", "1/(1+exp(-1))", tolerance=0.05).equivalent


def test_vectors_of_numbers_get_a_verdict_per_entry() -> None:
    v = check("[1, 2, 30]", "[1, 2, 3]")
    assert not v.equivalent
    assert v.entries == [[True], [True], [False]]
    assert v.score == pytest.approx(2 / 3)
    assert "wrong: 3" in v.feedback


def test_a_list_of_numbers_has_no_orientation() -> None:
    assert check("[1, 2, 3]", "[[1, 2, 3]]").equivalent


def test_integer_and_shape_and_choice_kinds() -> None:
    assert check("(28 + 2 - 3)/1 + 1", "28", kind="integer").equivalent
    assert not check("28.5", "28", kind="integer").equivalent
    assert check("[32, 14, 14]", "(32, 14, 14)", kind="shape").equivalent
    assert check("b", "B", kind="choice").equivalent
    assert check("(B)", "B", kind="choice").equivalent
    assert not check("A", "B", kind="choice").equivalent
    assert check("banana", "B", kind="choice").unusable


def test_known_mistakes_give_their_feedback_first() -> None:
    mistakes = [Mistake("lost-half", "(w*x - y)^2", "the 1/2 of the loss cancels the 2")]
    v = check("(w*x-y)^2", "(w*x-y)^2/2", mistakes=mistakes)
    assert v.mistake == "lost-half"
    assert v.feedback == "the 1/2 of the loss cancels the 2"
    as_dicts = [
        {"tag": "sigma-for-derivative", "answer": "sigmoid(z)", "feedback": "that is sigma"}
    ]
    assert check("sigmoid(z)", "sigmoid'(z)", mistakes=as_dicts).mistake == "sigma-for-derivative"


def test_definitions_let_answers_use_intermediate_names() -> None:
    defs = {"yhat": "w*x + b"}
    assert check("(yhat - y)*x", "(w*x + b - y)*x", definitions=defs).equivalent
    assert not check("(yhat - y)", "(w*x + b - y)*x", definitions=defs).equivalent


def test_an_unusable_key_raises() -> None:
    with pytest.raises(UnusableKey):
        check("x", "x +")
    with pytest.raises(UnusableKey):
        check("x", "x", vars=["x:0x3"])
    with pytest.raises(UnusableKey):
        check("1", "x", kind="number")


def test_empty_and_non_text_answers_are_unusable_not_crashes() -> None:
    assert check("   ", "x").unusable
    assert check(None, "x").unusable  # type: ignore[arg-type]


def test_prepared_keys_are_reused() -> None:
    key = prepare("(w*x - y)*x")
    assert check("x*(w*x - y)", key).equivalent
    assert not check("x*(w*x + y)", key).equivalent


def test_verdict_json() -> None:
    data = check("2*(w*x-y)*x", "(w*x-y)*x").to_json()
    assert data["equivalent"] is False
    assert data["mistake"] == "factor"
    assert "2 times" in data["feedback"]


def test_practice_and_grading_feedback_never_write_out_a_part_of_the_key() -> None:
    """A missing (or extra) term or factor is named by its variables, except in check."""
    from typer.testing import CliRunner

    from dlquiz.bank import Problem
    from dlquiz.cli import app

    cases = [  # answer, key, what the feedback must not contain, what it says instead
        ("w*x", "w*x + 3*b", "3*b", "a term in b is missing"),
        ("w*x + 7", "w*x", "7", "there is an extra constant term"),
        ("w*x + b*y", "w*x", "b*y", "there is an extra term in b, y"),
        ("x", "sigmoid(z)*x", "sigmoid(z)", "a factor in z is missing"),
    ]
    for answer, key, part, said in cases:
        problem = Problem(
            id="t/t", seed=0, topic="autograd", kind="expression", statement="",
            statement_latex="", answer=key, vars={n: "" for n in "wxbyz"},
        )  # fmt: skip
        feedback = problem.check(answer).feedback
        assert said in feedback and part not in feedback.replace(said, ""), feedback
        shown = CliRunner().invoke(app, ["check", answer, "-e", key, "--var", "w", "--var", "x",
                                         "--var", "b", "--var", "y", "--var", "z"])  # fmt: skip
        assert part in shown.output, shown.output  # check may: the user typed the key
