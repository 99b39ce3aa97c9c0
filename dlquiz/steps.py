"""The derivation checker: is every line of a student's derivation equal to the one before?

A derivation file has one step a line. ``NAME := EXPR`` defines a name for the lines
after it; every other line is an expression, optionally starting with ``=``, that must
equal the previous expression line. ``d/dw (...)`` is a derivative, never a division.
Lines after a wrong one are still checked against their predecessor, so a student sees
whether the rest follows. Derivatives are worked out in the worker (time-limited); the
comparisons are the judge's numeric ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dlquiz.core.expr import Expr, shape_phrase, substitute
from dlquiz.core.numeric import EvaluationError
from dlquiz.core.vars import Namespace, VarSpec
from dlquiz.judge.compare import draw, same_values
from dlquiz.judge.diagnosis import diagnose
from dlquiz.notation import NotationError, parse

MAX_LINES = 500
_DEFINITION = re.compile(r"^\s*([A-Za-z\u0370-\u03ff][\w\u0370-\u03ff\u0302]*)\s*:=\s*(.*)$")


@dataclass
class Step:
    line: int
    ok: bool
    feedback: str
    text: str
    kind: str = "expression"  # expression | definition | unreadable

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "ok": self.ok, "feedback": self.feedback}


@dataclass
class StepsReport:
    steps: list[Step] = field(default_factory=list)

    @property
    def first_error(self) -> int | None:
        return next((s.line for s in self.steps if not s.ok), None)

    @property
    def unreadable(self) -> bool:
        return any(s.kind == "unreadable" for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {"steps": [s.to_json() for s in self.steps], "first_error": self.first_error}


def _parse(text: str, ns: Namespace) -> Expr:
    return parse(text, ns, derivatives=True, declare=True)


def _expand(e: Expr, ns: Namespace, timeout: float | None) -> Expr:
    if not any(n.op == "deriv" for n in e.walk()):
        return e
    from dlquiz.judge.worker import run

    return run("expand", e, ns, timeout=timeout)


def check_steps(
    text: str, ns: Namespace | None = None, *, timeout: float | None = None
) -> StepsReport:
    """Check a whole derivation; never raises for what the file contains."""
    from dlquiz.judge.worker import WorkerError

    ns = ns.copy() if ns is not None else Namespace()
    report = StepsReport()
    definitions: dict[str, Expr] = {}
    previous: Expr | None = None
    seen_names: set[str] | None = None
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        report.steps.append(
            Step(MAX_LINES + 1, False, f"too many lines (limit {MAX_LINES})", "", "unreadable")
        )
        lines = lines[:MAX_LINES]
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            match = _DEFINITION.match(line)
            if match:
                name, body = match.group(1), match.group(2)
                value = _expand(substitute(_parse(body, ns), definitions), ns, timeout)
                definitions[name] = value
                ns.declare(VarSpec(name, value.shape))
                report.steps.append(Step(number, True, f"defines {name}", line, "definition"))
                continue
            before = set(ns.vars)
            body = line[1:] if line.startswith("=") else line
            current = _expand(substitute(_parse(body, ns), definitions), ns, timeout)
            new_names = sorted(set(ns.vars) - before)
        except (NotationError, EvaluationError, WorkerError, ValueError) as exc:
            report.steps.append(
                Step(number, False, f"cannot read this line: {exc}", line, "unreadable")
            )
            continue
        if previous is None:
            report.steps.append(Step(number, True, "starting expression", line))
            seen_names = set(current.free_symbols())
        else:
            ok, feedback = _compare(previous, current, ns)
            fresh = [n for n in new_names if seen_names is not None and n not in seen_names]
            if not ok and fresh:
                feedback += (
                    f" (uses {', '.join(repr(n) for n in fresh)}, which no earlier line uses)"
                )
            report.steps.append(Step(number, ok, feedback, line))
            if seen_names is not None:
                seen_names |= current.free_symbols()
        previous = current
    if not report.steps:
        report.steps.append(Step(0, False, "the file has no steps", "", "unreadable"))
    return report


def _compare(previous: Expr, current: Expr, ns: Namespace) -> tuple[bool, str]:
    if previous.shape != current.shape:
        return False, (
            f"this line is {shape_phrase(current.shape)}, the line before is "
            f"{shape_phrase(previous.shape)}"
        )
    try:
        sample = draw(previous, [current], ns)
        if sample.count == 0:
            return False, "the line before is undefined at every point tried"
        if same_values(sample, sample.value(current)):
            return True, "follows from the line before"
        found = diagnose(current, previous, sample, "this line", "the line before")
    except EvaluationError as exc:
        return False, f"cannot be evaluated: {exc}"
    if found is not None:
        return False, f"does not follow: {found.feedback}"
    return False, "does not follow from the line before"
