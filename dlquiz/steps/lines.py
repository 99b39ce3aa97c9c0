"""A derivation file's lines as written on paper: what kind each is, and its parts.

A line is a comment, a declaration (``w, x ∈ ℝ^3``, ``η > 0``, ``φ: ℝ → ℝ``), the
notes' sentence that names a cost without defining it (``L = cost function of a_L and
y``), an update (``w ← w - η ∇_w L``, which is not a step), or a line of steps: parts
separated by top-level ``=`` (``dL/dw = dL/dŷ dŷ/dw = (ŷ - y) x``), the first of which
may be followed by ``:=``. Math delimiters (``$$``, ``\\[``), alignment marks (``&=``),
a LaTeX line break (``\\\\``) and a final full stop are blanked out, never shifted, so
columns in messages still point into the line as typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_BLANK = [
    re.compile(r"\$\$|\$"),  # math delimiters
    re.compile(r"\\[\[\]()](?=\s*$)|^\s*\\[\[(]"),  # \[ ... \] and \( ... \)
    re.compile(r"\\\\\s*$"),  # a LaTeX line break at the end
    re.compile(r"^\s*(?:⇒|=>|⟹|∴|\\(?:Rightarrow|implies|Longrightarrow|therefore)\b)"),
    re.compile(r"\\(?:tag|label)\{[^{}]*\}|\\(?:nonumber|notag)\b"),
    re.compile(r"\\(?:begin|end)\{(?:align\*?|aligned|equation\*?|gather\*?|split)\}"),
]
_ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
_FULL_STOP = re.compile(r"(?<=[^\d\s.])\s*[.,;]\s*$")
_COMMENT = ("#", "%", "//")
_UPDATE = re.compile(r"←|<-|⟵|\\leftarrow\b|\\gets\b|\\longleftarrow\b")
_DECLARATION = re.compile(
    r"∈|∉|>|<|≥|≤|≠|⩾|⩽|\\(?:in|geq?|leq?|neq?|gt|lt|notin)(?![A-Za-z])|(?<![\w\\])in(?![\w])"
)
_ARROW = re.compile(r"→|->|⟶|\\to\b|\\rightarrow\b|\\longrightarrow\b|\\mapsto\b")
_DEFINE = re.compile(r":=|≔|\\coloneqq\b|\\coloneq\b|\\triangleq\b|≜|\\equiv\b|≡")
# "L = cost function of a_L and y": a cost named, not defined (the notes' backprop page)
_COST = re.compile(
    r"^\s*(?P<name>[^=]+?)\s*=\s*(?:(?:an?|the|some)\s+)?(?:\w+\s+){0,3}?"
    r"(?:function|cost|loss)\s+(?:function\s+)?of\b.*$",
    re.IGNORECASE,
)


@dataclass
class Part:
    """One part of a line of steps: its text and where it starts in the line (0-based)."""

    text: str
    start: int


@dataclass
class Line:
    number: int
    raw: str
    kind: str  # blank | declaration | cost | update | steps
    text: str = ""  # the line with delimiters blanked out, stripped
    parts: list[Part] = field(default_factory=list)
    defines: bool = False  # the first part is followed by ':=' (not '=')
    continues: bool = False  # the line starts with '=': a step from the line before
    cost_name: str = ""


def clean(raw: str) -> str:
    """The line with math delimiters, alignment marks and a final full stop blanked out."""
    text = raw
    for pattern in _BLANK:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    inside = [False] * len(text)  # & separates entries in \begin{cases} and matrices
    for m in _ENVIRONMENT.finditer(text):
        inside[m.start() : m.end()] = [True] * (m.end() - m.start())
    text = "".join(" " if ch == "&" and not inside[i] else ch for i, ch in enumerate(text))
    text = _FULL_STOP.sub(lambda m: " " * len(m.group(0)), text)
    return text


def classify(number: int, raw: str) -> Line:
    """What kind of line ``raw`` is, with its parts for a line of steps."""
    stripped = raw.strip()
    if not stripped or stripped.startswith(_COMMENT):
        return Line(number, raw, "blank")
    text = clean(raw)
    body = text.strip()
    if not body:
        return Line(number, raw, "blank")
    if _UPDATE.search(body):
        return Line(number, raw, "update", body)
    cost = _COST.match(body)
    if cost and not _DECLARATION.search(cost.group("name")):
        return Line(number, raw, "cost", body, cost_name=cost.group("name").strip())
    # the conditions of \begin{cases} and a subscript's \sum_{x \in B} declare nothing
    plain = _braces_blanked(_ENVIRONMENT.sub(" ", body))
    if _DECLARATION.search(plain) or (_ARROW.search(plain) and ":" in plain):
        return Line(number, raw, "declaration", body)
    return _steps(number, raw, text)


def _braces_blanked(text: str) -> str:
    """The text with what stands inside braces blanked out (``ℝ^{2×3}`` keeps its ``ℝ^``)."""
    out, depth = [], 0
    for ch in text:
        if ch == "}":
            depth = max(0, depth - 1)
        out.append(ch if depth == 0 else " ")
        if ch == "{":
            depth += 1
    return "".join(out)


def _steps(number: int, raw: str, text: str) -> Line:
    """Split at top-level '=' (and the first ':='), keeping each part's column."""
    line = Line(number, raw, "steps", text.strip())
    define = _DEFINE.search(text)
    cuts: list[tuple[int, int]] = []  # (start, end) of each separator
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and define is not None and i == define.start() and not cuts:
            cuts.append((define.start(), define.end()))
            line.defines = True
            i = define.end()
            continue
        elif depth == 0 and ch == "=":
            cuts.append((i, i + 1))
        i += 1
    starts = [0, *(end for _, end in cuts)]
    ends = [*(start for start, _ in cuts), len(text)]
    parts = [Part(text[a:b], a) for a, b in zip(starts, ends, strict=True)]
    if parts and not parts[0].text.strip():
        line.continues = True
        line.defines = False
        parts = parts[1:]
    line.parts = parts
    return line


def strip_part(part: Part) -> Part:
    """The part without surrounding spaces (its start moved to the first character)."""
    lead = len(part.text) - len(part.text.lstrip())
    return Part(part.text.strip(), part.start + lead)
