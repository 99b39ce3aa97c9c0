"""The template format: every feature on small templates, and every way to break one.

A template is data an instructor writes; these tests try what an instructor (or an
adversary) might write: a broken field must name the file and the field, a draw that can
never be met must stop at its limit, a mistake typed equal to the key must not vanish
silently, and the numbers in the prose and the key must be the formatter's.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlquiz.bank import families
from dlquiz.bank.family import FamilyError, kind_label
from dlquiz.bank.templates import TemplateFamily, load_templates
from dlquiz.bank.verify import verify_family

NUMBER = """\
title = "A number"
kind = "number"
statement = "With $a = {a}$ and $b = {b}$, compute {what}."
hints = ["Multiply."]
solution = "It is {= {key}}."

[params]
a = { int = [2, 9] }
b = { choice = ["0.5", "2", "3"] }
ask = { kind = [
    { ask = "product", what = "a b", key = "a*b" },
    { ask = "sum", what = "a + b", key = "a + b" },
] }

[answer]
value = "{key}"

[[mistakes]]
tag = "other"
answer = "a - b"
feedback = "Not a difference."

[[checks]]
use = "formula"
value = "{key}"
"""


def _family(tmp_path: Path, text: str, topic: str = "mlp", name: str = "t") -> TemplateFamily:
    folder = tmp_path / topic
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    family = load_templates(tmp_path)[f"{topic}/{name}"]
    assert isinstance(family, TemplateFamily)
    return family


def _error(tmp_path: Path, text: str, seed: int = 0) -> str:
    with pytest.raises(FamilyError) as info:
        _family(tmp_path, text).generate(seed)
    message = str(info.value)
    assert message.startswith("mlp/t.toml: "), message
    assert "Traceback" not in message
    return message


# --- errors name the file and the field ------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (('kind = "number"', 'kind = "poem"'), "kind"),
        (("[params]", "homework = 1\n[params]"), "homework"),
        (("[params]", "[params]\nz = { int = [1, 2], kind = [1] }"), "params.z"),
        (("a = { int = [2, 9] }", "a = { int = [9, 2] }"), "params.a.int"),
        (("a = { int = [2, 9] }", 'a = { int = [2, 9], choice = ["1"] }'), "params.a"),
        (("a = { int = [2, 9] }", 'a = { choice = ["1"], nonzero = true }'), "params.a.nonzero"),
        (("a = { int = [2, 9] }", "a = { int = [2, 9], step = 2 }"), "params.a.step"),
        (("a = { int = [2, 9] }", "answer = { int = [2, 9] }"), "params.answer"),
        (("a = { int = [2, 9] }", "exp = { int = [2, 9] }"), "params.exp"),
        (("a = { int = [2, 9] }", 'a = { vector = "0", int = [1, 2] }'), "params.a"),
        (("a = { int = [2, 9] }", 'a = { vector = "65", int = [1, 2] }'), "params.a"),
        (("a = { int = [2, 9] }", 'a = { matrix = "3y2", int = [1, 2] }'), "params.a"),
        (("a = { int = [2, 9] }", 'a = { vector = "2", choice = ["x", "y"] }'), "params.a"),
        (("a = { int = [2, 9] }", 'a = { int = [2, "q + 1"] }'), "params.a.int"),
        (('value = "{key}"', 'value = "{nope}"'), "answer.value"),
        (('value = "{key}"', 'value = "[a, b]"'), "answer.value"),
        (('value = "{key}"', 'valeur = "{key}"'), "answer.valeur"),
        (('answer = "a - b"', 'answer = "a -"'), "mistakes[0].answer"),
        (('feedback = "Not a difference."\n', ""), "mistakes[0].feedback"),
        (('use = "formula"', 'use = "oracle"'), "checks[0].use"),
        (('use = "formula"\nvalue = "{key}"', 'use = "formula"\nx = "{key}"'), "checks[0].x"),
        (('[[checks]]\nuse = "formula"\nvalue = "{key}"\n', ""), "checks"),
        (("[answer]", "[[options]]\ntext = 'x'\ncorrect = true\n[answer]"), "options"),
        (('statement = "', 'require = ["a"]\nstatement = "'), "require[0]"),
        (('statement = "', 'require = ["a < b < 3"]\nstatement = "'), "require[0]"),
        (
            ('statement = "', 'require = [{ holds = "a > 1", when = { c = "1" } }]\nstatement = "'),
            "require[0].when.c",
        ),
        (('statement = "', 'redraws = 0\nstatement = "'), "redraws"),
        (('statement = "', 'redraws = 100000\nstatement = "'), "redraws"),
        (("It is {= {key}}.", "It is {= {key} : 40}."), "solution"),
        (("It is {= {key}}.", "It is {= b/7 # unit}."), "solution"),
        (("compute {what}.", "compute {whot}."), "statement"),
        (('hints = ["Multiply."]', 'hints = [{ txt = "Multiply." }]'), "hints[0]"),
    ],
)
def test_a_broken_template_names_its_file_and_field(tmp_path: Path, change, field: str) -> None:
    old, new = change
    assert old in NUMBER
    message = _error(tmp_path, NUMBER.replace(old, new, 1))
    assert f"field '{field}'" in message, message


def test_the_good_template_builds_verifies_and_reports_its_kind(tmp_path: Path) -> None:
    family = _family(tmp_path, NUMBER)
    assert family.kinds == {"ask": ("product", "sum")}
    seen = set()
    for seed in range(20):
        p = family.generate(seed)
        seen.add(p.question_kind["ask"])
        a, b = (float(v) for v in (family.draw_params(seed)["a"], family.draw_params(seed)["b"]))
        expected = a * b if p.question_kind["ask"] == "product" else a + b
        assert float(p.answer) == pytest.approx(expected)
        assert p.to_json()["question_kind"] == p.question_kind
    assert seen == {"product", "sum"}


def test_a_require_no_draw_meets_stops_at_the_redraw_limit(tmp_path: Path) -> None:
    text = NUMBER.replace('statement = "', 'redraws = 50\nrequire = ["a > 100"]\nstatement = "')
    message = _error(tmp_path, text)
    assert "field 'require'" in message and "50 redraws" in message and "'a > 100'" in message


def test_require_redraws_until_it_holds(tmp_path: Path) -> None:
    family = _family(
        tmp_path, NUMBER.replace('statement = "', 'require = ["a >= 8"]\nstatement = "')
    )
    assert {family.draw_params(s)["a"] for s in range(30)} == {"8", "9"}


def test_a_require_on_a_value_and_a_when(tmp_path: Path) -> None:
    text = NUMBER.replace(
        'statement = "',
        'require = [{ holds = "k > 10", when = { ask = "product" } }]\nstatement = "',
    )
    text = text.replace("[answer]", '[values]\nk = "{key}"\n\n[answer]')
    family = _family(tmp_path, text)
    for seed in range(30):
        p = family.generate(seed)
        if p.question_kind["ask"] == "product":
            assert float(p.answer) > 10


def test_params_that_refer_to_each_other_in_a_loop_are_bounded(tmp_path: Path) -> None:
    text = NUMBER.replace(
        "a = { int = [2, 9] }", 'a = { choice = ["{c}"] }\nc = { choice = ["{a}"] }'
    )
    assert "params refer to each other in a loop" in _error(tmp_path, text)


def test_numbers_in_the_prose_use_the_one_formatter(tmp_path: Path) -> None:
    text = NUMBER.replace(
        'solution = "It is {= {key}}."',
        'solution = "eps {= 1/10^8} and $e = {= 1/10^8}$, {= 2/3 : 6}, {= a # unit}, '
        '{= 1 # unit}, {= [a, 2*a]}"',
    )
    family = _family(tmp_path, text)
    p = family.generate(0)
    a = int(family.draw_params(0)["a"])
    assert p.solution == f"eps 1e-8 and e = 1e-8, 0.666667, {a} units, 1 unit, [{a}, {2 * a}]"
    assert "eps $10^{-8}$ and $e = 10^{-8}$" in p.solution_latex
    assert r"\begin{bmatrix}" in p.solution_latex


def test_the_key_has_ten_significant_digits(tmp_path: Path) -> None:
    text = NUMBER.replace('key = "a*b"', 'key = "a/3"').replace(
        "a = { int = [2, 9] }", 'a = { choice = ["2"] }'
    )
    family = _family(tmp_path, text)
    keys = {
        family.generate(s).answer
        for s in range(10)
        if family.generate(s).question_kind["ask"] == "product"
    }
    assert keys == {"0.6666666667"}


# --- mistakes the judge cannot tell apart are dropped, and verify counts the drops ----------


def test_a_mistake_typed_equal_to_the_key_does_not_vanish_silently(tmp_path: Path) -> None:
    text = NUMBER.replace('answer = "a - b"', 'answer = "{key}"')
    family = _family(tmp_path, text)
    p = family.generate(0)
    assert p.mistakes == []
    assert family.mistake_report(0).dropped == [("other", "the judge cannot tell it from the key")]
    report = verify_family(family, range(8))
    assert not report.ok
    assert any("mistake 'other' was dropped in 8 of the 8 seeds" in f for f in report.failures)
    assert report.to_json()["dropped"]["other"]["dropped"] == 8


def test_a_mistake_dropped_in_a_few_seeds_is_reported_but_passes(tmp_path: Path) -> None:
    # equal to the key a*b exactly when a is 2, 3 or 4: in 3 of every 8 draws
    text = NUMBER.replace('answer = "a - b"', 'answer = "a*b + (a - 2)*(a - 3)*(a - 4)"')
    text = text.replace('tag = "other"', 'tag = "other"\nwhen = { ask = "product" }')
    family = _family(tmp_path, text)
    report = verify_family(family, range(40))
    drops = report.drops["other"]
    assert 0 < drops.dropped <= drops.applies / 2, drops
    assert report.ok, report.failures


def test_two_mistakes_the_judge_cannot_tell_apart_keep_the_first(tmp_path: Path) -> None:
    text = (
        NUMBER
        + '\n[[mistakes]]\ntag = "twin"\nanswer = "b - (b - a) - 2*b + b"\nfeedback = "Same."\n'
    )
    family = _family(tmp_path, text)
    p = family.generate(0)
    assert [m["tag"] for m in p.mistakes] == ["other"]
    assert family.mistake_report(0).dropped == [("twin", "the judge cannot tell it from 'other'")]


def test_a_mistake_whose_when_fails_does_not_apply(tmp_path: Path) -> None:
    family = _family(tmp_path, NUMBER.replace('tag = "other"', 'tag = "other"\nwhen = "a > 100"'))
    assert family.generate(0).mistakes == []
    assert family.mistake_report(0).applicable == []
    assert verify_family(family, range(4)).ok


# --- checks are independent: a wrong key fails them -------------------------------------------


@pytest.mark.parametrize(
    ("family_id", "wrong"),
    [
        (
            "softmax-regression/probabilities",
            lambda a: "[0.2, 0.3, 0.5]" if a.count(",") == 2 else "[0.1, 0.2, 0.3, 0.4]",
        ),
        ("optimizers/momentum-steps", lambda a: "[0.5, 0.5]"),
        ("batch-norm/output-pytorch", lambda a: re.sub(r"\d", "7", a, count=1)),
        ("batch-norm/output-notes", lambda a: re.sub(r"\d", "7", a, count=1)),
        ("convolution/output-size", lambda a: str(int(a) + 1)),
        ("convolution/output-shape", lambda a: a.replace("(", "(1").replace(", ", ", 1", 1)),
        ("mlp/parameter-count", lambda a: str(int(a) + 1)),
        ("initialization/xavier", lambda a: repr(float(a) * 1.3)),
        ("regularization/dropout-expectation", lambda a: repr(float(a) * 1.5 + 0.5)),
        ("autograd/reused-variable", lambda a: repr(float(a) + 1)),
        (
            "autograd/softmax-cross-entropy",
            lambda a: re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), a, count=1),
        ),
    ],
)
def test_a_wrong_key_fails_the_independent_check(family_id: str, wrong) -> None:  # type: ignore[no-untyped-def]
    family = families()[family_id]
    for seed in range(4):
        p = family.generate(seed)
        assert family.verify(p) == []
        assert family.verify(replace(p, answer=wrong(p.answer))), (family_id, seed)


def test_a_choice_with_a_wrong_key_letter_fails(tmp_path: Path) -> None:
    family = families()["batch-norm/test-time"]
    p = family.generate(0)
    other = next(letter for letter in "ABCD" if letter != p.answer)
    assert family.verify(replace(p, answer=other))


# --- question kinds --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), other=st.integers(0, 2**31 - 1))
def test_generate_kind_keeps_the_kind_with_new_numbers(seed: int, other: int) -> None:
    family = families()["optimizers/momentum-steps"]
    kind = family.generate(seed).question_kind
    q = family.generate_kind(kind, other)
    assert q.question_kind == kind
    assert q == family.generate(q.seed)  # reproducible from its seed alone


def test_generate_kind_on_a_python_family_and_its_errors() -> None:
    family = families()["autograd/operations"]
    q = family.generate_kind({"ask": "path", "layers": "2"}, 5)
    assert q.question_kind == {"ask": "path", "layers": "2"}
    with pytest.raises(FamilyError, match="no question-kind dimension 'depth'"):
        family.generate_kind({"depth": "3"}, 0)
    with pytest.raises(FamilyError, match="no seed draws the question kind"):
        family.generate_kind({"ask": "nothing"}, 0)


def test_every_family_reports_a_kind_it_declares() -> None:
    for family in families().values():
        p = family.generate(3)
        assert set(p.question_kind) == set(family.kinds), family.id
        assert kind_label(p.question_kind)


# --- choice pools ----------------------------------------------------------------------------

POOL = """\
title = "A pool"
kind = "choice"
statement = "Which is right?"
hints = ["Think."]
solution = "The answer is {answer}: {correct}."

[params]
x = { int = [1, 3] }
"""


def _pool(correct: list[str], wrong: list[str], extra: str = "") -> str:
    out = POOL + extra
    for t in correct:
        out += f'\n[[options]]\ntext = "{t}"\ncorrect = true\n'
    for i, t in enumerate(wrong):
        out += f'\n[[options]]\ntag = "w{i}"\ntext = "{t}"\nfeedback = "No."\n'
    return out


def test_a_pool_shows_one_right_option_and_balances_the_lengths(tmp_path: Path) -> None:
    # right options long and short, distractors of middling length: the draw prefers sets
    # in which the right option is neither the longest nor the shortest
    right = ["R" * 5, "R" * 30, "R" * 17, "R" * 18]
    wrong = ["W" * n for n in (8, 10, 12, 14, 16, 20, 22, 24)]
    family = _family(tmp_path, _pool(right, wrong), topic="batch-norm")
    longest = shortest = 0
    for seed in range(200):
        p = family.generate(seed)
        assert len(p.choices) == 4 and len(set(p.choices)) == 4
        key = p.choices["ABCD".index(p.answer)]
        assert key in right
        assert sorted(m["answer"] for m in p.mistakes) == sorted(set("ABCD") - {p.answer})
        lengths = [len(c) for c in p.choices]
        longest += len(key) == max(lengths)
        shortest += len(key) == min(lengths)
        assert p.solution == f"The answer is {p.answer}: {key}."
    assert longest <= 0.4 * 200 and shortest <= 0.4 * 200, (longest, shortest)
    unbalanced = _family(
        tmp_path, _pool(right, wrong, "[choice]\nbalance = false\n"), topic="pooling"
    )
    problems = [unbalanced.generate(s) for s in range(200)]
    extreme = sum(len(p.choices["ABCD".index(p.answer)]) in (5, 30) for p in problems)
    assert extreme > 80  # without balance the long and short right options show as drawn


def test_a_pool_too_small_for_a_seed_names_the_field(tmp_path: Path) -> None:
    text = _pool(["right"], ["a", "b"])
    with pytest.raises(FamilyError, match=r"field 'options': 2 wrong options apply for seed 0"):
        _family(tmp_path, text).generate(0)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (_pool([], ["a", "b", "c"]), "options"),
        (POOL + '\n[[options]]\ntext = "x"\n', "options[0].tag"),
        (POOL + '\n[[options]]\ntext = "x"\ncorrect = true\nfeedback = "f"\n', "options[0]"),
        (
            _pool(["r"], ["a", "b", "c"])
            + '\n[[mistakes]]\ntag = "t"\nanswer = "A"\nfeedback = "f"\n',
            "mistakes",
        ),
        (_pool(["r"], ["a", "b", "c"], "[choice]\nwrong = 9\n"), "choice.wrong"),
        (POOL, "options"),
    ],
)
def test_a_broken_pool_names_its_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(FamilyError) as info:
        _family(tmp_path, text, topic="resnet").generate(0)
    assert f"field '{field}'" in str(info.value)


def test_an_option_claims_a_value_and_a_check_tests_it(tmp_path: Path) -> None:
    """A right option whose claimed value is false fails the check; a true one passes."""

    def claims(right: str, wrong: list[str]) -> str:
        out = POOL.replace("x = { int = [1, 3] }", 'h = { int = [1, 3] }\np = { choice = ["1/2"] }')
        out += f'\n[[options]]\ntext = "right"\ncorrect = true\nvalue = "{right}"\n'
        for i, v in enumerate(wrong):
            out += f'\n[[options]]\ntag = "w{i}"\ntext = "w{i}"\nfeedback = "No."\nvalue = "{v}"\n'
        return (
            out
            + '\n[[checks]]\nuse = "dropout_test_time"\nh = "h"\np = "p"\nscaling = "inverted"\n'
        )

    good = _family(tmp_path, claims("h", ["2*h", "0", "h/4"]), topic="regularization")
    assert all(good.verify(good.generate(s)) == [] for s in range(3))
    bad = _family(tmp_path, claims("2*h", ["h", "0", "h/4"]), topic="pooling")
    failures = bad.verify(bad.generate(0))
    assert any("option 'right' (right)" in f for f in failures), failures
    assert any("option 'w0' (w0)" in f for f in failures), failures
    with pytest.raises(FamilyError, match=r"options\[0\]\.value"):
        _family(tmp_path, claims("h", ["0", "1", "2"]).replace('value = "h"', "value = 3"))


# --- values: the engine's forward computation and reverse mode --------------------------------


def test_a_grad_value_is_the_engines_reverse_mode(tmp_path: Path) -> None:
    text = """\
title = "A gradient"
kind = "numbers"
statement = "The gradient of $L = sum(W@x)^2$ at $W = {W}$, $x = {x}$."
hints = ["Chain rule."]
solution = "{= g}"

[params]
W = { matrix = "2x3", int = [-2, 2] }
x = { vector = 3, int = [-2, 2], nonzero = true }

[vars]
V = "2x3"

[definitions]
L = "sum(V@x)^2"

[values]
g = { grad = "L", wrt = "V", at = { V = "W" } }

[answer]
value = "g"

[[checks]]
use = "softmax"
o = "[1, 2]"
"""
    family = _family(tmp_path, text)
    for seed in range(5):
        p = family.draw_params(seed)
        W = np.array([[float(v) for v in row.split(",")] for row in p["W"].strip("[]").split(";")])
        x = np.array([float(v) for v in p["x"].strip("[]").split(",")])
        expected = 2 * (W @ x).sum() * np.outer(np.ones(2), x)
        got = family.build(seed).scope.numbers["g"]
        np.testing.assert_allclose(got, expected)


def test_a_value_that_is_not_finite_is_redrawn(tmp_path: Path) -> None:
    text = NUMBER.replace("a = { int = [2, 9] }", "a = { int = [0, 1] }").replace(
        "[answer]", '[values]\nr = "1/a"\n\n[answer]'
    )
    family = _family(tmp_path, text)
    assert {family.draw_params(s)["a"] for s in range(20)} == {"1"}


def test_the_existing_templates_are_unchanged_by_the_new_loader() -> None:
    """The 12 expression templates of before draw as they did (the README examples pin
    statements; here: the loader reads every template of the bank)."""
    templates = [f for f in families().values() if isinstance(f, TemplateFamily)]
    assert len(templates) >= 24
    for f in templates:
        assert f.version and len(f.version) == 12


DEPTHS = """\
title = "A kind that leaves a layer out"
statement = "Find $d/dz{lo} L$."
hints = ["Chain rule."]
solution = "Backward."

[params]
depth = { kind = [
    { depth = "1", lo = "2", mid = "", zmid = "" },
    { depth = "2", lo = "1", mid = "W2", zmid = "z2" },
] }

[vars]
"z{lo}" = "3"
"{mid}" = "3x3"
W3 = "2x3"
g = "2"

[definitions]
"{zmid}" = "W2@tanh(z1)"
L = "sum(hadamard(g, W3@tanh(z2)))"

[answer]
derive = "L"
wrt = "z{lo}"
allow = ["{zmid}"]
"""


def test_a_var_definition_or_allowed_name_filled_empty_is_not_in_that_draw(
    tmp_path: Path,
) -> None:
    family = _family(tmp_path, DEPTHS)
    seen = set()
    for seed in range(12):
        problem = family.generate(seed)
        depth = problem.question_kind["depth"]
        seen.add(depth)
        if depth == "1":
            assert set(problem.vars) == {"z2", "W3", "g"}, problem.vars
            assert problem.definitions == {}
        else:
            assert {"z1", "W2", "W3", "g", "z2"} == set(problem.vars), problem.vars
            assert set(problem.definitions) == {"z2"}
            assert "W2" in problem.answer
    assert seen == {"1", "2"}
    assert verify_family(family, range(6)).ok


ONE_ROW = """\
title = "A one-row matrix"
kind = "numbers"
statement = "With $W = {W}$ and $h = {h}$, compute $W@h$."
hints = ["Dot products."]
solution = "It is {= W@h}."

[params]
q = { int = [1, 2] }
W = { matrix = "{q}x3", int = [-2, 2] }
h = { vector = "3", int = [-2, 2] }

[answer]
value = "W@h"

[[checks]]
use = "formula"
value = "W@h"
"""


def test_a_one_row_matrix_param_is_a_row_not_a_column(tmp_path: Path) -> None:
    family = _family(tmp_path, ONE_ROW)
    rows = set()
    for seed in range(12):
        params = family.draw_params(seed)
        rows.add(params["q"])
        if params["q"] == "1":
            assert params["W"].startswith("[[") and params["W"].count("[") == 2
        family.generate(seed)  # W@h has the shape of a 1x3 row times a 3-vector
    assert rows == {"1", "2"}
    assert verify_family(family, range(6)).ok


# --- the residual_block and scalar_chain checks (resnet, activations) --------------------------


@pytest.mark.parametrize(
    ("family_id", "wrong"),
    [
        ("resnet/projection-params", lambda a: str(int(a) + 1)),
        ("activations/vanishing-gradient", lambda a: repr(float(a) * 1.01)),
        ("resnet/gradient-through-blocks", lambda a: repr(float(a) * 1.01)),
    ],
)
def test_the_chain_and_block_checks_fail_a_wrong_key(family_id: str, wrong) -> None:  # type: ignore[no-untyped-def]
    family = families()[family_id]
    for seed in range(4):
        p = family.generate(seed)
        assert family.verify(p) == []
        failures = family.verify(replace(p, answer=wrong(p.answer)))
        assert any("residual_block" in f or "scalar_chain" in f for f in failures), failures


@pytest.mark.parametrize(
    ("claim", "fails"),
    [
        ('first = "r"', False),
        ('first = "o"', True),
        ('of = "W_n"\nneeds = "z_h, h"\nnot_needed = "x"', False),
        ('of = "W_n"\nneeds = "x"', True),
        ('possible = "r, o, h, x"\nimpossible = "x, m_h, h"', False),
        ('possible = "x, m_h, h"', True),
    ],
)
def test_the_backward_order_check_holds_a_pool_to_the_engine(
    tmp_path: Path, claim: str, fails: bool
) -> None:
    """backward_order: the facts a pool about the notes' backward pass relies on."""
    text = _pool(["Right A", "Right B", "Right C"], [f"Wrong {i}" for i in range(6)])
    family = _family(tmp_path, text + f'\n[[checks]]\nuse = "backward_order"\n{claim}\n')
    assert bool(family.verify(family.generate(0))) == fails


def test_a_scope_reads_params_alike_through_its_shortcut_and_its_remembered_parses() -> None:
    """Plain numbers skip the parser; other texts are parsed once per names in scope.
    Either way a param binds to what the formula means, and only when it is a number."""
    from dlquiz.bank.template.scope import Scope
    from dlquiz.bank.template.source import Source
    from dlquiz.core.vars import Namespace

    def bound(texts: dict[str, str]) -> dict[str, float]:
        scope = Scope(Source(Path("t/x.toml"), {}, "t"), Namespace())
        for name, text in texts.items():
            scope.bind_text(name, text)
        return {k: float(v.flat[0]) for k, v in scope.numbers.items()}

    texts = {"a": "-3/4", "b": "0.1", "c": "2*a + b", "d": "1/00", "e": "relu", "f": " 7"}
    texts |= {"g": "1.5/2", "h": "-0.25"}
    want = {"a": -0.75, "b": 0.1, "c": 2 * -0.75 + 0.1, "f": 7.0, "g": 0.75, "h": -0.25}
    assert bound(texts) == want
    assert bound(texts) == want  # the second time from the remembered parses
    # the same text in other names reads differently: c is no number without a and b
    assert bound({"c": "2*a + b"}) == {}
