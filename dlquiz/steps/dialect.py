"""The notation of derivation files: the answer notation plus derivatives as on paper.

Through the notation's extension point (``dlquiz.notation.dialect``), so a line means in
a derivation what it means as an answer, with these additions:

* ``d/dw``, ``∂/∂w``, ``\\frac{d}{dw}``, ``\\frac{\\partial}{\\partial w}``, ``∇_w``,
  ``\\nabla_w``: a derivative whose operand runs to the next top-level ``+`` or ``-``
  (or the closing bracket): ``d/dw 1/2 (ŷ - y)^2`` is the derivative of the whole term;
* ``dL/dw``, ``∂L/∂w``, ``\\frac{dL}{dw}``, ``\\frac{\\partial L}{\\partial w}``,
  ``\\frac{d\\,\\text{sigmoid}}{dx}``: a Leibniz derivative (what it stands for is the
  ``Calculus``'s business: a defined name, a function, or a cost the file never defines);
* ``\\underbrace{x}_{note}``, ``\\overbrace``, ``\\overset{note}{x}``, ``\\underset``: ``x``
  (the notes annotate terms this way); ``½``, ``¼``, ``¾``, ``⅓``, ``⅔``: fractions;
* ``\\softmax``, ``\\sigmoid``, ``\\relu``, ``\\ReLU``: the functions;
* a matrix-only operation (``@``, ``⊙``, a transpose, ``softmax``, ``sum``) on a name
  whose shape was never declared is an error (``Calculus.require_shapes``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr
from dlquiz.core.names import canonical_name
from dlquiz.notation.dialect import Dialect
from dlquiz.notation.lexer import IDENT_REST, IDENT_START, NotationError, Token
from dlquiz.notation.parser import FUNCTIONS, Parser

if TYPE_CHECKING:
    from dlquiz.core.vars import Namespace, VarSpec
    from dlquiz.notation.latex import LatexLexer

PARTIAL = "PARTIAL"
LEIBNIZ = "LEIBNIZ"  # text: "numerator/variable" (names cannot contain '/')

_NAME = rf"[{IDENT_START}][{IDENT_REST}]*"
_NABLA = re.compile(rf"[∇∂]\s*_\s*(?:\{{\s*({_NAME})\s*\}}|({_NAME}))")
_VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅛": (1, 8)}
_LETTER_SUBSCRIPTS = frozenset("ₐₑₒₓₔₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ₊₋₌₍₎")
_FUNCTION_COMMANDS = {"softmax", "sigmoid", "relu", "ReLU", "sign", "sgn"}
# Functions that may take their argument without brackets, as in LaTeX: \log \hat{y}
BARE_CALLS = frozenset({"exp", "log", "ln", "tanh", "sigmoid", "relu", "softmax"})
NABLA_MESSAGE = "∇ takes its variable as a subscript: ∇_w L (\\nabla_w L in LaTeX)"
D_MESSAGE = "'d' is kept for derivatives in a derivation: write d/dw (...), dL/dw or \\frac{dL}{dw}"
PARTIAL_MESSAGE = (
    "∂ is written as a derivative: ∂L/∂w, ∂/∂w (...) or \\frac{\\partial L}{\\partial w}"
)
CASES_MESSAGE = (
    "a case of \\begin{cases} needs a condition that compares, such as x > 0, "
    "x \\leq 0 or \\text{otherwise}"
)
_COMPARISON = re.compile(r"\\geq?(?![A-Za-z])|\\leq?(?![A-Za-z])|>=|<=|≥|≤|>|<")
_OTHERWISE = re.compile(r"^\s*(?:\\text\s*\{\s*(?:otherwise|else)\s*\}|otherwise|else)\s*$")
_IF = re.compile(r"^\s*(?:\\text\s*\{\s*if\s*\}|if\b)\s*|^\s*,\s*")
INDEX_MESSAGE = (
    "index sums (\\sum_i ...) are not part of the notation: write the vector form, "
    "sum(...) of a vector or a product such as y^T log(ŷ)"
)


class Calculus(Protocol):
    """What derivatives mean: supplied by the checker (``dlquiz.steps.calculus``)."""

    def derivative(self, body: Expr, var: str, tok: Token) -> Expr: ...

    def signature(self, name: str) -> tuple[str, ...] | None: ...

    def apply(self, name: str, args: list[Expr], primed: bool, tok: Token) -> Expr: ...

    def leibniz(self, numerator: str, var: str, tok: Token) -> Expr: ...

    def require_shapes(self, tok: Token, operation: str, operands: Sequence[Expr]) -> None: ...


class DerivationDialect(Dialect):
    """Derivation files' extensions; without a ``calculus`` it only tokenizes."""

    derivatives = True

    def __init__(self, calculus: Calculus | None = None) -> None:
        self.calculus = calculus

    # --- the plain lexer -----------------------------------------------------------------
    def plain_token(
        self, text: str, i: int, col: int, newline: bool
    ) -> tuple[list[Token], int] | None:
        ch = text[i]
        if ch == "∂" and not _NABLA.match(text, i):
            return [Token(PARTIAL, "∂", col, newline)], i + 1
        if ch == "∑":
            if text[i + 1 : i + 2] in ("_", "^"):
                raise NotationError(INDEX_MESSAGE, col)
            return [Token("NAME", "sum", col, newline)], i + 1
        if ch in "∇∂":
            m = _NABLA.match(text, i)
            if m:
                name = canonical_name(m.group(1) or m.group(2))
                return [Token("DERIV", name, col, newline)], m.end()
            # in LaTeX the subscript comes after this plain run: the front end adds it
            return [Token("DERIV", "", col, newline)], i + 1
        if ch in _LETTER_SUBSCRIPTS:
            raise NotationError(
                f"'{ch}' is a subscript letter: write subscripts with _ (z_m, a_{{m-1}}, "
                "W_1 or W₁)",
                col,
            )
        if ch in _VULGAR:
            a, b = _VULGAR[ch]
            toks = [
                Token("LP", "(", col, newline),
                Token("NUM", str(a), col),
                Token("OP", "/", col),
                Token("NUM", str(b), col),
                Token("RP", ")", col),
            ]
            return toks, i + 1
        return None

    # --- the LaTeX front end -------------------------------------------------------------
    def latex_command(
        self, lexer: LatexLexer, name: str, i: int, j: int, end: int, out: list[Token]
    ) -> int | None:
        text = lexer.text
        col = i + 1
        if name in ("partial", "nabla"):
            k = _skip_spaces(text, j, end)
            if name == "partial" and not (k < end and text[k] == "_"):
                out.append(Token(PARTIAL, "∂", col))
                return j
            if k < end and text[k] == "_":
                a, b, nxt = lexer.argument(k + 1, end)
                inner = lexer.run(a, b)
                if len(inner) == 1 and inner[0].kind == "NAME":
                    out.append(Token("DERIV", inner[0].text, col))
                    return nxt
            raise lexer.error(NABLA_MESSAGE, i)
        if name in ("overset", "underset", "stackrel"):
            _, _, k = lexer.argument(j, end)  # the annotation
            base, k = lexer.group_tokens(k, end)
            out.extend(base)
            return k
        if name in ("underbrace", "overbrace"):
            base, k = lexer.group_tokens(j, end)
            out.extend(base)
            after = _skip_spaces(text, k, end)
            if after < end and text[after] in "_^":  # the brace's label
                _, _, k = lexer.argument(after + 1, end)
            return k
        if name in ("sum", "prod"):
            after = _skip_spaces(text, j, end)
            if name == "prod" or (after < end and text[after] in "_^"):
                raise lexer.error(INDEX_MESSAGE, i)
            out.append(Token("NAME", "sum", col))
            return j
        if name == "begin":
            a, b, k = lexer.argument(j, end)
            if text[a:b].strip() == "cases":
                return _cases(lexer, i, k, end, out)
            return None
        if name in _FUNCTION_COMMANDS:
            out.append(Token("NAME", name, col))
            return j
        if name == "mathbb":
            raise lexer.error("ℝ belongs in a declaration on its own line: w ∈ ℝ^3", i)
        if name in ("dots", "cdots", "ldots", "vdots"):
            raise lexer.error("'…' cannot be checked: write the expression out", i)
        return None

    # --- token patterns ------------------------------------------------------------------
    def rewrite(self, tokens: list[Token]) -> list[Token]:
        """``dL/dw`` and its LaTeX and ∂ forms become one token (DERIV for ``d/dw``)."""
        out: list[Token] = []
        i = 0
        while i < len(tokens):
            found = _leibniz_at(tokens, i)
            if found is None:
                out.append(tokens[i])
                i += 1
                continue
            token, end = found
            # \frac{d}{dw} arrives as ( ... ), its brackets at the column of \frac: they
            # go, so that what follows is the operand (a call's brackets stay: sum(dL/dy))
            opening = out[-1] if out and out[-1] is tokens[i - 1] else None
            closing = tokens[end]
            if (
                opening is not None
                and opening.kind == "LP"
                and closing.kind == "RP"
                and opening.col == closing.col
                and any(t.kind == "OP" and t.col == opening.col for t in tokens[i:end])
            ):
                out.pop()
                end += 1
            out.append(token)
            i = end
        return out

    def parser(self, tokens: list[Token], ns: Namespace, *, declare: bool) -> Parser:
        if self.calculus is None:
            raise ValueError("a derivation parser needs its calculus")
        return DerivationParser(tokens, ns, self.calculus, declare=declare)


def _cases(lexer: LatexLexer, i: int, k: int, end: int, out: list[Token]) -> int:
    """``\\begin{cases} 1 & x > 0 \\\\ 0 & x \\leq 0 \\end{cases}`` as a sum of
    indicators: 1·step(x) + 0·(1 - step(x)) (``step(0)`` is 0, as in the notes)."""
    text = lexer.text
    closing = "\\end{cases}"
    stop = text.find(closing, k, end)
    if stop < 0:
        raise lexer.error("\\begin{cases} without \\end{cases}", i)
    col = i + 1

    def tok(kind: str, value: str) -> Token:
        return Token(kind, value, col)

    def group(a: int, b: int) -> list[Token]:
        inner = lexer.run(a, b)
        if not inner:
            raise lexer.error(CASES_MESSAGE, i)
        return [tok("LP", "("), *inner, tok("RP", ")")]

    rows = [r for r in _rows(text, k, stop) if text[r[0] : r[1]].strip()]
    if not rows:
        raise lexer.error("an empty \\begin{cases}", i)
    result: list[Token] = [tok("LP", "(")]
    indicators: list[list[Token]] = []
    for n, (a, b) in enumerate(rows):
        amp = text.find("&", a, b)
        if amp < 0:
            raise lexer.error(CASES_MESSAGE, i)
        value = group(a, amp)
        start = amp + 1
        condition = text[start:b]
        lead = _IF.match(condition)
        if lead:
            start += lead.end()
            condition = text[start:b]
        if _OTHERWISE.match(condition):
            if not indicators:
                raise lexer.error(CASES_MESSAGE, i)
            rest = [t for ind in indicators for t in [*ind, tok("OP", "+")]][:-1]
            indicator = [tok("LP", "("), tok("NUM", "1"), tok("OP", "-"), tok("LP", "(")]
            indicator += [*rest, tok("RP", ")"), tok("RP", ")")]
        else:
            m = _COMPARISON.search(condition)
            if m is None:
                raise lexer.error(CASES_MESSAGE, i)
            left = group(start, start + m.start())
            right = group(start + m.end(), b)
            op = m.group(0).lstrip("\\")
            strict = op in (">", "<", "gt", "lt")
            upward = op in (">", "gt", "geq", "ge", ">=", "≥")
            # A > B is step(A - B); A <= B is 1 - step(A - B); < and >= mirror them
            first, second = (left, right) if upward == strict else (right, left)
            core = [tok("NAME", "step"), tok("LP", "("), *first, tok("OP", "-"), *second]
            core.append(tok("RP", ")"))
            if strict:
                indicator = core
            else:
                indicator = [tok("LP", "("), tok("NUM", "1"), tok("OP", "-"), *core]
                indicator.append(tok("RP", ")"))
        indicators.append(indicator)
        if n:
            result.append(tok("OP", "+"))
        result += [*value, tok("OP", "*"), *indicator]
    result.append(tok("RP", ")"))
    out.extend(result)
    return stop + len(closing)


def _rows(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """The rows of an environment's body: split at ``\\\\`` outside braces."""
    rows, depth, start, k = [], 0, a, a
    while k < b:
        ch = text[k]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "\\" and text.startswith("\\\\", k) and depth == 0:
            rows.append((start, k))
            k += 2
            start = k
            continue
        elif ch == "\\":
            k += 2
            continue
        k += 1
    rows.append((start, b))
    return rows


def _skip_spaces(text: str, k: int, end: int) -> int:
    while k < end and text[k].isspace():
        k += 1
    return k


def _d_part(tokens: list[Token], i: int) -> tuple[str, int] | None:
    """At ``i``: ``d``, ``dX``, ``d X``, ``∂``, ``∂ X``: (X or '', the index after)."""
    tok = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else tok
    if tok.kind == PARTIAL or (tok.kind == "NAME" and tok.text == "d"):
        if nxt.kind == "SUP" or (nxt.kind == "OP" and nxt.text == "^"):
            raise NotationError(
                "second derivatives (d²L/dw²) are not part of the notation: "
                "differentiate twice, one line at a time",
                tok.col,
            )
        if nxt.kind == "NAME" and nxt.text != "d":
            return nxt.text, i + 2
        return "", i + 1
    if tok.kind == "NAME" and len(tok.text) > 1 and tok.text[0] == "d":
        if tok.text.startswith("delta"):  # δ, not d of elta
            return None
        return tok.text[1:], i + 1
    return None


def _part(tokens: list[Token], i: int) -> tuple[str, int] | None:
    """A d-part, possibly in its own brackets (``\\frac`` wraps each group in them)."""
    if tokens[i].kind == "LP":
        inner = _d_part(tokens, i + 1)
        if inner is not None and tokens[inner[1]].kind == "RP":
            return inner[0], inner[1] + 1
        return None
    return _d_part(tokens, i)


def _leibniz_at(tokens: list[Token], i: int) -> tuple[Token, int] | None:
    """``num / den`` starting at ``i`` with both parts d-forms: the token and the end."""
    num = _part(tokens, i)
    if num is None or tokens[num[1]].kind != "OP" or tokens[num[1]].text != "/":
        return None
    den = _part(tokens, num[1] + 1)
    if den is None or not den[0]:
        return None
    col = tokens[i].col
    if not num[0]:
        return Token("DERIV", den[0], col, tokens[i].newline), den[1]
    return Token(LEIBNIZ, f"{num[0]}/{den[0]}", col, tokens[i].newline), den[1]


class DerivationParser(Parser):
    """The answer grammar, with derivatives as atoms whose meaning the calculus supplies."""

    def __init__(
        self, tokens: list[Token], ns: Namespace, calculus: Calculus, *, declare: bool = False
    ) -> None:
        super().__init__(tokens, ns, declare=declare)
        self.calculus = calculus
        self.first_derivative: Expr | None = None  # the value of a derivative at token 0

    def starts_factor(self, tok: Token) -> bool:
        return tok.kind in (LEIBNIZ, PARTIAL) or super().starts_factor(tok)

    def atom(self) -> Expr:
        tok = self.peek()
        at = self.pos
        if tok.kind == "DERIV":
            self.advance()
            var = tok.text.lstrip("_")  # \nabla's subscript arrives as _w
            if not var:
                raise NotationError(NABLA_MESSAGE, tok.col)
            following = self.peek()
            if following.kind in ("EOF", "RP", "RB", "COMMA") or (
                following.kind == "OP" and following.text in "+*/^@⊙"
            ):
                raise NotationError(f"d/d{var} needs something to differentiate after it", tok.col)
            self.enter(tok)
            body = self.product()  # to the next top-level + or -
            self.depth -= 1
            result = self.calculus.derivative(body, var, tok)
            return self._note(at, result)
        if tok.kind == LEIBNIZ:
            self.advance()
            numerator, _, var = tok.text.partition("/")
            return self._note(at, self.calculus.leibniz(numerator, var, tok))
        if tok.kind == PARTIAL:
            raise NotationError(PARTIAL_MESSAGE, tok.col)
        return super().atom()

    def _note(self, at: int, result: Expr) -> Expr:
        """Remember a derivative that opens the part (only brackets before it, at ``at``)."""
        if all(t.kind == "LP" for t in self.tokens[:at]):
            self.first_derivative = result
        return result

    def name_atom(self) -> list[Expr]:
        tok = self.peek()
        if tok.text == "d" and tok.text not in self.ns:
            raise NotationError(D_MESSAGE, tok.col)
        return super().name_atom()

    def name_call(self, tok: Token, spec: VarSpec | None, run: bool = False):  # type: ignore[no-untyped-def]
        """``\\log \\hat{y}``, ``\\exp x``: a function applied to the factor after it;
        ``f(x)``, ``f'(x)``, ``f(2)`` for a name the file defines as ``f(x) = ...``."""
        low = tok.text.lower()
        nxt = self.peek()
        params = self.calculus.signature(tok.text)
        primed = nxt.kind == "PRIME"
        if params is not None and self.peek(1 if primed else 0).kind == "LP":
            at = self.pos - 1  # the name's own token
            if primed:
                self.advance()
            args = self.call_args(tok, tok.text, len(params))
            result = self.calculus.apply(tok.text, args, primed, tok)
            if primed:  # f'(x) is a derivative: it may start a chain
                result = self._note(at, result)
            return [result] if run else result
        if (
            spec is None
            and low in BARE_CALLS
            and nxt.kind not in ("LP", "PRIME")
            and self.starts_factor(nxt)
        ):
            self.enter(tok)
            argument = self.power()
            self.depth -= 1
            result = self.build(tok, E.fn, FUNCTIONS[low], argument)
            return [result] if run else result
        return super().name_call(tok, spec, run)

    def matrix_operation(self, tok: Token, operation: str, operands: tuple[Expr, ...]) -> None:
        self.calculus.require_shapes(tok, operation, operands)

    def build(self, tok: Token, make, *args):  # type: ignore[no-untyped-def]
        try:
            return super().build(tok, make, *args)
        except NotationError as exc:
            if make is E.hadamard and exc.message.startswith("shape error"):
                raise NotationError(
                    f"{exc.message} (⊙ takes the factor right after it, like *: "
                    "write a ⊙ (Wᵀ g) for a ⊙ of a product)",
                    exc.column,
                ) from None
            raise
