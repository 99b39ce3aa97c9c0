"""Numbers as people read them: one rounding rule for every number dlquiz shows.

Statements, hints, solutions, graphs and keys all print computed floats through
``fmt`` (significant figures, half-even, no trailing zeros, ``1e-8`` rather than
``0.00000001``), so the last bits of a BLAS never reach a student and two platforms
write the same key.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction


class NumberFormatError(ValueError):
    """A number that cannot be shown (NaN or an infinity)."""


def fmt(x: float | Fraction | int, sig: int = 4) -> str:
    """A number rounded to ``sig`` significant figures (half-even), without trailing zeros."""
    if isinstance(x, int) or (isinstance(x, Fraction) and x.denominator == 1):
        return str(int(x))
    value = float(x)
    if value != value or value in (float("inf"), float("-inf")):
        raise NumberFormatError(f"cannot show the number {value}")
    if value == 0:
        return "0"
    d = Decimal(repr(value))
    exponent = d.adjusted()
    quantum = Decimal(1).scaleb(exponent - sig + 1)
    rounded = d.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if abs(value) < 1e-4:  # 1e-8, not 0.00000001 (the notation reads both)
        mantissa, _, power = format(rounded.normalize(), "e").partition("e")
        return f"{mantissa}e{int(power)}"
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


KEY_ZERO = 1e-12  # below this a float key is rounding noise of an exact 0 (0.1 + 0.2 - 0.3)


def fmt_key(x: float, sig: int = 10) -> str:
    """A key value: more digits than shown, still rounded so platforms agree."""
    return "0" if abs(float(x)) < KEY_ZERO else fmt(x, sig)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 channel``, ``3 channels``: a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


SCIENTIFIC_BELOW = Fraction(1, 10**4)  # the threshold of ``fmt``: 1e-8, not 0.00000001


def scientific(value: Fraction) -> tuple[str, int] | None:
    """``(mantissa, exponent)`` for an exact decimal below 1e-4 in size (``1e-8`` is
    ``("1", -8)``, ``-2.5e-5`` is ``("-2.5", -5)``); None for any other number."""
    if value == 0 or abs(value) >= SCIENTIFIC_BELOW:
        return None
    q = value.denominator
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q != 1:
        return None
    d = Decimal(value.numerator) / Decimal(value.denominator)
    exponent = d.adjusted()
    mantissa = format(d.scaleb(-exponent).normalize(), "f")
    return mantissa, exponent


def array_text(values: object, sig: int | None = 4, *, rows: bool = False) -> str:
    """Numbers in the answer notation, each through ``fmt`` (``sig=None``: ``fmt_key``).

    A single number is itself; a column ``[1, 2]``; a row ``[[1, 2]]``; a matrix
    ``[1, 2; 3, 4]``. With ``rows=True`` every array is written as rows split by ``;``
    (a column ``[1; 2]``, a row ``[1, 2]``), the layout of a table of numbers.
    """
    import numpy as np

    def cell(v: object) -> str:
        if isinstance(v, Fraction | int) and not isinstance(v, bool):
            return fmt_key(float(v)) if sig is None else fmt(v, sig)
        return fmt_key(float(v)) if sig is None else fmt(float(v), sig)  # type: ignore[arg-type]

    a = np.asarray(values, dtype=object)
    if rows:
        grid = a.reshape(1, -1) if a.ndim < 2 else a
        return "[" + "; ".join(", ".join(cell(v) for v in row) for row in grid) + "]"
    if a.ndim == 0 or a.size == 1:
        return cell(a.reshape(-1)[0])
    if a.ndim == 1 or a.shape[1] == 1:
        return "[" + ", ".join(cell(v) for v in a.reshape(-1)) + "]"
    if a.shape[0] == 1:
        return "[[" + ", ".join(cell(v) for v in a.reshape(-1)) + "]]"
    return "[" + "; ".join(", ".join(cell(v) for v in row) for row in a) + "]"
