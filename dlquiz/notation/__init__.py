"""The answer notation: what students type, read safely into typed expressions.

``parse(text, namespace)`` is the only way text becomes an expression anywhere in
dlquiz (answers, keys, templates, derivation steps). It never evaluates Python: a
tokenizer and a recursive-descent parser build the tree node by node, within hard
limits on length, depth, node count and number size.

Untrusted text (an answer) may use only the names in the namespace. Trusted text (a
key, a template, a derivation file) is parsed with ``declare=True``: a name it uses that
is not yet known becomes a scalar variable of the namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlquiz.core.expr import Expr
from dlquiz.notation.latex import looks_like_latex, tokenize_latex
from dlquiz.notation.lexer import NotationError, Token, tokenize
from dlquiz.notation.parser import Parser

if TYPE_CHECKING:
    from dlquiz.core.vars import Namespace
    from dlquiz.notation.dialect import Dialect

__all__ = ["NotationError", "open_brackets", "parse", "tokens"]


def tokens(text: str, *, derivatives: bool = False, dialect: Dialect | None = None) -> list[Token]:
    """The tokens of ``text``: LaTeX (detected by ``\\`` or ``{``) or the plain notation.

    A ``dialect`` (``dlquiz.notation.dialect``) extends both lexers and rewrites the result.
    """
    if dialect is not None:
        derivatives = derivatives or dialect.derivatives
    if looks_like_latex(text):
        found = tokenize_latex(text, dialect)
    else:
        found = tokenize(text, derivatives=derivatives, dialect=dialect)
    return found if dialect is None else dialect.rewrite(found)


def parse(
    text: str,
    ns: Namespace | None = None,
    *,
    derivatives: bool = False,
    declare: bool = False,
    dialect: Dialect | None = None,
) -> Expr:
    """Read ``text`` (plain notation or LaTeX) against the known names in ``ns``.

    ``derivatives`` reads ``d/dw`` as a derivative (templates, derivation files);
    ``declare`` makes unknown names scalar variables of ``ns`` (trusted text only);
    ``dialect`` extends the notation for trusted text (``dlquiz.notation.dialect``:
    derivation files read Leibniz derivatives through one).
    """
    if not isinstance(text, str):
        raise NotationError("an answer must be text")
    if ns is None:
        from dlquiz.core.vars import Namespace

        ns = Namespace()
    found = tokens(text, derivatives=derivatives, dialect=dialect)
    if dialect is None:
        return Parser(found, ns, declare=declare).parse()
    return dialect.parser(found, ns, declare=declare).parse()


def open_brackets(text: str) -> int:
    """How many ``[`` the text leaves open: an answer sheet's line with an open bracket
    continues on the next line, and the line break between them is a row break inside
    a bracket of numbers (``[1 2`` then ``3 4]`` reads as ``[1 2; 3 4]``)."""
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    return depth
