"""Text to tokens, with the column of each, for the plain answer notation.

The LaTeX front end (``latex.py``) produces the same tokens, so one parser serves both.
Nothing here evaluates anything: it only classifies characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlquiz.notation.names import canonical_name

MAX_LENGTH = 4000


class NotationError(ValueError):
    """An answer that cannot be read; ``column`` is 1-based (0 when it has none)."""

    def __init__(self, message: str, column: int = 0) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} at column {column}" if column else message)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # NUM NAME OP LP RP LB RB COMMA SEMI PRIME TRANSPOSE SUP BAR DBAR SQRT DERIV EOF
    text: str
    col: int


IDENT_START = r"A-Za-z\u0370-\u03ffŷŶôĥŝĝ"
IDENT_REST = IDENT_START + r"0-9_\u0302\u2080-\u2089"
_IDENT = re.compile(rf"[{IDENT_START}][{IDENT_REST}]*")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DERIV = re.compile(rf"d\s*/\s*d([{IDENT_START}][{IDENT_REST}]*)")
_DIGITS = frozenset("0123456789")  # str.isdigit() also accepts '²'
_SUPERSCRIPTS = {"²": "2", "³": "3", "⁻¹": "-1"}

_SINGLE = {
    "+": ("OP", "+"),
    "-": ("OP", "-"),
    "−": ("OP", "-"),
    "*": ("OP", "*"),
    "·": ("OP", "*"),
    "⋅": ("OP", "*"),
    "×": ("OP", "*"),
    "/": ("OP", "/"),
    "÷": ("OP", "/"),
    "^": ("OP", "^"),
    "@": ("OP", "@"),
    "⊙": ("OP", "⊙"),
    "∘": ("OP", "⊙"),
    "(": ("LP", "("),
    ")": ("RP", ")"),
    "[": ("LB", "["),
    "]": ("RB", "]"),
    ",": ("COMMA", ","),
    ";": ("SEMI", ";"),
    "'": ("PRIME", "'"),
    "’": ("PRIME", "'"),
    "ᵀ": ("TRANSPOSE", "T"),
    "‖": ("DBAR", "||"),
    "√": ("SQRT", "sqrt"),
}


def check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise NotationError(f"input too long: {len(text)} characters (the limit is {MAX_LENGTH})")


def describe_char(ch: str) -> str:
    return repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"


def tokenize(text: str, *, derivatives: bool = False, offset: int = 0) -> list[Token]:
    """Tokens of the plain notation; ``d/dw`` is one token when ``derivatives`` is on."""
    check_length(text)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1 + offset
        if ch.isspace():
            i += 1
            continue
        if derivatives and ch == "d" and (i == 0 or not _is_ident_char(text[i - 1])):
            m = _DERIV.match(text, i)
            if m:
                tokens.append(Token("DERIV", canonical_name(m.group(1)), col))
                i = m.end()
                continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            m = _NUMBER.match(text, i)
            assert m is not None
            tokens.append(Token("NUM", m.group(0), col))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            tokens.append(Token("NAME", canonical_name(m.group(0)), col))
            i = m.end()
            continue
        if text.startswith("**", i):
            tokens.append(Token("OP", "^", col))
            i += 2
            continue
        if text.startswith("||", i):
            tokens.append(Token("DBAR", "||", col))
            i += 2
            continue
        if ch == "|":
            tokens.append(Token("BAR", "|", col))
            i += 1
            continue
        if ch == "." and text.startswith(".T", i) and not _ident_follows(text, i + 2):
            tokens.append(Token("TRANSPOSE", "T", col))
            i += 2
            continue
        sup = next((s for s in _SUPERSCRIPTS if text.startswith(s, i)), None)
        if sup:
            tokens.append(Token("SUP", _SUPERSCRIPTS[sup], col))
            i += len(sup)
            continue
        if ch in _SINGLE:
            kind, value = _SINGLE[ch]
            tokens.append(Token(kind, value, col))
            i += 1
            continue
        raise NotationError(f"unexpected character {describe_char(ch)}", col)
    tokens.append(Token("EOF", "", n + 1 + offset))
    return tokens


def _is_ident_char(ch: str) -> bool:
    return bool(re.match(rf"[{IDENT_REST}]", ch))


def _ident_follows(text: str, i: int) -> bool:
    return i < len(text) and _is_ident_char(text[i])
