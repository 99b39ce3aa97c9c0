"""Float values that know how far they can be trusted: a rounding-error bound per entry,
and a flag for the points where a float could not hold the true value at all.

The judge compares an answer with its key at random points, at magnitudes from about
1e-3 to 1e3. One tolerance for everything cannot work there: ``(x + 1)^2 - x^2`` loses
digits to cancellation at x = 1000 while ``[1e9 x; y]`` must not hide an error in ``y``
behind the size of ``1e9 x``. So the same walk that computes a value also carries a
first-order bound on its rounding error (running-error analysis: an operation's error is
what it does to its inputs' errors plus one rounding of its own, with the inputs'
absolute values where cancellation can happen), and flags each point where an operation
overflowed or underflowed from finite inputs. A difference within a few times the bound
is rounding; a flagged point is redrawn at a smaller scale, never counted as a
difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlquiz.core.expr import Expr
from dlquiz.core.numeric import GenericFunction, evaluate_node

EPS = float(np.finfo(float).eps)
SUBNORMAL = float(np.finfo(float).smallest_subnormal)  # the absolute accuracy near 0


Error = np.ndarray | float  # a bound per entry, or one number (0.0: exact) for all


@dataclass
class Detailed:
    """``value`` (K, m, n), its rounding-error bound ``error`` (same shape) and ``risky`` (K,)."""

    value: np.ndarray
    error: np.ndarray
    risky: np.ndarray


def evaluate_detailed(
    e: Expr,
    env: dict[str, np.ndarray],
    k: int,
    funcs: dict[str, GenericFunction] | None = None,
    memo: dict[int, np.ndarray] | None = None,
    error_memo: dict[int, Error] | None = None,
) -> Detailed:
    """Value, error bound and over/underflow flags of ``e`` at K points.

    ``memo`` and ``error_memo`` (optional) receive every node's value and error bound by
    ``id(node)``, so a caller can read those of a subexpression (a term of a sum, the
    argument of a ``step``) without a second walk.
    """
    funcs = funcs or {}
    values: dict[int, np.ndarray] = {} if memo is None else memo
    errors: dict[int, Error] = {} if error_memo is None else error_memo
    risky = np.zeros(k, dtype=bool)
    with np.errstate(all="ignore"):
        for node in e.walk():
            args = [values[id(a)] for a in node.args]
            out = evaluate_node(node, args, env, k, funcs)
            values[id(node)] = out
            op = node.op
            if node.args:
                errs = [errors[id(a)] for a in node.args]
                errors[id(node)] = _error(node, args, errs, out, funcs)
                if _may_have_lost(node, out):
                    risky |= _flagged(node, args, out)
                if op == "pow" or (op == "fn" and node.value == "log"):
                    risky |= _near_singular(node, args, errs)
            elif op == "num":
                errors[id(node)] = EPS * abs(float(node.value))  # type: ignore[arg-type]
            elif op == "const":
                errors[id(node)] = EPS * 3.2
            else:
                errors[id(node)] = 0.0  # a variable's value is exact
    value = np.array(values[id(e)])  # own copies: callers write redrawn points into them
    error = np.array(np.broadcast_to(errors[id(e)], value.shape))
    # A finite value whose bound is not (a reciprocal of an underflowed product, inf times
    # 0 in a matmul) holds no digit we can trust: the point is lost, like an overflow.
    with np.errstate(invalid="ignore"):
        risky |= _points(np.isfinite(value) & ~np.isfinite(error))
    return Detailed(value, error, risky)


# --- over- and underflow --------------------------------------------------------------

# Operations that can overflow from finite inputs. The rest either cannot (relu, abs,
# max, a transpose) or are domain edges when they leave the reals (log of 0, a negative
# base under a square root): those points are undefined, not lost precision. Underflow
# needs no flag: a result below the normal range is still exact to ``SUBNORMAL``
# absolutely, which every error bound includes, so a later log or division of it is
# caught as near-singular (``_near_singular``).
_CAN_OVERFLOW = {"add", "mul", "matmul", "pow"}
_FN_CAN_OVERFLOW = {"exp", "sum", "mean", "norm"}


def _may_have_lost(node: Expr, out: np.ndarray) -> bool:
    """A quick test that most nodes pass: an operation that can overflow, and did not."""
    if node.op not in _CAN_OVERFLOW and not (node.op == "fn" and node.value in _FN_CAN_OVERFLOW):
        return False
    return not np.isfinite(out).all()


def _flagged(node: Expr, args: list[np.ndarray], out: np.ndarray) -> np.ndarray:
    """(K,) points where this node overflowed from finite inputs."""
    k = out.shape[0]
    finite_in = np.ones(k, dtype=bool)
    for a in args:
        finite_in &= _points(~np.isfinite(a)) == 0
    over = ~np.isfinite(out)
    if node.op == "pow":  # a zero base under a negative power is a pole, not an overflow
        over &= np.broadcast_to(args[0] != 0, out.shape) & ~np.isnan(out)
    return finite_in & _points(over)


def _near_singular(node: Expr, args: list[np.ndarray], errs: list[Error]) -> np.ndarray:
    """(K,) points where a log, a root or a division meets an argument that rounding has
    made indistinguishable from 0 (``log(1 - sigmoid(40))``): its value is not the true one.
    """
    k = args[0].shape[0] if args else 0
    exponent = node.args[1] if node.op == "pow" else None
    whole_power = (
        exponent is not None
        and exponent.op == "num"
        and exponent.value >= 0  # type: ignore[operator]
        and exponent.value.denominator == 1  # type: ignore[union-attr]
    )
    if whole_power or _zero(errs[0]):
        return np.zeros(k, dtype=bool)
    x, ex = args[0], errs[0]
    lost = (ex > 0) & (np.abs(x) <= ex)
    return _points(np.broadcast_to(lost, np.broadcast(x, ex).shape))


def _points(mask: np.ndarray) -> np.ndarray:
    return mask.reshape(mask.shape[0], -1).any(axis=1)


# --- rounding-error bounds ------------------------------------------------------------


def _zero(e: Error) -> bool:
    return isinstance(e, float) and e == 0.0


def _error(
    node: Expr,
    args: list[np.ndarray],
    errs: list[Error],
    out: np.ndarray,
    funcs: dict[str, GenericFunction],
) -> Error:
    op = node.op
    if op == "add":
        total: Error = 0.0
        for err in errs:
            if not _zero(err):
                total = total + err
        magnitude = np.abs(args[0])
        for a in args[1:]:
            magnitude = magnitude + np.abs(a)
        return total + (len(args) - 1) * EPS * magnitude
    if op == "mul":
        value, err = args[0], errs[0]
        for a, e in zip(args[1:], errs[1:], strict=True):
            product = value * a
            bound = EPS * np.abs(product) + SUBNORMAL
            if not _zero(e):
                bound = bound + np.abs(value) * e
            if not _zero(err):
                bound = bound + np.abs(a) * err + (err * e if not _zero(e) else 0.0)
            value, err = product, bound
        return err
    if op == "pow":
        base, exponent = args
        eb, ee = errs
        own = 2 * EPS * np.abs(out) + SUBNORMAL
        if _zero(eb) and _zero(ee):
            return own
        local = np.abs(exponent * np.power(base, exponent - 1)) * eb
        if node.args[1].free_symbols() and not _zero(ee):
            local = local + np.abs(out * np.log(np.abs(base))) * ee
        return np.nan_to_num(local, nan=np.inf) + own
    if op == "matmul":
        a, b = args
        ea, eb = errs
        inner = a.shape[2] + 1
        bound = inner * EPS * np.matmul(np.abs(a), np.abs(b)) + SUBNORMAL
        if not _zero(eb):
            bound = bound + np.matmul(np.abs(a), np.broadcast_to(eb, b.shape))
        if not _zero(ea):
            bound = bound + np.matmul(np.broadcast_to(ea, a.shape), np.abs(b) + eb)
        return bound
    if op == "T":
        return errs[0] if isinstance(errs[0], float) else np.swapaxes(errs[0], 1, 2)
    if op == "matrix":
        if all(_zero(e) for e in errs):
            return 0.0
        m, n = node.shape
        flat = np.stack(
            [np.broadcast_to(e, a.shape).reshape(-1) for a, e in zip(args, errs, strict=True)],
            axis=1,
        )
        return flat.reshape(-1, m, n)
    if op == "fn":
        return _fn_error(node, args, errs, out, funcs)
    return 0.0


# Exact inputs give exact outputs here; the reductions need the bound entry by entry.
_EXACT_ON_EXACT = {"abs", "relu", "step", "sign", "floor", "ceil", "max", "min", "maxof", "diag"}
_REDUCING = {"sum", "mean", "norm", "maxof", "softmax", "diag"}


def _fn_error(
    node: Expr,
    args: list[np.ndarray],
    errs: list[Error],
    out: np.ndarray,
    funcs: dict[str, GenericFunction],
) -> Error:
    name = str(node.value)
    x, ex = args[0], errs[0]
    # A library function's own rounding: within 2 ulp, and exact to the smallest
    # subnormal where its result underflows.
    if _zero(ex) and name in _EXACT_ON_EXACT and (len(errs) == 1 or _zero(errs[1])):
        return 0.0
    own = 2 * EPS * np.abs(out) + SUBNORMAL
    if name in _REDUCING and not isinstance(ex, np.ndarray):
        ex = np.broadcast_to(ex, x.shape)
    with np.errstate(all="ignore"):
        if name == "exp":
            return out * ex + own
        if name == "log":
            return ex / np.abs(x) + own
        if name == "sigmoid":
            return out * (1 - out) * ex + own
        if name == "sigmoid'":
            s = 0.5 * (1 + np.tanh(0.5 * x))
            return np.abs(out * (1 - 2 * s)) * ex + own
        if name == "tanh":
            return (1 - out * out) * ex + own
        if name == "tanh'":
            return np.abs(2 * np.tanh(x) * out) * ex + own
        if name == "abs":
            return ex
        if name == "relu":  # exact 0 below the kink, unless rounding could cross it
            return np.where(x < -ex, 0.0, ex)
        if name in ("step", "sign"):
            jump = 2.0 if name == "sign" else 1.0
            return np.where(np.abs(x) <= ex, jump, 0.0)
        if name in ("floor", "ceil"):
            distance = np.abs(x - np.round(x))
            return np.where(distance <= ex, 1.0, 0.0)
        if name in ("max", "min"):
            return np.maximum(np.broadcast_to(ex, out.shape), np.broadcast_to(errs[1], out.shape))
        if name in ("sum", "mean"):
            count = x.shape[1] * x.shape[2]
            total = ex.sum(axis=(1, 2), keepdims=True) + count * EPS * np.abs(x).sum(
                axis=(1, 2), keepdims=True
            )
            return total / count if name == "mean" else total
        if name == "norm":
            count = x.shape[1] * x.shape[2]
            spread = (np.abs(x) * ex).sum(axis=(1, 2), keepdims=True)
            return (
                np.where(out > 0, spread / out, ex.max(axis=(1, 2), keepdims=True))
                + (count + 2) * EPS * out
            )
        if name == "maxof":
            return ex.max(axis=(1, 2), keepdims=True)
        if name == "softmax":
            return 2 * out * ex.max(axis=(1, 2), keepdims=True) + 4 * EPS * out + SUBNORMAL
        if name == "diag":
            return evaluate_node(node, [ex], {}, x.shape[0], funcs)
        base = name.rstrip("'")
        if base in funcs:
            f = funcs[base]
            slope = f.second_derivative(x) if name.endswith("'") else f.derivative(x)
            return np.abs(slope) * ex + own
    # An elementwise function without a rule: its own rounding and a unit slope.
    return np.broadcast_to(ex, out.shape) + own
