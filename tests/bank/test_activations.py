"""Activation families: verified keys, known mistakes, keys against the notes' formulas."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from bank_helpers import (
    assert_same_seed_same_problem,
    assert_statements_vary,
    chain_gradient,
    chain_params,
    passing_problems,
)

from dlquiz.bank import families

FAMILIES = [
    "activations/composition",
    "activations/derivative-values",
    "activations/neuron-derivative",
    "activations/identify",
    "activations/vanishing-gradient",
]
SEEDS = range(6)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# The notes' derivatives, written out independently of the package.
NOTES = {
    "sigmoid": lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
    "tanh": lambda x: 1 - math.tanh(x) ** 2,
    "relu": lambda x: 1.0 if x > 0 else 0.0,
}


@pytest.mark.parametrize("family_id", FAMILIES)
def test_family_passes_every_check(family_id: str) -> None:
    passing_problems(family_id, SEEDS, topic="activations")


@pytest.mark.parametrize("family_id", FAMILIES)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 9)
    assert_statements_vary(family_id, range(12), more_than=6)


def test_derivative_values_follow_the_notes_including_relu_at_zero() -> None:
    from fractions import Fraction

    from bank_helpers import numbers

    family = families()["activations/derivative-values"]
    acts = set()
    for seed in range(30):
        d = family.draw_params(seed)
        act = d["activation"]
        xs = [float(Fraction(v.strip())) for v in d["list"].split(",")]
        problem = family.generate(seed)
        assert 0 in xs and xs == sorted(xs) and len(set(xs)) == len(xs)
        key = list(numbers(problem.answer).reshape(-1))
        assert key == pytest.approx([NOTES[act](x) for x in xs], rel=1e-9, abs=1e-12)
        if act == "relu":
            assert "ReLU'(0) = 0" in problem.statement
            assert key[xs.index(0)] == 0.0
            wrong = "[" + ", ".join("1" if x >= 0 else "0" for x in xs) + "]"
            assert problem.check(wrong).mistake == "relu-at-zero"
        acts.add(act)
    assert acts == {"sigmoid", "tanh", "relu"}


def test_composition_accepts_primed_and_expanded_forms() -> None:
    family = families()["activations/composition"]
    acts = set()
    for seed in range(20):
        p = family.draw_params(seed)
        problem = family.generate(seed)
        act = p["act"]
        w = p["w_relu"] if act == "relu" else p["w_any"]
        c = p["c_relu"] if act == "relu" else p["c_any"]
        z = f"(({w})*x + ({c}))"
        outer = {"sigmoid": f"sigmoid'{z}", "tanh": f"tanh'{z}", "relu": f"step{z}"}[act]
        assert problem.check(f"({p['v']})*({w})*{outer}").equivalent, (seed, act)
        assert problem.check(f"({p['v']})*{outer}").mistake == "missing-inner-factor"
        if act == "relu":  # the kink lies where the judge's points fall on both sides
            assert abs(int(c) / int(w)) <= 1
        acts.add(act)
    assert acts == {"sigmoid", "tanh", "relu"}


def _neuron(family, seed: int) -> tuple[str, str, float, float, float]:  # type: ignore[no-untyped-def]
    """(activation, wrt, w, b, x) of a neuron-derivative draw."""
    from fractions import Fraction

    d = family.draw_params(seed)
    w, b, x = (float(Fraction(d[k])) for k in ("wv", "bv", "xv"))
    return d["activation"], d["wrt"], w, b, x


def test_neuron_derivative_is_the_chain_rule() -> None:
    family = families()["activations/neuron-derivative"]
    for seed in range(30):
        act, wrt, w, b, x = _neuron(family, seed)
        problem = family.generate(seed)
        z = w * x + b
        assert z != 0
        inner = {"x": w, "w": x, "b": 1.0}[wrt]
        assert float(problem.answer) == pytest.approx(NOTES[act](z) * inner, rel=1e-9, abs=1e-12)


FUNCS = {
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "relu": lambda x: max(0.0, x),
    "softplus": lambda x: math.log1p(math.exp(x)),
    "identity": lambda x: x,
}


def _difference_table(name: str, xs, h: float = 1e-6) -> np.ndarray:  # type: ignore[no-untyped-def]
    """f' by central differences; ReLU'(0) = 0 by the stated convention (left difference)."""
    f = FUNCS[name]
    return np.array(
        [
            (f(float(x)) - f(float(x) - h)) / h
            if name == "relu" and x == 0
            else (f(float(x) + h) - f(float(x) - h)) / (2 * h)
            for x in xs
        ]
    )


def test_identify_has_exactly_one_matching_option() -> None:
    """The key's option reproduces the table by finite differences; no other option does."""
    family = families()["activations/identify"]
    for seed in range(25):
        target, xs, order = family.draw(seed)
        problem = family.generate(seed)
        assert problem.answer == "ABCDEFGH"[order.index(target)]
        measured = _difference_table(target, xs)
        fits = [
            n
            for n in order
            if np.allclose(_difference_table(n, xs), measured, rtol=5e-3, atol=1e-4)
        ]
        assert fits == [target], (seed, fits)


# "a = a" where a is not the last factor of a product ("0.5 · 2 · 2.5 = 2.5" is fine)
REPEATED = re.compile(r"(?<![\w.])(?<![·×*/+-] )(-?\d[\d./]*) = \1(?!\w|\.\d)")


def test_solutions_never_print_an_equation_that_repeats_itself() -> None:
    """No "∂z/∂b = 1 = 1" or "1 × 1 = 1": each "a = b" of the solution says something."""
    assert REPEATED.search("with ∂z/∂b = 1 = 1.") and REPEATED.search("is 1^5 = 1 = 1.")
    assert not REPEATED.search("x = 1.5 = 1.50") and not REPEATED.search("z = 1 = 1.5")
    assert not REPEATED.search("Here that is 0.5 · 2 · 2.5 = 2.5.")
    for family_id in ("activations/neuron-derivative", "activations/vanishing-gradient"):
        for seed in range(60):
            p = families()[family_id].generate(seed)
            for text in (p.solution, *p.hints):
                assert not REPEATED.search(text), (family_id, seed, text)
                assert not re.search(r"× \(?1\)? =", text), (family_id, seed, text)


def test_a_zero_answer_is_a_declared_kind_a_dead_relu() -> None:
    """A key of 0 comes only from a ReLU with a negative pre-activation, declared as
    ``zeros = the point``; every other draw has a non-zero key."""
    family = families()["activations/neuron-derivative"]
    dead = 0
    for seed in range(120):
        p = family.generate(seed)
        act, _, w, b, x = _neuron(family, seed)
        if p.question_kind["zeros"] == "the point":
            dead += 1
            assert act == "relu" and w * x + b < 0 and float(p.answer) == 0.0
            assert "inactive-relu" in {m["tag"] for m in p.mistakes}
        else:
            assert float(p.answer) != 0.0, seed
    assert 5 <= dead <= 40


def test_vanishing_gradient_is_the_product_of_the_layers_factors_and_below_its_bound() -> None:
    """Each key against a loop written here; a sigmoid chain's gradient never exceeds
    prod |w_m|/4 (its bound question's key), a ReLU chain's bound is prod |w_m|."""
    family = families()["activations/vanishing-gradient"]
    kinds = set()
    for seed in range(100):
        p = family.generate(seed)
        d = family.draw_params(seed)
        k = p.question_kind
        depth = int(k["depth"])
        ws, bs, x = chain_params(d, depth)
        grad = chain_gradient(k["activation"], x, ws, bs)
        top = 0.25 if k["activation"] == "sigmoid" else 1.0
        bound = math.prod(abs(w) * top for w in ws)
        assert abs(grad) <= bound * (1 + 1e-12)
        want = {"gradient": grad, "bound": bound, "unit": top**depth}[k["ask"]]
        assert float(p.answer) == pytest.approx(want, rel=1e-9), (seed, k)
        assert abs(float(p.answer)) >= 2e-4  # never near the judge's absolute tolerance
        assert not p.check("0").equivalent
        kinds.add((k["activation"], k["ask"], k["depth"]))
    assert {(a, q) for a, q, _ in kinds} == {
        (a, q) for a in ("sigmoid", "relu") for q in ("gradient", "bound", "unit")
    }
    assert {dp for _, _, dp in kinds} == {"3", "4", "5"}


def test_vanishing_gradient_names_the_chain_rule_mistakes() -> None:
    family = families()["activations/vanishing-gradient"]
    seen = set()
    for seed in range(40):
        p = family.generate(seed)
        for m in p.mistakes:
            assert p.check(m["answer"]).mistake == m["tag"], (seed, m)
            seen.add(m["tag"])
    assert {"weights-ignored", "sum-not-product", "sigmoid-factor"} <= seen


def test_a_wrong_chain_key_fails_the_scalar_chain_check() -> None:
    from dataclasses import replace

    family = families()["activations/vanishing-gradient"]
    for seed in range(6):
        p = family.generate(seed)
        assert family.verify(p) == []
        assert family.verify(replace(p, answer=repr(float(p.answer) * 1.01))), seed
