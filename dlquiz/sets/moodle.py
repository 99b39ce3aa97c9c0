"""Moodle XML for the questions Moodle can grade by itself.

Moodle's own question types judge a number within a tolerance (``numerical``), one
option out of several (``multichoice``) and several numbers each within a tolerance
(``cloze`` with NUMERICAL fields). So: number and integer questions become numerical
questions (the known mistakes become wrong answers with their feedback), vectors and
matrices of numbers become cloze questions with one field per entry, choice questions
become multichoice. Expressions and shapes are left out, with the reason: Moodle cannot
decide whether two expressions are equal (only the STACK plugin can), and its text
matching would reject a shape written with other spacing.

Math is kept as LaTeX between ``\\(...\\)`` for Moodle's MathJax filter.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dlquiz.bank.problem import Problem

LEFT_OUT = {
    "expression": "a symbolic expression: Moodle cannot decide whether two expressions are "
    "equal (only the STACK plugin can)",
    "shape": "a shape: Moodle's text matching would reject the right shape written with "
    "other spacing or brackets",
}
_TEX_UNESCAPE = [
    (r"\textbackslash{}", "\\"),
    (r"\textasciitilde{}", "~"),
    (r"\%", "%"),
    (r"\&", "&"),
    (r"\#", "#"),
    (r"\_", "_"),
    (r"\$", "$"),
]


@dataclass
class Omitted:
    number: int
    version: int | None
    kind: str
    reason: str

    def to_json(self) -> dict:
        return {
            "number": self.number,
            "version": self.version,
            "kind": self.kind,
            "reason": self.reason,
        }


def html_text(latex_text: str) -> str:
    """A statement's LaTeX form as HTML: prose escaped, math in ``\\(...\\)``."""
    pieces = re.split(r"(?<!\\)\$", latex_text)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(r"\(" + html.escape(piece, quote=False) + r"\)")
        else:
            for tex, plain in _TEX_UNESCAPE:
                piece = piece.replace(tex, plain)
            out.append(html.escape(piece, quote=False))
    text = "".join(out).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def _numbers(problem: Problem) -> list[list[float]]:
    """The key's numbers, computed by the judge's own reading of the key."""
    from dlquiz.core.expr import substitute
    from dlquiz.core.numeric import evaluate

    key = problem.key
    values = evaluate(substitute(key.expected, key.definitions), {}, 1)[0]
    return [[float(v) for v in row] for row in values]


def _mistake_numbers(problem: Problem) -> list[tuple[float, str]]:
    from dlquiz.core.expr import substitute
    from dlquiz.core.numeric import EvaluationError, evaluate

    out = []
    key = problem.key
    for mistake, expr in key.mistakes:
        if expr is None:
            continue
        try:
            v = evaluate(substitute(expr, key.definitions), {}, 1)[0]
        except (EvaluationError, ValueError):
            continue
        if v.size == 1:
            out.append((float(v[0, 0]), mistake.feedback))
    return out


def _tolerance(problem: Problem, value: float) -> float:
    """The judge's tolerance as Moodle's absolute one (atol + rtol * |value|)."""
    from dlquiz.judge.core import NUMERIC_ATOL, NUMERIC_RTOL

    if problem.kind == "integer":
        return 0.0
    rtol = NUMERIC_RTOL if problem.tolerance is None else problem.tolerance
    atol = NUMERIC_ATOL if problem.tolerance is None else min(NUMERIC_ATOL, problem.tolerance)
    return atol + rtol * abs(value)


def _num(x: float) -> str:
    """The key's ten significant digits (``fmt_key``), never in exponent form (Moodle's
    cloze syntax wants plain decimals)."""
    from decimal import Decimal

    from dlquiz.core.numbers import fmt_key

    text = fmt_key(x)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _question_text(problem: Problem) -> str:
    text = html_text(problem.statement_latex)
    if problem.figure:
        text += "<pre>" + html.escape(problem.figure.rstrip("\n"), quote=False) + "</pre>"
    return text


def _head(kind: str, name: str, problem: Problem, text: str) -> list[str]:
    return [
        f'  <question type="{kind}">',
        f"    <name><text>{html.escape(name, quote=False)}</text></name>",
        f'    <questiontext format="html"><text>{_cdata(text)}</text></questiontext>',
        '    <generalfeedback format="html"><text>'
        + _cdata(html_text(problem.solution_latex))
        + "</text></generalfeedback>",
        f"    <defaultgrade>{problem.points}</defaultgrade>",
        "    <penalty>0.3333333</penalty>",
        "    <hidden>0</hidden>",
    ]


def _feedback(text: str) -> str:
    body = _cdata(html.escape(text, quote=False))
    return f'<feedback format="html"><text>{body}</text></feedback>'


def question_xml(problem: Problem, name: str) -> list[str] | str:
    """The XML of one question, or the reason it is left out."""
    if problem.kind in LEFT_OUT:
        return LEFT_OUT[problem.kind]
    if problem.kind in ("number", "integer"):
        values = _numbers(problem)
        if len(values) != 1 or len(values[0]) != 1:
            return "a number question whose key is not one number"
        value = values[0][0]
        lines = _head("numerical", name, problem, _question_text(problem))
        lines += [
            '    <answer fraction="100" format="moodle_auto_format">',
            f"      <text>{_num(value)}</text>",
            f"      {_feedback('Correct.')}",
            f"      <tolerance>{_num(_tolerance(problem, value))}</tolerance>",
            "    </answer>",
        ]
        for wrong, feedback in _mistake_numbers(problem):
            if abs(wrong - value) <= _tolerance(problem, value):
                continue  # indistinguishable from the right answer within the tolerance
            lines += [
                '    <answer fraction="0" format="moodle_auto_format">',
                f"      <text>{_num(wrong)}</text>",
                f"      {_feedback(feedback)}",
                f"      <tolerance>{_num(_tolerance(problem, wrong))}</tolerance>",
                "    </answer>",
            ]
        lines += [
            "    <unitgradingtype>0</unitgradingtype>",
            "    <unitpenalty>0.1000000</unitpenalty>",
            "    <showunits>3</showunits>",
            "    <unitsleft>0</unitsleft>",
            "  </question>",
        ]
        return lines
    if problem.kind == "numbers":
        values = _numbers(problem)
        column = len(values[0]) == 1
        fields = []
        for i, row in enumerate(values):
            cells = [f"{{1:NUMERICAL:={_num(v)}:{_num(_tolerance(problem, v))}}}" for v in row]
            label = f"entry {i + 1}" if column else f"row {i + 1}"
            fields.append(f"<p>{label}: " + " ".join(cells) + "</p>")
        text = _question_text(problem) + "".join(fields)
        lines = _head("cloze", name, problem, text)
        return [*lines, "  </question>"]
    if problem.kind == "choice":
        right = problem.answer.strip().upper()
        feedback = {m["answer"].strip().upper(): m.get("feedback", "") for m in problem.mistakes}
        lines = _head("multichoice", name, problem, _question_text(problem))
        lines += [
            "    <single>true</single>",
            "    <shuffleanswers>false</shuffleanswers>",
            "    <answernumbering>ABCD</answernumbering>",
        ]
        for i, choice in enumerate(problem.choices):
            letter = chr(65 + i)
            fraction = 100 if letter == right else 0
            lines += [
                f'    <answer fraction="{fraction}" format="html">',
                f"      <text>{_cdata(html.escape(choice, quote=False))}</text>",
                f"      {_feedback(feedback.get(letter, ''))}",
                "    </answer>",
            ]
        return [*lines, "  </question>"]
    return f"an answer of kind '{problem.kind}' that Moodle has no question type for"


def moodle_xml(
    versions: Sequence[Sequence[Problem]], title: str, with_versions: bool
) -> tuple[str, list[Omitted]]:
    """The quiz file, and the questions left out with the reason.

    Each question number gets its own category, holding its version(s): a Moodle quiz
    can then draw one version per student with "a random question from a category".
    """
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    omitted: list[Omitted] = []
    base = "$course$/top/dlquiz/" + re.sub(r"[/\s]+", " ", title).strip()
    count = max(len(v) for v in versions)
    for number in range(1, count + 1):
        category_written = False
        for v, problems in enumerate(versions, start=1):
            if number > len(problems):
                continue
            problem = problems[number - 1]
            version = v if with_versions else None
            name = f"{number}. {problem.title or problem.id}"
            if version is not None:
                name += f" (version {version})"
            xml = question_xml(problem, name)
            if isinstance(xml, str):
                omitted.append(Omitted(number, version, problem.kind, xml))
                continue
            if not category_written:
                lines += [
                    '  <question type="category">',
                    f"    <category><text>{html.escape(base, quote=False)}/"
                    f"Question {number}</text></category>",
                    "  </question>",
                ]
                category_written = True
            lines += xml
    lines.append("</quiz>")
    return "\n".join(lines) + "\n", omitted
