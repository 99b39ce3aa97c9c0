"""The judge: one answer against one key, for every answer kind.

``check(answer, expected, kind=..., vars=..., ...)`` is what ``dlquiz check``, practice,
``verify`` and ``grade`` all call. The answer is untrusted text and goes only through
``dlquiz.notation.parse``; the key may be text or an already-built ``Expr``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from dlquiz.core.expr import Expr, shape_phrase, shape_text, substitute
from dlquiz.core.numbers import count
from dlquiz.core.numeric import EvaluationError
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace, VarSpec, VarSpecError
from dlquiz.judge.compare import (
    MIN_VALID,
    SAFETY,
    SYMBOLIC_RTOL,
    Sample,
    close,
    draw,
    max_relative_error,
    same_values,
)
from dlquiz.judge.compare import tolerance as tolerance_floor
from dlquiz.judge.diagnosis import diagnose
from dlquiz.judge.exact import equal as exact_equal
from dlquiz.notation import NotationError, parse

KINDS = ("expression", "number", "numbers", "integer", "shape", "choice")
NUMERIC_RTOL = 5e-3  # right to three significant figures
NUMERIC_ATOL = 1e-6  # answers near 0
EXPRESSION_RTOL = 1e-7
GREY_ZONE = (1e-9, 1e-4)  # relative errors that may be rounding rather than a mistake
# A test switch (never needed in use): with it set to 1, floats decide only exact
# agreement, and SymPy's confirmation runs for every scalar answer that is not exactly
# equal in floats. The tests use it to run that path in check, practice and grade alike,
# since the rounding bounds leave almost no answer in the grey zone.
FORCE_SYMBOLIC = "DLQUIZ_FORCE_SYMBOLIC"


class UnusableKey(ValueError):
    """The expected answer (or its declarations) cannot be used: not the student's fault."""


@dataclass
class Mistake:
    """A known wrong answer with targeted feedback; ``tag`` never depends on random values."""

    tag: str
    answer: str | Expr
    feedback: str


@dataclass
class Verdict:
    equivalent: bool
    feedback: str
    mistake: str | None = None
    score: float = 0.0
    entries: list[list[bool]] | None = None
    unusable: bool = False  # the answer could not be read at all
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "equivalent": self.equivalent,
            "feedback": self.feedback,
            "mistake": self.mistake,
            "score": round(self.score, 6),
        }
        if self.entries is not None:
            data["entries"] = self.entries
        if self.unusable:
            data["unusable"] = True
        data.update(self.details)
        return data


def _right(feedback: str = "correct", **details: Any) -> Verdict:
    return Verdict(True, feedback, None, 1.0, details=details)


def _wrong(feedback: str, tag: str | None = None, **details: Any) -> Verdict:
    return Verdict(False, feedback, tag, details=details)


def _unreadable(exc: Exception) -> Verdict:
    message = str(exc)
    if "division by zero" in message:
        return Verdict(
            False,
            "the answer is undefined everywhere (a division by zero)",
            "unreadable",
            unusable=True,
        )
    if isinstance(exc, NotationError) and message.startswith("shape error"):
        return _wrong(message, "shape")
    return Verdict(False, message, "unreadable", unusable=True)


# --- keys -----------------------------------------------------------------------------


def parse_key(text: str | Expr, ns: Namespace) -> Expr:
    """Parse a trusted expression, declaring unknown names as scalars (keys, templates)."""
    if isinstance(text, Expr):
        for name in text.free_symbols():
            ns.ensure(name)
        return text
    try:
        return parse(text, ns, declare=True)
    except NotationError as exc:
        raise UnusableKey(f"the expected answer cannot be read: {exc}") from None


@dataclass
class PreparedKey:
    kind: str
    expected: Expr | None
    ns: Namespace
    definitions: dict[str, Expr]
    mistakes: list[tuple[Mistake, Expr | None]]
    choices: tuple[str, ...] = ()
    raw: str = ""
    decimals: bool = False  # the key's text writes a number as a decimal


def prepare(
    expected: str | Expr,
    *,
    kind: str = "auto",
    vars: Namespace | dict[str, str] | Sequence[str] | None = None,
    definitions: dict[str, str] | None = None,
    mistakes: Sequence[Mistake | dict[str, Any]] = (),
) -> PreparedKey:
    """Read a key once; grading many answers against it reuses the result."""
    if isinstance(expected, str) and not isinstance(vars, Namespace):
        frozen_vars = _freeze(vars)
        frozen_defs = tuple((definitions or {}).items())
        frozen_mistakes = tuple(_freeze_mistake(m) for m in mistakes)
        if all(isinstance(m[1], str) for m in frozen_mistakes):
            return _prepare_cached(expected, kind, frozen_vars, frozen_defs, frozen_mistakes)
    return _prepare(expected, kind, vars, definitions, mistakes)


def _freeze(vars: Any) -> tuple:
    if vars is None:
        return ()
    if isinstance(vars, dict):
        return tuple(sorted(vars.items()))
    return tuple(vars)


def _freeze_mistake(m: Mistake | dict[str, Any]) -> tuple:
    if isinstance(m, Mistake):
        return (m.tag, m.answer, m.feedback)
    return (m["tag"], m["answer"], m.get("feedback", ""))


@lru_cache(maxsize=512)
def _prepare_cached(expected, kind, vars, defs, mistakes) -> PreparedKey:  # type: ignore[no-untyped-def]
    if vars and isinstance(vars[0], tuple):
        vars = dict(vars)
    return _prepare(
        expected,
        kind,
        list(vars) if not isinstance(vars, dict) else vars,
        dict(defs),
        [Mistake(*m) for m in mistakes],
    )


def _prepare(expected, kind, vars, definitions, mistakes) -> PreparedKey:  # type: ignore[no-untyped-def]
    try:
        ns = vars.copy() if isinstance(vars, Namespace) else Namespace.from_specs(vars)
    except VarSpecError as exc:
        raise UnusableKey(str(exc)) from None
    # --var with a constant key (sum(softmax(o)) = 1) asks for an expression check.
    declared = any(not spec.is_function for spec in ns.vars.values())
    mistake_list = [
        m if isinstance(m, Mistake) else Mistake(m["tag"], m["answer"], m.get("feedback", ""))
        for m in mistakes
    ]
    if kind == "auto" and isinstance(expected, str) and _SHAPE_KEY.fullmatch(expected):
        kind = "shape"
    if kind not in KINDS and kind != "auto":
        raise UnusableKey(f"unknown answer kind '{kind}' (one of {', '.join(KINDS)})")
    if kind in ("shape", "choice"):
        text = to_notation(expected) if isinstance(expected, Expr) else str(expected).strip()
        if kind == "shape":
            try:
                _read_shape(text)
            except ValueError as exc:
                raise UnusableKey(f"the expected shape cannot be read: {exc}") from None
        return PreparedKey(kind, None, ns, {}, [(m, None) for m in mistake_list], raw=text)
    defs: dict[str, Expr] = {}
    for name, body in (definitions or {}).items():
        try:
            value = substitute(parse_key(body, ns), defs)
        except EvaluationError as exc:  # a chain of definitions that doubles at each step
            raise UnusableKey(f"definition of '{name}': {exc}") from None
        defs[name] = value
        ns.declare(VarSpec(name, value.shape, "real"))
    target = parse_key(expected, ns)
    if kind == "auto":
        kind = (
            "expression"
            if declared or substitute(target, defs).free_symbols()
            else ("number" if target.is_scalar else "numbers")
        )
    if kind in ("number", "numbers", "integer"):
        if substitute(target, defs).free_symbols():
            raise UnusableKey("a numeric answer cannot contain variables")
        if not np.isfinite(_numeric_values(substitute(target, defs))).all():
            raise UnusableKey("the expected answer is not a finite number")
    parsed_mistakes: list[tuple[Mistake, Expr | None]] = []
    for m in mistake_list:
        scratch = ns.copy()
        try:
            parsed_mistakes.append((m, parse_key(m.answer, scratch)))
        except UnusableKey as exc:
            raise UnusableKey(f"mistake '{m.tag}': {exc}") from None
    texts = [expected, *(definitions or {}).values()]
    decimals = any(isinstance(t, str) and has_decimals(t) for t in texts)
    return PreparedKey(
        kind, target, ns, defs, parsed_mistakes, raw=str(expected), decimals=decimals
    )


_SHAPE_KEY = re.compile(r"\s*\(\s*\d+(\s*,\s*\d+)+\s*\)\s*")


# --- checking -------------------------------------------------------------------------


def check(
    answer: str,
    expected: str | Expr | PreparedKey,
    *,
    kind: str = "auto",
    vars: Namespace | dict[str, str] | Sequence[str] | None = None,
    definitions: dict[str, str] | None = None,
    tolerance: float | None = None,
    mistakes: Sequence[Mistake | dict[str, Any]] = (),
    reveal: bool = False,
) -> Verdict:
    """Judge ``answer`` (untrusted text) against the key. Never raises for a bad answer.

    ``reveal`` lets the feedback write out a missing term or factor of the key (``dlquiz
    check``, where the user typed the key); practice and grading never do.
    Raises ``UnusableKey`` when the key itself cannot be used.
    """
    key = (
        expected
        if isinstance(expected, PreparedKey)
        else prepare(expected, kind=kind, vars=vars, definitions=definitions, mistakes=mistakes)
    )
    if not isinstance(answer, str):
        return Verdict(False, "an answer must be text", "unreadable", unusable=True)
    if not answer.strip():
        return Verdict(False, "no answer given", "empty", unusable=True)
    try:
        with np.errstate(all="ignore"):  # a NaN is a verdict here, never a warning
            return _check(answer, key, tolerance, reveal)
    except (NotationError, EvaluationError, OverflowError) as exc:
        return _unreadable(exc)


def _check(answer: str, key: PreparedKey, tolerance: float | None, reveal: bool) -> Verdict:
    if key.kind == "shape":
        return _check_shape(answer, key)
    if key.kind == "choice":
        return _check_choice(answer, key)
    if key.kind in ("number", "numbers", "integer"):
        return _check_numeric(answer, key, tolerance)
    return _check_expression(answer, key, tolerance, reveal)


def _parse_answer(answer: str, key: PreparedKey) -> Expr:
    return parse(answer, key.ns)


def _check_expression(
    answer: str, key: PreparedKey, tolerance: float | None, reveal: bool
) -> Verdict:
    """Exact arithmetic where it can decide, then points chosen to find differences."""
    assert key.expected is not None
    given = substitute(_parse_answer(answer, key), key.definitions)
    expected = substitute(key.expected, key.definitions)
    _bound_size(given)
    mistakes = [(m, substitute(e, key.definitions)) for m, e in key.mistakes if e is not None]
    if given.shape != expected.shape:
        return _shape_mismatch(given, expected, key)
    return _decide(
        given,
        expected,
        key.ns,
        salt=f"{answer}\x1f{key.raw}",
        decimals=key.decimals or has_decimals(answer),
        tolerance=tolerance,
        mistakes=mistakes,
        reveal=reveal,
        right="the expected answer",
        an_answer=True,
    )


def _decide(
    given: Expr,
    expected: Expr,
    ns: Namespace,
    *,
    salt: str,
    decimals: bool,
    tolerance: float | None = None,
    mistakes: Sequence[tuple[Mistake, Expr]] = (),
    reveal: bool = True,
    yours: str = "your answer",
    right: str = "the right one",
    timeout: float | None = None,
    an_answer: bool = False,
) -> Verdict:
    """The decision for two expressions of one shape: one procedure for answers and for
    the steps of a derivation.

    The exact path where it decides; points chosen to find differences; SymPy's
    confirmation in the grey zone (in the worker, within ``timeout``); the known
    ``mistakes``; the generic diagnosis. ``yours`` and ``right`` name the two sides in
    the feedback. ``an_answer``: an answer undefined everywhere is unreadable (a student's
    typo), not a wrong step.
    """
    if given == expected:  # the same tree: no need to evaluate anything
        return _right()
    domains = {n: spec.domain for n, spec in ns.vars.items()}
    exact = None if decimals else exact_equal(given, expected, domains, salt)
    if exact:
        return _right("correct (exact)", method="exact")
    if tolerance is not None:
        rtol = tolerance
    else:
        rtol = EXPRESSION_RTOL if decimals else SYMBOLIC_RTOL
    safety = SAFETY
    forced = tolerance is None and os.environ.get(FORCE_SYMBOLIC) == "1"
    if forced:
        rtol = safety = 0.0  # the test switch: every float difference goes to SymPy
    sample = draw(expected, [given], ns, rtol=rtol, safety=safety)
    if sample.count < MIN_VALID:
        if exact is False:
            return _wrong(f"not equal to {right}", method="exact")
        return _wrong(
            f"{right} is defined at only {sample.count} of the points tried (over every "
            "scale and sign pattern): this cannot be decided",
            UNDECIDABLE,
        )
    values = sample.value(given)
    if not np.isfinite(values[sample.valid]).any():
        text = f"{yours} is undefined at every point tried"
        if an_answer:
            return Verdict(False, text, "unreadable", unusable=True)
        return _wrong(text, "undefined")
    agree = sample.agrees(given)
    if agree and exact is None:
        return _right(points=sample.count)
    if exact is None and tolerance is None and not agree:
        rel = max_relative_error(sample, values)
        defined = np.isfinite(values[sample.valid & ~sample.detail(given).risky]).all()
        if defined and (rel < GREY_ZONE[1] or forced):
            confirmed = _confirm_symbolically(given, expected, ns, timeout)
            if confirmed:
                return _right("correct (confirmed symbolically)", points=sample.count)
            if confirmed is None:
                return _wrong(
                    "undecided: the values differ only in the last digits, and SymPy ran "
                    "out of time confirming it",
                    UNDECIDABLE,
                )
    for mistake, expr in mistakes:
        if _matches(given, expr, sample, domains, salt, exact is not None):
            return _wrong(mistake.feedback or f"a known mistake: {mistake.tag}", mistake.tag)
    if agree:  # the exact check saw what rounding hides
        return _wrong(
            f"not equal to {right}: exact arithmetic finds a difference too small for "
            "floating point to show" + _largest_difference(sample, values),
            method="exact",
        )
    undefined = _undefined_where_defined(sample, sample.detail(given), yours, right)
    if undefined:
        return _wrong(undefined)
    found = diagnose(given, expected, sample, yours, right, reveal=reveal)
    if found is not None:
        return _wrong(found.feedback, found.tag)
    return _wrong(
        f"not equal to {right}"
        + (_witness(given, expected, sample, yours, right) or _largest_difference(sample, values))
    )


def _matches(
    given: Expr, mistake: Expr, sample: Sample, domains: dict[str, str], salt: str, exact: bool
) -> bool:
    """Is the answer this known wrong answer? Exactly when both are rational."""
    if exact and given.shape == mistake.shape:
        same = exact_equal(given, mistake, domains, salt + "\x1fmistake")
        if same is not None:
            return same
    try:
        return sample.agrees(given, mistake)
    except EvaluationError:
        return False


def mistake_matches(sample: Sample, values: np.ndarray, mistake: Expr) -> bool:
    """Do ``values`` equal this known wrong answer at the sample's points?"""
    try:
        t = sample.detail(mistake)
    except EvaluationError:
        return False
    return same_values(sample, values, target=t.value, target_error=t.error, points=~t.risky)


_DECIMAL = re.compile(r"(?<![\w.])(\d*)\.(\d+)|(?<![\w.])(\d+)\.(?!\d)")
APPROXIMATE_DIGITS = 7  # a decimal this long could pass the 1e-7 tolerance for another number


def has_decimals(text: str) -> bool:
    """Does the text write a number as a long decimal (``0.3333333333``)?

    Every number is read exactly, but a student who types ten digits of 1/3 means an
    approximation, so such a pair is decided in floating point with the relative
    tolerance, as before. A short decimal (``0.5``, ``2.5e-3``, ``1e12``) is exact: no
    number other than itself is within 1e-7 of it, so the exact path loses nothing.
    """
    for m in _DECIMAL.finditer(text):
        digits = ((m.group(1) or "") + (m.group(2) or "") + (m.group(3) or "")).strip("0")
        if len(digits) >= APPROXIMATE_DIGITS:
            return True
    return False


MAX_CHECKED_NODES = 20_000  # after definitions are substituted in


def _bound_size(e: Expr) -> None:
    """An answer that grows too large once definitions are put in is refused, not run."""
    for parts, _ in enumerate(e.walk(), start=1):
        if parts > MAX_CHECKED_NODES:
            raise NotationError(
                f"the answer is too large once its definitions are substituted "
                f"(more than {MAX_CHECKED_NODES} parts)"
            )


def _undefined_where_defined(
    sample: Sample, d: Any, yours: str = "your answer", right: str = "the right one"
) -> str:
    """Feedback for an answer that is undefined (log of a negative...) where the key is not."""
    bad = sample.valid & ~d.risky & ~np.isfinite(d.value).all(axis=(1, 2))
    if not bad.any():
        return ""
    i = int(np.nonzero(bad)[0][0])
    scalars = [n for n, v in sorted(sample.env.items()) if v.shape[1:] == (1, 1)][:4]
    at = ", ".join(f"{n}={_shown(sample.env[n][i, 0, 0], 3)}" for n in scalars)
    where = f" (for instance at {at})" if at else ""
    return f"not equivalent: {yours} is undefined at points where {right} is defined{where}"


def _largest_difference(sample: Sample, values: np.ndarray) -> str:
    rel = max_relative_error(sample, values)
    if not np.isfinite(rel):
        return ""
    return f" (largest relative difference {rel:.2g})"


def _witness(
    given: Expr, expected: Expr, sample: Sample, yours: str = "yours", right: str = "the right one"
) -> str:
    """A point where the two differ, for scalar answers in a few variables."""
    names = sorted(expected.free_symbols() | given.free_symbols())
    if not expected.is_scalar or not names or len(names) > 4:
        return ""
    d = sample.detail(given)
    va, ve = d.value, sample.expected
    floor = tolerance_floor(sample, d.error, None)
    ok = close(va, ve, sample.rtol, floor).all(axis=(1, 2))
    bad = np.nonzero(sample.valid & ~d.risky & ~ok)[0]
    if not bad.size or any(sample.env[n].shape[1:] != (1, 1) for n in names):
        return ""
    core = [i for i in bad if all(0.2 <= abs(sample.env[n][i, 0, 0]) <= 3 for n in names)]
    i = int(core[0] if core else bad[0])  # a point in the usual band reads best
    at = ", ".join(f"{n}={_shown(sample.env[n][i, 0, 0], 3)}" for n in names)
    return f" (at {at} {yours} is {_shown(va[i, 0, 0])}, {right} {_shown(ve[i, 0, 0])})"


def _shown(x: float, sig: int = 4) -> str:
    """A sampled value in feedback, by the one number formatter (``inf`` and ``nan`` too)."""
    from dlquiz.core.numbers import NumberFormatError, fmt

    try:
        return fmt(float(x), sig)
    except NumberFormatError:
        return str(float(x))


def _shape_mismatch(given: Expr, expected: Expr, key: PreparedKey) -> Verdict:
    yours, right = given.shape, expected.shape
    text = f"your answer is {shape_text(yours)}, the answer is {shape_text(right)}"
    if yours and right and yours == right[::-1]:
        sample = draw(expected, [given.T], key.ns)
        if same_values(sample, sample.value(given.T)):
            return _wrong(text + ": transposed? (its transpose is right)", "transposed")
        return _wrong(text + ": transposed?", "shape")
    return _wrong(
        f"your answer is {shape_phrase(yours)}, the answer is {shape_phrase(right)}", "shape"
    )


def _confirm_symbolically(
    given: Expr, expected: Expr, ns: Namespace, timeout: float | None = None
) -> bool | None:
    """Only for the rare grey-zone case; SymPy runs in the worker under a time limit.

    None (falsy, like a refusal) when SymPy ran out of time.
    """
    if not (given.is_scalar and expected.is_scalar):
        return False
    from dlquiz.judge.worker import WorkerError, WorkerTimeout, run

    try:
        return bool(run("equal", given, expected, ns, timeout=timeout))
    except WorkerTimeout:
        return None
    except WorkerError:
        return False


UNDECIDABLE = "undecidable"  # the tag of a comparison that could not be decided


def compare_expressions(
    given: Expr,
    expected: Expr,
    ns: Namespace,
    *,
    salt: str = "",
    decimals: bool = False,
    yours: str = "your answer",
    right: str = "the right one",
    timeout: float | None = None,
) -> Verdict:
    """Is ``given`` equal to ``expected`` (both built, definitions substituted), and why not?

    The judge's decision for expression answers without a key's known mistakes (the
    derivation checker's comparison of a line with the line before): the exact path
    where it decides, points chosen to find differences, SymPy's confirmation in the
    grey zone (in the worker, within ``timeout``), then the diagnosis. ``yours`` and
    ``right`` name the two sides in the feedback; ``decimals`` (a side written with long
    decimals) decides in floating point with the relative tolerance. A verdict tagged
    ``UNDECIDABLE`` could not be decided (too few points, or SymPy ran out of time).
    """
    with np.errstate(all="ignore"):
        return _compare_expressions(given, expected, ns, salt, decimals, yours, right, timeout)


def _compare_expressions(  # type: ignore[no-untyped-def]
    given, expected, ns, salt, decimals, yours, right, timeout
) -> Verdict:
    if given.shape != expected.shape:
        a, b = given.shape, expected.shape
        text = f"{yours} is {shape_phrase(a)}, {right} is {shape_phrase(b)}"
        if a and b and a == b[::-1]:
            sample = draw(expected, [given.T], ns)
            if same_values(sample, sample.value(given.T)):
                return _wrong(text + ": transposed? (its transpose is equal)", "transposed")
            return _wrong(text + ": transposed?", "shape")
        return _wrong(text, "shape")
    return _decide(
        given,
        expected,
        ns,
        salt=salt,
        decimals=decimals,
        yours=yours,
        right=right,
        timeout=timeout,
    )


# --- numbers, integers, shapes, choices ---------------------------------------------


def _numeric_values(e: Expr) -> np.ndarray:
    from dlquiz.core.numeric import evaluate

    return evaluate(e, {}, 1)[0]


def _check_numeric(answer: str, key: PreparedKey, tolerance: float | None) -> Verdict:
    assert key.expected is not None
    given = parse(answer, Namespace())
    expected = substitute(key.expected, key.definitions)
    ve = _numeric_values(expected)
    va = _numeric_values(given)
    if key.kind == "integer":
        return _check_integer(given, expected, va, key)
    rtol = NUMERIC_RTOL if tolerance is None else tolerance
    atol = NUMERIC_ATOL if tolerance is None else min(NUMERIC_ATOL, tolerance)
    if va.shape != ve.shape:
        if given.op == "matrix" and 1 in va.shape and 1 in ve.shape and va.size == ve.size:
            va = va.reshape(ve.shape)  # a list of numbers has no orientation
        else:
            yours, right = shape_phrase(given.shape), shape_phrase(expected.shape)
            text = f"your answer is {yours}, the answer is {right}"
            if va.shape == ve.shape[::-1] and close(va.T, ve, rtol, atol).all():
                return _wrong(text + ": transposed? (its transpose is right)", "transposed")
            return _wrong(text, "shape")
    ok = close(va, ve, rtol, atol)
    if expected.is_scalar:
        if ok.all():
            return _right()
        return _numeric_mistakes(given, va, key, rtol, atol) or _wrong(
            "not the right value" + _closeness(float(va[0, 0]), float(ve[0, 0]))
        )
    entries = ok.tolist()
    right = int(ok.sum())
    if right == ok.size:
        return Verdict(True, "correct", None, 1.0, entries)
    found = _numeric_mistakes(given, va, key, rtol, atol)
    if found is None and ve.shape[0] == ve.shape[1] and close(va.T, ve, rtol, atol).all():
        found = _wrong("your matrix is the transpose of the right one", "transposed")
    wrong_at = [
        f"({i + 1},{j + 1})" if ok.shape[1] > 1 else f"{i + 1}"
        for i, j in zip(*np.nonzero(~ok), strict=False)
    ]
    listed = ", ".join(wrong_at[:6]) + (" ..." if len(wrong_at) > 6 else "")
    feedback = f"{right} of {ok.size} entries right; wrong: {listed}"
    if found is not None:
        feedback = f"{found.feedback} ({feedback})"
    return Verdict(False, feedback, found.mistake if found else None, right / ok.size, entries)


def exact_numbers(e: Expr) -> list[Fraction] | None:
    """The exact entries of a number or a matrix of numbers, or None (``sqrt(2)``)."""
    if e.op == "num":
        return [e.value]  # type: ignore[list-item]
    if e.op == "matrix" and all(a.op == "num" for a in e.args):
        return [a.value for a in e.args]  # type: ignore[misc]
    return None


_FLOAT_INTEGER_LIMIT = 2.0**52  # beyond this a float cannot tell neighbouring integers apart


def _integers(e: Expr, values: np.ndarray) -> list[int] | None:
    """The whole numbers an integer answer stands for, or None when it is not whole.

    Exact arithmetic when the expression folds to numbers (``3.0000000001`` is not 3,
    ``100000000000000001`` is not 10^17); otherwise the float value must be a whole
    number to the last bit and small enough for a float to hold exactly.
    """
    exact = exact_numbers(e)
    if exact is not None:
        if any(v.denominator != 1 for v in exact):
            return None
        return [int(v) for v in exact]
    flat = values.reshape(-1)
    if not np.isfinite(flat).all() or (np.abs(flat) >= _FLOAT_INTEGER_LIMIT).any():
        return None
    if (flat != np.round(flat)).any():
        return None
    return [int(v) for v in flat]


def _check_integer(given: Expr, expected: Expr, va: np.ndarray, key: PreparedKey) -> Verdict:
    mine = _integers(given, va)
    if mine is None:
        return _wrong("the answer must be a whole number", "not-integer")
    right = _integers(expected, _numeric_values(expected))
    if right is None:
        raise UnusableKey("the expected answer of an integer question is not a whole number")
    if len(mine) == len(right) and mine == right:
        return _right()
    for mistake, expr in key.mistakes:
        if expr is None:
            continue
        try:
            wrong = substitute(expr, key.definitions)
            theirs = _integers(wrong, _numeric_values(wrong))
        except EvaluationError:
            continue
        if theirs == mine:
            return _wrong(mistake.feedback or f"a known mistake: {mistake.tag}", mistake.tag)
    return _wrong("not the right number")


def _closeness(a: float, b: float) -> str:
    if b != 0 and np.isfinite(a) and abs(a / b - 1) < 0.05:
        return " (close: check your rounding and keep three significant figures)"
    return ""


def _numeric_mistakes(
    given: Expr,
    va: np.ndarray,
    key: PreparedKey,
    rtol: float = NUMERIC_RTOL,
    atol: float = NUMERIC_ATOL,
) -> Verdict | None:
    for mistake, expr in key.mistakes:
        if expr is None:
            continue
        try:
            vm = _numeric_values(substitute(expr, key.definitions))
        except EvaluationError:
            continue
        if vm.shape == va.shape and close(va, vm, rtol, atol).all():
            return _wrong(mistake.feedback or f"a known mistake: {mistake.tag}", mistake.tag)
    return None


_SHAPE_SPLIT = re.compile(r"\s*(?:,|x|×|\*)\s*")


def _read_shape(text: str) -> tuple[int, ...]:
    body = text.strip()
    if body[:1] in "([" and body[-1:] in ")]":
        body = body[1:-1]
    parts = [p for p in _SHAPE_SPLIT.split(body.strip()) if p != ""]
    if not parts or len(parts) > 8 or not all(p.isdigit() and len(p) <= 9 for p in parts):
        raise ValueError(f"'{text[:40]}' is not a shape: write it like (32, 14, 14)")
    return tuple(int(p) for p in parts)


def _check_shape(answer: str, key: PreparedKey) -> Verdict:
    right = _read_shape(key.raw)
    try:
        given = _read_shape(answer)
    except ValueError as exc:
        return Verdict(False, str(exc), "unreadable", unusable=True)
    if given == right:
        return _right()
    for mistake, _ in key.mistakes:
        try:
            if _read_shape(str(mistake.answer)) == given:
                return _wrong(mistake.feedback, mistake.tag)
        except ValueError:
            continue
    if len(given) != len(right):
        return _wrong(
            f"the answer has {count(len(right), 'dimension')}, yours has {len(given)}", "shape"
        )
    if sorted(given) == sorted(right):
        return _wrong("the right sizes in the wrong order", "order")
    wrong = [i + 1 for i, (a, b) in enumerate(zip(given, right, strict=False)) if a != b]
    return _wrong(f"dimension {', '.join(map(str, wrong))} is wrong", None)


def _check_choice(answer: str, key: PreparedKey) -> Verdict:
    given = answer.strip().strip("()[].").upper()
    if not re.fullmatch(r"[A-H]", given):
        return Verdict(
            False, "answer with the letter of one option (A, B, C ...)", "unreadable", unusable=True
        )
    if given == key.raw.strip().upper():
        return _right()
    for mistake, _ in key.mistakes:
        if str(mistake.answer).strip().upper() == given:
            return _wrong(mistake.feedback, mistake.tag)
    return _wrong("not the right option")
