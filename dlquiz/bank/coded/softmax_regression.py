"""Softmax regression: scores o = Wx + b, yhat = softmax(o), cross-entropy, dL/do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from dlquiz.bank.coded.common import (
    keep_distinct,
    matrix,
    n30,
    vector,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import fmt, fmt_key


def _finite(candidates: list) -> list:
    """The candidate mistakes whose numbers are all finite (others are no answer)."""
    return [c for c in candidates if all(np.isfinite([float(v) for v in c[1]]))]


def _onehot(k: int, c: int) -> list[int]:
    return [1 if i == c else 0 for i in range(k)]


@dataclass(frozen=True)
class _Example:
    """Scores for one example, given directly or through a small model o = Wx + b."""

    o: tuple[int, ...]
    label: int  # 0-based index of the correct class
    W: tuple[tuple[int, ...], ...] | None = None
    x: tuple[int, ...] | None = None
    b: tuple[int, ...] | None = None


def _draw_example(draw: Draw, *, allow_model: bool) -> _Example:
    k = draw.integer(3, 4)
    label = draw.integer(0, k - 1)
    if allow_model and draw.choice([True, False]):
        d = 2
        while True:
            W = tuple(tuple(draw.integer(-2, 2) for _ in range(d)) for _ in range(k))
            x = tuple(draw.nonzero(-2, 2) for _ in range(d))
            b = tuple(draw.integer(-1, 1) for _ in range(k))
            o = tuple(
                sum(wi * xi for wi, xi in zip(row, x, strict=True)) + bi
                for row, bi in zip(W, b, strict=True)
            )
            if len(set(o)) > 1 and max(abs(v) for v in o) <= 5:
                return _Example(o, label, W, x, b)
    while True:
        o = tuple(draw.integer(-3, 3) for _ in range(k))
        if len(set(o)) > 1:
            return _Example(o, label)


def _scores_text(ex: _Example) -> str:
    """How the statement gives the scores: directly, or as the model's parameters."""
    if ex.W is None:
        return f"A softmax regression model produces the scores $o = {vector(ex.o)}$"
    return (
        f"A softmax regression model with $W = {matrix(ex.W)}$ and "
        f"$b = {vector(ex.b)}$ receives the input $x = {vector(ex.x)}$; its scores are "
        "$o = W@x + b$"
    )


def _engine_loss_and_grad(o: Sequence[int], label: int) -> tuple[float, np.ndarray]:
    """Cross-entropy of one example and its gradient in the scores, by the engine."""
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    scores = Tensor(np.array([o], dtype=float), requires_grad=True)
    loss = F.cross_entropy(scores, [label], reduction="sum")
    loss.backward()
    return float(loss.data), scores.grad[0].copy()


def _exact_softmax(o: Sequence[int]) -> list[sp.Expr]:
    return [sp.exp(v) / sum(sp.exp(u) for u in o) for v in o]


@register
class CrossEntropyValue(Family):
    id = "softmax-regression/loss-value"
    topic = "softmax-regression"
    title = "The cross-entropy loss of one example"
    kind = "number"
    kinds = dims(given=("scores", "model"))

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"given": "scores" if self.example(seed).W is None else "model"}

    def example(self, seed: int) -> _Example:
        return _draw_example(Draw(self.id, seed), allow_model=True)

    def generate(self, seed: int) -> Problem:
        ex = self.example(seed)
        k, c = len(ex.o), ex.label
        loss, _ = _engine_loss_and_grad(ex.o, c)
        p = np.exp(np.array(ex.o, float)) / np.exp(np.array(ex.o, float)).sum()
        statement = (
            f"{_scores_text(ex)}. The label is one-hot, $y = {vector(_onehot(k, c))}$ "
            f"(the correct class is class {c + 1} of {k}). With $yhat = softmax(o)$, compute "
            "the cross-entropy loss $L = -sum(y*log(yhat))$ (natural logarithm), to 3 "
            "significant figures."
        )
        exps = vector([fmt(float(np.exp(v)), 4) for v in ex.o])
        total = fmt(float(np.exp(np.array(ex.o, float)).sum()), 4)
        lines = []
        if ex.W is not None:
            lines.append(f"First the scores: o = W x + b = {vector(ex.o)}.")
        lines += [
            f"Only the correct class survives the sum, so $L = -log(yhat_{c + 1})$ (the notes: "
            "-log of the probability of the correct class).",
            f"The exponentials of the scores are {exps} with sum {total}, so the correct "
            f"class has probability {fmt(p[c], 4)} and L = -log({fmt(p[c], 4)}) = "
            f"{fmt(loss, 4)}.",
            f"Equivalently $L = log(sum(exp(o))) - o_{c + 1}$ = log({total}) - ({ex.o[c]}).",
        ]
        wrong = int(np.argmax(ex.o))
        candidates = [
            (
                "sign",
                [-loss],
                "The loss is -log ŷ_c, a positive number: log of a probability is negative.",
            ),
            (
                "no-log",
                [p[c]],
                f"That is the probability ŷ_{c + 1} itself; the loss is its negative logarithm.",
            ),
            (
                "not-normalized",
                [-ex.o[c]],
                "That is -log exp(o_c) = -o_c: softmax divides by "
                "the sum of the exponentials first.",
            ),
            ("log-base", [-np.log10(p[c])], "The loss uses the natural logarithm, not log₁₀."),
        ]
        if wrong != c:
            candidates.append(
                (
                    "wrong-class",
                    [-np.log(p[wrong])],
                    "That is -log of the largest "
                    "probability; the loss uses the probability of the correct class (y = 1).",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=fmt_key(loss),
            hints=[
                "With a one-hot $y$ only one term of the sum is left: -log of the correct "
                "class's probability.",
                "$yhat_c = exp(o_c)/sum(exp(o))$, so $L = log(sum(exp(o))) - o_c$.",
            ],
            solution=" ".join(lines),
            mistakes=keep_distinct([loss], _finite(candidates)),
        )

    def verify(self, problem: Problem) -> list[str]:
        ex = self.example(problem.seed)
        failures = []
        if ex.W is not None:
            o = [
                sum(w * x for w, x in zip(row, ex.x, strict=True)) + b
                for row, b in zip(ex.W, ex.b, strict=True)
            ]
            if tuple(o) != ex.o:
                failures.append(f"the scores W x + b = {o}, not {list(ex.o)}")
        exact = sp.log(sum(sp.exp(v) for v in ex.o)) - ex.o[ex.label]
        if not np.isclose(float(problem.answer), n30(exact), rtol=1e-8, atol=0):
            failures.append(f"engine loss {problem.answer} differs from the exact {n30(exact)}")
        return failures
