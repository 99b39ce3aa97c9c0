"""Batch normalization: batch statistics, outputs in both conventions, parameters, test time.

The notes: BatchNorm(x) = gamma * (x - mu_B) / (sigma_B + eps) + beta, with the *biased*
batch variance sigma_B^2 = (1/|B|) sum (x - mu_B)^2, and gamma, beta per feature.
PyTorch (and the engine) put eps inside the square root: (x - mu_B) / sqrt(sigma_B^2 + eps).
The two agree to 3 significant figures for PyTorch's default eps = 1e-5 but not for a
large eps, so the output problems come in two families, one per convention, each stating
its own. For a convolution's (N, C, H, W) output, gamma and beta are per channel
(PyTorch's BatchNorm2d).

Statistics and the notes' output are computed with engine tensors and verified by exact
fractions/SymPy; the PyTorch output comes from the engine's batch_norm and is verified by
exact SymPy arithmetic; parameter counts against the engine's BatchNorm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dlquiz.bank.coded.common import (
    distinct_counts,
    keep_distinct,
    key_numbers,
    matrix,
    mismatch,
    separated,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import array_text, fmt


def _draw_batch(draw: Draw, batch: int, features: int) -> tuple[tuple[int, ...], ...]:
    """Rows are examples; no feature is constant over the batch (its variance would be 0)."""
    while True:
        x = tuple(tuple(draw.integer(-3, 9) for _ in range(features)) for _ in range(batch))
        if all(len({row[f] for row in x}) > 1 for f in range(features)):
            return x


def exact_stats(x: Sequence[Sequence[int]], *, unbiased: bool = False) -> tuple[list, list]:
    """Per-feature mean and variance in fractions (biased, as in the notes, by default)."""
    m = len(x)
    means, variances = [], []
    for f in range(len(x[0])):
        col = [Fraction(row[f]) for row in x]
        mu = sum(col) / m
        ss = sum((v - mu) ** 2 for v in col)
        means.append(mu)
        variances.append(ss / (m - 1 if unbiased else m))
    return means, variances


# --- batch statistics ---------------------------------------------------------------------
@register
class BatchStatistics(Family):
    id = "batch-norm/statistics"
    topic = "batch-norm"
    title = "Batch mean and (biased) batch variance per feature"
    kind = "numbers"

    def setup(self, seed: int) -> tuple[tuple[int, ...], ...]:
        draw = Draw(self.id, seed)
        return _draw_batch(draw, draw.integer(3, 6), draw.integer(1, 3))

    @staticmethod
    def engine_stats(x: Sequence[Sequence[int]]) -> np.ndarray:
        from dlquiz.engine import Tensor

        t = Tensor(np.array(x, dtype=float))
        mean = t.mean(axis=0, keepdims=True)
        var = ((t - mean) ** 2).mean(axis=0, keepdims=True)
        return np.vstack([mean.data, var.data])

    def generate(self, seed: int) -> Problem:
        x = self.setup(seed)
        m, features = len(x), len(x[0])
        stats = self.engine_stats(x)
        statement = (
            f"A batch-norm layer receives a batch of $|B| = {m}$ examples with {features} "
            f"feature{'s' if features > 1 else ''}, one example per row: $x = {matrix(x)}$. "
            "Compute the batch mean $mu_B$ and the batch variance $sigma_B^2$ of each feature "
            f"as in the notes (the variance divides by $|B| = {m}$). Answer with a matrix whose "
            "first row holds the means and whose second row holds the variances"
            + (" (one column per feature)." if features > 1 else ".")
        )
        means, variances = exact_stats(x)
        cols = []
        for f in range(features):
            col = [row[f] for row in x]
            dev = " + ".join(f"({fmt(Fraction(v) - means[f])})²" for v in col)
            cols.append(
                f"feature {f + 1}: mean ({' + '.join(str(v) for v in col)})/{m} = "
                f"{fmt(means[f])}, variance ({dev})/{m} = {fmt(variances[f])}"
            )
        solution = (
            "Each feature is normalised over the batch, so work column by column. "
            + "; ".join(cols)
            + f". So the answer is ${array_text(stats, rows=True)}$. (PyTorch normalises with this "
            "biased variance too; only its running average uses the unbiased one, dividing "
            f"by {m - 1}.)"
        )
        _, unbiased = exact_stats(x, unbiased=True)
        candidates = [
            (
                "unbiased-variance",
                np.vstack([stats[0], [float(v) for v in unbiased]]),
                f"The notes' batch variance divides by |B| = {m}, not by |B| - 1 = {m - 1}.",
            ),
            (
                "std-not-variance",
                np.vstack([stats[0], np.sqrt(stats[1])]),
                "That is the standard deviation σ_B; the question asks for the variance σ_B².",
            ),
            (
                "transposed-stats",
                np.vstack([stats[1], stats[0]]),
                "The first row holds the means, the second the variances.",
            ),
        ]
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(stats, None, rows=True),
            hints=[
                "Statistics are per feature: take each column over the examples in the batch.",
                f"The variance is the mean of the squared deviations: divide by {m}.",
            ],
            solution=solution,
            mistakes=keep_distinct(
                stats, candidates, text=lambda v: array_text(v, None, rows=True), apart=separated
            ),
        )

    def verify(self, problem: Problem) -> list[str]:
        means, variances = exact_stats(self.setup(problem.seed))
        exact = np.array([[float(v) for v in means], [float(v) for v in variances]])
        return mismatch(key_numbers(problem.answer), exact, "exact fractions", atol=1e-10)


# --- learnable parameters -----------------------------------------------------------------
@dataclass(frozen=True)
class _ParamSetup:
    layer: str  # "dense" or "conv"
    width: int  # features (dense) or channels (conv)
    batch: int
    size: int  # conv: height = width of the feature map
    ask: str  # "learnable" or "stored"


@register
class BatchNormParameters(Family):
    id = "batch-norm/parameters"
    topic = "batch-norm"
    title = "How many parameters a batch-norm layer has"
    kind = "integer"
    kinds = dims(layer=("dense", "conv"), ask=("learnable", "stored"))

    def question_kind(self, seed: int) -> dict[str, str]:
        su = self.setup(seed)
        return {"layer": su.layer, "ask": su.ask}

    def setup(self, seed: int) -> _ParamSetup:
        draw = Draw(self.id, seed)
        return _ParamSetup(
            draw.choice(["dense", "conv"]),
            draw.choice([16, 32, 48, 64, 96, 100, 128, 200, 256, 512]),
            draw.choice([8, 16, 32, 64, 128]),
            draw.choice([7, 8, 14, 16, 28, 32]),
            draw.choice(["learnable", "stored"]),
        )

    def generate(self, seed: int) -> Problem:
        su = self.setup(seed)
        n = su.width
        key = 2 * n if su.ask == "learnable" else 4 * n
        if su.layer == "dense":
            where = (
                f"after a fully connected layer with {n} output units, trained with batches "
                f"of shape ({su.batch}, {n})"
            )
            unit = "feature"
        else:
            where = (
                f"(PyTorch's BatchNorm2d) after a convolutional layer with {n} output channels, "
                f"whose output batches have shape ({su.batch}, {n}, {su.size}, {su.size}) "
                "(N, C, H, W)"
            )
            unit = "channel"
        question = (
            "How many learnable parameters (trained by gradient descent) does the batch-norm "
            "layer have?"
            if su.ask == "learnable"
            else "How many numbers does the batch-norm layer store in all, counting its "
            "learnable parameters and the running mean and running variance it keeps for "
            "test time?"
        )
        statement = f"A batch-norm layer is placed {where}. {question}"
        solution = (
            f"Batch norm normalises each {unit} with the batch statistics and then applies its "
            f"own scale $gamma$ and shift $beta$: one of each per {unit}, so {n} + {n} = "
            f"{2 * n} learnable parameters"
            + (
                f" (shared over the batch and, for a convolution, over all {su.size}x{su.size} "
                "positions of a channel)"
                if su.layer == "conv"
                else " (shared over the batch)"
            )
            + ". "
            + (
                f"The running mean and running variance ({n} each) are buffers updated as "
                "moving averages, not learned by gradients."
                if su.ask == "learnable"
                else f"It also stores a running mean and a running variance, {n} each, so "
                f"{2 * n} + {2 * n} = {4 * n} numbers."
            )
            + " (The notes' 'same shape as x' means one per feature: for a convolution, per "
            "channel.)"
        )
        candidates = [
            ("gamma-only", n, "Count both γ and β: one of each per " + unit + "."),
            (
                "per-example",
                2 * n * su.batch,
                "γ and β are shared by every example in the batch: they do not grow with the "
                "batch size.",
            ),
        ]
        if su.layer == "conv":
            candidates.append(
                (
                    "per-position",
                    (2 if su.ask == "learnable" else 4) * n * su.size * su.size,
                    "For a convolution, BatchNorm2d keeps one γ and one β per channel, shared "
                    "by all positions.",
                )
            )
        if su.ask == "learnable":
            candidates.append(
                (
                    "running-stats-counted",
                    4 * n,
                    "The running mean and variance are buffers, updated as moving averages, "
                    "not learnable parameters.",
                )
            )
        else:
            candidates.append(
                (
                    "running-stats-missed",
                    2 * n,
                    f"Add the running mean and running variance: {n} numbers each.",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=str(key),
            hints=[
                f"$gamma$ and $beta$ have one entry per {unit}.",
                "The running statistics are not trained by gradient descent.",
            ],
            solution=solution,
            mistakes=distinct_counts(key, candidates),
        )

    def verify(self, problem: Problem) -> list[str]:
        """Counts from the engine's BatchNorm, which must also accept the stated batch."""
        from dlquiz.engine import BatchNorm, Tensor

        su = self.setup(problem.seed)
        bn = BatchNorm(su.width)
        learnable = sum(p.data.size for p in bn.parameters())
        stored = learnable + bn.running_mean.size + bn.running_var.size
        shape = (2, su.width) if su.layer == "dense" else (2, su.width, su.size, su.size)
        x = Tensor(np.random.default_rng(problem.seed).normal(size=shape))
        if bn(x).shape != shape:
            return ["the engine's BatchNorm changed the shape"]
        engine = learnable if su.ask == "learnable" else stored
        if int(problem.answer) != engine:
            return [f"the key {problem.answer} but the engine's BatchNorm gives {engine}"]
        return []
