"""Expressions run on the NumPy engine: values, gradients and computational graphs.

Lowering an ``Expr`` to ``dlquiz.engine`` operations gives a second, independent way to
differentiate it (reverse mode on numbers, sharing no code with the symbolic
derivation), which is how every derived answer is verified, and gives the graph of
atomic operations that the autograd problems and ``dlquiz graph`` draw.

Values carry the same leading batch axis as ``dlquiz.core.numeric``: (K, m, n).
"""

from __future__ import annotations

import numpy as np

from dlquiz.core.expr import Expr
from dlquiz.core.numeric import EvaluationError, GenericFunction, as_float, evaluate, snap_whole
from dlquiz.engine import Tensor
from dlquiz.engine import functional as F


def lower(
    e: Expr,
    leaves: dict[str, Tensor],
    k: int,
    funcs: dict[str, GenericFunction] | None = None,
) -> Tensor:
    """The engine tensor computing ``e`` from the given leaf tensors."""
    funcs = funcs or {}
    memo: dict[int, Tensor] = {}
    for node in e.walk():
        memo[id(node)] = _lower_node(node, [memo[id(a)] for a in node.args], leaves, k, funcs)
    return memo[id(e)]


def _constant(value: np.ndarray | float, k: int, shape: tuple[int, ...] = (1, 1)) -> Tensor:
    return Tensor(np.broadcast_to(np.asarray(value, dtype=float), (k, *shape)).copy())


def _lower_node(
    node: Expr,
    args: list[Tensor],
    leaves: dict[str, Tensor],
    k: int,
    funcs: dict[str, GenericFunction],
) -> Tensor:
    op = node.op
    if op == "num":
        return _constant(as_float(node.value), k)  # type: ignore[arg-type]
    if op == "const":
        return _constant(np.pi if node.value == "pi" else np.e, k)
    if op == "sym":
        try:
            return leaves[node.value]  # type: ignore[index]
        except KeyError:
            raise EvaluationError(f"no value for '{node.value}'") from None
    if op in ("ones", "zeros"):
        return _constant(1.0 if op == "ones" else 0.0, k, node.shape)
    if op == "matrix":
        if any(a.requires_grad for a in args):
            raise EvaluationError("a literal matrix of variables has no gradient here")
        return Tensor(evaluate(node, {}, k))
    if op == "add":
        out = args[0]
        for a in args[1:]:
            out = out + a
        return out
    if op == "mul":
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if op == "pow":
        _base, exponent = node.args
        if not exponent.free_symbols():
            return args[0] ** float(evaluate(exponent, {}, 1)[0, 0, 0])
        return (args[1] * args[0].log()).exp()
    if op == "matmul":
        return args[0] @ args[1]
    if op == "T":
        return args[0].transpose(1, 2)
    if op == "fn":
        return _lower_fn(str(node.value), node, args, funcs)
    raise EvaluationError(f"cannot run '{op}' on the engine")


def _lower_fn(
    name: str, node: Expr, args: list[Tensor], funcs: dict[str, GenericFunction]
) -> Tensor:
    x = args[0]
    simple = {
        "exp": Tensor.exp,
        "log": Tensor.log,
        "abs": Tensor.abs,
        "sign": Tensor.sign,
        "sigmoid": Tensor.sigmoid,
        "tanh": Tensor.tanh,
        "relu": Tensor.relu,
        "step": F.step,
    }
    if name in simple:
        return simple[name](x)
    if name in ("floor", "ceil"):
        op = F.floor if name == "floor" else F.ceil
        shift = snap_whole(x.data) - x.data  # the same snapping to whole numbers as evaluation
        return op(x + Tensor(shift)) if shift.any() else op(x)
    if name == "diag":
        k = x.data.shape[0]
        return F.diag_embed(x.reshape(k, -1))
    if name == "sigmoid'":
        s = x.sigmoid()
        return s * (1.0 - s)
    if name == "tanh'":
        t = x.tanh()
        return 1.0 - t * t
    if name == "max":
        return F.maximum(args[0], args[1])
    if name == "min":
        return F.minimum(args[0], args[1])
    if name == "sum":
        return x.sum(axis=(1, 2), keepdims=True)
    if name == "mean":
        return x.mean(axis=(1, 2), keepdims=True)
    if name == "norm":
        return (x * x).sum(axis=(1, 2), keepdims=True).sqrt()
    if name == "softmax":
        return F.softmax(x, axis=1 if node.shape[1] == 1 else 2)
    base = name.rstrip("'")
    if base in funcs:
        f = funcs[base]
        if name.endswith("'"):
            t = (x * f.b + f.c).tanh()
            return (1.0 - t * t) * (f.a * f.b) + f.d
        return (x * f.b + f.c).tanh() * f.a + x * f.d
    raise EvaluationError(f"no engine operation for '{name}'")


def gradients(
    f: Expr,
    wrt: list[str],
    env: dict[str, np.ndarray],
    k: int,
    funcs: dict[str, GenericFunction] | None = None,
) -> dict[str, np.ndarray]:
    """d f / d v for each v in ``wrt`` at K points, by the engine's reverse mode.

    For a scalar f this is the gradient at each point; for an elementwise f it is the
    elementwise derivative (the gradient of the sum of its entries).
    """
    leaves = {name: Tensor(value, requires_grad=name in wrt) for name, value in env.items()}
    with np.errstate(all="ignore"):
        out = lower(f, leaves, k, funcs)
        if out.requires_grad:  # otherwise f does not depend on wrt: every gradient is 0
            out.sum().backward()
    result = {}
    for name in wrt:
        grad = leaves[name].grad
        result[name] = np.zeros_like(env[name]) if grad is None else grad
    return result


def evaluate_with_autograd(
    e: Expr,
    env: dict[str, np.ndarray],
    k: int,
    funcs: dict[str, GenericFunction] | None = None,
) -> np.ndarray:
    """Value of ``e`` where every ``d/dx (body)`` is computed by the engine's reverse mode."""
    from dlquiz.core.numeric import evaluate_node

    memo: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for node in e.walk():
            if node.op == "deriv":
                body, var = node.args
                grad = gradients(body, [str(var.value)], env, k, funcs)[str(var.value)]
                memo[id(node)] = grad
            else:
                memo[id(node)] = evaluate_node(
                    node, [memo[id(a)] for a in node.args], env, k, funcs or {}
                )
    return memo[id(e)]
