"""The judge: one answer against one key, for every answer kind.

``check(answer, expected, kind=..., vars=..., ...)`` is what ``dlquiz check``, practice,
``verify`` and ``grade`` all call. The answer is untrusted text and goes only through
``dlquiz.notation.parse``; the key may be text or an already-built ``Expr``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from dlquiz.core.expr import Expr, shape_phrase, shape_text, substitute
from dlquiz.core.numbers import count
from dlquiz.core.numeric import EvaluationError
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace, VarSpec, VarSpecError
from dlquiz.judge.compare import Sample, close, draw, max_relative_error, same_values
from dlquiz.judge.diagnosis import diagnose
from dlquiz.notation import NotationError, parse

KINDS = ("expression", "number", "numbers", "integer", "shape", "choice")
NUMERIC_RTOL = 5e-3  # right to three significant figures
NUMERIC_ATOL = 1e-6  # answers near 0
EXPRESSION_RTOL = 1e-7
GREY_ZONE = (1e-9, 1e-4)  # relative errors that may be rounding rather than a mistake


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


def _wrong(feedback: str, tag: str | None = None, **kw: Any) -> Verdict:
    return Verdict(False, feedback, tag, **kw)


def _unreadable(exc: Exception) -> Verdict:
    message = str(exc)
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
        value = substitute(parse_key(body, ns), defs)
        defs[name] = value
        ns.declare(VarSpec(name, value.shape, "real"))
    target = parse_key(expected, ns)
    if kind == "auto":
        kind = (
            "expression"
            if substitute(target, defs).free_symbols()
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
    return PreparedKey(kind, target, ns, defs, parsed_mistakes, raw=str(expected))


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
) -> Verdict:
    """Judge ``answer`` (untrusted text) against the key. Never raises for a bad answer.

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
        if key.kind == "shape":
            return _check_shape(answer, key)
        if key.kind == "choice":
            return _check_choice(answer, key)
        if key.kind in ("number", "numbers", "integer"):
            return _check_numeric(answer, key, tolerance)
        return _check_expression(answer, key, tolerance)
    except (NotationError, EvaluationError) as exc:
        return _unreadable(exc)


def _parse_answer(answer: str, key: PreparedKey) -> Expr:
    return parse(answer, key.ns)


def _check_expression(answer: str, key: PreparedKey, tolerance: float | None) -> Verdict:
    assert key.expected is not None
    given = substitute(_parse_answer(answer, key), key.definitions)
    expected = substitute(key.expected, key.definitions)
    mistakes = [(m, substitute(e, key.definitions)) for m, e in key.mistakes if e is not None]
    rtol = tolerance if tolerance is not None else EXPRESSION_RTOL
    if given.shape != expected.shape:
        return _shape_mismatch(given, expected, key)
    if given == expected:  # the same tree: no need to evaluate anything
        return _right()
    sample = draw(expected, [given], key.ns)
    if sample.count == 0:
        return _wrong("the expected answer is undefined at every point tried", "undecidable")
    values = sample.value(given)
    if same_values(sample, values, rtol=rtol):
        return _right(points=sample.count)
    error = max_relative_error(sample, values)
    if GREY_ZONE[0] < error < GREY_ZONE[1] and tolerance is None:
        confirmed = _confirm_symbolically(given, expected, key.ns)
        if confirmed:
            return _right("correct (confirmed symbolically)", points=sample.count)
    for mistake, expr in mistakes:
        if mistake_matches(sample, values, expr):
            return _wrong(mistake.feedback or f"a known mistake: {mistake.tag}", mistake.tag)
    found = diagnose(given, expected, sample)
    if found is not None:
        return _wrong(found.feedback, found.tag)
    return _wrong("not equivalent to the expected answer" + _witness(given, expected, sample))


def mistake_matches(sample: Sample, values: np.ndarray, mistake: Expr) -> bool:
    """Does the answer (its ``values``) equal this known wrong answer?"""
    try:
        return same_values(sample, values, target=sample.value(mistake))
    except EvaluationError:
        return False


def _witness(given: Expr, expected: Expr, sample: Sample) -> str:
    """A point where the two differ, for scalar answers in a few variables."""
    names = sorted(expected.free_symbols() | given.free_symbols())
    if not expected.is_scalar or not names or len(names) > 4:
        return ""
    va, ve = sample.value(given), sample.expected
    bad = np.nonzero(sample.valid & ~close(va, ve, EXPRESSION_RTOL, 1e-9).all(axis=(1, 2)))[0]
    if not bad.size or any(sample.env[n].shape[1:] != (1, 1) for n in names):
        return ""
    i = int(bad[0])
    at = ", ".join(f"{n}={sample.env[n][i, 0, 0]:.3g}" for n in names)
    return f" (at {at} yours is {va[i, 0, 0]:.4g}, the right one {ve[i, 0, 0]:.4g})"


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


def _confirm_symbolically(given: Expr, expected: Expr, ns: Namespace) -> bool:
    """Only for the rare grey-zone case; SymPy runs in the worker under a time limit."""
    if not (given.is_scalar and expected.is_scalar):
        return False
    from dlquiz.judge.worker import WorkerError, run

    try:
        return bool(run("equal", given, expected, ns))
    except WorkerError:
        return False


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
        if not np.isfinite(va).all() or abs(va - np.round(va)).max() > 1e-9:
            return _wrong("the answer must be a whole number", "not-integer")
        if np.array_equal(np.round(va), np.round(ve)):
            return _right()
        return _numeric_mistakes(given, va, key) or _wrong("not the right number")
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
