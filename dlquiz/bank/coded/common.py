"""The helpers the coded families share: one copy of what every topic module needs.

The topic modules were written side by side and each grew the same small pieces: the
text of a vector, matrix or shape in the answer notation, the filter that keeps only the
mistakes the judge can tell apart, reading a key's numbers back, the output size of a
convolution or pooling window, the letters of a concept question. They live here so that
a fix reaches every family at once. This module defines no family (``dlquiz.bank.coded``
imports every module of the package; importing this one registers nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from dlquiz.core.numbers import array_text
from dlquiz.core.vars import Namespace
from dlquiz.judge.core import NUMERIC_ATOL, NUMERIC_RTOL

EXACT_RTOL = 1e-8  # engine numbers against exact arithmetic
LETTERS = "ABCDEFGH"  # the options of a concept question

Candidate = tuple[str, object, str]  # (tag, value, feedback) of a known mistake


# --- notation text ----------------------------------------------------------------------


def vector(values: Sequence[object]) -> str:
    """``[1, 2, 3]``: a list in the notation (a column vector)."""
    return "[" + ", ".join(str(v) for v in values) + "]"


def matrix(rows: Sequence[Sequence[object]]) -> str:
    """``[1, 2; 3, 4]``: rows split by ``;`` (a single row stays ``[1, 2]``)."""
    return "[" + "; ".join(", ".join(str(v) for v in row) for row in rows) + "]"


def tuple_text(shape: Sequence[int]) -> str:
    """A shape as the answer to a shape question: ``(32, 16, 14, 14)``, ``(5)``."""
    return "(" + ", ".join(str(s) for s in shape) + ")"


# --- exact numbers and activations ------------------------------------------------------


def n30(e: sp.Expr) -> float:
    """An exact SymPy number as a float, through 30 significant digits."""
    return float(sp.N(e, 30))


def numeric(m: sp.MatrixBase | Sequence[Sequence[sp.Expr]]) -> np.ndarray:
    """An exact SymPy matrix (or rows of exact numbers) to floats, through 30 digits."""
    rows = m.tolist() if isinstance(m, sp.MatrixBase) else m
    return np.array([[n30(v) for v in row] for row in rows])


ACT_TEXT = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}


def exact_dact(name: str, z: sp.Expr) -> sp.Expr:
    """The derivative at an exact number, with the notes' ReLU'(0) = 0."""
    if name == "relu":
        return sp.Integer(1) if z > 0 else sp.Integer(0)
    if name == "sigmoid":
        s = 1 / (1 + sp.exp(-z))
        return s * (1 - s)
    return 1 - sp.tanh(z) ** 2


# --- reading a key back -----------------------------------------------------------------


def key_numbers(text: str) -> np.ndarray:
    """The numbers of a key written in the notation (read by the safe parser, never eval)."""
    from dlquiz.core.numeric import evaluate
    from dlquiz.notation import parse

    return evaluate(parse(text, Namespace()), {}, 1)[0]


def read_numbers(answer: str) -> np.ndarray:
    """The numbers of a key written by ``key_text``, as rows (split on ';').

    Plain string splitting, for the families' own keys (``key_numbers`` reads any key
    through the notation's parser and keeps its shape).
    """
    body = answer.strip().strip("[]")
    rows = [r for r in body.split(";")]
    return np.array(
        [[float(v) for v in r.replace("[", "").replace("]", "").split(",")] for r in rows]
    )


def close_to(key: object, reference: object, rtol: float = EXACT_RTOL) -> bool:
    """A key against exact arithmetic: the same entries, to ``rtol``."""
    a = np.asarray(key, dtype=float).reshape(-1)
    b = np.asarray(reference, dtype=float).reshape(-1)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=1e-12))


def mismatch(
    key: np.ndarray, reference: np.ndarray, what: str, *, atol: float = 1e-12
) -> list[str]:
    """The failure of a key that is not ``reference`` (exact arithmetic, a plain loop).

    Same shape, and equal to ``EXACT_RTOL`` relative plus ``atol`` absolute.
    """
    if key.shape != reference.shape or not np.allclose(key, reference, rtol=EXACT_RTOL, atol=atol):
        return [f"the key {key.tolist()} differs from {what} {reference.tolist()}"]
    return []


# --- known mistakes the judge can tell apart --------------------------------------------


def distinguishable(a: object, b: object) -> bool:
    """Would the judge tell these two numeric answers apart? (Different sizes: yes.)

    Its numeric tolerance, entry by entry: a mistake closer than this to the key (or to
    an earlier mistake) could not be named, so it is left out for that seed.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size != y.size:
        return True
    x, y = x.reshape(-1), y.reshape(-1)
    bound = NUMERIC_ATOL + NUMERIC_RTOL * np.maximum(np.abs(x), np.abs(y))
    return bool((np.abs(x - y) > bound).any())


def separated(a: object, b: object) -> bool:
    """Stricter than ``distinguishable``: same shape, and apart by twice the tolerance.

    (``np.allclose(a, b, rtol=1e-2, atol=1e-5)``, measured relative to ``b``, the key or
    the mistake kept before.) An array of another shape counts as not apart: dropped.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return x.shape == y.shape and not np.allclose(x, y, rtol=1e-2, atol=1e-5)


def keep_distinct(
    key: object,
    candidates: Sequence[Candidate],
    *,
    text: Callable[[object], str] = lambda v: array_text(v, None),
    apart: Callable[[object, object], bool] = distinguishable,
) -> list[dict[str, str]]:
    """The (tag, values, feedback) candidates apart from the key and from each other.

    Values of None are skipped (a mistake that does not exist for this seed); ``text``
    writes a kept one's answer, ``apart`` says what counts as apart.
    """
    seen: list[object] = [key]
    out = []
    for tag, values, feedback in candidates:
        if values is None:
            continue
        if all(apart(values, s) for s in seen):
            seen.append(values)
            out.append({"tag": tag, "answer": text(values), "feedback": feedback})
    return out


def distinct_counts(key: int, candidates: Sequence[tuple[str, int, str]]) -> list[dict[str, str]]:
    """Integer mistakes that differ from the key and from each other (negatives skipped)."""
    seen = {key}
    out = []
    for tag, value, feedback in candidates:
        if value in seen or value < 0:
            continue
        seen.add(value)
        out.append({"tag": tag, "answer": str(value), "feedback": feedback})
    return out


def distinct_shapes(
    key: tuple[int, ...], candidates: Sequence[tuple[str, tuple[int, ...], str]]
) -> list[dict[str, str]]:
    """Shape mistakes that differ from the key and from each other (a size below 1 skipped)."""
    seen = {key}
    out = []
    for tag, shape, feedback in candidates:
        if shape in seen or min(shape) < 1:
            continue
        seen.add(shape)
        out.append({"tag": tag, "answer": tuple_text(shape), "feedback": feedback})
    return out


# --- sizes ------------------------------------------------------------------------------


def out_size(n: int, k: int, s: int, p: int) -> int:
    """floor((n + 2p - k)/s) + 1: PyTorch's rule for a convolution or pooling window, p per side."""
    return (n + 2 * p - k) // s + 1
