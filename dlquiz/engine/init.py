"""Weight initialisations, with fan-in and fan-out computed as PyTorch computes them.

For a weight of shape (out, in) fan_in = in and fan_out = out; for a convolution weight
(out, in, kh, kw) both are multiplied by the receptive field kh * kw. Xavier keeps the
variance of activations (n_in sigma^2 = 1) and of gradients (n_out sigma^2 = 1) balanced by
taking sigma^2 = 2 / (n_in + n_out), as derived in the notes. Each function returns a new
float64 ndarray; ``rng`` is a numpy Generator or a seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of at least two dimensions."""
    if len(shape) < 2:
        raise ValueError("fan-in and fan-out need a weight with at least two dimensions")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gains: 1 for linear/sigmoid, 5/3 for tanh, sqrt(2) for ReLU."""
    if nonlinearity in ("linear", "identity", "sigmoid", "conv2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1.0 + slope**2))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def xavier_normal(shape: Sequence[int], rng: Any = None, gain: float = 1.0) -> np.ndarray:
    """N(0, sigma^2) with sigma = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return np.random.default_rng(rng).normal(0.0, std, size=tuple(shape))


def xavier_uniform(shape: Sequence[int], rng: Any = None, gain: float = 1.0) -> np.ndarray:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)): the same variance as Xavier
    normal, since Var U(-a, a) = a^2 / 3."""
    fan_in, fan_out = fans(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return np.random.default_rng(rng).uniform(-bound, bound, size=tuple(shape))


def _kaiming_std(shape: Sequence[int], a: float, mode: str, nonlinearity: str) -> float:
    fan_in, fan_out = fans(shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', not {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_normal(
    shape: Sequence[int],
    rng: Any = None,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
) -> np.ndarray:
    """N(0, std^2) with std = gain / sqrt(fan): He initialisation (std = sqrt(2 / fan_in)
    for ReLU, the default a = 0)."""
    std = _kaiming_std(shape, a, mode, nonlinearity)
    return np.random.default_rng(rng).normal(0.0, std, size=tuple(shape))


def kaiming_uniform(
    shape: Sequence[int],
    rng: Any = None,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
) -> np.ndarray:
    """U(-b, b) with b = gain * sqrt(3 / fan). With a = sqrt(5) this is PyTorch's default for
    Linear and Conv2d weights, b = 1 / sqrt(fan_in)."""
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)
    return np.random.default_rng(rng).uniform(-bound, bound, size=tuple(shape))
