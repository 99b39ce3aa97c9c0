"""The verdict on a derivation: every step, every chain, as JSON or as lines to print."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

OK, WRONG, UNREADABLE, UNDECIDED = "ok", "wrong", "unreadable", "undecided"
MARKS = {OK: "✓", WRONG: "✗", UNREADABLE: "✗", UNDECIDED: "?"}


@dataclass
class Step:
    line: int
    ok: bool
    feedback: str
    text: str
    kind: str = "step"  # declaration | definition | start | step
    status: str = OK  # ok | wrong | unreadable | undecided

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "ok": self.ok,
            "feedback": self.feedback,
            "text": self.text,
            "kind": self.kind,
            "status": self.status,
        }


@dataclass
class Chain:
    """The lines that continue from one derivative, and whether the last equals it."""

    start: int
    end: int
    final_ok: bool | None  # None: the last line could not be read or decided
    derivative: str = ""  # how the start was written
    wrong: list[int] = field(default_factory=list)  # lines of its wrong steps
    back: list[int] = field(default_factory=list)  # wrong steps equal to the start again

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "final_ok": self.final_ok}

    def summary(self) -> str:
        span = f"line {self.start}" if self.start == self.end else f"lines {self.start}-{self.end}"
        head = f"{span}, from {self.derivative}:"
        if self.final_ok is None:
            return f"{head} the final result cannot be judged (its line could not be checked)"
        went = [n for n in self.wrong if n not in self.back]
        if self.final_ok:
            if went:
                again = f" (right again from line {self.back[0]})" if self.back else ""
                return f"{head} final result right, although it goes wrong at line {went[0]}{again}"
            return f"{head} final result right"
        if went:
            return f"{head} final result wrong (it goes wrong at line {went[0]})"
        return f"{head} final result wrong"


@dataclass
class StepsReport:
    steps: list[Step] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)

    @property
    def first_error(self) -> int | None:
        return next((s.line for s in self.steps if not s.ok), None)

    @property
    def unreadable(self) -> bool:
        """A line could not be read or decided: the file cannot be fully judged (exit 2)."""
        return any(s.status in (UNREADABLE, UNDECIDED) for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "steps": [s.to_json() for s in self.steps],
            "first_error": self.first_error,
            "chains": [c.to_json() for c in self.chains],
        }

    def lines(self, width: int = 80) -> list[str]:
        """The report for a terminal ``width`` columns wide: one step a line when it
        fits, otherwise its feedback wrapped below it."""
        width = max(40, width)
        out = []
        for step in self.steps:
            head = f"{MARKS[step.status]} line {step.line}: {step.text}"
            one = f"{head}  — {step.feedback}"
            if len(one) <= width:
                out.append(one)
                continue
            out.extend(_wrap(head, width))
            out.extend(
                textwrap.wrap(
                    step.feedback,
                    width,
                    initial_indent="    ",
                    subsequent_indent="    ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
        if self.chains:
            out.append("")
            for chain in self.chains:
                out.extend(_wrap(chain.summary(), width))
        return out


def _wrap(text: str, width: int) -> list[str]:
    """At spaces only (a LaTeX command stays whole), continuation lines indented."""
    return textwrap.wrap(
        text, width, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
    ) or [text]
