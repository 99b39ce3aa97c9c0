"""Problems as documents: Markdown (math in $...$, renders on GitHub) and LaTeX.

Shared by ``verify`` (every format must render) and ``generate`` (the handed-out files).
Student-facing renderings never include the answer.
"""

from __future__ import annotations

import re

from dlquiz.bank.problem import INPUT_HINTS, Problem
from dlquiz.bank.render import with_prose_names

LETTERS = "ABCDEFGH"


def _choices_latex(problem: Problem) -> list[str]:
    return [f"{LETTERS[i]}) {c}" for i, c in enumerate(problem.choices)]


def _points(problem: Problem, show: bool) -> str:
    if not show:
        return ""
    return f" ({problem.points} point{'s' if problem.points != 1 else ''})"


def _fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


_TT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "^": r"\^{}",
    "~": r"\textasciitilde{}",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


_MD_FROM_TEX = (
    (r"\textbackslash{}", "\\\\"),
    (r"\textasciitilde{}", r"\~"),
    (r"\^{}", r"\^"),
    (r"\{", "{"),
    (r"\}", "}"),
)


def markdown_text(latex_text: str) -> str:
    r"""A statement's LaTeX form for Markdown: math kept, prose escapes made Markdown's.

    ``\%``, ``\_``, ``\&``, ``\#`` and ``\$`` are Markdown escapes too; the others
    would show as written.
    """
    pieces = re.split(r"(?<!\\)(\$)", latex_text)
    inside = False
    out = []
    for piece in pieces:
        if piece == "$":
            inside = not inside
        elif not inside:
            for tex, md in _MD_FROM_TEX:
                piece = piece.replace(tex, md)
        out.append(piece)
    return "".join(out)


def markdown_escape(text: str) -> str:
    """Plain text (an option) that Markdown shows as written."""
    return re.sub(r"([\\`*_\[\]<>|$#])", r"\\\1", text)


def tex_verbatim_text(text: str) -> str:
    """Any plain text (an answer, an option) for LaTeX: every special character escaped."""
    return "".join(_TT.get(ch, ch) for ch in text)


def prose_tex(text: str) -> str:
    """Prose that is not rendered from ``$math$`` (an option, a mistake's feedback) for
    LaTeX: escaped, with its subscripted names (``ŷ_c``, ``W_n``) set as math."""
    return with_prose_names(text, tex_verbatim_text)


def name_tex(name: str) -> str:
    """A declared name (``W_n``) as the printer sets it in math."""
    from dlquiz.core.printing import to_latex

    return f"${to_latex.name(name)}$"


def problem_markdown(problem: Problem, number: int, *, points: bool = False) -> str:
    lines = [
        f"## {number}. {problem.title or problem.id}{_points(problem, points)}",
        "",
        markdown_text(problem.statement_latex),
        "",
    ]
    if problem.figure:
        fence = _fence(problem.figure)
        lines += [fence + "text", problem.figure.rstrip("\n"), fence, ""]
    if problem.choices:
        lines += [
            f"- **{LETTERS[i]}**) {markdown_escape(c)}" for i, c in enumerate(problem.choices)
        ]
        lines.append("")
    shapes = ", ".join(f"{n}: {s}" for n, s in sorted(problem.shapes.items()))
    if shapes:
        lines += [f"*Shapes:* {shapes}", ""]
    lines += [f"*Answer with* {INPUT_HINTS.get(problem.kind, '')}.", ""]
    return "\n".join(lines)


def solution_markdown(problem: Problem, number: int) -> str:
    title = problem.title or problem.id
    lines = [f"## {number}. {title}", "", markdown_text(problem.solution_latex), ""]
    lines += ["**Answer:** `" + problem.answer.replace("`", "'") + "`", ""]
    return "\n".join(lines)


def problem_tex(problem: Problem, number: int, *, points: bool = False) -> str:
    title = prose_tex(problem.title or problem.id) + _points(problem, points)
    lines = [
        rf"\subsection*{{{number}. {title}}}",
        problem.statement_latex.replace("\n\n", "\n\n\\medskip\n"),
    ]
    if problem.figure:  # drawn for a terminal: kept as it is, in a fixed-width font
        lines += [r"\begin{verbatim}", problem.figure.rstrip("\n"), r"\end{verbatim}"]
    if problem.choices:
        lines.append(r"\begin{itemize}")
        lines += [rf"\item[{LETTERS[i]})] {prose_tex(c)}" for i, c in enumerate(problem.choices)]
        lines.append(r"\end{itemize}")
    shapes = ", ".join(f"{name_tex(n)}: {s}" for n, s in sorted(problem.shapes.items()))
    if shapes:
        lines.append(rf"\par\emph{{Shapes:}} {shapes}")
    hint = tex_verbatim_text(INPUT_HINTS.get(problem.kind, ""))
    lines.append(rf"\par\emph{{Answer with {hint}.}}")
    return "\n".join(lines) + "\n"


def solution_tex(problem: Problem, number: int) -> str:
    answer = tex_verbatim_text(problem.answer)
    return (
        rf"\subsection*{{{number}. {prose_tex(problem.title or problem.id)}}}"
        + "\n"
        + problem.solution_latex.replace("\n\n", "\n\n\\medskip\n")
        + "\n"
        + rf"\par\textbf{{Answer:}} \texttt{{{answer}}}"
        + "\n"
    )


# --- the terminal ---------------------------------------------------------------------

_MATRIX = re.compile(r"\[([^\[\]]*;[^\[\]]*)\]")
_CLOSING = re.compile(r"[,.;:)?!]*")
MATRIX_INDENT = "    "


def matrix_block(body: str, indent: str = MATRIX_INDENT) -> str:
    """``1, 2; 3, 40`` as rows, columns aligned: ``[1,  2;`` over `` 3, 40]``."""
    rows = [[cell.strip() for cell in row.split(",")] for row in body.split(";")]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    widths = [max(len(r[j]) for r in rows) for j in range(width)]
    lines = [", ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    last = len(lines) - 1
    return "\n".join(
        indent + ("[" if i == 0 else " ") + line + ("]" if i == last else ";")
        for i, line in enumerate(lines)
    )


def matrix_rows(text: str) -> str:
    """Text for a terminal, with every matrix of two rows or more set as its rows.

    A matrix written on one line (``X = [14, 17, -7; -9, -3, 2]``) wraps wherever the
    terminal ends and can no longer be read as rows; here it gets lines of its own,
    indented, with the punctuation that followed it, and the text goes on after it.
    The rows stay in the answer notation, so the block can be typed back.
    """
    out: list[str] = []
    rest = text
    while (m := _MATRIX.search(rest)) is not None:
        before = rest[: m.start()].rstrip(" ")
        after = rest[m.end() :]
        closing = _CLOSING.match(after).group(0)  # type: ignore[union-attr]
        after = after[len(closing) :].lstrip(" ")
        if before and not before.endswith("\n"):
            before += "\n"
        out.append(before + matrix_block(m.group(1)) + closing)
        if after and not after.startswith("\n"):
            out.append("\n")
        rest = after
    out.append(rest)
    return "".join(out)
