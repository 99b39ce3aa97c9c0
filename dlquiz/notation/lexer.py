"""Text to tokens, with the column of each, for the plain answer notation.

The LaTeX front end (``latex.py``) produces the same tokens, so one parser serves both.
Nothing here evaluates anything: it only classifies characters.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Protocol

from dlquiz.core.names import canonical_name

MAX_LENGTH = 4000


class NotationError(ValueError):
    """An answer that cannot be read; ``column`` is 1-based (0 when it has none)."""

    def __init__(self, message: str, column: int = 0) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} at column {column}" if column else message)


class Token(NamedTuple):  # a tuple: made by the thousand per answer, so it must be cheap
    # NUM NAME OP LP RP LB RB COMMA SEMI PRIME TRANSPOSE SUP BAR DBAR SQRT DERIV
    # LFLOOR RFLOOR LCEIL RCEIL EOF
    kind: str
    text: str
    col: int
    newline: bool = False  # a line break stands between this token and the one before

    @property
    def end(self) -> int:
        """The column just after the token (for telling ``1 -2`` from ``1 - 2``)."""
        return self.col + len(self.text)


IDENT_START = r"A-Za-z\u0370-\u03ffŷŶôĥŝĝ"
IDENT_REST = IDENT_START + r"0-9_\u0302\u2080-\u2089"
_IDENT = re.compile(rf"[{IDENT_START}][{IDENT_REST}]*")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DERIV = re.compile(rf"d\s*/\s*d([{IDENT_START}][{IDENT_REST}]*)")
_DIGITS = frozenset("0123456789")  # str.isdigit() also accepts '²'
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")

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
    "⌊": ("LFLOOR", "⌊"),
    "⌋": ("RFLOOR", "⌋"),
    "⌈": ("LCEIL", "⌈"),
    "⌉": ("RCEIL", "⌉"),
}


class PlainHook(Protocol):
    """What the plain lexer asks a dialect (``dlquiz.notation.dialect.Dialect``)."""

    def plain_token(
        self, text: str, i: int, col: int, newline: bool
    ) -> tuple[list[Token], int] | None: ...


DERIVATIVE_MESSAGE = (
    "d/d{name} is a derivative, not an answer: give its result "
    "(dlquiz derive works a derivative out, dlquiz steps checks a derivation)"
)


def check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise NotationError(f"input too long: {len(text)} characters (the limit is {MAX_LENGTH})")


def describe_char(ch: str) -> str:
    return repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"


_SINGLE_CHARS = "".join(re.escape(c) for c in _SINGLE)
_SUPERSCRIPT_RE = "⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+"  # x², x¹⁰, x⁻¹
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


def tokenize(
    text: str, *, derivatives: bool = False, offset: int = 0, dialect: PlainHook | None = None
) -> list[Token]:
    """Tokens of the plain notation; ``d/dw`` is one token when ``derivatives`` is on.

    A ``dialect`` (``dlquiz.notation.dialect``) may read a token itself at any position.
    """
    check_length(text)
    tokens: list[Token] = []
    append = tokens.append
    i, n = 0, len(text)
    match = _MASTER.match
    newline = False  # a line break since the last token
    last_num_end = -1  # where the last number token ended (0-based), if it was one
    while i < n:
        col = i + 1 + offset
        if dialect is not None:
            read = dialect.plain_token(text, i, col, newline)
            if read is not None:
                tokens.extend(read[0])
                i = read[1]
                newline, last_num_end = False, -1
                continue
        if text[i] == "d":  # a token starts here (names are read whole): d/dw, 2d/dw
            m = _DERIV.match(text, i)
            if m and derivatives:
                append(Token("DERIV", canonical_name(m.group(1)), col, newline))
                newline, last_num_end = False, -1
                i = m.end()
                continue
            if m:
                raise NotationError(DERIVATIVE_MESSAGE.format(name=m.group(1)), col)
        m = match(text, i)
        if m is None:
            raise NotationError(f"unexpected character {describe_char(text[i])}", col)
        kind = m.lastgroup
        value = m.group(0)
        start, i = i, m.end()
        if kind == "space":
            newline = newline or "\n" in value or "\r" in value
            continue
        if kind == "num":
            if last_num_end == start:  # 0.6265.3, 1.2.3: a number cannot have two points
                previous = tokens.pop()
                raise NotationError(f"malformed number '{previous.text}{value}'", previous.col)
            append(Token("NUM", value, col, newline))
            newline, last_num_end = False, i
            continue
        if kind == "name":
            token = Token("NAME", canonical_name(value), col, newline)
        elif kind == "power":
            token = Token("OP", "^", col, newline)
        elif kind == "dbar":
            token = Token("DBAR", "||", col, newline)
        elif kind == "bar":
            token = Token("BAR", "|", col, newline)
        elif kind == "transpose":
            token = Token("TRANSPOSE", "T", col, newline)
        elif kind == "sup":
            token = Token("SUP", value.translate(_SUPERSCRIPT_DIGITS), col, newline)
        else:
            tok_kind, tok_value = _SINGLE[value]
            token = Token(tok_kind, tok_value, col, newline)
        append(token)
        newline, last_num_end = False, -1
    append(Token("EOF", "", n + 1 + offset))
    return tokens
