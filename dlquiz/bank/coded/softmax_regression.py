"""Softmax regression: scores o = Wx + b, yhat = softmax(o), cross-entropy, dL/do."""

from __future__ import annotations

import numpy as np
import sympy as sp

from dlquiz.bank.family import Family, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.bank.render import fmt, fmt_key


def _vector(values: list) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


@register
class SoftmaxProbabilities(Family):
    id = "softmax-regression/probabilities"
    topic = "softmax-regression"
    title = "Softmax probabilities of a score vector"
    kind = "numbers"

    def scores(self, seed: int) -> list[int]:
        draw = Draw(self.id, seed)
        n = draw.integer(3, 4)
        while True:
            o = [draw.integer(-3, 3) for _ in range(n)]
            if len(set(o)) > 1:  # equal scores make a dull, uniform answer
                return o

    @staticmethod
    def engine_probabilities(o: list[int]) -> np.ndarray:
        from dlquiz.engine import Tensor
        from dlquiz.engine import functional as F

        return F.softmax(Tensor(np.array(o, dtype=float)), axis=-1).data

    def generate(self, seed: int) -> Problem:
        o = self.scores(seed)
        p = self.engine_probabilities(o)
        shown = [fmt(float(v), 4) for v in p]
        exps = [fmt(float(np.exp(v)), 4) for v in o]
        total = fmt(float(np.exp(o).sum()), 4)
        unnormalized = _vector([fmt_key(float(np.exp(v))) for v in o])
        return self.problem(
            seed,
            statement=(
                f"A softmax regression model produces the scores $o = {_vector(o)}$. "
                "Compute the predicted probabilities $yhat = softmax(o)$, where "
                "each $yhat$ entry is $exp(o)$ divided by $sum(exp(o))$, to 3 significant figures."
            ),
            answer=_vector([fmt_key(float(v)) for v in p]),
            hints=[
                "Exponentiate each score, then divide by the sum of the exponentials.",
                f"The exponentials are {_vector(exps)}; their sum is {total}.",
            ],
            solution=(
                f"Exponentiate each score: {_vector(exps)}. Their sum is {total}. "
                f"Dividing each by the sum gives {_vector(shown)}; the probabilities add up to 1."
            ),
            mistakes=[
                {
                    "tag": "not-normalized",
                    "answer": unnormalized,
                    "feedback": "These are exp(o_i): softmax divides them by their sum.",
                },
            ],
        )

    def verify(self, problem: Problem) -> list[str]:
        o = self.scores(problem.seed)
        exact = [sp.exp(v) / sum(sp.exp(u) for u in o) for v in o]  # exact, then 30 digits
        reference = np.array([float(sp.N(e, 30)) for e in exact])
        key = np.array([float(v) for v in problem.answer.strip("[]").split(",")])
        if not np.allclose(key, reference, rtol=1e-8, atol=0):
            return [f"engine softmax {key} differs from the exact values {reference}"]
        return []
