"""Numeric keys and known mistakes: a formula's value written as the key, and the mistakes
the judge can tell apart from it and from each other (the others are dropped, and said so).

``number`` is one number, ``numbers`` a vector or matrix, ``integer`` a whole number and
``shape`` a parenthesised list of whole numbers ``(n, c_out, floor((h - k)/s) + 1)``.
Keys are written with ten significant digits (``fmt_key``), so every platform writes the
same key and the judge reads it back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlquiz.bank.template.scope import NotFinite, Scope
from dlquiz.core.numbers import array_text, fmt_key
from dlquiz.judge.core import NUMERIC_ATOL, NUMERIC_RTOL

APART = 2.0  # mistakes and keys this many judge tolerances apart count as different
MAX_SHAPE_DIMS = 8


@dataclass
class Mistakes:
    """The mistakes of one seed: those kept (for the judge), and what happened to the rest."""

    kept: list[dict[str, str]] = field(default_factory=list)
    applicable: list[str] = field(default_factory=list)  # tags whose ``when`` held
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (tag, why)


def numeric_value(scope: Scope, kind: str, formula: str, field: str) -> Any:
    """The value of an answer formula for ``kind``: array, int or tuple (a shape)."""
    if kind == "shape":
        return _shape(scope, formula, field)
    value = scope.number(formula, field)
    if kind in ("number", "integer") and value.size != 1:
        raise scope.source.fail(field, f"a {kind} answer is one number, not {value.shape}")
    if kind == "integer":
        v = float(value.flat[0])
        if abs(v - round(v)) > 1e-9 * max(1.0, abs(v)) or abs(v) >= 2**52:
            raise scope.source.fail(field, f"an integer answer must be whole, not {v}")
        return round(v)
    return value


def key_text(kind: str, value: Any) -> str:
    """The key (or a mistake) as the judge reads it."""
    if kind == "integer":
        return str(value)
    if kind == "shape":
        return "(" + ", ".join(str(v) for v in value) + ")"
    if kind == "number":
        return fmt_key(float(np.asarray(value).flat[0]))
    return array_text(value, None)


def read_key(kind: str, text: str) -> Any:
    """A published key read back (by the notation's parser, never ``eval``)."""
    if kind == "integer":
        return int(text)
    if kind == "shape":
        return tuple(int(v) for v in text.strip().strip("()").split(","))
    from dlquiz.core.numeric import evaluate
    from dlquiz.notation import NotationError, parse

    try:
        return evaluate(parse(text), {}, 1)[0]
    except NotationError as exc:
        raise ValueError(str(exc)) from None


def _shape(scope: Scope, formula: str, field: str) -> tuple[int, ...]:
    text = scope.fill(formula, field).strip()
    if not (text.startswith("(") and text.endswith(")")):
        raise scope.source.fail(field, f"a shape is written (a, b, c), not '{text}'")
    pieces = split_top(text[1:-1])
    if not 1 <= len(pieces) <= MAX_SHAPE_DIMS:
        raise scope.source.fail(field, f"a shape has 1 to {MAX_SHAPE_DIMS} sizes")
    out = []
    for piece in pieces:
        value = scope.number(piece, field)
        v = float(value.flat[0]) if value.size == 1 else float("nan")
        if v != round(v):
            raise scope.source.fail(field, f"the size '{piece}' is not a whole number ({v})")
        out.append(round(v))
    return tuple(out)


def split_top(text: str) -> list[str]:
    """``a, f(b, c), [1, 2]`` -> the three parts (commas inside brackets stay)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def apart(kind: str, a: Any, b: Any) -> bool:
    """Can the judge tell these two answers apart? (numbers: by twice its tolerance)."""
    if kind in ("integer", "shape"):
        return a != b
    x, y = np.asarray(a, dtype=float).reshape(-1), np.asarray(b, dtype=float).reshape(-1)
    if x.size != y.size:
        return True
    bound = APART * (NUMERIC_ATOL + NUMERIC_RTOL * np.maximum(np.abs(x), np.abs(y)))
    return bool((np.abs(x - y) > bound).any())


def numeric_mistakes(
    scope: Scope,
    entries: list[dict[str, Any]],
    kind: str,
    key: Any,
    feedback: Any,
) -> Mistakes:
    """The ``[[mistakes]]`` of a numeric template for this draw.

    ``feedback(entry, index)`` renders an entry's feedback. A mistake whose ``when`` does
    not hold does not apply; one equal to the key or to a mistake kept before it (for the
    judge), not finite, or not a shape, is dropped.
    """
    out = Mistakes()
    kept_values: list[Any] = []
    for i, m in enumerate(entries):
        where = f"mistakes[{i}]"
        if "when" in m and not scope.holds(m["when"], f"{where}.when"):
            continue
        tag = m["tag"]
        out.applicable.append(tag)
        try:
            value = numeric_value(scope, kind, m["answer"], f"{where}.answer")
        except NotFinite:
            out.dropped.append((tag, "not a finite number"))
            continue
        if kind == "shape" and min(value) < 1:
            out.dropped.append((tag, f"not a shape {value}"))
            continue
        if not apart(kind, value, key):
            out.dropped.append((tag, "the judge cannot tell it from the key"))
            continue
        twin = next(
            (k for k, v in zip(out.kept, kept_values, strict=True) if not apart(kind, value, v)),
            None,
        )
        if twin is not None:
            out.dropped.append((tag, f"the judge cannot tell it from '{twin['tag']}'"))
            continue
        kept_values.append(value)
        out.kept.append({"tag": tag, "answer": key_text(kind, value), "feedback": feedback(m, i)})
    return out
