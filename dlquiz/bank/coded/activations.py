"""Activations in code: derivative values, a neuron's derivative at a point, and matching.

Numbers come from the engine's autograd (the backward of ``Tensor.sigmoid/tanh/relu``) and
are checked against the closed forms in exact SymPy arithmetic: the notes'
sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2 and ReLU' = 1 for x > 0, 0 for x <= 0
(so ReLU'(0) = 0, as the notes and PyTorch have it; every problem says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from dlquiz.bank.coded.common import (
    LETTERS,
    distinguishable,
    exact_dact,
    keep_distinct,
    n30,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import fmt, fmt_key

ACTIVATIONS = ("sigmoid", "tanh", "relu")
_NAMES = {"sigmoid": "the sigmoid σ", "tanh": "tanh", "relu": "ReLU"}
_RELU_AT_ZERO = "ReLU'(0) = 0 by convention (the notes: ReLU' is 0 for x ≤ 0)"


def engine_values_and_derivatives(act: str, xs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) at the points by the engine: forward, then backward of the sum."""
    from dlquiz.engine import Tensor

    x = Tensor(np.array(xs, dtype=float), requires_grad=True)
    y = getattr(x, act)()
    y.sum().backward()
    return y.data.copy(), x.grad.copy()


def exact_derivative(act: str, x: Fraction | int) -> sp.Expr:
    """The notes' closed form at a drawn point, exactly (ReLU'(0) = 0)."""
    return exact_dact(act, sp.Rational(Fraction(x).numerator, Fraction(x).denominator))


# --- a neuron's derivative at a point ---------------------------------------------------


@dataclass(frozen=True)
class _Neuron:
    act: str
    w: Fraction
    b: Fraction
    x: Fraction
    wrt: str  # "x", "w" or "b"
    dead: bool  # a ReLU with a negative pre-activation: the zero is the point

    @property
    def z(self) -> Fraction:
        return self.w * self.x + self.b

    @property
    def inner(self) -> Fraction:
        """d z / d wrt."""
        return {"x": self.w, "w": self.x, "b": Fraction(1)}[self.wrt]


@register
class NeuronDerivative(Family):
    id = "activations/neuron-derivative"
    topic = "activations"
    title = "The derivative of a single neuron at a point"
    kind = "number"
    # A dead ReLU (negative pre-activation, derivative 0) is a kind of its own: its zero
    # is the point of the question; every other draw has a non-zero answer.
    kinds = dims(activation=ACTIVATIONS, wrt=("x", "w", "b"), zeros=("the point", "none"))

    def question_kind(self, seed: int) -> dict[str, str]:
        n = self.neuron(seed)
        return {"activation": n.act, "wrt": n.wrt, "zeros": "the point" if n.dead else "none"}

    def neuron(self, seed: int) -> _Neuron:
        draw = Draw(self.id, seed)
        act = draw.choice(ACTIVATIONS)
        wrt = draw.choice(["x", "w", "b"])
        dead = act == "relu" and draw.choice([False, False, True])
        while True:
            w = draw.fraction(-3, 3, (1, 1, 2))
            b = Fraction(draw.integer(-3, 3))
            x = draw.fraction(-3, 3, (1, 1, 2))
            n = _Neuron(act, w, b, x, wrt, dead)
            # A pre-activation of 0 is ill-posed for ReLU; an inner factor of 0 or +-1
            # (for x or w) would make the answer trivial or hide the chain-rule mistakes.
            side = act != "relu" or (n.z < 0) == dead
            if side and n.z != 0 and abs(n.z) <= 4 and (wrt == "b" or n.inner not in (0, 1, -1)):
                return n

    @staticmethod
    def engine(n: _Neuron) -> tuple[float, float]:
        """(a, da/d wrt) by the engine's autograd."""
        from dlquiz.engine import Tensor

        leaves = {
            name: Tensor(np.array(float(getattr(n, name))), requires_grad=name == n.wrt)
            for name in ("w", "x", "b")
        }
        z = leaves["w"] * leaves["x"] + leaves["b"]
        a = getattr(z, n.act)()
        a.backward()
        return float(a.data), float(leaves[n.wrt].grad)

    def generate(self, seed: int) -> Problem:
        n = self.neuron(seed)
        a, grad = self.engine(n)
        f = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}[n.act]
        slope = float(n30(exact_derivative(n.act, n.z)))
        statement = (
            f"A neuron computes $a = {f}(w*x + b)$ with $w = {n.w}$, $b = {n.b}$ and input "
            f"$x = {n.x}$. Compute $d/d{n.wrt} a$ at these values, to 3 significant figures."
            + (f" Use {_RELU_AT_ZERO}." if n.act == "relu" else "")
        )
        rule = {
            "sigmoid": "$sigmoid'(z) = sigmoid(z)*(1 - sigmoid(z))$",
            "tanh": "$tanh'(z) = 1 - tanh(z)^2$",
            "relu": "ReLU'(z) = 1 for z > 0 and 0 for z ≤ 0",
        }[n.act]
        inner_text = {"x": "w", "w": "x", "b": "1"}[n.wrt]
        # "w = 2", "x = 1/2", but "1" alone (never "1 = 1")
        inner = fmt(n.inner) if n.wrt == "b" else f"{inner_text} = {fmt(n.inner)}"
        solution = (
            f"Let $z = w*x + b$ = {fmt(n.z)}. By the chain rule "
            f"$d/d{n.wrt} a = {f}'(z)*(d/d{n.wrt} z)$ with $d/d{n.wrt} z$ = {inner}. "
            f"With {rule}, the outer factor is {fmt(slope, 4)}, so the answer is "
            + (
                f"the outer factor itself, {fmt(grad, 4)}."
                if n.wrt == "b"
                else f"{fmt(slope, 4)} × ({fmt(n.inner)}) = {fmt(grad, 4)}."
            )
        )
        candidates = [
            (
                "missing-inner-factor",
                [slope],
                f"Multiply by the inner derivative ∂z/∂{n.wrt} = {inner_text}.",
            ),
            (
                "function-for-derivative",
                [a * float(n.inner)],
                "That uses the activation's value where its derivative belongs.",
            ),
            (
                "wrong-argument",
                [n30(exact_derivative(n.act, n.x)) * float(n.inner)],
                "The derivative of the activation is taken at the pre-activation z = wx + b, "
                "not at x.",
            ),
            ("sign", [-grad], "Check the sign of the inner derivative."),
        ]
        if n.act == "relu" and n.z < 0:
            candidates.insert(
                0,
                (
                    "inactive-relu",
                    [float(n.inner)],
                    "The pre-activation is negative, so ReLU is inactive: its derivative "
                    "there is 0 and no gradient passes.",
                ),
            )
        return self.problem(
            seed,
            statement=statement,
            answer=fmt_key(grad),
            hints=[
                f"First the pre-activation $z = w*x + b$; then the chain rule "
                f"$d/d{n.wrt} a = {f}'(z)*(d/d{n.wrt} z)$.",
                rule[0].upper() + rule[1:] + ".",
            ],
            solution=solution,
            mistakes=keep_distinct([grad], candidates),
        )

    def verify(self, problem: Problem) -> list[str]:
        n = self.neuron(problem.seed)
        exact = n30(
            exact_derivative(n.act, n.z) * sp.Rational(n.inner.numerator, n.inner.denominator)
        )
        if not np.isclose(float(problem.answer), exact, rtol=1e-8, atol=1e-12):
            return [f"engine derivative {problem.answer} differs from the closed form {exact}"]
        return []


# --- which activation has this derivative? ------------------------------------------------

_POINTS = [Fraction(v, 2) for v in range(-8, 9)]  # -4 .. 4 in halves

# name shown as an option, SymPy form (for the independent check), engine form
_CANDIDATES: dict[str, tuple[str, object]] = {
    "sigmoid": ("the sigmoid $sigmoid(x) = 1/(1 + exp(-x))$", lambda t: 1 / (1 + sp.exp(-t))),
    "tanh": ("$tanh(x)$", sp.tanh),
    "relu": ("ReLU, $max(0, x)$", lambda t: sp.Max(0, t)),
    "softplus": ("softplus, $log(1 + exp(x))$", lambda t: sp.log(1 + sp.exp(t))),
    "identity": ("the identity (no activation), $x$", lambda t: t),
}


def _engine_derivative(name: str, xs: Sequence[float]) -> np.ndarray:
    from dlquiz.engine import Tensor

    x = Tensor(np.array(xs, dtype=float), requires_grad=True)
    if name == "softplus":
        y = (x.exp() + 1.0).log()
    elif name == "identity":
        y = x * 1.0
    else:
        y = getattr(x, name)()
    y.sum().backward()
    return x.grad.copy()


def _exact_derivative_table(name: str, xs: Sequence[Fraction]) -> list[float]:
    t = sp.Symbol("t", real=True)
    f = _CANDIDATES[name][1](t)  # type: ignore[operator]
    out = []
    for x in xs:
        v = sp.Rational(x.numerator, x.denominator)
        if name == "relu":  # d/dt Max(0, t) is Heaviside(t); the convention ReLU'(0) = 0
            out.append(1.0 if v > 0 else 0.0)
        else:
            out.append(n30(sp.diff(f, t).subs(t, v)))
    return out


@register
class IdentifyActivation(Family):
    id = "activations/identify"
    topic = "activations"
    title = "Which activation has this derivative? (a table of f'(x))"
    kind = "choice"
    kinds = dims(activation=tuple(_CANDIDATES))

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"activation": self.params(seed)[0]}

    def params(self, seed: int) -> tuple[str, list[Fraction], list[str]]:
        draw = Draw(self.id, seed)
        target = draw.choice(list(_CANDIDATES))
        while True:
            xs = sorted(draw.sample(_POINTS, 4))
            tables = {n: _exact_derivative_table(n, xs) for n in _CANDIDATES}
            matching = [n for n in _CANDIDATES if not distinguishable(tables[n], tables[target])]
            if matching == [target]:  # the table identifies the activation
                break
        order = draw.shuffle(list(_CANDIDATES))
        return target, xs, order

    def generate(self, seed: int) -> Problem:
        target, xs, order = self.params(seed)
        values = _engine_derivative(target, [float(x) for x in xs])
        rows = ", ".join(
            f"f'({fmt(x)}) = {fmt(float(v), 3)}" for x, v in zip(xs, values, strict=True)
        )
        statement = (
            f"The derivative of an activation function f was measured at four points: {rows}. "
            "Which activation is f? (ReLU'(0) = 0 by convention.)"
        )
        letter = LETTERS[order.index(target)]
        facts = {
            "sigmoid": "σ' = σ(1 - σ) is a bump with maximum 1/4 at 0",
            "tanh": "tanh' = 1 - tanh² is a bump with maximum 1 at 0",
            "relu": "ReLU' is 0 for x ≤ 0 and 1 for x > 0",
            "softplus": "softplus' is the sigmoid itself: increasing from 0 to 1, 1/2 at 0",
            "identity": "the identity has derivative 1 everywhere",
        }
        mistakes = []
        # Reading the table as f itself: the option whose values (not derivative) match.
        if target == "softplus":
            mistakes.append(
                {
                    "tag": "function-for-derivative",
                    "answer": LETTERS[order.index("sigmoid")],
                    "feedback": "The table is the derivative: these are σ(x)'s values, so f "
                    "is the function whose derivative is σ, softplus.",
                }
            )
        if target in ("sigmoid", "tanh"):
            other = "tanh" if target == "sigmoid" else "sigmoid"
            mistakes.append(
                {
                    "tag": "sigmoid-tanh",
                    "answer": LETTERS[order.index(other)],
                    "feedback": "Both derivatives are bumps at 0: σ' peaks at 1/4, tanh' at 1.",
                }
            )
        if target in ("relu", "identity"):
            other = "identity" if target == "relu" else "relu"
            mistakes.append(
                {
                    "tag": "relu-identity",
                    "answer": LETTERS[order.index(other)],
                    "feedback": "ReLU' and the identity's derivative are both 1 for x > 0; "
                    "they differ for x ≤ 0, where ReLU' is 0.",
                }
            )
        return self.problem(
            seed,
            statement=statement,
            answer=letter,
            choices=[_CANDIDATES[n][0] for n in order],
            hints=[
                "Compare the shapes: which derivatives are bumps, which are steps, which "
                "are constant, which increase?",
                "σ'(0) = 1/4, tanh'(0) = 1, ReLU'(x) is 0 or 1, softplus'(x) = σ(x).",
            ],
            solution=(
                f"Here {facts[target]}, which matches the table. "
                "The others: "
                + "; ".join(facts[n] for n in _CANDIDATES if n != target)
                + f". So the answer is {letter}."
            ),
            mistakes=mistakes,
        )

    def verify(self, problem: Problem) -> list[str]:
        target, xs, order = self.params(problem.seed)
        failures = []
        engine = _engine_derivative(target, [float(x) for x in xs])
        exact = _exact_derivative_table(target, xs)
        if not np.allclose(engine, exact, rtol=1e-8, atol=1e-12):
            failures.append(f"engine derivatives {engine} differ from SymPy's {exact}")
        matching = [n for n in order if not distinguishable(_exact_derivative_table(n, xs), exact)]
        if matching != [target]:
            failures.append(f"the table fits {matching}, not exactly one option")
        if len(set(problem.choices)) != len(problem.choices):
            failures.append("two options are the same")
        if problem.answer != LETTERS[order.index(target)]:
            failures.append("the key is not the target's letter")
        return failures
