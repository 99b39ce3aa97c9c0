"""The symbolic tasks the worker process runs (``dlquiz.judge.worker``), by name."""

from __future__ import annotations

import sympy as sp

from dlquiz.core.expr import Expr
from dlquiz.core.vars import Namespace
from dlquiz.symbolic.bridge import Bridge
from dlquiz.symbolic.derive import Derivation, derive, expand_derivatives


def equal(a: Expr, b: Expr, ns: Namespace) -> bool:
    """Symbolic confirmation for scalar expressions: does SymPy simplify a - b to 0?"""
    bridge = Bridge(ns)
    difference = bridge.to_sympy(a) - bridge.to_sympy(b)
    if sp.simplify(difference) == 0:
        return True
    return sp.simplify(difference.rewrite(sp.exp)) == 0


def derive_task(e: Expr, var: str, ns: Namespace, chain: bool) -> Derivation:
    return derive(e, var, ns, chain=chain)


def expand_task(e: Expr, ns: Namespace) -> Expr:
    return expand_derivatives(e, ns)


def sleep_task(seconds: float) -> float:
    """A task that runs too long on purpose (tests of the time limit)."""
    import time

    time.sleep(seconds)
    return seconds


TASKS = {"equal": equal, "derive": derive_task, "expand": expand_task, "sleep": sleep_task}
