"""A small LaTeX front end: the LaTeX students write, turned into the notation's tokens.

SymPy's LaTeX parser rejects several forms students use and reads ``e^{x}`` as a symbol
``e``; translating to the plain notation's tokens instead means one grammar, one set of
names (``n_{in}`` -> ``n_in``, ``\\hat{y}`` -> ``yhat``) and one set of error messages.
"""

from __future__ import annotations

import re
from typing import Protocol

from dlquiz.core.names import GREEK_NAMES, canonical_name
from dlquiz.notation.lexer import (
    DERIVATIVE_MESSAGE,
    NotationError,
    PlainHook,
    Token,
    check_length,
    tokenize,
)
from dlquiz.notation.parser import MAX_DEPTH


class LatexHook(PlainHook, Protocol):
    """What the LaTeX front end asks a dialect (``dlquiz.notation.dialect.Dialect``)."""

    derivatives: bool

    def latex_command(
        self, lexer: LatexLexer, name: str, i: int, j: int, end: int, out: list[Token]
    ) -> int | None: ...


_SKIP = {",", ";", "!", ":", " ", "quad", "qquad", "displaystyle", "textstyle", "limits"}
_SIZES = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"}
_FONTS = {
    "mathrm",
    "mathit",
    "mathbf",
    "boldsymbol",
    "bm",
    "mathsf",
    "operatorname",
    "text",
    "textrm",
    "textit",
    "mathcal",
    "mathscr",
}
_FUNCTIONS = {"exp", "log", "ln", "tanh", "max", "min"}
_ACCENTS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde"}
_OPS = {"cdot": "*", "times": "*", "odot": "⊙", "circ": "⊙", "div": "/"}
_MATRICES = {"matrix", "bmatrix", "pmatrix"}
_BRACKETS = {"lfloor": "LFLOOR", "rfloor": "RFLOOR", "lceil": "LCEIL", "rceil": "RCEIL"}
# A subscript that is an expression (W_{m+1}, \delta_{m-1}) is part of the name.
_EXPRESSION_SUBSCRIPT = re.compile(r"[A-Za-z0-9]+(?:[+-][A-Za-z0-9]+)+")
_NUMBER = re.compile(r"\d+(?:\.\d*)?")


def looks_like_latex(text: str) -> bool:
    return "\\" in text or "{" in text


def tokenize_latex(text: str, dialect: LatexHook | None = None) -> list[Token]:
    """The tokens of a LaTeX answer; a ``dialect`` may handle commands itself."""
    check_length(text)
    lexer = LatexLexer(text, dialect)
    tokens = lexer.run(0, len(text))
    tokens.append(Token("EOF", "", len(text) + 1))
    return tokens


class LatexLexer:
    """LaTeX to tokens; its helpers (``argument``, ``group_tokens``, ``run``) serve dialects."""

    def __init__(self, text: str, dialect: LatexHook | None = None) -> None:
        self.text = text
        self.depth = 0  # nested groups being read: held to the parser's own depth limit
        self.dialect = dialect
        self.derivatives = dialect is not None and dialect.derivatives

    def error(self, message: str, i: int) -> NotationError:
        return NotationError(message, i + 1)

    def run(self, start: int, end: int) -> list[Token]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"too deeply nested (the limit is {MAX_DEPTH})", start)
        out = self.run_flat(start, end)
        self.depth -= 1
        return out

    def run_flat(self, start: int, end: int) -> list[Token]:
        out: list[Token] = []
        i = start
        text = self.text
        while i < end:
            ch = text[i]
            if ch.isspace() or ch == "~":
                i += 1
            elif ch == "\\":
                i = self.command(i, end, out)
            elif ch == "{":
                close = self.matching(i, end)
                out.append(Token("LP", "(", i + 1))
                out.extend(self.run(i + 1, close))
                out.append(Token("RP", ")", close + 1))
                i = close + 1
            elif ch == "}":
                raise self.error("unmatched '}'", i)
            elif ch == "_":
                i = self.subscript(i, end, out)
            elif ch == "^":
                i = self.superscript(i, end, out)
            elif ch == "&":
                out.append(Token("COMMA", ",", i + 1))
                i += 1
            else:
                j = self.plain_run(i, end)
                plain = tokenize(
                    text[i:j], offset=i, derivatives=self.derivatives, dialect=self.dialect
                )
                out.extend(plain[:-1])
                i = j
        return out

    def plain_run(self, i: int, end: int) -> int:
        """Up to the next character with a LaTeX meaning."""
        j = i
        while j < end and self.text[j] not in "\\{}_^&~":
            j += 1
        return j

    def matching(self, i: int, end: int) -> int:
        depth = 0
        for j in range(i, end):
            c = self.text[j]
            if c == "\\":
                continue
            if c == "{" and (j == 0 or self.text[j - 1] != "\\"):
                depth += 1
            elif c == "}" and (j == 0 or self.text[j - 1] != "\\"):
                depth -= 1
                if depth == 0:
                    return j
        raise self.error("unmatched '{'", i)

    def argument(self, i: int, end: int) -> tuple[int, int, int]:
        """The next argument: (start, stop, next index): a {group}, a command or one char."""
        while i < end and self.text[i].isspace():
            i += 1
        if i >= end:
            raise self.error("a command is missing its argument", i)
        if self.text[i] == "{":
            close = self.matching(i, end)
            return i + 1, close, close + 1
        if self.text[i] == "\\":
            j = i + 1
            while j < end and self.text[j].isalpha():
                j += 1
            stop = min(max(j, i + 2), end)
            return i, stop, stop
        return i, i + 1, i + 1

    def group_tokens(self, i: int, end: int) -> tuple[list[Token], int]:
        a, b, nxt = self.argument(i, end)
        inner = self.run(a, b)
        return [Token("LP", "(", a + 1), *inner, Token("RP", ")", b + 1)], nxt

    def command(self, i: int, end: int, out: list[Token]) -> int:
        text = self.text
        j = i + 1
        while j < end and text[j].isalpha():
            j += 1
        if j == i + 1:  # a one-character command: \, \; \| \{ ...
            if j >= end:
                raise self.error("a lone backslash", i)
            sym = text[j]
            if sym in _SKIP:
                return j + 1
            if sym == "|":
                out.append(Token("DBAR", "||", i + 1))
                return j + 1
            if sym == "\\":
                out.append(Token("SEMI", ";", i + 1))
                return j + 1
            raise self.error(f"unsupported LaTeX command '\\{sym}'", i)
        name = text[i + 1 : j]
        col = i + 1
        if self.dialect is not None:
            handled = self.dialect.latex_command(self, name, i, j, end, out)
            if handled is not None:
                return handled
        if name in _SKIP:
            return j
        if name in _SIZES:
            if j < end and text[j] == ".":
                return j + 1
            opening = name in ("left", "bigl", "Bigl")
            closing = name in ("right", "bigr", "Bigr")
            for delim, fname in (("\\|", "norm"), ("|", "abs")):  # \left| x \right| nests
                if (opening or closing) and text.startswith(delim, j):
                    if opening:
                        out += [Token("NAME", fname, col), Token("LP", "(", col)]
                    else:
                        out.append(Token("RP", ")", col))
                    return j + len(delim)
            return j
        if name in ("frac", "dfrac", "tfrac"):
            num, k = self.group_tokens(j, end)
            den, k = self.group_tokens(k, end)
            if _is_derivative(num, den) and not self.derivatives:
                wrt = den[1].text[1:] if len(den[1].text) > 1 else den[2].text
                raise self.error(DERIVATIVE_MESSAGE.format(name=wrt), i)
            out.extend([Token("LP", "(", col), *num, Token("OP", "/", col), *den])
            out.append(Token("RP", ")", col))
            return k
        if name == "sqrt":
            k = j
            if k < end and text[k] == "[":
                close = text.find("]", k, end)
                if close < 0:
                    raise self.error("unmatched '[' after \\sqrt", k)
                index = self.run(k + 1, close)
                radicand, k = self.group_tokens(close + 1, end)
                out.extend([*radicand, Token("OP", "^", col), Token("LP", "(", col)])
                out.extend([Token("NUM", "1", col), Token("OP", "/", col), Token("LP", "(", col)])
                out.extend([*index, Token("RP", ")", col), Token("RP", ")", col)])
                return k
            radicand, k = self.group_tokens(k, end)
            out.extend([Token("NAME", "sqrt", col), *radicand])
            return k
        if name in _FONTS:
            a, b, k = self.argument(j, end)
            out.extend(self.run(a, b))
            return k
        if name in _ACCENTS:
            a, b, k = self.argument(j, end)
            inner = self.run(a, b)
            if len(inner) != 1 or inner[0].kind != "NAME":
                raise self.error(f"\\{name} must sit on a single name", i)
            out.append(Token("NAME", canonical_name(inner[0].text + _ACCENTS[name]), col))
            return k
        if name in _OPS:
            out.append(Token("OP", _OPS[name], col))
            return j
        if name in ("top", "intercal"):
            out.append(Token("TRANSPOSE", "T", col))
            return j
        if name == "prime":
            out.append(Token("PRIME", "'", col))
            return j
        if name in ("lVert", "rVert", "Vert"):
            out.append(Token("DBAR", "||", col))
            return j
        if name in ("lvert", "rvert", "vert", "mid"):
            out.append(Token("BAR", "|", col))
            return j
        if name in ("lbrack", "rbrack"):
            out.append(Token("LB" if name == "lbrack" else "RB", name, col))
            return j
        if name == "begin":
            return self.environment(i, j, end, out)
        if name in _BRACKETS:
            out.append(Token(_BRACKETS[name], name, col))
            return j
        if name == "partial":
            raise self.error(DERIVATIVE_MESSAGE.format(name="w").replace("d/dw", "∂/∂w"), i)
        if name in GREEK_NAMES or name in _FUNCTIONS or name == "pi":
            out.append(Token("NAME", canonical_name(name), col))
            return j
        raise self.error(f"unsupported LaTeX command '\\{name}'", i)

    def environment(self, i: int, j: int, end: int, out: list[Token]) -> int:
        a, b, k = self.argument(j, end)
        env = self.text[a:b]
        if env not in _MATRICES:
            raise self.error(f"unsupported LaTeX environment '{env}'", i)
        closing = f"\\end{{{env}}}"
        stop = self.text.find(closing, k, end)
        if stop < 0:
            raise self.error(f"\\begin{{{env}}} without {closing}", i)
        out.append(Token("LB", "[", i + 1))
        out.extend(self.run(k, stop))
        out.append(Token("RB", "]", stop + 1))
        return stop + len(closing)

    def subscript(self, i: int, end: int, out: list[Token]) -> int:
        a, b, k = self.argument(i + 1, end)
        sub = "".join(self.text[a:b].split())
        sub = sub.replace("\\text", "").replace("\\mathrm", "").strip("{}")
        # d/dW_1: the variable of a derivative takes a subscript like any name
        named = bool(out) and out[-1].kind in ("NAME", "DERIV")
        if named and _EXPRESSION_SUBSCRIPT.fullmatch(sub):
            prev = out.pop()  # W_{m+1}: one name, written as typed (nothing folded)
            out.append(Token(prev.kind, canonical_name(f"{prev.text}_{{{sub}}}"), prev.col))
            return k
        if not named or not sub.replace("_", "").isalnum():
            raise self.error(
                "a subscript must follow a name and be letters or digits (or an index such as m+1)",
                i,
            )
        prev = out.pop()
        out.append(Token(prev.kind, canonical_name(f"{prev.text}_{sub}"), prev.col))
        return k

    def superscript(self, i: int, end: int, out: list[Token]) -> int:
        j = i + 1
        while j < end and self.text[j].isspace():
            j += 1
        if j < end and self.text[j] in "(-+":  # x^(1/2), x^-1: the plain notation's power
            out.append(Token("OP", "^", i + 1))
            return j
        number = _NUMBER.match(self.text, j, end)
        if number:  # x^10 is x to the 10th (TeX would set x^1 0)
            out.append(Token("OP", "^", i + 1))
            out.append(Token("NUM", number.group(0), j + 1))
            return number.end()
        a, b, k = self.argument(i + 1, end)
        body = self.text[a:b].strip()
        if body in ("T", "\\top", "\\intercal", "{T}"):
            if body == "T":
                out.extend([Token("OP", "^", i + 1), Token("NAME", "T", a + 1)])
            else:
                out.append(Token("TRANSPOSE", "T", i + 1))
            return k
        if body in ("\\prime", "'"):
            out.append(Token("PRIME", "'", i + 1))
            return k
        inner = self.run(a, b)
        out.append(Token("OP", "^", i + 1))
        out.extend([Token("LP", "(", a + 1), *inner, Token("RP", ")", b + 1)])
        return k


def _is_derivative(num: list[Token], den: list[Token]) -> bool:
    """``\\frac{d}{dw}`` or ``\\frac{d}{d w}`` (the group tokens come with their parentheses)."""
    if len(num) != 3 or num[1].kind != "NAME" or num[1].text != "d":
        return False
    inner = den[1:-1]
    if len(inner) == 1:
        return inner[0].kind == "NAME" and inner[0].text.startswith("d") and len(inner[0].text) > 1
    return len(inner) == 2 and inner[0].text == "d" and inner[1].kind == "NAME"
