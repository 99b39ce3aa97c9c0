"""Linear-regression families: verified keys, known mistakes, and keys against plain formulas."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from bank_helpers import (
    assert_same_seed_same_problem,
    assert_statements_vary,
    numbers,
    passing_problems,
)

from dlquiz.bank import families
from dlquiz.core.numeric import evaluate
from dlquiz.core.vars import Namespace
from dlquiz.notation import parse

FAMILIES = [
    "linear-regression/dw-scalar",
    "linear-regression/dw-vector",
    "linear-regression/sgd-update",
    "linear-regression/batch-gradient",
    "linear-regression/sgd-steps",
]
SEEDS = range(6)


@pytest.mark.parametrize("family_id", FAMILIES)
def test_family_passes_every_check(family_id: str) -> None:
    passing_problems(family_id, SEEDS, topic="linear-regression", require=["mistakes"])


@pytest.mark.parametrize("family_id", FAMILIES)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 11)
    assert_statements_vary(family_id, range(12), more_than=6)


def test_dw_scalar_key_is_the_chain_rule_at_the_example() -> None:
    """2*c*(w*x + b - y)*dyhat at random (w, b), with x, y, c read off the problem's model."""
    family = families()["linear-regression/dw-scalar"]
    rng = np.random.default_rng(0)
    for seed in range(8):
        params = family.draw_params(seed)
        x, y, c = Fraction(params["x"]), Fraction(params["y"]), Fraction(params["scale"])
        problem = family.generate(seed)
        key = parse(problem.answer, Namespace.from_specs(problem.vars))
        for _ in range(3):
            w, b = rng.normal(size=2)
            residual = w * float(x) + b - float(y)
            expected = 2 * float(c) * residual * (float(x) if params["wrt"] == "w" else 1.0)
            env = {"w": np.array([[[w]]]), "b": np.array([[[b]]])}
            assert evaluate(key, env, 1)[0, 0, 0] == pytest.approx(expected, rel=1e-10)


def test_dw_vector_accepts_the_notes_formula() -> None:
    family = families()["linear-regression/dw-vector"]
    for seed in range(40):
        params = family.draw_params(seed)
        if params["wrt"] == "w" and params["scale"] == "1/2":
            problem = family.generate(seed)
            assert problem.check("(w.T@x + b - y)*x").equivalent
            assert problem.check("(yhat - y)*x").equivalent
            assert problem.check("(yhat - y)*x.T").mistake == "transposed"
            return
    pytest.fail("no seed drew the notes' case")


def test_batch_gradient_matches_the_textbook_formula() -> None:
    """X^T (Xw + b - y) * 2c/n (mean) or * 2c (sum), and the bias gradient sums residuals."""
    family = families()["linear-regression/batch-gradient"]
    seen = set()
    rng = np.random.default_rng(1)
    for seed in range(30):
        p = family.draw_params(seed)
        n, d = int(p["n"]), int(p["d"])
        problem = family.generate(seed)
        seen.add((p["aggregate"], p["wrt"]))
        key = parse(problem.answer, Namespace.from_specs(problem.vars))
        X = rng.integers(-3, 4, (n, d)).astype(float)
        w = rng.integers(-3, 4, (d, 1)).astype(float)
        y = rng.integers(-3, 4, (n, 1)).astype(float)
        b = 2.0 if p["bias"] == "yes" else 0.0
        r = X @ w + b - y
        scale = (1.0 if p["loss"] == "half" else 2.0) / (n if p["aggregate"] == "mean" else 1)
        expected = scale * (X.T @ r if p["wrt"] == "w" else np.array([[r.sum()]]))
        env = {"X": X[None], "w": w[None], "y": y[None], "b": np.array([[[b]]])}
        got = evaluate(key, {k: v for k, v in env.items() if k in problem.vars}, 1)[0]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert {("mean", "w"), ("sum", "w"), ("mean", "b"), ("sum", "b")} <= seen


def test_batch_gradient_convention_mistake_is_named() -> None:
    family = families()["linear-regression/batch-gradient"]
    for seed in range(200):
        p = family.draw_params(seed)
        wanted = {"aggregate": "mean", "loss": "half", "wrt": "w", "bias": "no"}
        if all(p[k] == v for k, v in wanted.items()):
            problem = family.generate(seed)
            assert problem.check(f"X.T@(X@w - y)/{p['n']}").equivalent
            assert problem.check("X.T@(X@w - y)").mistake == "mean-vs-sum"
            return
    pytest.fail("no seed drew the averaged, bias-free case")


def test_batch_gradient_words_say_what_the_formula_says() -> None:
    """Issue 13: the prose said "the sum of the squared errors" beside 1/2*sum(...)."""
    import re

    family = families()["linear-regression/batch-gradient"]
    seen = set()
    for seed in range(200):
        statement = family.generate(seed).statement
        formula = statement.split("L = ", 1)[1].split(". Find", 1)[0]
        halved = "1/2" in formula or "/2" in formula or "½" in formula
        words = re.findall(r"(half of )?the (sum|mean) of the \d+ squared errors", statement)
        assert len(words) == 1, (seed, statement)
        half, aggregate = words[0]
        assert bool(half) == halved, (seed, statement)
        assert (aggregate + "(") in formula, (seed, statement)
        seen.add((halved, aggregate))
    assert len(seen) == 4


def _sgd_floats(w0, b0, examples, eta, half):  # type: ignore[no-untyped-def]
    w, b = np.array(w0, dtype=float), float(b0)
    for x, y in examples:
        x = np.array(x, dtype=float)
        g = (1.0 if half else 2.0) * (w @ x + b - y)
        w, b = w - eta * g * x, b - eta * g
    return [*w, b]


def _run(params: dict[str, str]):  # type: ignore[no-untyped-def]
    """The draw's w0, b0, examples (as many as steps), eta and convention, from its texts."""
    steps = int(params["steps"])
    examples = [
        (numbers(params[f"x{i}"]).ravel(), float(params[f"y{i}"])) for i in range(1, steps + 1)
    ]
    w0 = numbers(params["w0"]).ravel()
    return (
        w0,
        float(params["b0"]),
        examples,
        float(Fraction(params["eta"])),
        params["loss"] == "half",
    )


def test_sgd_steps_key_matches_a_plain_loop() -> None:
    family = families()["linear-regression/sgd-steps"]
    kinds = set()
    for seed in range(30):
        params = family.draw_params(seed)
        w0, b0, examples, eta, half = _run(params)
        problem = family.generate(seed)
        expected = _sgd_floats(w0, b0, examples, eta, half)
        np.testing.assert_allclose(numbers(problem.answer).ravel(), expected, rtol=1e-9, atol=1e-12)
        assert f"b = {params['b0']}" in problem.statement
        kinds.add((params["steps"], params["loss"], len(w0)))
    assert {(s, loss) for s, loss, _ in kinds} == {
        ("1", "half"),
        ("1", "plain"),
        ("2", "half"),
        ("2", "plain"),
    }
    assert {d for _, _, d in kinds} == {1, 2, 3}


def test_sgd_steps_diagnoses_the_sign_and_one_step() -> None:
    family = families()["linear-regression/sgd-steps"]
    for seed in range(40):
        params = family.draw_params(seed)
        if params["steps"] == "2":
            w0, b0, examples, eta, half = _run(params)
            problem = family.generate(seed)
            ascent = _sgd_floats(w0, b0, examples, -eta, half)
            one = _sgd_floats(w0, b0, examples[:1], eta, half)
            tags = {m["tag"] for m in problem.mistakes}
            if {"ascent", "one-step"} <= tags:
                text = "[" + ", ".join(f"{v:.6g}" for v in ascent) + "]"
                assert problem.check(text).mistake == "ascent"
                text = "[" + ", ".join(f"{v:.6g}" for v in one) + "]"
                assert problem.check(text).mistake == "one-step"
                return
    pytest.fail("no two-step seed with both mistakes")


def test_a_wrong_sgd_steps_key_fails_the_engine_check() -> None:
    import re
    from dataclasses import replace

    family = families()["linear-regression/sgd-steps"]
    for seed in range(8):
        p = family.generate(seed)
        assert family.verify(p) == []
        wrong = re.sub(r"-?\d+(?:\.\d+)?", lambda m: repr(float(m[0]) * 1.1 + 0.05), p.answer)
        assert family.verify(replace(p, answer=wrong)), seed


def test_the_linear_sgd_hook_by_hand() -> None:
    """w0 = 0, b0 = 0, x = 1, y = 1, eta = 1/2, L = 1/2 (yhat - y)^2: yhat = 0, dL/dyhat = -1,
    so w = b = 1/2; a second step on x = 2, y = 0: yhat = 3/2, w = 1/2 - 3/2 = -1, b = -1/4."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    run = HOOKS["linear_sgd"].run
    args = {
        "w0": np.array([[0.0]]),
        "b0": np.array([[0.0]]),
        "X": np.array([[1.0, 2.0]]),
        "y": np.array([[1.0], [0.0]]),
        "lr": np.array([[0.5]]),
        "scale": np.array([[0.5]]),
    }
    for steps, key in ((1, [0.5, 0.5]), (2, [-1.0, -0.25])):
        ctx = CheckContext("linear-regression/x", 0, "numbers", np.array(key), None)  # type: ignore[arg-type]
        assert run(ctx, steps=steps, **args) == []
        ctx.key = np.array(key) + 0.1
        assert run(ctx, steps=steps, **args)
    ctx = CheckContext("linear-regression/x", 0, "numbers", np.array([0.0, 0.0]), None)  # type: ignore[arg-type]
    assert run(ctx, steps=3, **args)  # more steps than examples
