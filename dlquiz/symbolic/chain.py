"""The chain rule written out: a model decomposed into atomic operations, then backward.

This is the notes' autograd topic made explicit for any expression: each operation that
depends on the variable gets a name (u1, u2, ...), and the backward pass lists each
gradient as upstream gradient times local derivative, then its value.
"""

from __future__ import annotations

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr
from dlquiz.core.printing import to_unicode
from dlquiz.core.vars import Namespace
from dlquiz.symbolic.backprop import gradient, local_backward
from dlquiz.symbolic.simplify import simplify


def decompose(f: Expr, var: str) -> tuple[list[Expr], dict[int, str], dict[int, Expr]]:
    """The operations on the way from ``var`` to ``f``, with names and named-input forms."""
    order = list(f.walk())
    depends: dict[int, bool] = {}
    for node in order:
        depends[id(node)] = (node.op == "sym" and node.value == var) or any(
            depends[id(a)] for a in node.args
        )
    nodes = [n for n in order if depends[id(n)] and n.op != "sym"]
    names: dict[int, str] = {}
    for i, node in enumerate(nodes, start=1):
        names[id(node)] = "L" if node is f and f.is_scalar else ("f" if node is f else f"u{i}")
    named: dict[int, Expr] = {}
    for node in nodes:
        args = tuple(E.sym(names[id(a)], a.shape) if id(a) in names else a for a in node.args)
        named[id(node)] = E.rebuild(node, args)
    return nodes, names, named


def chain_rule(f: Expr, var: str, ns: Namespace) -> list[str]:
    nodes, names, named = decompose(f, var)
    if not nodes:
        return [f"the expression does not depend on {var}"]
    top = names[id(f)]
    lines = ["forward:"]
    lines += [f"  {to_unicode.name(names[id(n)])} = {to_unicode(named[id(n)])}" for n in nodes]
    adjoints: dict[int, Expr] = {}
    gradient(f, var, adjoints=adjoints)
    lines.append("backward (chain rule):")
    parents: dict[int, list[Expr]] = {}
    for node in nodes:
        for a in node.args:
            parents.setdefault(id(a), []).append(node)
    targets = [n for n in reversed(nodes) if n is not f]
    targets.append(next(n for n in f.walk() if n.op == "sym" and n.value == var))
    var_total: list[Expr] = []
    for node in targets:
        if node.op == "sym":
            g = _sum(
                adj
                for n in f.walk()
                if n.op == "sym" and n.value == var
                for adj in [adjoints.get(id(n))]
                if adj is not None
            )
            label = var
            var_total.append(g)
        else:
            g = adjoints.get(id(node))
            label = names[id(node)]
        if g is None:
            continue
        pieces = []
        for parent in parents.get(id(node), []) if node.op != "sym" else _var_parents(nodes, var):
            upstream = (
                E.ones(parent.shape)
                if parent is f
                else E.sym(f"∂{top}/∂{to_unicode.name(names[id(parent)])}", parent.shape)
            )
            for child, contribution in local_backward(named[id(parent)], upstream):
                if child.op == "sym" and child.value == (label if node.op != "sym" else var):
                    pieces.append(to_unicode(contribution))
        formula = " + ".join(pieces) if pieces else "0"
        value = to_unicode(simplify(g, ns))
        lines.append(
            f"  ∂{top}/∂{to_unicode.name(label)} = {formula}"
            + ("" if formula == value else f" = {value}")
        )
    return lines


def _var_parents(nodes: list[Expr], var: str) -> list[Expr]:
    return [n for n in nodes if any(a.op == "sym" and a.value == var for a in n.args)]


def _sum(exprs) -> Expr | None:  # type: ignore[no-untyped-def]
    total = None
    for e in exprs:
        total = e if total is None else E.add(total, e)
    return total
