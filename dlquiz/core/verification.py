"""Numeric verification of derivatives: a derived formula against automatic differentiation.

Every derivative dlquiz shows (``derive``, problem keys) is evaluated at random points
and compared with the gradient the NumPy engine's reverse mode computes for the original
expression (``dlquiz.core.autodiff``), which shares no code with the symbolic derivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlquiz.core.expr import Expr
from dlquiz.core.numeric import evaluate, sample_env
from dlquiz.core.vars import Namespace

POINTS = 6
RTOL = 1e-8


@dataclass
class Check:
    ok: bool
    max_rel_error: float
    points: int
    method: str


def verify_derivative(
    f: Expr, var: str, derivative: Expr, ns: Namespace, *, seed: int = 7, rtol: float = RTOL
) -> Check:
    """Does ``derivative`` equal d f / d var at random points (where f is defined)?"""
    from dlquiz.core.autodiff import gradients

    rng = np.random.default_rng(seed)
    names = f.free_symbols() | derivative.free_symbols() | {var}
    env, funcs = sample_env(ns, names, POINTS, rng)
    symbolic = evaluate(derivative, env, POINTS, funcs)
    reference = gradients(f, [var], env, POINTS, funcs)[var]
    valid = np.isfinite(reference).all(axis=(1, 2)) & np.isfinite(
        evaluate(f, env, POINTS, funcs)
    ).all(axis=(1, 2))
    return _agreement(symbolic, reference, valid, rtol)


def verify_expression(
    target: Expr, key: Expr, ns: Namespace, *, seed: int = 11, rtol: float = RTOL
) -> Check:
    """Does ``key`` equal ``target`` (whose ``d/dx`` parts the engine's autograd computes)?"""
    from dlquiz.core.autodiff import evaluate_with_autograd

    rng = np.random.default_rng(seed)
    names = target.free_symbols() | key.free_symbols()
    env, funcs = sample_env(ns, names, POINTS, rng)
    reference = evaluate_with_autograd(target, env, POINTS, funcs)
    symbolic = evaluate(key, env, POINTS, funcs)
    valid = np.isfinite(reference).all(axis=(1, 2))
    return _agreement(symbolic, reference, valid, rtol)


def _agreement(
    symbolic: np.ndarray, reference: np.ndarray, valid: np.ndarray, rtol: float
) -> Check:
    """The largest relative difference over the valid points (a scalar key broadcasts)."""
    if not valid.any():
        return Check(False, float("nan"), 0, "autograd")
    s = np.broadcast_to(symbolic, reference.shape)[valid]
    r = reference[valid]
    with np.errstate(all="ignore"):
        scale = np.maximum(np.maximum(np.abs(s), np.abs(r)), 1e-300)
        rel = np.where(np.abs(s - r) <= 1e-12, 0.0, np.abs(s - r) / scale)
    err = float(np.nanmax(rel)) if rel.size else 0.0
    return Check(bool(err <= rtol), err, int(valid.sum()), "autograd")
