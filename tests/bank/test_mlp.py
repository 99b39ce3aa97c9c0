"""MLP families: verified keys and mistakes, and keys against independent computations."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
from bank_helpers import (
    EXPLAINED,
    assert_finished_texts,
    assert_same_seed_same_problem,
    assert_statements_vary,
    numbers,
    passing_problems,
)
from typer.testing import CliRunner

from dlquiz.bank import families, generate
from dlquiz.bank.coded.common import read_numbers
from dlquiz.cli import app

IDS = ["mlp/forward", "mlp/backward", "mlp/parameter-count", "mlp/shapes", "mlp/nonlinearity"]
SEEDS = range(8)
ACT = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
}


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, SEEDS, topic="mlp", require=EXPLAINED)


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 5)
    assert_statements_vary(family_id, range(15), more_than=10)


def _drawn(family_id: str, seed: int) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """A seed's weights and input as arrays (vectors flat), and the params' texts."""
    texts = families()[family_id].draw_params(seed)
    arrays = {}
    for name in ("W1", "b1", "W2", "b2", "x", "y"):
        if name in texts:
            values = numbers(texts[name])
            arrays[name] = values if name.startswith("W") else values.ravel()
    return arrays, texts


def test_forward_key_is_a_plain_numpy_forward_pass() -> None:
    for seed in range(25):
        net, texts = _drawn("mlp/forward", seed)
        h = ACT[texts["act"]](net["W1"] @ net["x"] + net["b1"])
        o = net["W2"] @ h + net["b2"]
        got = read_numbers(generate("mlp/forward", seed).answer).ravel()
        np.testing.assert_allclose(got, h if texts["ask"] == "h" else o, rtol=1e-9)


def test_forward_pre_activations_are_never_zero_and_relu_sees_both_signs() -> None:
    for seed in range(60):
        net, texts = _drawn("mlp/forward", seed)
        z = net["W1"] @ net["x"] + net["b1"]
        assert all(v != 0 for v in z)
        if texts["act"] == "relu":
            assert min(z) < 0 < max(z)


def _loss(act: str, y: np.ndarray, scale: float, params: dict[str, np.ndarray]) -> float:
    h = ACT[act](params["W1"] @ params["x"] + params["b1"])
    o = params["W2"] @ h + params["b2"]
    return scale * float(((o - y) ** 2).sum())


def test_backward_key_matches_finite_differences_of_the_loss() -> None:
    """Central differences of L = c*||O - y||^2 in the asked parameter: no backprop at all."""
    family = families()["mlp/backward"]
    for seed in range(20):
        params, texts = _drawn("mlp/backward", seed)
        wrt, scale, y = texts["wrt"], {"1/2": 0.5, "1": 1.0}[texts["c"]], params.pop("y")
        numeric = np.zeros_like(params[wrt])
        for idx in np.ndindex(params[wrt].shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[wrt][idx] += 1e-6
            down[wrt][idx] -= 1e-6
            numeric[idx] = (
                _loss(texts["act"], y, scale, up) - _loss(texts["act"], y, scale, down)
            ) / 2e-6
        got = read_numbers(family.generate(seed).answer)
        np.testing.assert_allclose(got.reshape(numeric.shape), numeric, rtol=1e-6, atol=1e-6)


def test_backward_accepts_a_row_typed_as_a_list_and_names_the_missing_derivative() -> None:
    family = families()["mlp/backward"]
    for seed in range(80):
        problem = family.generate(seed)
        tags = {m["tag"] for m in problem.mistakes}
        if "missing-derivative" in tags:
            wrong = next(m for m in problem.mistakes if m["tag"] == "missing-derivative")
            verdict = problem.check(wrong["answer"])
            assert not verdict.equivalent and verdict.mistake == "missing-derivative"
            assert "nonlinearity" in verdict.feedback
            break
    else:
        pytest.fail("no seed listed the missing-derivative mistake")
    for seed in range(200):  # a single output: dL/dW2 is a 1 x h row
        texts = family.draw_params(seed)
        if texts["wrt"] == "W2" and texts["q"] == "1":
            problem = family.generate(seed)
            assert problem.answer.startswith("[[")
            flat = "[" + problem.answer.strip("[]") + "]"
            assert problem.check(flat).equivalent
            return
    pytest.fail("no seed asked for a single output's weight gradient")


def test_verify_rejects_a_wrong_forward_key() -> None:
    family = families()["mlp/forward"]
    problem = family.generate(2)
    values = read_numbers(problem.answer).ravel()
    values[0] += 0.01
    broken = replace(problem, answer="[" + ", ".join(repr(float(v)) for v in values) + "]")
    assert family.verify(broken)


def test_parameter_count_is_the_layer_formula_and_the_engine_agrees() -> None:
    family = families()["mlp/parameter-count"]
    for seed in range(30):
        p = family.draw_params(seed)
        hidden = int(p["hidden"])
        sizes = [int(p[f"n{i}"]) for i in range(hidden + 1)] + [int(p["nL"])]
        pairs = list(itertools.pairwise(sizes))
        if p["ask"] == "total":
            expected = sum(a * b + b for a, b in pairs)
        elif p["ask"] == "weights":
            expected = sum(a * b for a, b in pairs)
        else:
            index = hidden + 1 if p["which"] == "the output layer" else int(p["index"])
            assert index <= hidden + 1 and (p["layer"] == "output") == (index == hidden + 1)
            a, b = pairs[index - 1]
            expected = a * b + b
        problem = family.generate(seed)
        assert int(problem.answer) == expected
        assert family.verify(replace(problem, answer=str(expected + 1)))


def test_parameter_count_by_hand() -> None:
    """784 -> 128 -> 10: 784*128 + 128 + 128*10 + 10 = 101770, as the engine's MLP counts."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    count = HOOKS["mlp_parameters"].run
    sizes = np.array([784.0, 128.0, 10.0])
    for key, which, layer in (
        (101_770, "total", None),
        (101_632, "weights", None),
        (1290, "layer", 2),
    ):
        ctx = CheckContext("mlp/parameter-count", 0, "integer", key, scope=None)  # type: ignore[arg-type]
        assert count(ctx, sizes=sizes, count=which, layer=layer) == []
        ctx.key = key + 1
        assert count(ctx, sizes=sizes, count=which, layer=layer)


def test_shapes_follow_the_engine_and_reversed_order_is_transposed() -> None:
    family = families()["mlp/shapes"]
    seen = set()
    for seed in range(40):
        problem = family.generate(seed)
        what = family.draw_params(seed)["what"]
        seen.add(what)
        assert family.verify(problem) == []
        dims = problem.answer.strip("()").split(", ")
        if len(dims) == 2 and dims[0] != dims[1]:
            verdict = problem.check(f"({dims[1]}, {dims[0]})")
            assert verdict.mistake == ("row-vector" if what == "b-column" else "transposed")
        assert family.verify(replace(problem, answer="(1, 1)"))
    assert seen == {"H", "O", "W", "b", "b-column", "dW"}


def test_show_and_verify_commands() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["show", "mlp/backward", "--seed", "4", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == generate("mlp/backward", 4).to_json()
    r = runner.invoke(app, ["verify", "--topic", "mlp", "--seeds", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert {row["id"] for row in json.loads(r.stdout)["families"]} == set(IDS)


@pytest.mark.parametrize("family_id", ["mlp/forward", "mlp/backward"])
def test_a_zero_in_the_key_is_a_dead_relu_unit_and_declared(family_id: str) -> None:
    """zeros = "the point": a dead ReLU unit puts a 0 in the key; otherwise no entry is 0."""
    for seed in range(120):
        problem = generate(family_id, seed)
        has_zero = 0.0 in numbers(problem.answer).ravel()
        point = problem.question_kind["zeros"] == "the point"
        assert has_zero == point, (seed, problem.question_kind, problem.answer)
        assert not point or problem.question_kind["activation"] == "relu"


@pytest.mark.parametrize("family_id", IDS)
def test_no_raw_math_nor_repeated_statements_reach_the_student(family_id: str) -> None:
    """No raw $...$, "take ReLU'(0) = 0" once per text, no "= 1 = 1" repetitions."""
    for seed in range(40):
        assert_finished_texts(generate(family_id, seed))


def test_shapes_bias_in_the_notes_column_convention_is_a_column() -> None:
    """Where the question invokes the notes' column convention, (n, 1) is the key."""
    family = families()["mlp/shapes"]
    seen = set()
    for seed in range(80):
        texts = family.draw_params(seed)
        what, n = texts["what"], texts["b"]  # b: the width of the layer asked about
        if what not in ("b", "b-column"):
            continue
        seen.add(what)
        problem = family.generate(seed)
        column, flat = problem.check(f"({n}, 1)"), problem.check(f"({n},)")
        if what == "b-column":
            assert "column convention" in problem.statement.split("What is")[1]
            assert column.equivalent and flat.mistake == "one-dimensional"
        else:
            assert "nn.Linear" in problem.statement.split("What is")[1]
            assert flat.equivalent and column.mistake == "column-vector"
    assert seen == {"b", "b-column"}


@pytest.mark.parametrize("family_id", ["mlp/forward", "mlp/backward"])
def test_the_engines_mlp_check_rejects_a_key_off_by_a_little(family_id: str) -> None:
    """The mlp_net hook (the engine's MLP with these weights) catches a wrong entry."""
    family = families()[family_id]
    for seed in range(6):
        problem = family.generate(seed)
        assert family.verify(problem) == []
        values = read_numbers(problem.answer).ravel()
        values[-1] += 0.01 * max(1.0, abs(values[-1]))
        broken = replace(problem, answer="[" + ", ".join(repr(float(v)) for v in values) + "]")
        failures = family.verify(broken)
        assert any("mlp_net" in f for f in failures), failures


def test_parameter_count_asks_only_about_a_layer_the_network_has() -> None:
    family = families()["mlp/parameter-count"]
    for seed in range(200):
        p = family.draw_params(seed)
        if p["ask"] == "layer" and p["layer"] == "hidden":
            assert int(p["index"]) <= int(p["hidden"]), (seed, p["which"], p["hidden"])


def test_nonlinearity_asks_both_questions_and_a_wrong_letter_fails() -> None:
    family = families()["mlp/nonlinearity"]
    asked = set()
    for seed in range(20):
        problem = family.generate(seed)
        asked.add(problem.question_kind["ask"])
        assert len(problem.choices) == 4 and family.verify(problem) == []
        wrong = next(letter for letter in "ABCD" if letter != problem.answer)
        assert family.verify(replace(problem, answer=wrong))
        verdict = problem.check(wrong)
        assert not verdict.equivalent and verdict.mistake
    assert asked == {"collapse", "role"}


def test_the_collapse_check_is_an_engine_fact() -> None:
    """The hook's facts hold: no Φ gives the single layer W2 W1; ReLU is not affine."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    for seed in range(5):
        ctx = CheckContext("mlp/nonlinearity", seed, "choice", "A", scope=None)  # type: ignore[arg-type]
        assert HOOKS["mlp_linear_collapse"].run(ctx) == []
