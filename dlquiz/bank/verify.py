"""``dlquiz verify``: every family over many seeds, checked end to end.

For each (family, seed): build the problem, verify its key independently (engine,
Monte Carlo or exact arithmetic, family by family), check that the judge accepts the key
and rejects every listed mistake with that mistake's tag, and render every format.

A template drops, for a seed, a listed mistake the judge could not tell from the key or
from an earlier mistake; verify counts the drops of each mistake over the seeds where it
applies and fails the family when one is dropped in more than half of them (a mistake
typed equal to the key must not vanish silently).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from dlquiz.bank.family import Family
from dlquiz.bank.problem import Problem

DROP_LIMIT = 0.5  # a mistake dropped in more than this share of its seeds fails verify


@dataclass
class Drops:
    """How often one listed mistake applied, and how often it was dropped (and why)."""

    applies: int = 0
    dropped: int = 0
    why: str = ""

    def to_json(self) -> dict:
        return {"applies": self.applies, "dropped": self.dropped, "why": self.why}


@dataclass
class FamilyReport:
    id: str
    topic: str
    seeds: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    drops: dict[str, Drops] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "topic": self.topic,
            "seeds": self.seeds,
            "ok": self.ok,
            "failures": self.failures,
            "seconds": round(self.seconds, 3),
            "dropped": {tag: d.to_json() for tag, d in self.drops.items() if d.dropped},
        }


def check_problem(family: Family, problem: Problem) -> list[str]:
    """Everything that must hold of one generated problem."""
    failures = [f"key not verified: {f}" for f in family.verify(problem)]
    verdict = problem.check(problem.answer)
    if not verdict.equivalent:
        failures.append(f"the judge rejects the key {problem.answer!r}: {verdict.feedback}")
    for m in problem.mistakes:
        v = problem.check(m["answer"])
        if v.equivalent:
            failures.append(f"the judge accepts the mistake '{m['tag']}' ({m['answer']!r})")
        elif v.mistake != m["tag"]:
            failures.append(f"mistake '{m['tag']}' is diagnosed as {v.mistake!r}: {v.feedback}")
    failures += check_rendering(problem)
    return failures


def check_rendering(problem: Problem) -> list[str]:
    from dlquiz.bank.present import problem_markdown, problem_tex

    out = []
    try:
        json.dumps(problem.to_json())
        problem_markdown(problem, 1)
        tex = problem_tex(problem, 1)
        if tex.count("{") != tex.count("}"):
            out.append("unbalanced braces in the LaTeX statement")
        if tex.count("$") % 2:
            out.append("unbalanced $ in the LaTeX statement")
    except Exception as exc:  # any rendering failure is a verification failure
        out.append(f"rendering failed: {type(exc).__name__}: {exc}")
    if not problem.statement.strip() or not problem.hints:
        out.append("a problem needs a statement and at least one hint")
    if not problem.solution.strip():
        out.append("a problem needs a worked solution")
    return out


def verify_family(family: Family, seeds: range) -> FamilyReport:
    report = FamilyReport(family.id, family.topic)
    started = time.perf_counter()
    for seed in seeds:
        report.seeds += 1
        try:
            problem = family.generate(seed)
            report.failures += [f"seed {seed}: {f}" for f in check_problem(family, problem)]
            _count_drops(report, family.mistake_report(seed))
        except Exception as exc:  # a crash is a failure to report, not to hide
            report.failures.append(f"seed {seed}: {type(exc).__name__}: {exc}")
    for tag, d in report.drops.items():
        if d.dropped > DROP_LIMIT * d.applies:
            report.failures.append(
                f"mistake '{tag}' was dropped in {d.dropped} of the {d.applies} seeds where it "
                f"applies ({d.why}): give it a `when` or change it"
            )
    report.seconds = time.perf_counter() - started
    return report


def _count_drops(report: FamilyReport, mistakes: object) -> None:
    if mistakes is None:  # a Python family filters its own mistakes
        return
    for tag in mistakes.applicable:  # type: ignore[attr-defined]
        report.drops.setdefault(tag, Drops()).applies += 1
    for tag, why in mistakes.dropped:  # type: ignore[attr-defined]
        d = report.drops.setdefault(tag, Drops())
        d.dropped += 1
        d.why = d.why or why
