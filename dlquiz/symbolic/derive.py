"""Derivatives as a student should write them, derived by SymPy and our symbolic backprop.

A scalar expression of scalars is differentiated by SymPy itself. Anything with vectors
or matrices goes through symbolic backpropagation (``backprop.py``), whose result is in
matrix form (``delta@a.T``, ``hadamard(...)``), then simplified. The result is always
checked numerically against automatic differentiation before anyone sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr
from dlquiz.core.printing import to_latex, to_notation, to_unicode
from dlquiz.core.vars import Namespace
from dlquiz.symbolic.backprop import depends_elementwise, gradient
from dlquiz.symbolic.bridge import Bridge, SymbolicError
from dlquiz.symbolic.simplify import best_form, simplify

MAX_EXPANDED_NODES = 20_000


@dataclass
class Derivation:
    expr: Expr
    var: str
    derivative: Expr
    notation: str
    latex: str
    pretty: str
    chain: list[str] = field(default_factory=list)


def is_all_scalar(e: Expr) -> bool:
    return all(n.is_scalar and n.op not in ("matmul", "T", "matrix") for n in e.walk())


def derivative(e: Expr, var: str, ns: Namespace, *, tidy: bool = True) -> Expr:
    """d e / d var, in the notation's terms; ``tidy`` simplifies the result."""
    spec = ns.get(var)
    if spec is None or spec.is_function:
        raise SymbolicError(f"'{var}' is not a variable")
    if not e.is_scalar and (e.shape != spec.shape or not depends_elementwise(e, var)):
        raise SymbolicError(
            f"the expression is {E.shape_phrase(e.shape)}: a derivative needs a scalar "
            f"(for example sum(...)) or an elementwise function of {var}"
        )
    if is_all_scalar(e) and spec.shape == E.SCALAR:
        bridge = Bridge(ns)
        s = sp.diff(bridge.to_sympy(e), bridge.symbol(var))
        return bridge.from_sympy(best_form(s) if tidy else s)
    g = gradient(e, var)
    return simplify(g, ns) if tidy else g


def expand_derivatives(e: Expr, ns: Namespace) -> Expr:
    """Replace every ``d/dx (...)`` by what it equals (innermost first), unsimplified."""
    memo: dict[int, Expr] = {}
    for node in e.walk():
        args = tuple(memo[id(a)] for a in node.args)
        if node.op == "deriv":
            body, var = args
            memo[id(node)] = derivative(body, str(var.value), ns, tidy=False)
        else:
            memo[id(node)] = E.rebuild(node, args)
        if memo[id(node)].size() > MAX_EXPANDED_NODES:
            raise SymbolicError("the worked-out derivative is too large")
    return memo[id(e)]


def _pretty_printer():  # type: ignore[no-untyped-def]
    """SymPy's pretty printer, with the notes' step(x) where SymPy writes θ(x, 0).

    θ is the parameter symbol of the notes; the notation line says ``step(x)`` too.
    """
    from sympy.printing.pretty.pretty import PrettyPrinter
    from sympy.printing.pretty.stringpict import prettyForm, stringPict

    class NotesPrinter(PrettyPrinter):
        def _print_Heaviside(self, e):  # type: ignore[no-untyped-def]
            inner = prettyForm(*self._print(e.args[0]).parens())
            return prettyForm(*stringPict.next(prettyForm("step"), inner))

    return NotesPrinter({"use_unicode": True})


def _pretty(s: sp.Expr) -> str:
    """What ``sympy.pretty(s, use_unicode=True)`` does, with the printer above."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    flag = pretty_use_unicode(True)
    try:
        return _pretty_printer().doprint(s)
    finally:
        pretty_use_unicode(flag)


def pretty(e: Expr, ns: Namespace) -> str:
    """SymPy's 2-d pretty printing for scalar results, our Unicode form for matrices."""
    if is_all_scalar(e):
        bridge = Bridge(ns)
        try:
            return _pretty(bridge.to_sympy(e))
        except SymbolicError:
            pass
    return to_unicode(e)


def derive(e: Expr, var: str, ns: Namespace, *, chain: bool = False) -> Derivation:
    from dlquiz.symbolic.chain import chain_rule

    d = derivative(e, var, ns)
    lines = chain_rule(e, var, ns) if chain else []
    return Derivation(e, var, d, to_notation(d), to_latex(d), pretty(d, ns), lines)
