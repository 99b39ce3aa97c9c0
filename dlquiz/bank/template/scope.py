"""What one draw knows: the params' texts, the numbers bound to names, and how to compute.

Every number a template computes (a value, an answer, a mistake, a condition, a number in
the prose) is a formula in the answer notation, evaluated here by one interpreter: the
expression is lowered onto the NumPy autograd engine (``dlquiz.core.autodiff``), names
bound to the draw's numbers, so a forward pass, a softmax or an optimizer step runs as the
engine's operations, and a ``grad`` value is the engine's reverse mode.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from dlquiz.bank.render import TemplateError, parse_math
from dlquiz.bank.template.source import Source, fill
from dlquiz.core.expr import EvaluationError, Expr, normalize_shape, num, substitute
from dlquiz.core.names import canonical_name
from dlquiz.core.vars import Namespace, VarSpec

_COMPARE = re.compile(r"<=|>=|==|!=|<|>")
EQUAL_RTOL = 1e-9  # two numbers this close (relatively) are equal in a condition
_NUMBER_LIKE = re.compile(r"^[^$]{1,80}$")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+|/\d+)?")  # 3, -0.25, 1/2 (not 1.5/2)
_PARSES: dict[tuple[str, frozenset[tuple[str, VarSpec]]], Expr | str] = {}
_PARSES_KEPT = 50_000


def _parse(text: str, ns: Namespace) -> Expr | str:
    """A template's formula read in ``ns`` (the expression, or why it cannot be read).

    Remembered: a family draws its params many times (every seed, and again whenever a
    ``require`` rejects a draw), and a text read in the same names always reads the same.
    The cache is the template's own text, never a user's answer.
    """
    key = (text, frozenset(ns.vars.items()))
    found = _PARSES.get(key)
    if found is None:
        try:
            found = parse_math(text, ns.copy())
        except TemplateError as exc:
            found = str(exc)
        if len(_PARSES) >= _PARSES_KEPT:
            _PARSES.clear()
        _PARSES[key] = found
    return found


class Scope:
    """The texts and numbers of one draw (a seed's params, then its values)."""

    def __init__(self, source: Source, ns: Namespace) -> None:
        self.source = source
        self.texts: dict[str, str] = {}  # param name -> its text ({name} in any string)
        self.labels: dict[str, str] = {}  # param name -> the option drawn, as written
        self.numbers: dict[str, np.ndarray] = {}  # canonical name -> (m, n) float64
        self.definitions: dict[str, Expr] = {}
        self.vars: dict[str, str] = {}  # the declared answer variables (``[vars]``)
        # The names of the prose: the vars and definitions, not the drawn numbers (a
        # statement writes $gamma*(x - mu_B)$ of one feature although x is a matrix).
        self.text_ns = Namespace()
        self.ns = ns  # the names formulas may use: vars, bound numbers, definitions

    # --- binding --------------------------------------------------------------------------
    def bind(self, name: str, value: np.ndarray) -> None:
        name = canonical_name(name)
        value = np.asarray(value, dtype=float)
        if value.ndim == 0:
            value = value.reshape(1, 1)
        elif value.ndim == 1:
            value = value.reshape(-1, 1)
        self.numbers[name] = value
        self.ns.declare(VarSpec(name, normalize_shape(value.shape)))

    def bind_text(self, name: str, text: str) -> None:
        """Bind ``name`` to the number its text stands for, when it is one: a number
        (``1/2``), or a formula of numbers already bound (``n0``, ``2*k + 1``)."""
        if not _NUMBER_LIKE.match(text):
            return
        if _PLAIN_NUMBER.fullmatch(text):  # most params: read at once
            with contextlib.suppress(ZeroDivisionError):  # 1/0 is no number
                self.bind(name, np.array(float(Fraction(text))))
            return
        e = _parse(text, self.ns)
        if isinstance(e, str):
            return
        if any(n.op == "deriv" for n in e.walk()) or not e.free_symbols() <= set(self.numbers):
            return
        try:
            value = self._run(e, {})
        except (EvaluationError, ValueError, OverflowError):
            return
        if np.isfinite(value).all():
            self.bind(name, value)

    def fill(self, text: str, field: str) -> str:
        return fill(self.source, text, self.texts, field)

    # --- computing ------------------------------------------------------------------------
    def parse(self, text: str, field: str) -> Expr:
        """A formula (its ``{params}`` filled), definitions substituted."""
        e = _parse(self.fill(text, field), self.ns)
        if isinstance(e, str):
            raise self.source.fail(field, e)
        return substitute(e, self.definitions) if self.definitions else e

    def number(
        self, text: str, field: str, *, at: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """The value of a formula, computed by the engine: an (m, n) array."""
        e = self.parse(text, field)
        if any(n.op == "deriv" for n in e.walk()):
            raise self.source.fail(
                field,
                "a derivative cannot be evaluated here: compute it as a value "
                '{ grad = "...", wrt = "..." }',
            )
        return self._checked(e, field, dict(at or {}))

    def gradient(
        self, text: str, wrt: str, field: str, *, at: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """d(formula)/d(wrt) at the bound numbers, by the engine's reverse mode."""
        from dlquiz.core.autodiff import gradients

        e = self.parse(text, field)
        name = canonical_name(self.fill(wrt, field))
        env = self._env(e, dict(at or {}))
        if name not in env:
            raise self.source.fail(field, f"'{name}' has no value to differentiate at (use at)")
        try:
            with np.errstate(all="ignore"):
                grad = gradients(e, [name], env, 1)[name][0]
        except EvaluationError as exc:
            raise self.source.fail(field, str(exc)) from None
        return self._finite(grad, field)

    def _env(self, e: Expr, at: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        values = {**self.numbers, **{canonical_name(k): v for k, v in at.items()}}
        env = {}
        for name in e.free_symbols():
            if name not in values:
                raise EvaluationError(f"'{name}' has no value: it is neither a param nor a value")
            env[name] = values[name][None]
        return env

    def _run(self, e: Expr, at: dict[str, np.ndarray]) -> np.ndarray:
        from dlquiz.core.autodiff import lower
        from dlquiz.engine import Tensor

        env = self._env(e, at)
        if any(n.op == "matrix" and n.free_symbols() for n in e.walk()):
            # [n0, n1, n2]: the engine builds a literal matrix from numbers only
            scalars = {k: v for k, v in env.items() if v.size == 1}
            e = substitute(e, {k: num(Fraction(float(v.flat[0]))) for k, v in scalars.items()})
            env = self._env(e, at)
        leaves = {name: Tensor(v) for name, v in env.items()}
        with np.errstate(all="ignore"):
            return lower(e, leaves, 1).data[0]

    def _checked(self, e: Expr, field: str, at: dict[str, np.ndarray]) -> np.ndarray:
        try:
            value = self._run(e, at)
        except (EvaluationError, ValueError, OverflowError) as exc:
            raise self.source.fail(field, str(exc)) from None
        return self._finite(value, field)

    def _finite(self, value: np.ndarray, field: str) -> np.ndarray:
        if not np.isfinite(value).all():
            raise NotFinite(field)
        return value

    # --- conditions -----------------------------------------------------------------------
    def holds(self, condition: Any, field: str) -> bool:
        """A ``when`` or ``require`` condition: a table of params and the values they may
        take, a comparison of two formulas (``s > 1``), or a list of these (all hold)."""
        if isinstance(condition, list):
            return all(self.holds(c, f"{field}[{i}]") for i, c in enumerate(condition))
        if isinstance(condition, dict):
            for name, allowed in condition.items():
                options = allowed if isinstance(allowed, list) else [allowed]
                if name not in self.labels:
                    raise self.source.fail(f"{field}.{name}", f"'{name}' is not a param")
                if self.labels[name] not in [str(o) for o in options]:
                    return False
            return True
        return self.compare(condition, field)

    def compare(self, text: str, field: str) -> bool:
        ops = _COMPARE.findall(text)
        if len(ops) != 1:
            raise self.source.fail(
                field, f"'{text}' must compare two formulas with one of < <= > >= == !="
            )
        left, right = _COMPARE.split(text)
        a, b = self.number(left, field), self.number(right, field)
        try:
            a, b = np.broadcast_arrays(a, b)
        except ValueError:
            raise self.source.fail(field, f"'{text}' compares values of different shapes") from None
        equal = np.abs(a - b) <= EQUAL_RTOL * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
        result = {
            "==": equal,
            "!=": ~equal,
            "<": (a < b) & ~equal,
            ">": (a > b) & ~equal,
            "<=": (a < b) | equal,
            ">=": (a > b) | equal,
        }[ops[0]]
        return bool(result.all())


class NotFinite(ArithmeticError):
    """A computed number that is not finite (a division by zero, a log of 0): the draw
    cannot be used. ``field`` says where; a ``require`` can exclude such draws."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field
