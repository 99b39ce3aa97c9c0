"""Declarations as written on paper: ``w, x ∈ ℝ^3``, ``η > 0``, ``φ: ℝ → ℝ``.

One line may declare several names (``w, x ∈ R^3, b ∈ R``); a declaration applies to
the whole file wherever it stands. The forms:

* shapes: ``ℝ``, ``R``, ``\\mathbb{R}`` (a scalar), ``ℝ^3``, ``ℝ³``, ``R^(3)`` (a column
  vector), ``ℝ^{2×3}``, ``R^(2x3)``, ``\\mathbb{R}^{2 \\times 3}``, ``ℝ^{1×3}`` (a row);
  ``in`` and ``\\in`` for ``∈``;
* domains: ``η > 0``, ``η ≥ 0``, ``ℝ_+``, ``(0, ∞)`` (positive), ``x ≠ 0``, ``p ∈ (0, 1)``
  and ``0 < p < 1`` (in (0, 1)), ``n ∈ ℕ`` (a whole number);
* ``y ∈ onehot(3)``: a one-hot column of 3 entries;
* ``φ: ℝ → ℝ`` (also ``->``, ``\\to``): an elementwise function, with derivative ``φ'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlquiz.core.expr import SCALAR, Shape, normalize_shape
from dlquiz.core.vars import MAX_DIM


class DeclarationError(ValueError):
    """A declaration that cannot be read (the message says what is expected)."""


@dataclass(frozen=True)
class Declared:
    name: str
    shape: Shape | None = None  # None: the declaration says nothing about the shape
    domain: str | None = None  # None: nothing about the domain

    @property
    def is_function(self) -> bool:
        return self.domain == "function"


EXAMPLES = "w ∈ ℝ^3, W ∈ ℝ^{2×3}, η > 0, p ∈ (0, 1), y ∈ onehot(3) or φ: ℝ → ℝ"

_NORMAL = [
    (re.compile(r"\\mathbb\s*\{\s*R\s*\}|\\mathbb\s+R\b|\\R\b|\\reals\b|ℝ"), "ℝ"),
    (re.compile(r"\\mathbb\s*\{\s*N\s*\}|\\mathbb\s+N\b|\\N\b|ℕ"), "ℕ"),
    (
        re.compile(r"\\(?:text|mathrm|operatorname|textrm)\s*\{\s*(one-?hot)\s*\}", re.I),
        r"\1",
    ),
    (re.compile(r"\\times\b|\\cross\b"), "×"),
    (re.compile(r"\\infty\b"), "∞"),
    (re.compile(r"\\(?:left|right|big|Big)\b"), ""),
    (re.compile(r"\\[,;:! ]|\\quad\b|\\qquad\b|~"), " "),
    (re.compile(r"\\(?:to|rightarrow|longrightarrow|mapsto)\b|->|⟶"), "→"),
    (re.compile(r"\\in\b|∈"), " ∈ "),
    (re.compile(r"\\geq?\b|>=|⩾"), "≥"),
    (re.compile(r"\\gt\b"), ">"),
    (re.compile(r"\\neq?\b|!="), "≠"),
    (re.compile(r"\\leq?\b|<=|⩽"), "≤"),
    (re.compile(r"\\lt\b"), "<"),
    (re.compile(r"\\text\s*\{\s*(?:and|,)\s*\}"), ";"),
]
_LEAD = re.compile(r"^\s*(?:let|where|with|given|for|and|assume)\s+", re.I)
_BARE_R = re.compile(r"(?<![\w\\])R(?![\w])")  # R, R^3, R^(2x3): the reals
_BARE_N = re.compile(r"(?<![\w\\])N(?![\w])")
_REL = re.compile(r"∈|(?<![\w\\])in(?![\w])|:|≥|>|≠|≤|<")
_BETWEEN = re.compile(r"^\s*0\s*<\s*(?P<names>.+?)\s*<\s*1\s*$")
_POSITIVE_MARK = re.compile(r"_\s*(?:\+|\{\s*\+\s*\}|\{\s*[>≥]\s*0\s*\})|\^\s*\+(?!\w)")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹ˣ", "0123456789x")
_REALS = re.compile(
    r"^ℝ\s*(?:\^\s*(?:\{(?P<braced>[^{}]*)\}|\((?P<paren>[^()]*)\)|(?P<bare>\d+(?:\s*[x×]\s*\d+)?))"
    r"|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹]+(?:\s*[ˣ×x]\s*[⁰¹²³⁴⁵⁶⁷⁸⁹]+)?))?\s*$"
)
_UNIT = re.compile(r"^(?:\(\s*0\s*,\s*1\s*\)|\]\s*0\s*,\s*1\s*\[)$")
_POSITIVE = re.compile(r"^(?:\(\s*0\s*,\s*(?:∞|\+\s*∞|inf)\s*\)|\]\s*0\s*,\s*∞\s*\[)$")
_ONEHOT = re.compile(r"^one-?hot\s*\(\s*(?P<n>\d+)\s*\)$", re.I)
_FUNCTION = re.compile(r"^ℝ\s*→\s*ℝ$")


def normalize(text: str) -> str:
    for pattern, replacement in _NORMAL:
        text = pattern.sub(replacement, text)
    return text


def split_top(text: str, separators: str = ",;") -> list[str]:
    """Split at separators outside brackets and braces (``ℝ^{2,3}``, ``(0, 1)`` stay whole)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in separators:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def read_declaration(text: str, read_name) -> list[Declared]:  # type: ignore[no-untyped-def]
    """The names a declaration line declares; ``read_name`` turns a written name into its
    canonical spelling (or raises ``ValueError``). Raises ``DeclarationError``."""
    body = normalize(text)
    pieces: list[str] = []
    for piece in split_top(body):
        pieces += re.split(r"\s+and\s+", piece)
    found: list[Declared] = []
    pending: list[str] = []
    for piece in pieces:
        piece = _LEAD.sub("", piece).strip()
        if not piece:
            continue
        between = _BETWEEN.match(piece)
        if between:
            names = [*pending, *_names(between.group("names"), read_name)]
            found += [Declared(n, None, "unit") for n in names]
            pending = []
            continue
        rel = _REL.search(piece)
        if rel is None:
            pending += _names(piece, read_name)
            continue
        left, right = piece[: rel.start()], piece[rel.end() :].strip()
        names = [*pending, *_names(left, read_name)]
        pending = []
        if not names:
            raise DeclarationError(f"'{piece.strip()}' declares no name (write {EXAMPLES})")
        shape, domain = _relation(rel.group(0), right)
        found += [Declared(n, shape, domain) for n in names]
    if pending:
        listed = ", ".join(pending)
        raise DeclarationError(f"{listed}: declared as what? (write {EXAMPLES})")
    if not found:
        raise DeclarationError(f"cannot read this declaration (write {EXAMPLES})")
    return found


def _names(text: str, read_name) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for item in split_top(text):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(read_name(item))
        except ValueError as exc:
            raise DeclarationError(f"'{item}' is not a name ({exc})") from None
    return out


def _relation(rel: str, right: str) -> tuple[Shape | None, str | None]:
    right = _BARE_N.sub("ℕ", _BARE_R.sub("ℝ", right))  # a set: R is the reals here
    if rel in ("≥", ">"):
        if right != "0":
            raise DeclarationError(f"'{rel} {right}': only '> 0' (positive) is a domain")
        return None, "positive"
    if rel in ("≤", "<"):
        raise DeclarationError(
            f"'{rel} {right}': the domains are '> 0', '≠ 0' and '0 < p < 1' (or p ∈ (0, 1))"
        )
    if rel == "≠":
        if right != "0":
            raise DeclarationError(f"'≠ {right}': only '≠ 0' (nonzero) is a domain")
        return None, "nonzero"
    if rel == ":":
        if not _FUNCTION.match(right):
            raise DeclarationError(
                f"'{right}': a function is declared as φ: ℝ → ℝ (applied entry by entry)"
            )
        return SCALAR, "function"
    return _set(right)


def _set(text: str) -> tuple[Shape | None, str | None]:
    """What ``NAME ∈ text`` declares."""
    domain = None
    if _POSITIVE_MARK.search(text):
        text = _POSITIVE_MARK.sub("", text).strip()
        domain = "positive"
    if _UNIT.match(text):
        return None, "unit"
    if _POSITIVE.match(text):
        return None, "positive"
    onehot = _ONEHOT.match(text)
    if onehot:
        n = int(onehot.group("n"))
        if not 2 <= n <= MAX_DIM:
            raise DeclarationError(f"onehot({n}): a one-hot vector has 2 to {MAX_DIM} entries")
        return (n, 1), "onehot"
    if text == "ℕ":
        return SCALAR, "integer"
    if _FUNCTION.match(text):
        raise DeclarationError("a function is declared with a colon: φ: ℝ → ℝ")
    reals = _REALS.match(text)
    if reals is None:
        raise DeclarationError(f"'{text}' is not a set dlquiz knows (write {EXAMPLES})")
    dims = next((g for g in reals.group("braced", "paren", "bare") if g is not None), None)
    if reals.group("sup"):
        dims = reals.group("sup").translate(_SUPERSCRIPT)
    return (SCALAR if dims is None else _dims(dims)), domain


def _dims(text: str) -> Shape:
    parts = [p.strip() for p in re.split(r"[x×,*]", text)]
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        raise DeclarationError(
            f"ℝ^{{{text.strip()}}}: the sizes must be numbers (ℝ^3, ℝ^{{2×3}}): "
            "a derivation is checked with concrete shapes"
        )
    rows, cols = int(parts[0]), int(parts[1]) if len(parts) == 2 else 1
    if not (1 <= rows <= MAX_DIM and 1 <= cols <= MAX_DIM):
        raise DeclarationError(f"ℝ^{{{text.strip()}}}: each size must be from 1 to {MAX_DIM}")
    return normalize_shape((rows, cols))
