"""The documents of a set: problems and solutions in Markdown and LaTeX, and the sheet.

Markdown keeps math in ``$...$`` (it renders on GitHub and in notebooks). LaTeX is a
complete article that compiles with pdflatex from Debian's texlive-latex-base alone:
amsmath, amssymb and geometry, and a ``\\DeclareUnicodeCharacter`` for each character
outside what LaTeX reads by default (a Greek letter or a ⊙ in plain text, a box-drawing
line in a figure), so no document fails on a character. Student-facing documents
(``problems.*`` and ``answers.txt``) never contain an answer, a seed or a family id.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlquiz.bank.present import (
    problem_markdown,
    problem_tex,
    prose_tex,
    solution_markdown,
    solution_tex,
    tex_verbatim_text,
)
from dlquiz.bank.problem import INPUT_HINTS, Problem

# Characters LaTeX's UTF-8 input reads without help (Latin-1, Latin Extended-A, dashes,
# quotes, the ellipsis); every other non-ASCII character gets a declaration, and so do
# the ones below (math symbols such as ·, × and ² would otherwise need textcomp's fonts).
_KNOWN = set(range(0xA0, 0x180)) | {0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026}
# α (U+03B1) to ω (U+03C9) in order; omicron has no command of its own.
_GREEK = [
    *("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"),
    *("kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "varsigma", "sigma"),
    *("tau", "upsilon", "phi", "chi", "psi", "omega"),
]
_UPPER_GREEK = {
    "Γ": r"\Gamma",
    "Δ": r"\Delta",
    "Θ": r"\Theta",
    "Λ": r"\Lambda",
    "Ξ": r"\Xi",
    "Π": r"\Pi",
    "Σ": r"\Sigma",
    "Φ": r"\Phi",
    "Ψ": r"\Psi",
    "Ω": r"\Omega",
}
_MATH = {
    "∂": r"\partial",
    "∇": r"\nabla",
    "∑": r"\sum",
    "∏": r"\prod",
    "√": r"\surd",
    "∞": r"\infty",
    "≈": r"\approx",
    "≤": r"\leq",
    "≥": r"\geq",
    "≠": r"\neq",
    "±": r"\pm",
    "∓": r"\mp",
    "×": r"\times",
    "·": r"\cdot",
    "⋅": r"\cdot",
    "⊙": r"\odot",
    "∘": r"\circ",
    "⊗": r"\otimes",
    "→": r"\to",
    "←": r"\leftarrow",
    "↑": r"\uparrow",
    "↓": r"\downarrow",
    "⇒": r"\Rightarrow",
    "∈": r"\in",
    "∀": r"\forall",
    "−": "-",
    "′": r"{}^{\prime}",
    "″": r"{}^{\prime\prime}",
    "ᵀ": r"{}^{\top}",
    "⁻": r"{}^{-}",
    "⁺": r"{}^{+}",
    "ŷ": r"\hat{y}",
    "ε": r"\epsilon",
    "ϵ": r"\epsilon",
    "ϕ": r"\phi",
    "ℓ": r"\ell",
    "ℝ": r"\mathbb{R}",
    "𝔼": r"\mathbb{E}",
    "‖": r"\|",
    "∥": r"\|",
    "⌊": r"\lfloor",
    "⌋": r"\rfloor",
    "⌈": r"\lceil",
    "⌉": r"\rceil",
    "✓": r"\checkmark",
    "\u0302": r"{}^{\wedge}",
}
_TEXT = {
    "─": "-",
    "━": "-",
    "│": "|",
    "┃": "|",
    "═": "=",
    "║": "||",
    "•": r"\ensuremath{\bullet}",
    "✗": "x",
    "…": r"\ldots{}",
}
for _c in "┌┐└┘├┤┬┴┼╭╮╯╰":
    _TEXT[_c] = "+"
for _i, _name in enumerate(_GREEK):
    _MATH.setdefault(chr(0x3B1 + _i), "o" if _name == "omicron" else "\\" + _name)
_MATH.update(_UPPER_GREEK)
for _small, _letters in (("^", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"), ("_", "ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")):
    _plain = "abcdefghijklmnoprstuvwxyz" if _small == "^" else "aehijklmnoprstuvx"
    for _c, _p in zip(_letters, _plain, strict=True):
        _MATH[_c] = f"{{}}{_small}{{{_p}}}"
for _i in range(10):
    _MATH[chr(0x2080 + _i)] = f"{{}}_{{{_i}}}"
    _MATH["⁰¹²³⁴⁵⁶⁷⁸⁹"[_i]] = f"{{}}^{{{_i}}}"


def unicode_declarations(text: str) -> list[str]:
    """``\\DeclareUnicodeCharacter`` lines for the characters of ``text`` LaTeX lacks."""
    lines = []
    wanted = {c for c in text if c in _MATH or c in _TEXT or ord(c) > 0x7F}
    for ch in sorted(c for c in wanted if c in _MATH or c in _TEXT or ord(c) not in _KNOWN):
        if ch in _MATH:
            body = rf"\ensuremath{{{_MATH[ch]}}}"
        elif ch in _TEXT:
            body = _TEXT[ch]
        else:  # unknown: shown as its code point rather than failing the document
            body = rf"\texttt{{[U+{ord(ch):04X}]}}"
        lines.append(rf"\DeclareUnicodeCharacter{{{ord(ch):04X}}}{{{body}}}")
    return lines


def tex_document(title: str, body: str) -> str:
    """A complete article: texlive-latex-base's packages only."""
    head = [
        r"\documentclass[11pt]{article}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=2.5cm]{geometry}",
        *unicode_declarations(body + title),
        # Bullets and dollars from the math fonts: textcomp's text versions would need
        # bitmap fonts made on the fly by METAFONT.
        r"\renewcommand{\labelitemi}{\ensuremath{\bullet}}",
        r"\DeclareRobustCommand{\$}{\ensuremath{\mathdollar}}",
        r"\sloppy",  # long answers in typewriter type break at their spaces
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{0.6ex}",
        r"\begin{document}",
        rf"\section*{{{tex_verbatim_text(title)}}}",
    ]
    return "\n".join(head) + "\n" + body.rstrip("\n") + "\n\\end{document}\n"


def _uniform_points(problems: Sequence[Problem]) -> bool:
    return len({p.points for p in problems}) <= 1


def _overview(problems: Sequence[Problem], version: int | None) -> str:
    total = sum(p.points for p in problems)
    parts = [f"{len(problems)} question{'s' if len(problems) != 1 else ''}"]
    parts.append(f"{total} point{'s' if total != 1 else ''}")
    if version is not None:
        parts.insert(0, f"Version {version}")
    return " · ".join(parts)


INSTRUCTIONS = (
    "Write each answer in answers.txt after its number, as `N: answer`. Numbers to 3 "
    "significant figures unless a question says otherwise; an arithmetic expression "
    "such as 1/(1+exp(-2)) is also accepted."
)


def problems_markdown(problems: Sequence[Problem], title: str, version: int | None) -> str:
    points = not _uniform_points(problems)
    out = [f"# {title}", "", _overview(problems, version), "", INSTRUCTIONS, ""]
    for i, p in enumerate(problems, start=1):
        out.append(problem_markdown(p, i, points=points))
    return "\n".join(out).rstrip("\n") + "\n"


def problems_tex(problems: Sequence[Problem], title: str, version: int | None) -> str:
    points = not _uniform_points(problems)
    instructions = tex_verbatim_text(INSTRUCTIONS.replace("`", ""))
    body = [_overview(problems, version), "", instructions]
    for i, p in enumerate(problems, start=1):
        body += ["", problem_tex(p, i, points=points).rstrip("\n")]
        body.append(r"\par\medskip\textbf{Answer:} \hrulefill")
    return tex_document(title, "\n".join(body))


def _mistakes_markdown(problem: Problem) -> list[str]:
    if not problem.mistakes:
        return []
    lines = ["*Common mistakes:*", ""]
    for m in problem.mistakes:
        lines.append(f"- `{m['tag']}`: {m.get('feedback', '')}")
    return [*lines, ""]


def solutions_markdown(problems: Sequence[Problem], title: str, version: int | None) -> str:
    out = [f"# Solutions: {title}", "", _overview(problems, version), ""]
    for i, p in enumerate(problems, start=1):
        out.append(solution_markdown(p, i))
        out += _mistakes_markdown(p)
    return "\n".join(out).rstrip("\n") + "\n"


def solutions_tex(problems: Sequence[Problem], title: str, version: int | None) -> str:
    body = [_overview(problems, version)]
    for i, p in enumerate(problems, start=1):
        body += ["", solution_tex(p, i).rstrip("\n")]
        if p.mistakes:
            body.append(r"\par\emph{Common mistakes:}")
            body.append(r"\begin{itemize}")
            for m in p.mistakes:
                tag = tex_verbatim_text(m["tag"])
                feedback = prose_tex(m.get("feedback", ""))
                body.append(rf"\item \texttt{{{tag}}}: {feedback}")
            body.append(r"\end{itemize}")
    return tex_document(f"Solutions: {title}", "\n".join(body))


def answer_sheet(problems: Sequence[Problem], title: str, version: int | None) -> str:
    """The sheet a student fills in: one ``N: `` line per question, hints as comments."""
    out = [f"# dlquiz answer sheet: {' '.join(title.split())}"]
    if version is not None:
        out.append(f"# version: {version}")
    out += [
        "# student: ",
        "#",
        "# Write each answer after its number, on the same line (a long matrix may go on",
        "# over the next lines). Lines starting with # are comments. Leave a blank to skip.",
    ]
    for i, p in enumerate(problems, start=1):
        out += ["#", f"# {i}. {' '.join((p.title or 'Question').split())}"]
        out.append(f"#    Answer with {INPUT_HINTS.get(p.kind, 'your answer')}.")
        shapes = ", ".join(f"{n}: {s}" for n, s in sorted(p.shapes.items()))
        if shapes:
            out.append(f"#    Shapes: {shapes}")
        if p.choices:
            out.append("#    Options: " + ", ".join(chr(65 + k) for k in range(len(p.choices))))
        out.append(f"{i}: ")
    return "\n".join(out) + "\n"
