"""Are two expressions equal? Decided by evaluating both at random points.

Random points in each variable's domain (random matrices of the declared shapes, both
signs, several points) catch what symbolic simplification misses (``step`` vs ``1``,
``ReLU``, ``Heaviside(0)``) and take microseconds. Points where the *expected* answer is
undefined or not real are dropped and more are drawn, so answers that agree wherever the
expected one is defined are equal. ``Sample`` keeps the points so the diagnosis can test
its hypotheses (a factor, a sign, a missing term) on the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlquiz.core.expr import Expr
from dlquiz.core.numeric import GenericFunction, batch_size, evaluate, sample_env
from dlquiz.core.vars import Namespace, VarSpec

POINTS = 12
MIN_VALID = 6
SEED = 20_240_917  # fixed: the same answer gets the same verdict on every run
SYMBOLIC_RTOL = 1e-7


@dataclass
class Sample:
    """Random points with the expected answer's values where it is defined."""

    ns: Namespace
    env: dict[str, np.ndarray]
    funcs: dict[str, GenericFunction]
    k: int
    valid: np.ndarray  # (K,) bool: points where the expected value is finite
    expected: np.ndarray  # (K, m, n)
    cache: dict[Expr, np.ndarray] = field(default_factory=dict)

    def value(self, e: Expr) -> np.ndarray:
        if e not in self.cache:
            self.cache[e] = evaluate(e, self.env, self.k, self.funcs)
        return self.cache[e]

    @property
    def count(self) -> int:
        return int(self.valid.sum())


def _finite_points(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values).all(axis=(1, 2))


def draw(expected: Expr, others: list[Expr], ns: Namespace, seed: int = SEED) -> Sample:
    """Points where ``expected`` is defined: a few rounds, the last with positive values."""
    rng = np.random.default_rng(seed)
    names = set(expected.free_symbols())
    for o in others:
        names |= o.free_symbols()
    k = batch_size([expected, *others], POINTS)
    best: Sample | None = None
    for attempt in range(3):
        space = ns if attempt < 2 else _positive(ns, names)
        size = k if attempt == 0 else min(4 * k, batch_size([expected, *others], 4 * k))
        env, funcs = sample_env(space, names, size, rng)
        values = evaluate(expected, env, size, funcs)
        valid = _finite_points(values)
        sample = Sample(ns, env, funcs, size, valid, values)
        sample.cache[expected] = values
        if best is None or sample.count > best.count:
            best = sample
        if sample.count >= MIN_VALID:
            return sample
    assert best is not None
    return best


def _positive(ns: Namespace, names: set[str]) -> Namespace:
    """The same names with real scalars and matrices drawn positive (a last resort)."""
    out = ns.copy()
    for name in names:
        spec = out.get(name) or VarSpec(name)
        if spec.domain in ("real", "nonzero"):
            out.vars[name] = VarSpec(name, spec.shape, "positive")
    return out


def close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Entrywise |a - b| <= atol + rtol * max(|a|, |b|); infinities never match."""
    with np.errstate(all="ignore"):
        ok = np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))
    return ok & np.isfinite(a) & np.isfinite(b)


def same_values(
    sample: Sample,
    values: np.ndarray,
    target: np.ndarray | None = None,
    rtol: float = SYMBOLIC_RTOL,
) -> bool:
    """Do ``values`` equal the expected ones (or ``target``) at every valid point?"""
    target = sample.expected if target is None else target
    if values.shape[1:] != target.shape[1:]:
        return False
    v = sample.valid
    if not v.any():
        return False
    t = target[v]
    scale = float(np.abs(t).max()) if t.size else 1.0
    atol = 1e-9 * (max(1.0, scale) if np.isfinite(scale) else 1.0)
    return bool(close(values[v], target[v], rtol, atol).all())


def max_relative_error(sample: Sample, values: np.ndarray) -> float:
    v = sample.valid
    with np.errstate(all="ignore"):
        diff = np.abs(values[v] - sample.expected[v])
        scale = np.maximum(np.abs(values[v]), np.abs(sample.expected[v]))
        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1), diff)
    return float(np.nanmax(rel)) if rel.size else 0.0
