"""Which activation has this table of derivatives? (The other activations families are
templates.) Code: the draw is redrawn until the table identifies exactly one of the five
options under the judge's tolerance; keys from the engine, checked against SymPy."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import sympy as sp

from dlquiz.bank.coded.common import LETTERS, distinguishable, n30
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import fmt

_POINTS = [Fraction(v, 2) for v in range(-8, 9)]  # -4 .. 4 in halves

# name shown as an option, SymPy form (for the independent check), engine form
_CANDIDATES: dict[str, tuple[str, object]] = {
    "sigmoid": ("the sigmoid $sigmoid(x) = 1/(1 + exp(-x))$", lambda t: 1 / (1 + sp.exp(-t))),
    "tanh": ("$tanh(x)$", sp.tanh),
    "relu": ("ReLU, $max(0, x)$", lambda t: sp.Max(0, t)),
    "softplus": ("softplus, $log(1 + exp(x))$", lambda t: sp.log(1 + sp.exp(t))),
    "identity": ("the identity (no activation), $x$", lambda t: t),
}

_FACTS = {
    "sigmoid": "σ' = σ(1 - σ) is a bump with maximum 1/4 at 0",
    "tanh": "tanh' = 1 - tanh² is a bump with maximum 1 at 0",
    "relu": "ReLU' is 0 for x ≤ 0 and 1 for x > 0",
    "softplus": "softplus' is the sigmoid itself: increasing from 0 to 1, 1/2 at 0",
    "identity": "the identity has derivative 1 everywhere",
}
_BUMPS = "Both derivatives are bumps at 0: σ' peaks at 1/4, tanh' at 1."
_STEPS = "ReLU' and the identity's derivative are both 1 for x > 0; for x ≤ 0 ReLU' is 0."
# The option a student who misreads the table picks: (tag, that option, feedback).
_CONFUSED = {
    "softplus": (
        "function-for-derivative",
        "sigmoid",
        "The table is the derivative: these are σ(x)'s values, so f is the function whose "
        "derivative is σ, softplus.",
    ),
    "sigmoid": ("sigmoid-tanh", "tanh", _BUMPS),
    "tanh": ("sigmoid-tanh", "sigmoid", _BUMPS),
    "relu": ("relu-identity", "identity", _STEPS),
    "identity": ("relu-identity", "relu", _STEPS),
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

    def draw(self, seed: int) -> tuple[str, list[Fraction], list[str]]:
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
        target, xs, order = self.draw(seed)
        values = _engine_derivative(target, [float(x) for x in xs])
        rows = ", ".join(
            f"f'({fmt(x)}) = {fmt(float(v), 3)}" for x, v in zip(xs, values, strict=True)
        )
        statement = (
            f"The derivative of an activation function f was measured at four points: {rows}. "
            "Which activation is f? (ReLU'(0) = 0 by convention.)"
        )
        letter = LETTERS[order.index(target)]
        tag, other, feedback = _CONFUSED[target]
        mistakes = [{"tag": tag, "answer": LETTERS[order.index(other)], "feedback": feedback}]
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
                f"Here {_FACTS[target]}, which matches the table. "
                "The others: "
                + "; ".join(_FACTS[n] for n in _CANDIDATES if n != target)
                + f". So the answer is {letter}."
            ),
            mistakes=mistakes,
        )

    def verify(self, problem: Problem) -> list[str]:
        target, xs, order = self.draw(problem.seed)
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

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"activation": self.draw(seed)[0]}
