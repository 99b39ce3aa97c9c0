"""Dropout on a vector with the mask the engine drew (the other families are templates).

It stays code: the mask is the engine's own random draw, shown in the statement; the key
is checked by a plain loop of the notes' rule with that mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dlquiz.bank.coded.common import close_to, keep_distinct, read_numbers
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import array_text, fmt

_P = tuple(Fraction(v) for v in ("1/2", "1/5", "1/4", "1/10", "3/10", "2/5", "3/4"))


@dataclass(frozen=True)
class _Dropout:
    h: tuple[Fraction, ...]
    p: Fraction
    rng_seed: int  # the engine's draw
    ask: str  # output or gradient
    upstream: tuple[int, ...]  # dL/dh' for the gradient question


def _dropout_engine(d: _Dropout) -> tuple[np.ndarray, np.ndarray]:
    """The engine's inverted dropout on h (training mode) and dL/dh through it."""
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    h = Tensor(np.array([float(v) for v in d.h]), requires_grad=True)
    out = F.dropout(h, float(d.p), training=True, rng=d.rng_seed)
    (out * Tensor(np.array(d.upstream, dtype=float))).sum().backward()
    return out.data.copy(), h.grad.copy()


def _units(word: str, indices: list[int]) -> str:
    return f"{word} unit{'s' if len(indices) > 1 else ''} " + ", ".join(str(i + 1) for i in indices)


@register
class DropoutOutput(Family):
    """The mask's zeros are the point of the question: declared as the kind ``zeros``."""

    id = "regularization/dropout-output"
    topic = "regularization"
    title = "Inverted dropout on a vector: the output for a given mask, and the gradient through it"
    kind = "numbers"
    kinds = dims(ask=("output", "gradient"), zeros=("the point",))

    def draw(self, seed: int) -> _Dropout:
        draw = Draw(self.id, seed)
        n = draw.integer(3, 6)
        p = draw.choice(_P)
        h = tuple(Fraction(draw.nonzero(-6, 6), draw.choice([1, 1, 2])) for _ in range(n))
        upstream = tuple(draw.nonzero(-3, 3) for _ in range(n))
        ask = draw.choice(["output", "output", "gradient"])
        while True:  # a draw of the engine that keeps some units and drops others
            d = _Dropout(h, p, draw.integer(0, 2**31 - 1), ask, upstream)
            kept = _dropout_engine(d)[0] != 0
            if kept.any() and not kept.all():
                return d

    def generate(self, seed: int) -> Problem:
        d = self.draw(seed)
        out, grad = _dropout_engine(d)
        kept = out != 0
        index = range(len(d.h))
        mask = _units("keeps", [i for i in index if kept[i]])
        mask += " and " + _units("drops", [i for i in index if not kept[i]])
        p, q = fmt(d.p, 6), fmt(1 - d.p, 6)
        statement = (
            f"A dropout layer with $p = {p}$ (the notes' dropout: each unit becomes 0 with "
            "probability $p$ and $h/(1 - p)$ with probability $1 - p$) is applied during "
            f"training to the hidden representation $h = {array_text(d.h)}$. Its random draw "
            f"{mask}."
        )
        up = np.array(d.upstream, dtype=float)
        keep = 1 - float(d.p)
        if d.ask == "output":
            key, values = out, np.array([float(v) for v in d.h])
            statement += " What is the layer's output h'?"
        else:
            key, values = grad, up
            statement += (
                f" Backpropagation brings the gradient dL/dh' = {array_text(d.upstream)} to the "
                "layer's output. What is the gradient dL/dh with respect to its input?"
            )
        m, p_ = values * kept, float(d.p)
        candidates = [
            (
                "not-scaled",
                m,
                f"The kept units are scaled by 1/(1 - p) = 1/{q}, so that E[h'] = h.",
            ),
            (
                "scaled-by-keep",
                m * keep,
                "Inverted dropout divides the kept units by 1 - p; "
                "multiplying by 1 - p is the classic test-time scaling.",
            ),
            (
                "scaled-by-p",
                m / p_,
                "The kept units are divided by the keep probability 1 - p, not by p.",
            ),
            (
                "mask-inverted",
                values * (~kept) / keep,
                "Units that are dropped become 0; the kept ones are the ones scaled.",
            ),
        ]
        if d.ask == "gradient":
            candidates.append(
                (
                    "gradient-not-masked",
                    up / keep,
                    "The dropped units did not reach "
                    "the output: their gradient is 0 (the same mask applies backward).",
                )
            )
        scale = fmt(1 / keep, 6)
        solution = (
            f"Dropped units become 0; kept units are divided by 1 - p = {q}, i.e. multiplied "
            f"by {scale}. So h' = {array_text(key)}."
            if d.ask == "output"
            else "Dropout multiplies each unit by m_i/(1 - p), with m_i = 1 for a kept unit and "
            "0 for a dropped one; backward the gradient is multiplied by the same factor: 0 for "
            f"the dropped units, {scale} times dL/dh' for the kept ones. So dL/dh = "
            f"{array_text(key)}."
        )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(key, None),
            hints=[
                "A dropped unit outputs 0; a kept unit outputs h/(1 - p) (inverted dropout).",
                "The operation is h' = m ⊙ h/(1 - p) for the fixed mask m: backward, the gradient "
                "is multiplied by the same m/(1 - p).",
            ],
            solution=solution,
            mistakes=keep_distinct(key, candidates),
        )

    def verify(self, problem: Problem) -> list[str]:
        """A plain loop of the notes' rule, exact, with the mask the engine drew."""
        d = self.draw(problem.seed)
        kept = [v != 0 for v in _dropout_engine(d)[0]]
        source = d.h if d.ask == "output" else d.upstream
        pairs = zip(source, kept, strict=True)
        exact = [float(Fraction(v) / (1 - d.p)) if k else 0.0 for v, k in pairs]
        if not close_to(read_numbers(problem.answer), exact):
            return [f"engine dropout gives {problem.answer}, the rule {exact}"]
        return []

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"ask": self.draw(seed).ask, "zeros": "the point"}
