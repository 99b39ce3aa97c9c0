"""Softmax-regression families: verified keys, known mistakes, keys against plain math."""

from __future__ import annotations

import math
import re
from dataclasses import replace

import numpy as np
import pytest
from bank_helpers import (
    assert_same_seed_same_problem,
    assert_statements_vary,
    numbers,
    passing_problems,
)

from dlquiz.bank import families, generate

FAMILIES = [
    "softmax-regression/probabilities",
    "softmax-regression/loss-value",
    "softmax-regression/dl-do",
    "softmax-regression/gradients",
    "softmax-regression/weight-gradient",
    "softmax-regression/loss-value",
    "softmax-regression/jacobian",
    "softmax-regression/jacobian-matrix",
    "softmax-regression/log-sum-exp",
    "softmax-regression/label-smoothing",
    "softmax-regression/logistic",
    "softmax-regression/logistic-gradient",
]
SEEDS = range(6)
# Numeric templates of the topic, each of whose kinds is checked against the engine.
NUMERIC_TEMPLATES = [
    "softmax-regression/probabilities",
    "softmax-regression/dl-do",
    "softmax-regression/weight-gradient",
]


def _softmax(o) -> list[float]:  # type: ignore[no-untyped-def]
    m = max(o)
    e = [math.exp(v - m) for v in o]
    return [v / sum(e) for v in e]


@pytest.mark.parametrize("family_id", FAMILIES)
def test_family_passes_every_check(family_id: str) -> None:
    passing_problems(family_id, SEEDS, topic="softmax-regression", require=["mistakes"])


@pytest.mark.parametrize("family_id", FAMILIES)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 5)
    assert_statements_vary(family_id, range(12), more_than=6)


def test_loss_value_is_minus_log_of_the_correct_probability() -> None:
    family = families()["softmax-regression/loss-value"]
    given = set()
    for seed in range(20):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        y = numbers(params["y"]).ravel()
        if params["given"] == "model":  # the scores come from the model in the statement
            o = numbers(params["W"]) @ numbers(params["x"]).ravel() + numbers(params["b"]).ravel()
            assert params["W"] in problem.statement and params["x"] in problem.statement
        else:
            o = numbers(params["s"]).ravel()
            assert params["s"] in problem.statement
        given.add(params["given"])
        expected = -math.log(_softmax(o)[int(np.argmax(y))])
        assert float(problem.answer) == pytest.approx(expected, rel=1e-9)
        assert problem.check(f"{-expected:.4f}").mistake == "sign"
    assert given == {"scores", "model"}


def test_dl_do_is_softmax_minus_onehot() -> None:
    family = families()["softmax-regression/dl-do"]
    asks = set()
    for seed in range(30):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        o, y = numbers(params["o"]).ravel(), numbers(params["y"]).ravel()
        pick = numbers(params["pick"]).ravel()
        assert y.sum() == 1 and pick.sum() == 1 and pick @ y == 0
        p = np.array(_softmax(o))
        grad = p - y
        got = numbers(problem.answer).ravel()
        ask = problem.question_kind["ask"]
        asks.add(ask)
        if ask == "vector":
            np.testing.assert_allclose(got, grad, rtol=1e-9, atol=1e-12)
            assert abs(got.sum()) < 1e-9
            shown = "[" + ", ".join(f"{v:.5f}" for v in p) + "]"
            assert problem.check(shown).mistake == "missing-label"
        elif ask == "correct":
            assert got == pytest.approx([grad @ y], rel=1e-9) and got[0] < 0
            assert problem.check(f"{p @ y:.5f}").mistake == "missing-label"
        else:
            assert got == pytest.approx([grad @ pick], rel=1e-9) and got[0] > 0
            assert problem.check(f"{p @ pick - 1:.5f}").mistake == "subtracted-label"
            assert f"class {int(np.argmax(pick)) + 1} of {len(o)}" in problem.statement
    assert asks == {"vector", "correct", "other"}


def test_gradients_accept_the_notes_forms() -> None:
    family = families()["softmax-regression/gradients"]
    forms = {"W": "(yhat - y)@x.T", "b": "yhat - y", "x": "W.T@(softmax(o) - y)"}
    wrong = {"W": "yhat@x.T", "b": "yhat", "x": "W.T@yhat"}
    seen = set()
    for seed in range(40):
        params = family.draw_params(seed)
        wrt = params["wrt"]
        decay = " + 2*lambda*W" if (params["loss"], wrt) == ("weight-decay", "W") else ""
        problem = family.generate(seed)
        assert problem.vars["y"].endswith("onehot")
        assert problem.check(forms[wrt] + decay).equivalent, (seed, wrt)
        assert problem.check(wrong[wrt] + decay).mistake == "missing-label", (seed, wrt)
        if decay:
            assert problem.check(forms[wrt]).mistake == "missing-decay", seed
        if params["layer"] == "no-bias":
            assert "b" not in problem.vars, seed
        seen.add((wrt, params["layer"], params["loss"]))
    assert {w for w, _, _ in seen} == {"W", "b", "x"}
    assert {(lay, loss) for _, lay, loss in seen} >= {
        ("affine", "cross-entropy"),
        ("no-bias", "weight-decay"),
    }


def _weight_step(params: dict[str, str]) -> tuple[np.ndarray, np.ndarray, float]:
    """W, the gradient (yhat - y) x^T by plain NumPy, and eta, from a draw's texts."""
    from fractions import Fraction

    W = numbers(params["W"])
    x, b, y = (numbers(params[n]).ravel() for n in ("x", "b", "y"))
    p = np.array(_softmax(W @ x + b))
    return W, np.outer(p - y, x), float(Fraction(params["eta"]))


def test_weight_gradient_is_the_outer_product() -> None:
    family = families()["softmax-regression/weight-gradient"]
    asks = set()
    for seed in range(20):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        W, grad, eta = _weight_step(params)
        ask = problem.question_kind["ask"]
        expected = grad if ask == "gradient" else W - eta * grad
        np.testing.assert_allclose(numbers(problem.answer), expected, rtol=1e-9, atol=1e-12)
        asks.add(ask)
    assert asks == {"gradient", "update"}


def test_an_sgd_step_on_w_changes_an_entry_by_at_least_one_percent() -> None:
    """Issue 13: no update that barely moves W (once 10% of draws moved it by < 2e-4)."""
    family = families()["softmax-regression/weight-gradient"]
    updates = 0
    for seed in range(300):
        params = family.draw_params(seed)
        W, grad, eta = _weight_step(params)
        change = np.abs(eta * grad) / np.maximum(np.abs(W), 1.0)
        assert change.max() >= 0.01, (seed, change.max())
        if params["ask"] == "update":
            updates += 1
            key = numbers(family.generate(seed).answer) if seed < 60 else W - eta * grad
            moved = np.abs(key - W) / np.maximum(np.abs(W), 1.0)
            assert moved.max() >= 0.01 - 1e-9, (seed, moved.max())
    assert updates >= 100


def test_probabilities_ask_three_quantities_of_one_softmax() -> None:
    family = families()["softmax-regression/probabilities"]
    asks = set()
    for seed in range(30):
        params = family.draw_params(seed)
        problem = generate("softmax-regression/probabilities", seed)
        o, y = numbers(params["o"]).ravel(), numbers(params["y"]).ravel()
        p = np.array(_softmax(o))
        key = numbers(problem.answer).ravel()
        ask = problem.question_kind["ask"]
        asks.add(ask)
        if ask == "probabilities":
            assert key.sum() == pytest.approx(1.0, abs=1e-9)
            np.testing.assert_allclose(key, p, rtol=1e-9)
        elif ask == "log-probabilities":
            np.testing.assert_allclose(key, np.log(p), rtol=1e-9)
            assert problem.check(params["o"]).mistake == "not-normalized"
        else:
            assert y.sum() == 1 and set(y) <= {0.0, 1.0}
            assert key == pytest.approx([p[int(np.argmax(y))]], rel=1e-9)
            assert params["y"] in problem.statement
    assert asks == {"probabilities", "log-probabilities", "correct-class"}


def _perturbed(answer: str) -> str:
    """Every number of a key moved by 10% (and a little more, for small ones)."""
    return re.sub(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", lambda m: repr(float(m[0]) * 1.1 + 0.05), answer)


@pytest.mark.parametrize("family_id", NUMERIC_TEMPLATES)
def test_a_wrong_key_fails_the_independent_check(family_id: str) -> None:
    """Every kind of every numeric template: the named check catches a wrong key."""
    family = families()[family_id]
    kinds = set()
    for seed in range(40):
        p = family.generate(seed)
        kinds.add(tuple(sorted(p.question_kind.items())))
        assert family.verify(p) == [], (family_id, seed)
        assert family.verify(replace(p, answer=_perturbed(p.answer))), (family_id, seed)
    for dim, values in family.kinds.items():
        assert {dict(k)[dim] for k in kinds} == set(values), (family_id, dim)


def _jacobian(o: np.ndarray) -> np.ndarray:
    """The softmax Jacobian by central differences of plain-math softmax (rows i, columns j)."""
    h = 1e-6
    cols = [
        (np.array(_softmax(o + h * e)) - np.array(_softmax(o - h * e))) / (2 * h)
        for e in np.eye(len(o))
    ]
    return np.array(cols).T


def test_the_jacobian_matches_finite_differences_and_its_rows_add_to_zero() -> None:
    family = families()["softmax-regression/jacobian"]
    asks = set()
    for seed in range(40):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        o, u, v, g = (numbers(params[n]).ravel() for n in ("o", "u", "v", "g"))
        J = _jacobian(o)
        key = numbers(problem.answer)
        ask = problem.question_kind["ask"]
        asks.add(ask)
        expected = {
            "matrix": J,
            "diagonal": np.array([[u @ J @ u]]),
            "off-diagonal": np.array([[u @ J @ v]]),
            "vjp": (J.T @ g).reshape(-1, 1),
        }[ask]
        np.testing.assert_allclose(key.reshape(expected.shape), expected, rtol=1e-6, atol=1e-9)
        if ask == "matrix":
            np.testing.assert_allclose(key.sum(axis=1), 0, atol=1e-9)
            assert not problem.check(re.sub(r"-\d[^,;\]]*", "0", problem.answer)).equivalent
        if ask == "off-diagonal":
            assert key.item() < 0 and problem.check("0").mistake == "independent"
    assert asks == {"matrix", "diagonal", "off-diagonal", "vjp"}


def test_the_matrix_form_of_the_jacobian_is_accepted_and_its_shortcuts_diagnosed() -> None:
    family = families()["softmax-regression/jacobian-matrix"]
    # (the judge misjudges (softmax(o)@softmax(o).T)@(y/softmax(o)), so the cross-entropy's
    # minus sign stays outside the product)
    up = {"upstream": ("", "g"), "squared": ("", "(yhat - t)"), "cross-entropy": ("-", "(y/yhat)")}
    around = {"b": ("", ""), "x": ("W.T@(", ")"), "W": ("(", ")@x.T")}
    seen = set()
    for seed in range(24):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        pre, post = around[params["wrt"]]
        sign, u = up[params["loss"]]
        jacobian = f"{pre}{sign}(diag(yhat) - yhat@yhat.T)@{u}{post}"
        assert problem.check(jacobian).equivalent, (seed, jacobian)
        assert problem.check(f"{pre}{sign}diag(yhat)@{u}{post}").mistake == "no-outer", seed
        if params["loss"] == "cross-entropy":
            assert problem.check(f"{pre}(yhat - y){post}").equivalent, seed
        seen.add((params["loss"], params["wrt"]))
    assert {loss for loss, _ in seen} == set(up) and {w for _, w in seen} == set(around)


def test_log_sum_exp_keys_are_the_stable_plain_math_and_never_overflow() -> None:
    family = families()["softmax-regression/log-sum-exp"]
    asks = set()
    for seed in range(40):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        m = float(params["m"])
        d, y, small = (numbers(params[n]).ravel() for n in ("d", "y", "small"))
        assert d.max() == 0 and abs(m) >= 200  # exp(o) over- or underflows in float64
        o = m + d
        lse = m + math.log(sum(math.exp(v) for v in d))
        key = numbers(problem.answer).ravel()
        ask = problem.question_kind["ask"]
        asks.add(ask)
        if ask == "shifted":
            np.testing.assert_allclose(key, _softmax(small), rtol=1e-9)
            c = float(params["c"])
            np.testing.assert_allclose(key, _softmax(small + c), rtol=1e-9)
            continue
        assert f"{int(o[0])}" in problem.statement
        expected = {
            "log-probabilities": o - lse,
            "loss": np.array([lse - o @ y]),
            "probabilities": np.array(_softmax(o)),
        }[ask]
        np.testing.assert_allclose(key, expected, rtol=1e-9, atol=1e-12)
        assert np.isfinite(key).all() and np.abs(key).max() < 20
    assert asks == {"log-probabilities", "loss", "probabilities", "shifted"}


def test_label_smoothing_is_beyond_the_notes_and_its_gradient_is_yhat_minus_y_smooth() -> None:
    family = families()["softmax-regression/label-smoothing"]
    asks = set()
    for seed in range(30):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        assert problem.statement.startswith("Beyond the notes")
        o, y = numbers(params["o"]).ravel(), numbers(params["y"]).ravel()
        eps, k = float(params["epsilon"]), len(o)
        soft = (1 - eps) * y + eps / k
        p = np.array(_softmax(o))
        key = numbers(problem.answer).ravel()
        ask = problem.question_kind["ask"]
        asks.add(ask)
        expected = {
            "loss": [-(soft @ np.log(p))],
            "gradient": p - soft,
            "correct": [(p - soft) @ y],
        }[ask]
        np.testing.assert_allclose(key, expected, rtol=1e-9, atol=1e-12)
        if ask == "gradient":
            assert abs(key.sum()) < 1e-9
            assert problem.check(problem_text(p - y)).mistake == "one-hot-target"
    assert asks == {"loss", "gradient", "correct"}


def problem_text(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.6f}" for x in v) + "]"


def test_the_logistic_case_is_sigmoid_and_the_gradient_sigmoid_minus_y() -> None:
    family = families()["softmax-regression/logistic"]
    asks = set()
    for seed in range(40):
        params = family.draw_params(seed)
        problem = family.generate(seed)
        w, x = numbers(params["w"]).ravel(), numbers(params["x"]).ravel()
        z = w @ x + float(params["b"])
        y = float(params["y"])
        s = 1 / (1 + math.exp(-z))
        assert s == pytest.approx(_softmax([0.0, z])[1], rel=1e-12)  # two-class softmax
        key = numbers(problem.answer).ravel()
        ask = problem.question_kind["ask"]
        asks.add(ask)
        expected = {
            "probability": [s],
            "loss": [-(y * math.log(s) + (1 - y) * math.log(1 - s))],
            "dl-dz": [s - y],
            "dl-dw": (s - y) * x,
        }[ask]
        np.testing.assert_allclose(key, expected, rtol=1e-9, atol=1e-12)
        if ask == "dl-dz":
            assert problem.check(f"{s * (1 - s):.6f}").mistake == "sigmoid-derivative"
    assert asks == {"probability", "loss", "dl-dz", "dl-dw"}


def _hook(name: str, key, **args):  # type: ignore[no-untyped-def]
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    ctx = CheckContext("softmax-regression/x", 0, "numbers", np.asarray(key, dtype=float), None)  # type: ignore[arg-type]
    return HOOKS[name].run(
        ctx,
        **{k: v if isinstance(v, str) else np.asarray(v, dtype=float) for k, v in args.items()},
    )


def test_the_softmax_hooks_by_hand_and_their_refusals() -> None:
    """Numbers worked on paper: o = [0, 0] gives yhat = [1/2, 1/2], L = log 2 for either
    label, dL/do = [-1/2, 1/2] for label 1; J = [[1/4, -1/4], [-1/4, 1/4]]; a label-smoothed
    target [1/4, 3/4] gives dL/do = [1/4, -1/4]; sigmoid(0) = 1/2 and dL/dz = 1/2 - y."""
    o, y = [[0.0], [0.0]], [[1.0], [0.0]]
    assert _hook("cross_entropy", math.log(2), o=o, y=y, returns="loss") == []
    assert _hook("cross_entropy", [-0.5, 0.5], o=o, y=y, returns="dl_do") == []
    assert _hook("cross_entropy", [0.5, -0.5], o=o, y=y, returns="dl_do")
    assert _hook("cross_entropy", -0.5, o=o, y=y, returns="dl_do", select=y) == []
    assert _hook("cross_entropy", [0.25, -0.25], o=o, y=[[0.25], [0.75]], returns="dl_do") == []
    assert _hook("cross_entropy", [-math.log(2)] * 2, o=o, returns="log_probabilities") == []
    W, x, b = [[1.0, 0.0], [0.0, 1.0]], [[0.0], [0.0]], [[0.0], [0.0]]
    assert _hook("cross_entropy", W, W=W, x=[[2.0], [0.0]], b=b, y=y, lr=1, returns="W_after")
    assert _hook("cross_entropy", W, W=W, x=x, b=b, y=y, lr=1, returns="W_after") == []
    # refusals: both scores and a model, a target that is not a distribution, a bad select
    assert _hook("cross_entropy", 0, o=o, W=W, x=x, y=y, returns="loss")
    assert _hook("cross_entropy", 0, o=o, y=[[1.0], [1.0]], returns="loss")
    assert _hook("cross_entropy", 0, o=o, y=y, returns="dl_do", select=[[1.0], [1.0]])
    J = [[0.25, -0.25], [-0.25, 0.25]]
    assert _hook("softmax_jacobian", J, o=o, returns="matrix") == []
    assert _hook("softmax_jacobian", -0.25, o=o, returns="matrix", u=y, v=[[0.0], [1.0]]) == []
    assert _hook("softmax_jacobian", [0.5, -0.5], o=o, returns="vjp", g=[[2.0], [0.0]]) == []
    assert _hook("softmax_jacobian", J, o=o, returns="vjp")  # no g
    assert _hook("logsumexp", 1000 + math.log(2), o=[[1000.0], [1000.0]]) == []
    assert _hook("logsumexp", math.log(2), o=[[1000.0], [1000.0]], shift=1000) == []
    assert _hook("logistic", 0.5, z=0, y=1, returns="probability") == []
    assert _hook("logistic", -0.5, z=0, y=1, returns="dl_dz") == []
    assert (
        _hook("logistic", [-1.0, 0.5], w=[[0.0], [0.0]], x=[[2.0], [-1.0]], y=1, returns="dl_dw")
        == []
    )
    assert _hook("logistic", 0.5, z=0, y=2, returns="probability")  # not a label


def test_the_logistic_gradient_accepts_sigmoid_minus_y_and_names_the_kept_derivative() -> None:
    family = families()["softmax-regression/logistic-gradient"]
    forms = {"w": "(yhat - y)*x", "b": "yhat - y", "x": "(yhat - y)*w"}
    kept = {"w": "(yhat - y)*yhat*(1 - yhat)*x", "b": "(yhat - y)*yhat*(1 - yhat)"}
    seen = set()
    for seed in range(40):
        params = family.draw_params(seed)
        wrt = params["wrt"]
        decay = " + 2*lambda*w" if (params["loss"], wrt) == ("weight-decay", "w") else ""
        problem = family.generate(seed)
        assert problem.check(forms[wrt] + decay).equivalent, (seed, wrt)
        if wrt in kept:
            assert problem.check(kept[wrt] + decay).mistake == "sigmoid-derivative", seed
        if decay:
            assert problem.check(forms[wrt]).mistake == "missing-decay", seed
        seen.add((wrt, params["layer"], params["loss"]))
    assert {w for w, _, _ in seen} == set(forms)
    assert {(lay, loss) for _, lay, loss in seen} == {
        ("affine", "cross-entropy"),
        ("affine", "weight-decay"),
        ("no-bias", "cross-entropy"),
        ("no-bias", "weight-decay"),
    }
