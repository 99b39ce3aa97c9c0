"""Problems as documents: Markdown (math in $...$, renders on GitHub) and LaTeX.

Shared by ``verify`` (every format must render) and ``generate`` (the handed-out files).
Student-facing renderings never include the answer.
"""

from __future__ import annotations

from dlquiz.bank.problem import INPUT_HINTS, Problem
from dlquiz.bank.render import escape_tex

LETTERS = "ABCDEFGH"


def _choices_latex(problem: Problem) -> list[str]:
    return [f"{LETTERS[i]}) {c}" for i, c in enumerate(problem.choices)]


def problem_markdown(problem: Problem, number: int) -> str:
    lines = [f"## {number}. {problem.title or problem.id}", "", problem.statement_latex, ""]
    if problem.choices:
        lines += [f"- **{LETTERS[i]}**) {escape_tex(c)}" for i, c in enumerate(problem.choices)]
        lines.append("")
    shapes = ", ".join(f"{n}: {s}" for n, s in sorted(problem.shapes.items()))
    if shapes:
        lines += [f"*Shapes:* {shapes}", ""]
    lines += [f"*Answer with* {INPUT_HINTS.get(problem.kind, '')}.", ""]
    return "\n".join(lines)


def solution_markdown(problem: Problem, number: int) -> str:
    lines = [f"## {number}. {problem.title or problem.id}", "", problem.solution_latex, ""]
    lines += ["**Answer:** `" + problem.answer.replace("`", "'") + "`", ""]
    return "\n".join(lines)


def problem_tex(problem: Problem, number: int) -> str:
    lines = [
        rf"\subsection*{{{number}. {escape_tex(problem.title or problem.id)}}}",
        problem.statement_latex.replace("\n\n", "\n\n\\medskip\n"),
    ]
    if problem.choices:
        lines.append(r"\begin{itemize}")
        lines += [rf"\item[{LETTERS[i]})] {escape_tex(c)}" for i, c in enumerate(problem.choices)]
        lines.append(r"\end{itemize}")
    shapes = ", ".join(f"{escape_tex(n)}: {s}" for n, s in sorted(problem.shapes.items()))
    if shapes:
        lines.append(rf"\par\emph{{Shapes:}} {shapes}")
    lines.append(rf"\par\emph{{Answer with {escape_tex(INPUT_HINTS.get(problem.kind, ''))}.}}")
    return "\n".join(lines) + "\n"


def solution_tex(problem: Problem, number: int) -> str:
    answer = escape_tex(problem.answer)
    return (
        rf"\subsection*{{{number}. {escape_tex(problem.title or problem.id)}}}"
        + "\n"
        + problem.solution_latex.replace("\n\n", "\n\n\\medskip\n")
        + "\n"
        + rf"\par\textbf{{Answer:}} \texttt{{{answer}}}"
        + "\n"
    )
