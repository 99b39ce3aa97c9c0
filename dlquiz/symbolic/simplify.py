"""Simplification of typed expressions: SymPy for elementwise algebra, rules for the rest.

Transposes are pushed down to the variables (``(δ aᵀ)ᵀ`` -> ``a δᵀ``), scalar factors are
pulled out of matrix products and sums, a one-hot vector sums to 1, and every maximal
elementwise region goes through SymPy, which picks the shortest of a few standard forms.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import sympy as sp

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr, rebuild
from dlquiz.core.vars import Namespace
from dlquiz.symbolic.bridge import Bridge, _is_elementwise

SIMPLIFY_OPS_LIMIT = 80  # sympy.simplify is tried only on expressions smaller than this


@lru_cache(maxsize=2048)
def best_form(s: sp.Expr) -> sp.Expr:
    """The shortest of a few equivalent forms; the original wins ties (it reads as derived).

    Cached: SymPy expressions are immutable, and a problem family meets the same
    elementwise region (``_atom1*(1 - tanh(_atom2)**2)``) seed after seed, where a
    fresh ``sympy.simplify`` (trigsimp for tanh) would cost a tenth of a second each time.
    """
    candidates = [s]
    for transform in (sp.factor_terms, sp.cancel, sp.factor, sp.expand, sp.together):
        try:
            candidates.append(transform(s))
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            continue
    # Not with tanh: sympy.simplify then runs trigsimp (0.1-0.4 s) and what it finds is
    # written with sech/cosh, which the notation lacks and `readable` below drops anyway;
    # a family drawing new constants per seed never hits the cache.
    if sp.count_ops(s) < SIMPLIFY_OPS_LIMIT and not s.has(sp.tanh):
        with contextlib.suppress(TypeError, ValueError, NotImplementedError):
            candidates.append(sp.simplify(s))
    readable = [c for c in candidates if not c.has(*_HYPERBOLIC)] or candidates
    return min(readable, key=lambda c: (sp.count_ops(c), len(str(c))))


# The notation has tanh but not these; SymPy's simplify likes them.
_HYPERBOLIC = (sp.cosh, sp.sinh, sp.sech, sp.csch, sp.coth)


def push_transposes(e: Expr) -> Expr:
    """Transposes only on variables (and on what has no elementwise structure)."""
    memo: dict[int, Expr] = {}
    for node in e.walk():
        args = tuple(memo[id(a)] for a in node.args)
        if node.op == "T":
            memo[id(node)] = _transpose_down(args[0])
        else:
            memo[id(node)] = rebuild(node, args)
    return memo[id(e)]


def _transpose_down(x: Expr) -> Expr:
    if x.op in ("add", "mul"):
        return rebuild(x, tuple(_transpose_down(a) for a in x.args))
    if x.op == "matmul":
        a, b = x.args
        return E.matmul(_transpose_down(b), _transpose_down(a))
    if x.op == "pow":
        return E.power(_transpose_down(x.args[0]), x.args[1])
    if x.op == "fn" and _is_elementwise(x):
        return rebuild(x, tuple(_transpose_down(a) for a in x.args))
    return E.transpose(x)


def simplify(e: Expr, ns: Namespace) -> Expr:
    """An equal expression, as short as the rules and SymPy can make it."""
    return _simplify(push_transposes(e), ns)


def _simplify(e: Expr, ns: Namespace) -> Expr:
    if not _is_elementwise(e):
        return _simplify_atom(e, ns)
    bridge = Bridge(ns)
    s = bridge.to_sympy(e, simplify_atom=lambda a: _simplify_atom(a, ns))
    return bridge.from_sympy(best_form(s), e.shape)


def _split_scalars(x: Expr) -> tuple[list[Expr], Expr]:
    """A product's scalar factors apart from its array part."""
    if x.op != "mul" or x.is_scalar:
        return [], x
    scalars = [a for a in x.args if a.is_scalar]
    arrays = [a for a in x.args if not a.is_scalar]
    if not scalars:
        return [], x
    return scalars, E.mul(*arrays)


def _simplify_atom(a: Expr, ns: Namespace) -> Expr:
    if not a.args:
        return a
    args = tuple(_simplify(x, ns) for x in a.args)
    if a.op == "matmul":
        left_s, left = _split_scalars(args[0])
        right_s, right = _split_scalars(args[1])
        if left_s or right_s:
            return E.mul(*left_s, *right_s, _simplify_atom(E.matmul(left, right), ns))
        return E.matmul(left, right)
    if a.op == "fn" and a.value == "sum":
        (x,) = args
        if x.op == "ones":
            return E.num(x.shape[0] * x.shape[1])
        scalars, rest = _split_scalars(x)
        if scalars:
            return E.mul(*scalars, _simplify_atom(E.fn("sum", rest), ns))
        if x.op == "add":
            # A scalar term broadcasts over every entry: it sums to (entries) * term.
            entries = E.num(x.shape[0] * x.shape[1]) if x.shape else E.ONE
            return E.add(
                *(
                    E.mul(entries, t) if t.is_scalar else _simplify_atom(E.fn("sum", t), ns)
                    for t in x.args
                )
            )
    return rebuild(a, args)
