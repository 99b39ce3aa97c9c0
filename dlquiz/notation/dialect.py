"""The extension point of the notation: hooks a trusted front end uses to read more.

The answer notation is deliberately small. A derivation file needs more (Leibniz
derivatives ``dL/dw``, ``∂``, ``∇_w``, annotations such as ``\\underbrace``), and must
still share the answer notation's lexer, LaTeX front end and grammar, so that a line
means in a derivation what it means as an answer. A ``Dialect`` passed to
``dlquiz.notation.parse`` is consulted at four points; the default one changes nothing:

* ``plain_token``: before the plain lexer reads a token, it may read one or more itself;
* ``latex_command``: before the LaTeX front end reads a command, it may handle it;
* ``rewrite``: the finished token list may be rewritten (token patterns that span several
  tokens, such as ``\\frac{dL}{dw}``);
* ``parser``: the parser (a subclass of ``Parser``) that reads the tokens.

``derivatives`` tells both lexers to read ``d/dw`` as a derivative (the LaTeX front end
then also reads ``\\frac{d}{dw}`` as one, where the answer notation refuses it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlquiz.notation.parser import Parser

if TYPE_CHECKING:
    from dlquiz.core.vars import Namespace
    from dlquiz.notation.latex import LatexLexer
    from dlquiz.notation.lexer import Token


class Dialect:
    """The answer notation unchanged; subclasses override the hooks they need."""

    derivatives: bool = False

    def plain_token(
        self, text: str, i: int, col: int, newline: bool
    ) -> tuple[list[Token], int] | None:
        """Tokens read at ``text[i]`` and the index after them, or None (the lexer reads)."""
        return None

    def latex_command(
        self, lexer: LatexLexer, name: str, i: int, j: int, end: int, out: list[Token]
    ) -> int | None:
        """Handle ``\\name`` (``text[i]`` is the backslash, ``j`` just after the name):
        append tokens to ``out`` and return the index after the command, or None."""
        return None

    def rewrite(self, tokens: list[Token]) -> list[Token]:
        """The token list the parser reads (the last token is EOF)."""
        return tokens

    def parser(self, tokens: list[Token], ns: Namespace, *, declare: bool) -> Parser:
        return Parser(tokens, ns, declare=declare)


ANSWERS = Dialect()
