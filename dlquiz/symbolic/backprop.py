"""Symbolic reverse-mode differentiation over the expression tree.

The same local rules the engine applies to numbers (``dlquiz.engine``), applied to
expressions: for C = A@B, dA = G@Bᵀ and dB = Aᵀ@G; for an elementwise f, G ⊙ f'(X) with
f' derived by SymPy; transposes and sums reduce broadcast gradients. Run over a model it
yields the notes' own matrix formulas (dL/dW_m = δ_m a_{m-1}ᵀ, the backprop recursion with
its Hadamard product), which SymPy's matrix calculus cannot be trusted to give.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy as sp

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr, substitute
from dlquiz.core.vars import Namespace
from dlquiz.symbolic.bridge import Bridge, SymbolicError

_T = "t__"


@lru_cache(maxsize=64)
def _derivative_template(name: str) -> Expr:
    """f'(t) as an expression in a placeholder t, differentiated by SymPy."""
    bridge = Bridge(Namespace())
    t = bridge.symbol(_T)
    return bridge.from_sympy(sp.diff(bridge._function(name, [t]), t))


def local_derivative(name: str, x: Expr) -> Expr:
    """f'(x) for an elementwise function f, elementwise over x."""
    return substitute(_derivative_template(name), {_T: x})


def reduce_to(g: Expr, shape: E.Shape) -> Expr:
    """A gradient summed back to the shape of a broadcast operand."""
    if g.shape == shape:
        return g
    if shape == E.SCALAR:
        return E.fn("sum", g)
    raise SymbolicError(
        f"cannot reduce a {E.shape_text(g.shape)} gradient to {E.shape_text(shape)}"
    )


def local_backward(node: Expr, g: Expr) -> list[tuple[Expr, Expr]]:
    """(input, its gradient contribution) for each input of ``node``, given upstream ``g``."""
    op = node.op
    if op == "add":
        return [(a, reduce_to(g, a.shape)) for a in node.args if a.op != "num"]
    if op == "mul":
        out = []
        for i, a in enumerate(node.args):
            if a.op in ("num", "const", "ones"):
                continue
            others = node.args[:i] + node.args[i + 1 :]
            out.append((a, reduce_to(E.mul(g, *others), a.shape)))
        return out
    if op == "pow":
        base, exponent = node.args
        out = [(base, E.mul(g, exponent, E.power(base, E.sub(exponent, E.ONE))))]
        if exponent.free_symbols():
            out.append((exponent, reduce_to(E.mul(g, node, E.fn("log", base)), E.SCALAR)))
        return out
    if op == "matmul":
        a, b = node.args
        return [(a, E.matmul(g, b.T)), (b, E.matmul(a.T, g))]
    if op == "T":
        return [(node.args[0], g.T)]
    if op == "fn":
        return _function_backward(node, g)
    if op in ("num", "const", "sym", "ones", "zeros"):
        return []
    raise SymbolicError(f"cannot differentiate through '{op}' (work it out first)")


def _function_backward(node: Expr, g: Expr) -> list[tuple[Expr, Expr]]:
    name = str(node.value)
    x = node.args[0]
    if name == "sum":
        return [(x, E.mul(g, E.ones(x.shape)))]
    if name == "mean":
        count = max(1, x.shape[0] * x.shape[1]) if x.shape else 1
        return [(x, E.mul(g, E.num(Fraction(1, count)), E.ones(x.shape)))]
    if name == "norm":
        return [(x, E.mul(g, x, E.power(node, E.num(-1))))]
    if name == "softmax":
        y = node
        return [(x, E.mul(y, E.sub(g, E.fn("sum", E.mul(g, y)))))]
    if name in ("max", "min"):
        a, b = node.args
        diff = E.sub(a, b) if name == "max" else E.sub(b, a)
        first = E.fn("step", diff)
        return [
            (a, reduce_to(E.mul(g, first), a.shape)),
            (b, reduce_to(E.mul(g, E.sub(E.ONE, first)), b.shape)),
        ]
    if name == "maxof":
        raise SymbolicError("the maximum over entries has no symbolic gradient here")
    if name in ("step", "sign", "floor", "ceil"):  # constant between jumps: derivative 0
        return []
    if name == "diag":  # d/dv of diag(v): the diagonal of the upstream gradient
        column = diagonal(g)
        return [(x, column if x.shape == column.shape else column.T)]
    return [(x, E.mul(g, local_derivative(name, x)))]


def diagonal(g: Expr) -> Expr:
    """The diagonal of a square matrix expression, as a column, in the notation's terms.

    Outer products (what gradients of ``diag(v)`` mostly are) give their Hadamard product,
    diag(a bᵀ) = a ⊙ b; sums, scalings and ``diag(u)`` itself are taken apart; anything
    else is (G ⊙ I) 1 with I = diag(1).
    """
    n = g.shape[0]
    column = (n, 1)
    if g.op == "matmul":
        a, b = g.args
        if a.shape == column and b.shape == (1, n):
            return E.mul(a, b.T)
    if g.op == "fn" and g.value == "diag":
        u = g.args[0]
        return u if u.shape == column else u.T
    if g.op == "ones":
        return E.ones(column)
    if g.op == "zeros":
        return E.zeros(column)
    if g.op == "add":
        return E.add(*(diagonal(t) if not t.is_scalar else t for t in g.args))
    if g.op == "mul" and any(f.is_scalar for f in g.args):
        scalars = [f for f in g.args if f.is_scalar]
        rest = [f for f in g.args if not f.is_scalar]
        inner = rest[0] if len(rest) == 1 else E.mul(*rest)
        return E.mul(*scalars, diagonal(inner))
    if g.op == "T":
        return diagonal(g.args[0])
    ones = E.ones(column)
    return E.matmul(E.mul(g, E.fn("diag", ones)), ones)


def gradient(
    f: Expr, var: str, seed: Expr | None = None, adjoints: dict[int, Expr] | None = None
) -> Expr:
    """d f / d var: the gradient (scalar f) or the elementwise derivative (f shaped like var).

    ``adjoints``, when given, receives every intermediate node's gradient (by node id),
    which is what the chain-rule listing prints.
    """
    order = list(f.walk())
    depends: dict[int, bool] = {}
    for node in order:
        depends[id(node)] = (node.op == "sym" and node.value == var) or any(
            depends[id(a)] for a in node.args
        )
    adjoint: dict[int, Expr] = {id(f): seed if seed is not None else E.ones(f.shape)}
    shape = None
    total: Expr | None = None
    for node in reversed(order):
        g = adjoint.pop(id(node), None)
        if g is None:
            continue
        if adjoints is not None:
            adjoints[id(node)] = g
        if node.op == "sym" and node.value == var:
            shape = node.shape
            total = g if total is None else E.add(total, g)
            continue
        if not depends[id(node)]:
            continue
        for child, contribution in local_backward(node, g):
            if not depends[id(child)]:
                continue
            previous = adjoint.get(id(child))
            adjoint[id(child)] = contribution if previous is None else E.add(previous, contribution)
    if total is None:
        return E.zeros(shape or E.SCALAR)
    return total


def depends_elementwise(f: Expr, var: str) -> bool:
    """Is every path from f to var elementwise (so its Jacobian is diagonal)?"""
    for node in f.walk():
        elementwise = node.op in ("add", "mul", "pow", "sym") or (
            node.op == "fn" and node.value not in E.REDUCTIONS | E.VECTOR_MAPS | E.MATRIX_MAPS
        )
        if not elementwise and var in node.free_symbols():
            return False
    return True
