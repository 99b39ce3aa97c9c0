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

from dataclasses import dataclass

import numpy as np

from dlquiz.bank.coded.common import (
    distinct_counts,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw


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
