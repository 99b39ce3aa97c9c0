"""ResNet families: residual gradients against finite differences, shapes against the engine."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from bank_helpers import (
    assert_latex_prose_is_ascii,
    assert_same_seed_same_problem,
    assert_verify_command_passes,
    chain_gradient,
    chain_params,
    passing_problems,
    shuffled_choice_problems,
)

from dlquiz.bank import families, generate
from dlquiz.core.numeric import evaluate
from dlquiz.core.vars import Namespace
from dlquiz.engine import BatchNorm, Conv2d, Residual, Sequential, Tensor
from dlquiz.engine import functional as F
from dlquiz.notation import parse

IDS = [
    "resnet/residual-grad-scalar",
    "resnet/residual-grad-vector",
    "resnet/projection-params",
    "resnet/block-shape",
    "resnet/purpose",
    "resnet/gradient-through-blocks",
]


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, range(6), topic="resnet")


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 11)


def _value(answer: str, vars: dict[str, str], env: dict[str, np.ndarray]) -> np.ndarray:
    return evaluate(parse(answer, Namespace.from_specs(vars)), env, 1)[0]


def test_scalar_residual_gradient_is_branch_plus_one_by_finite_differences() -> None:
    family = families()["resnet/residual-grad-scalar"]
    acts = {"relu": lambda z: np.maximum(z, 0.0), "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    checked = 0
    for seed in range(40):
        params = family.draw_params(seed)
        act = params["fx"].split("(")[0]
        if act not in acts:
            continue
        w = float(Fraction(params["wr" if act == "relu" else "w"]))
        c = float(params["cr" if act == "relu" else "c"])
        p = family.generate(seed)
        for x0 in (-1.3, 0.7, 1.9):
            if abs(w * x0 + c) < 1e-3:
                continue
            y = lambda x, w=w, c=c, act=act: acts[act](w * x + c) + x  # noqa: E731
            numeric = (y(x0 + 1e-6) - y(x0 - 1e-6)) / 2e-6
            key = _value(p.answer, p.vars, {params["x"]: np.full((1, 1, 1), x0)})[0, 0]
            assert key == pytest.approx(numeric, rel=1e-5, abs=1e-6)
            checked += 1
    assert checked > 20


def test_scalar_residual_names_the_missing_skip() -> None:
    p = generate("resnet/residual-grad-scalar", 3)
    no_skip = next(m for m in p.mistakes if m["tag"] == "no-skip")
    assert p.check(no_skip["answer"]).mistake == "no-skip"
    assert p.check(f"({p.answer}) - 1").mistake == "no-skip"


def test_vector_residual_gradient_by_finite_differences() -> None:
    family = families()["resnet/residual-grad-vector"]
    checked = 0
    for seed in range(40):
        params = family.draw_params(seed)
        if params["act"] == "phi":
            continue
        p = family.generate(seed)
        n, x = int(params["n"]), params["x"]
        rng = np.random.default_rng(seed)
        values = {name: rng.normal(size=(n, n)) for name in ("W", "V")}
        values |= {name: rng.normal(size=n) for name in (x, "b", "g")}
        act = (
            (lambda z: np.maximum(z, 0.0))
            if params["act"] == "relu"
            else (lambda z: 1 / (1 + np.exp(-z)))
        )

        def loss(xv, values=values, params=params, act=act):  # type: ignore[no-untyped-def]
            W, V, b, g = values["W"], values["V"], values["b"], values["g"]
            pre = W @ xv + (b if "+ b" in params["fb"] else 0)
            f = act(pre)
            if params["fb"].startswith("V@"):
                f = V @ f
            y = f + xv
            if params["ypost"].startswith("relu"):
                y = np.maximum(y, 0.0)
            return float(g @ y)

        x0 = values[x]
        numeric = np.array([(loss(x0 + 1e-6 * e) - loss(x0 - 1e-6 * e)) / 2e-6 for e in np.eye(n)])
        env = {k: v.reshape(1, *(v.shape if v.ndim == 2 else (n, 1))) for k, v in values.items()}
        env = {k: v for k, v in env.items() if k in p.vars}
        key = _value(p.answer, p.vars, env)[:, 0]
        assert np.allclose(key, numeric, rtol=1e-5, atol=1e-6), (seed, p.answer)
        checked += 1
    assert checked > 15


def test_projection_params_by_hand_and_with_the_engine() -> None:
    """Each quantity asked, counted here from the block's description (3x3 convs, batch
    norm's gamma and beta, the 1x1 projection), against the key."""
    family = families()["resnet/projection-params"]
    asked = set()
    for seed in range(40):
        p = family.generate(seed)
        d = family.draw_params(seed)
        c_in, c_out = int(d["c_in"]), int(int(d["c_in"]) * Fraction(d["mult"]))
        bias = c_out if p.question_kind["bias"] == "yes" else 0
        first = 9 * c_in * c_out + bias
        proj = c_in * c_out + bias
        expected = {
            "projection": proj,
            "first-conv": first,
            "block": first + 9 * c_out * c_out + bias + 2 * c_out + proj,
        }[p.question_kind["ask"]]
        assert int(p.answer) == expected, (seed, p.question_kind)
        asked.add(p.question_kind["ask"])
    assert asked == {"projection", "first-conv", "block"}
    proj = Residual(F.relu, 64, 128, stride=2, rng=0).projection
    assert sum(p.data.size for p in proj.parameters()) == 128 * 64 + 128


def test_block_shape_against_a_residual_block_built_here() -> None:
    family = families()["resnet/block-shape"]
    for seed in range(8):
        d = family.draw_params(seed)
        c_in, stride, size, n = (int(d[k]) for k in ("c_in", "stride", "size", "n"))
        c_out = int(c_in * Fraction(d["mult"]))
        ask = family.generate(seed).question_kind["ask"]
        body = Sequential(
            Conv2d(c_in, c_out, 3, stride=stride, padding=1, rng=0),
            BatchNorm(c_out),
            F.relu,
            Conv2d(c_out, c_out, 3, padding=1, rng=1),
        )
        block = Residual(body, c_in, c_out, stride=stride, rng=2)
        out = block(Tensor(np.zeros((1, c_in, size, size)))).shape
        expected = (n, *out[1:]) if ask == "output" else block.projection.weight.shape
        assert (
            generate("resnet/block-shape", seed).answer
            == "(" + ", ".join(str(v) for v in expected) + ")"
        )


def test_purpose_options_are_shuffled_and_tagged() -> None:
    shuffled_choice_problems("resnet/purpose")


def test_latex_prose_and_choices_are_ascii() -> None:
    assert_latex_prose_is_ascii(IDS, choices=True)


def test_verify_command_passes_for_the_topic() -> None:
    assert_verify_command_passes("resnet", 2)


def test_purpose_hints_belong_to_the_question_kind_and_stems_name_the_shortcuts() -> None:
    """The 1x1-convolution question gets hints about shapes, not about f'(x) + 1; every stem
    says which network has the shortcuts, and none adds unused detail (channel counts)."""
    seen = set()
    for seed in range(60):
        p = generate("resnet/purpose", seed)
        kind = p.question_kind["question"]
        seen.add(kind)
        hints = " ".join(p.hints)
        if kind == "projection":
            assert "shape" in hints and "derivative" not in hints, (seed, hints)
        else:
            assert "1x1" not in hints, (seed, hints)
        assert "ResNet" in p.statement and "f(x) + x" in p.statement, p.statement
        assert "channels" not in p.statement or kind == "projection", p.statement
    assert seen == {"degradation", "projection", "purpose"}


def test_residual_grad_vector_states_the_relu_convention_once_and_names_its_stand_in_loss() -> None:
    """The ReLU convention (ReLU'(0) = 0) once, exactly when a ReLU appears (in the branch
    or after the sum); the step-by-step's L = gᵀy is called a stand-in for the real loss."""
    kinds = set()
    for seed in range(40):
        p = generate("resnet/residual-grad-vector", seed)
        k = p.question_kind
        kinds.add((k["activation"], k["post"]))
        relu = "relu" in (k["activation"], k["post"])
        assert p.statement.count("ReLU'(0)") == (1 if relu else 0), p.statement
        assert "stand-in loss" in p.solution and "gᵀ" in p.solution, p.solution
    assert len(kinds) == 6


def test_gradient_through_blocks_is_the_product_of_one_plus_the_branch_slopes() -> None:
    """Each key against a loop written here; a dead ReLU branch gives its block the
    factor 1 (not 0) in the residual stack, and the plain ReLU stack is asked all active."""
    family = families()["resnet/gradient-through-blocks"]
    kinds, dead_seen = set(), 0
    for seed in range(80):
        p = family.generate(seed)
        d = family.draw_params(seed)
        k = p.question_kind
        depth = int(k["depth"])
        ws, bs, x = chain_params(d, depth)
        residual = k["ask"] == "residual"
        want = chain_gradient(k["branch"], x, ws, bs, residual)
        assert float(p.answer) == pytest.approx(want, rel=1e-9), (seed, k)
        assert abs(float(p.answer)) >= 2e-4 and not p.check("0").equivalent
        tags = {m["tag"] for m in p.mistakes}
        if "dead-branch-stops" in tags:
            dead_seen += 1
            assert k == {**k, "ask": "residual", "branch": "relu"}
        kinds.add((k["branch"], k["ask"], k["depth"]))
    assert len(kinds) == 8, kinds
    assert dead_seen >= 2


def test_a_wrong_stack_key_fails_the_scalar_chain_check() -> None:
    from dataclasses import replace

    family = families()["resnet/gradient-through-blocks"]
    for seed in range(6):
        p = family.generate(seed)
        assert family.verify(p) == []
        assert family.verify(replace(p, answer=repr(float(p.answer) * 1.01))), seed
