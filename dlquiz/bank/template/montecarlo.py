"""Monte Carlo variances of linear layers on the engine, with their standard errors.

Under the notes' initialization assumptions (independent zero-mean inputs and weights,
nonlinearities ignored) a layer multiplies the forward variance by n_in·Var(w) and the
backward one by n_out·Var(w). The checks of the initialization families estimate those
variances with the engine (its batched matmul and its autograd) instead of the formulas,
within five standard errors estimated from the samples (a fixed seed: no flicker).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

MC_SIGMAS = 5.0  # the statistical tolerance: |estimate - claim| <= 5 standard errors
MC_FLOATS = 4_000_000  # weight entries drawn per estimate (memory and time)
MC_TRIALS = 8000


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo variance with its standard error."""

    value: float
    se: float

    def agrees(self, claim: float) -> bool:
        return abs(self.value - claim) <= MC_SIGMAS * self.se

    def describe(self, claim: float) -> str:
        return (
            f"Monte Carlo gives {self.value:.5g} ± {self.se:.2g} (1 s.e.), the claim {claim:.5g}: "
            f"{abs(self.value - claim) / max(self.se, 1e-300):.1f} standard errors apart "
            f"(tolerance {MC_SIGMAS:g})"
        )


def variance_of(samples: np.ndarray) -> Estimate:
    """Var of zero-mean samples (the mean is known to be 0): mean of squares, with its s.e."""
    sq = np.asarray(samples, dtype=float).reshape(-1) ** 2
    return Estimate(float(sq.mean()), float(sq.std(ddof=1) / math.sqrt(sq.size)))


def _weights(rng: np.random.Generator, shape: tuple[int, ...], var_w: float, dist: str):  # type: ignore[no-untyped-def]
    if dist == "uniform":  # U(-a, a) has variance a^2 / 3
        a = math.sqrt(3 * var_w)
        return rng.uniform(-a, a, shape)
    return rng.normal(0.0, math.sqrt(var_w), shape)


def _trials(*matrix_sizes: int) -> int:
    return max(2000, min(MC_TRIALS, MC_FLOATS // max(1, sum(matrix_sizes))))


def mc_forward(
    widths: list[int],
    var_w: float,
    var_x: float,
    *,
    var_b: float = 0.0,
    dist: str = "normal",
    seed: int = 0,
) -> Estimate:
    """Var of the first output after linear layers widths[0] -> widths[1] -> ... on the engine.

    Every trial draws fresh weights, biases and input; the layers run as one batched
    engine matmul over the trials.
    """
    from dlquiz.engine import Tensor

    rng = np.random.default_rng(seed)
    sizes = [a * b for a, b in itertools.pairwise(widths)]
    t = _trials(*sizes)
    a = Tensor(rng.normal(0.0, math.sqrt(var_x), (t, widths[0], 1)))
    for n_in, n_out in itertools.pairwise(widths):
        W = Tensor(_weights(rng, (t, n_out, n_in), var_w, dist))
        a = W @ a
        if var_b:
            a = a + Tensor(rng.normal(0.0, math.sqrt(var_b), (t, n_out, 1)))
    return variance_of(a.data[:, 0, 0])


def mc_backward(
    n_in: int, n_out: int, var_w: float, var_g: float, *, dist: str = "normal", seed: int = 0
) -> Estimate:
    """Var of (dL/dx)_1 for o = W x with upstream gradient g ~ N(0, var_g I): engine autograd.

    (dL/dx)_1 = sum_i W_i1 g_i involves only the first column of W, so its variance does not
    depend on n_in; at most two input columns are simulated, to spend the trials on n_out.
    """
    from dlquiz.engine import Tensor

    rng = np.random.default_rng(seed)
    n_in = min(n_in, 2)
    t = _trials(n_in * n_out)
    x = Tensor(rng.normal(0.0, 1.0, (t, n_in, 1)), requires_grad=True)
    W = Tensor(_weights(rng, (t, n_out, n_in), var_w, dist))
    g = Tensor(rng.normal(0.0, math.sqrt(var_g), (t, n_out, 1)))
    ((W @ x) * g).sum().backward()
    return variance_of(x.grad[:, 0, 0])
