"""The answer notation: what students type, read safely into typed expressions.

``parse(text, namespace)`` is the only way text becomes an expression anywhere in
dlquiz (answers, keys, templates, derivation steps). It never evaluates Python: a
tokenizer and a recursive-descent parser build the tree node by node, within hard
limits on length, depth, node count and number size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlquiz.expr import Expr
from dlquiz.notation.latex import looks_like_latex, tokenize_latex
from dlquiz.notation.lexer import NotationError, tokenize
from dlquiz.notation.parser import Parser

if TYPE_CHECKING:
    from dlquiz.vars import Namespace

__all__ = ["NotationError", "parse"]


def parse(text: str, ns: Namespace | None = None, *, derivatives: bool = False) -> Expr:
    """Read ``text`` (plain notation or LaTeX) against the known names in ``ns``."""
    if not isinstance(text, str):
        raise NotationError("an answer must be text")
    if ns is None:
        from dlquiz.vars import Namespace

        ns = Namespace()
    if looks_like_latex(text):
        tokens = tokenize_latex(text)
    else:
        tokens = tokenize(text, derivatives=derivatives)
    return Parser(tokens, ns).parse()
