"""Text to tokens, with the column of each, for the plain answer notation.

The LaTeX front end (``latex.py``) produces the same tokens, so one parser serves both.
Nothing here evaluates anything: it only classifies characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlquiz.core.names import canonical_name

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


_SINGLE_CHARS = "".join(re.escape(c) for c in _SINGLE)
_SUPERSCRIPT_RE = "|".join(re.escape(k) for k in sorted(_SUPERSCRIPTS, key=len, reverse=True))
# One pass with one pattern: the alternatives in the order the hand-written rules apply.
_MASTER = re.compile(
    rf"""(?P<space>\s+)
    |(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<name>[{IDENT_START}][{IDENT_REST}]*)
    |(?P<power>\*\*)
    |(?P<dbar>\|\|)
    |(?P<bar>\|)
    |(?P<transpose>\.T(?![{IDENT_REST}]))
    |(?P<sup>{_SUPERSCRIPT_RE})
    |(?P<single>[{_SINGLE_CHARS}])""",
    re.VERBOSE,
)


def tokenize(text: str, *, derivatives: bool = False, offset: int = 0) -> list[Token]:
    """Tokens of the plain notation; ``d/dw`` is one token when ``derivatives`` is on."""
    check_length(text)
    tokens: list[Token] = []
    append = tokens.append
    i, n = 0, len(text)
    match = _MASTER.match
    while i < n:
        col = i + 1 + offset
        if derivatives and text[i] == "d" and (i == 0 or not _is_ident_char(text[i - 1])):
            m = _DERIV.match(text, i)
            if m:
                append(Token("DERIV", canonical_name(m.group(1)), col))
                i = m.end()
                continue
        m = match(text, i)
        if m is None:
            raise NotationError(f"unexpected character {describe_char(text[i])}", col)
        kind = m.lastgroup
        value = m.group(0)
        i = m.end()
        if kind == "space":
            continue
        if kind == "num":
            append(Token("NUM", value, col))
        elif kind == "name":
            append(Token("NAME", canonical_name(value), col))
        elif kind == "power":
            append(Token("OP", "^", col))
        elif kind == "dbar":
            append(Token("DBAR", "||", col))
        elif kind == "bar":
            append(Token("BAR", "|", col))
        elif kind == "transpose":
            append(Token("TRANSPOSE", "T", col))
        elif kind == "sup":
            append(Token("SUP", _SUPERSCRIPTS[value], col))
        else:
            tok_kind, tok_value = _SINGLE[value]
            append(Token(tok_kind, tok_value, col))
    append(Token("EOF", "", n + 1 + offset))
    return tokens


def _is_ident_char(ch: str) -> bool:
    return bool(re.match(rf"[{IDENT_REST}]", ch))


def _ident_follows(text: str, i: int) -> bool:
    return i < len(text) and _is_ident_char(text[i])
