"""Why an answer is wrong: the generic mistakes, tested on the same random points.

Before saying "incorrect" the judge tries the mistakes students make on any derivation:
a sign flipped, a constant factor (the 2 lost from the 1/2), a transpose, an additive term
missing or extra, a factor missing or extra. The tags are stable names (they do not
depend on the random values), so practice statistics and grading reports can count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dlquiz.core.expr import Expr
from dlquiz.core.numbers import fmt
from dlquiz.core.printing import format_number, to_notation
from dlquiz.judge.compare import Sample, same_values


@dataclass(frozen=True)
class Diagnosis:
    tag: str
    feedback: str


def nice_ratio(r: float) -> str:
    """2.0 -> '2'; 0.5 -> '1/2'; 0.333.. -> '1/3'; otherwise three significant figures."""
    frac = Fraction(r).limit_denominator(24)
    if abs(float(frac) - r) <= 1e-7 * max(1.0, abs(r)):
        return (
            format_number(frac) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"
        )
    return fmt(r, 3)


def diagnose(
    answer: Expr,
    expected: Expr,
    sample: Sample,
    yours: str = "your answer",
    right: str = "the right one",
    *,
    reveal: bool = True,
) -> Diagnosis | None:
    """The first generic mistake that explains the answer exactly, or None.

    ``yours`` and ``right`` name the two sides in the feedback (the derivation checker
    compares a line with the line before). With ``reveal`` off (practice, grading) a
    missing term or factor is named by its variables ("a term in x is missing"), never
    written out: that would hand over part of the key.
    """
    d = sample.detail(answer)
    va, ea = d.value, d.error
    ve = sample.expected
    v = sample.valid & ~d.risky
    if va.shape[1:] != ve.shape[1:] or not v.any():
        return None

    def same(values: np.ndarray, error: np.ndarray = ea) -> bool:
        return same_values(sample, values, error=error, points=~d.risky)

    if same(-va):
        return Diagnosis("sign", f"the sign is flipped: {yours} is the negative of {right}")
    ratio = _constant_ratio(va[v], ve[v])
    if ratio is not None and nice_ratio(ratio) not in ("1", "-1"):
        return Diagnosis(
            "factor",
            f"off by a constant factor: {yours} is {nice_ratio(ratio)} times {right}",
        )
    if expected.shape and expected.shape[0] == expected.shape[1] and same(np.swapaxes(va, 1, 2)):
        return Diagnosis("transposed", f"{yours} is the transpose of {right}")
    for term in _terms(expected):
        t = sample.detail(term)
        if same(va + _broadcast(t.value, va), ea + _broadcast(t.error, va)):
            return Diagnosis("missing-term", _missing(term, reveal, "term"))
    for term in _terms(answer):
        t = sample.detail(term)
        if same(va - _broadcast(t.value, va), ea + _broadcast(t.error, va)):
            return Diagnosis("extra-term", _extra(term, reveal, "term"))
    for factor in _factors(expected):
        f = sample.detail(factor)
        fv = f.value
        if fv.shape[1:] in ((1, 1), va.shape[1:]):
            with np.errstate(all="ignore"):
                err = np.abs(fv) * ea + np.abs(va) * f.error
            if same(va * fv, err):
                return Diagnosis("missing-factor", _missing(factor, reveal, "factor"))
    for factor in _factors(answer):
        f = sample.detail(factor)
        fv = f.value
        if fv.shape[1:] in ((1, 1), va.shape[1:]):
            with np.errstate(all="ignore"):
                quotient = va / fv
                err = (ea + np.abs(quotient) * f.error) / np.abs(fv)
            if same(quotient, err):
                return Diagnosis("extra-factor", _extra(factor, reveal, "factor"))
    offset = _constant_offset(va[v], ve[v])
    if offset is not None and nice_ratio(offset) != "0":
        return Diagnosis(
            "constant-term",
            f"off by a constant: {yours} is {right} plus {nice_ratio(offset)}",
        )
    return None


def _extra(part: Expr, reveal: bool, what: str) -> str:
    """An extra term or factor written out, or (not revealing) named by its variables:
    which of your terms to drop is as much of the key as a missing one."""
    if reveal:
        return f"there is an extra {what}: {to_notation(part)}"
    names = sorted(part.free_symbols())
    if not names:
        return f"there is an extra constant {what}"
    return f"there is an extra {what} in {', '.join(names)}"


def _missing(part: Expr, reveal: bool, what: str) -> str:
    """A missing term or factor written out, or (not revealing) named by its variables."""
    if reveal:
        return f"a {what} is missing: {to_notation(part)}"
    names = sorted(part.free_symbols())
    if not names:
        return f"a constant {what} is missing"
    return f"a {what} in {', '.join(names)} is missing"


def _constant_ratio(a: np.ndarray, b: np.ndarray) -> float | None:
    with np.errstate(all="ignore"):
        mask = (np.abs(b) > 1e-8) & np.isfinite(a) & np.isfinite(b)
        if mask.sum() < 3 or not (np.abs(a[~mask]) <= 1e-8 * (1 + np.abs(a).max())).all():
            return None
        r = a[mask] / b[mask]
    if not np.isfinite(r).all():
        return None
    mid = float(r.flat[0])  # any entry will do: all must agree with it
    if mid == 0 or not np.allclose(r, mid, rtol=1e-7, atol=0):
        return None
    return mid


def _constant_offset(a: np.ndarray, b: np.ndarray) -> float | None:
    with np.errstate(all="ignore"):
        d = a - b
    if d.size < 3 or not np.isfinite(d).all():
        return None
    mid = float(d.flat[0])
    scale = max(1.0, float(np.abs(b).max()))
    if abs(mid) < 1e-9 * scale or not np.allclose(d, mid, rtol=1e-7, atol=1e-9 * scale):
        return None
    return mid


def _broadcast(term: np.ndarray, like: np.ndarray) -> np.ndarray:
    return np.broadcast_to(term, like.shape) if term.shape != like.shape else term


def _terms(e: Expr) -> tuple[Expr, ...]:
    return e.args if e.op == "add" else ()


def _factors(e: Expr) -> list[Expr]:
    if e.op != "mul":
        return []
    return [f for f in e.args if f.op != "num"]
