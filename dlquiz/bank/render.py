"""Problem text: one source, rendered for the terminal (Unicode) and for print (LaTeX).

Statements, hints and solutions are written as plain text with math between ``$...$`` in
the answer notation (``$L = 1/2*(yhat - y)^2$``, ``$d/dw L$``). Each math segment is
parsed (so a template with a typo fails when it is loaded, not when a student sees it)
and printed by ``dlquiz.core.printing`` in the wanted style. Numbers are shown by one fixed
rounding rule, so the last bits of a BLAS never reach a student.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dlquiz.core.expr import Expr
from dlquiz.core.names import GREEK
from dlquiz.core.printing import to_latex, to_notation, to_unicode
from dlquiz.core.vars import Namespace

GREEK_LETTER_NAMES = dict(GREEK)

_RELATIONS = re.compile(r"\s*(<-|←|:=|=|≈)\s*")
_LATEX_RELATION = {"<-": r"\leftarrow", "←": r"\leftarrow", "=": "=", ":=": ":=", "≈": r"\approx"}
_UNICODE_RELATION = {"<-": "←", "←": "←", "=": "=", ":=": ":=", "≈": "≈"}
_TEX_SPECIAL = {"%": r"\%", "&": r"\&", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}"}
# Unicode that prose (hints, options, input hints) may carry, as math pdflatex can set
# with nothing but amsmath: an unmapped Greek letter or ⊙ stops the compilation.
_UNICODE_MATH = {
    **{letter: f"$\\{name}$" for letter, name in GREEK_LETTER_NAMES.items()},
    "⊙": r"$\odot$",
    "∘": r"$\circ$",
    "ᵀ": r"$^\top$",
    "²": r"$^2$",
    "³": r"$^3$",
    "⁻": r"$^-$",
    "¹": r"$^1$",
    "∂": r"$\partial$",
    "←": r"$\leftarrow$",
    "→": r"$\to$",
    "≈": r"$\approx$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≠": r"$\ne$",
    "±": r"$\pm$",
    "·": r"$\cdot$",
    "×": r"$\times$",
    "−": "-",
    "√": r"$\surd$",
    "‖": r"$\|$",
    "∑": r"$\sum$",
    "∞": r"$\infty$",
    "∈": r"$\in$",
    "ŷ": r"$\hat{y}$",
    "…": r"\ldots{}",
    "’": "'",
    "′": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
    "–": "--",
    "—": "---",
    "\u0302": r"\^{}",
    **{chr(0x2080 + d): f"$_{d}$" for d in range(10)},
    "𝟏": r"$\mathbf{1}$",
    "𝟎": r"$\mathbf{0}$",
}
_TEX_ESCAPES = {
    **_TEX_SPECIAL,
    **_UNICODE_MATH,
    "\\": r"\textbackslash{}",
    "$": r"\$",
    "^": r"\^{}",
    "{": r"\{",
    "}": r"\}",
}


class TemplateError(ValueError):
    """A problem text or template that cannot be rendered."""


def parse_math(text: str, ns: Namespace) -> Expr:
    """A math segment of a template (trusted): unknown names become scalars."""
    from dlquiz.notation import NotationError, parse

    try:
        return parse(text, ns, derivatives=True, declare=True)
    except NotationError as exc:
        raise TemplateError(f"math '${text}$' cannot be read: {exc}") from None


def render_math(text: str, ns: Namespace, style: str) -> str:
    """One ``$...$`` segment: expressions joined by relations (=, <-, ≈)."""
    parts = _RELATIONS.split(text.strip())
    if len(parts) >= 3 and re.fullmatch(r"[A-Za-z\u0370-\u03ff]\w*", parts[0].strip()):
        _declare_from(parts[0].strip(), parts[2], ns)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append((_LATEX_RELATION if style == "latex" else _UNICODE_RELATION)[part])
        elif part:
            e = parse_math(part, ns)
            out.append(
                {"latex": to_latex, "unicode": to_unicode, "notation": to_notation}[style](e)
            )
    return " ".join(out)


def _declare_from(name: str, rhs: str, ns: Namespace) -> None:
    """``$o = [1, 2, 3]$`` gives ``o`` the shape of its value (when ``o`` is not declared)."""
    from dlquiz.core.names import canonical_name
    from dlquiz.core.vars import VarSpec

    name = canonical_name(name)
    if name in ns:
        return
    shape = parse_math(rhs, ns.copy()).shape
    ns.declare(VarSpec(name, shape))


def render(text: str, ns: Namespace, style: str = "unicode") -> str:
    """Text with ``$math$``: Unicode for the terminal or LaTeX (math kept in ``$...$``)."""
    pieces = re.split(r"(?<!\\)\$", text)
    if len(pieces) % 2 == 0:
        raise TemplateError(f"unbalanced $ in: {text[:60]}")
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            piece = piece.replace(r"\$", "$")
            out.append(escape_tex(piece) if style == "latex" else piece)
        else:
            math = render_math(piece, ns, style)
            out.append(f"${math}$" if style == "latex" else math)
    return "".join(out)


# A name with a subscript in prose (W_n, ŷ_c, σ_B, n_out): one or two letters, then at most
# four letters or digits. Longer words with underscores (weight_decay) are code, kept as text,
# and so is dW_n (a derivative, written $d/dW_n L$ where it is meant as math).
_PROSE_NAME = re.compile(
    r"(?<![\w\\])(?!d[A-Za-z]_)"
    r"([A-Za-z\u00c0-\u017f\u0370-\u03ff]\u0302?[A-Za-z]?_[A-Za-z0-9]{1,4})(?![A-Za-z0-9_])"
    r"([²³ᵀ]?)"  # a power that follows goes into the same math (no $x$$^2$)
)
_POWERS = {"": "", "²": "^{2}", "³": "^{3}", "ᵀ": r"^{\top}"}


def with_prose_names(text: str, escape: Callable[[str], str]) -> str:
    """``escape`` applied to plain text, its subscripted names set as LaTeX math.

    ``W_n`` in a sentence becomes ``$W_{\\text{n}}$``, exactly as ``$W_n$`` prints, rather
    than the letters W, an underscore and n.
    """
    from dlquiz.core.names import canonical_name

    out = []
    last = 0
    for m in _PROSE_NAME.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(f"${to_latex.name(canonical_name(m.group(1)))}{_POWERS[m.group(2)]}$")
        last = m.end()
    out.append(escape(text[last:]))
    return "".join(out)


def escape_tex(text: str) -> str:
    """Plain text for LaTeX (and Markdown, where these escapes render as the character).

    One pass, so the braces of ``\\textbackslash{}`` are not escaped again; ``^``, ``{``
    and ``}`` in prose (``0.9^2``, ``W_{m+1}``) would otherwise stop pdflatex. Subscripted
    names (``W_n``) are set as math.
    """
    return with_prose_names(text, lambda t: "".join(_TEX_ESCAPES.get(ch, ch) for ch in t))
