"""Grading a class: every sheet's answers against its version's key, by the judge.

Each answer is judged by ``dlquiz.judge.check`` with the question's prepared key and
tolerance; a vector or matrix of numbers earns the fraction of its entries that are right
(the judge's per-entry verdicts). The work runs in a pool of worker processes with a time
limit per answer (``dlquiz.sets.pool``), so one hostile answer costs its own question and
nothing else. Results come back in a fixed order whatever the scheduling.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlquiz.sets.keys import KeySet, Question
from dlquiz.sets.sheets import Sheet, read_sheet, shown, student_from_path

DEFAULT_TIMEOUT = 10.0  # seconds per answer; the judge's own symbolic limit is 2 s


@dataclass
class AnswerResult:
    """One question of one sheet."""

    number: int
    points: float
    score: float = 0.0
    status: str = "missing"  # right, partial, wrong, unreadable, missing, timeout or error
    answer: str | None = None
    mistake: str | None = None
    feedback: str = "no answer"
    entries: list[list[bool]] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "answer": self.answer,
            "status": self.status,
            "score": round(self.score, 6),
            "points": self.points,
            "mistake": self.mistake,
            "feedback": self.feedback,
        }
        if self.entries is not None:
            data["entries"] = self.entries
        return data


@dataclass
class SheetResult:
    """One student's sheet: graded (``score`` set) or reported (``error`` set)."""

    student: str
    path: str
    version: int | None = None
    score: float | None = None
    max_score: float | None = None
    answers: list[AnswerResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def graded(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "file": self.path,
            "version": self.version,
            "graded": self.graded,
            "score": None if self.score is None else round(self.score, 6),
            "max_score": self.max_score,
            "error": self.error,
            "notes": self.notes,
            "answers": [a.to_json() for a in self.answers],
        }


# --- one answer --------------------------------------------------------------------------


# An answer that breaks one of the judge's limits is the answer's problem, not the judge's:
# ``unreadable`` with the reason. Any other exception is a bug in the judge: ``error``.
_LIMITS: dict[type[BaseException], str] = {
    RecursionError: "the answer is nested too deeply to check",
    OverflowError: "a number in the answer is too large to check",
    MemoryError: "the answer is too large to check (it ran out of memory)",
}


def _limit_reason(exc: BaseException) -> str:
    reason = next(why for kind, why in _LIMITS.items() if isinstance(exc, kind))
    detail = " ".join(str(exc).split())[:120]
    return f"{reason} ({detail})" if detail else reason


def judge_answer(question: Question, prepared: Any, text: str) -> AnswerResult:
    """The judge's verdict on one answer, as points."""
    from dlquiz.judge import check

    points = question.points
    try:
        verdict = check(text, prepared, tolerance=question.tolerance)
    except tuple(_LIMITS) as exc:
        return AnswerResult(
            number=question.number,
            points=points,
            status="unreadable",
            answer=text,
            mistake="unreadable",
            feedback=_limit_reason(exc),
        )
    if verdict.equivalent:
        score, status = float(points), "right"
    else:
        score = max(0.0, min(1.0, float(verdict.score))) * points
        if verdict.unusable:
            status = "unreadable"
        elif score > 0:
            status = "partial"
        else:
            status = "wrong"
    return AnswerResult(
        number=question.number,
        points=points,
        score=score,
        status=status,
        answer=text,
        mistake=verdict.mistake,
        feedback=verdict.feedback,
        entries=verdict.entries,
    )


class AnswerGrader:
    """The worker side: (version, question number, answer text) -> ``AnswerResult``.

    Keys are prepared lazily in each worker (with ``fork`` they arrive already prepared
    by the parent's check of the key file).
    """

    def __init__(self, keyset: KeySet) -> None:
        self.keyset = keyset
        self._prepared: dict[tuple[int | None, int], Any] = {}

    def __getstate__(self) -> dict[str, Any]:  # for ``spawn``: send the data, not the cache
        return {"keyset": self.keyset, "_prepared": {}}

    def __call__(self, item: tuple[int | None, int, str]) -> AnswerResult:
        version, number, text = item
        key = self.keyset.keys[version]
        question = key.question(number)
        assert question is not None
        slot = (version, number)
        if slot not in self._prepared:
            self._prepared[slot] = question.prepare()
        return judge_answer(question, self._prepared[slot], text)


def _reset_symbolic_worker() -> None:
    """After an interrupted answer the judge's SymPy worker may hold a stale reply."""
    from dlquiz.judge import worker as symbolic

    symbolic.restart()


def _start_grader() -> None:
    """In each grading process: its own SymPy worker, and no warnings on stderr.

    A forked grader must not talk to the parent's SymPy worker through the inherited
    pipe; NumPy's overflow warnings on hostile answers would flood the terminal.
    """
    from dlquiz.judge import worker as symbolic

    symbolic.forget_inherited()
    warnings.simplefilter("ignore")


# --- a batch -------------------------------------------------------------------------------


def assign_students(sheets: Sequence[Sheet]) -> list[str]:
    """A unique id per sheet: the ``# student:`` line, else the file name."""
    ids: list[str] = []
    used: set[str] = set()
    for sheet in sheets:
        base = sheet.student or student_from_path(sheet.path) or "student"
        sid, k = base, 2
        while sid in used:
            sid, k = f"{base}~{k}", k + 1
        if sid != base:
            sheet.note(f"another sheet also belongs to '{base}': this one is listed as '{sid}'")
        used.add(sid)
        ids.append(sid)
    return ids


def prepare_results(keyset: KeySet, sheets: Sequence[Sheet]) -> tuple[list[SheetResult], list]:
    """The results to fill in, and the jobs (one per sheet with answers to judge)."""
    results: list[SheetResult] = []
    jobs: list[tuple[int, list[tuple[int | None, int, str]]]] = []
    for sheet, sid in zip(sheets, assign_students(sheets), strict=True):
        result = SheetResult(sid, shown(sheet.path), sheet.version, notes=list(sheet.notes))
        results.append(result)
        if sheet.error is not None:
            result.error = sheet.error
            continue
        key, why = keyset.for_version(sheet.version)
        if key is None:
            result.error = why
            continue
        result.version = key.version
        result.max_score = key.max_score
        numbers = {q.number for q in key.questions}
        unknown = sorted(n for n in sheet.answers if n not in numbers)
        if unknown:
            listed = ", ".join(map(str, unknown[:6])) + (" ..." if len(unknown) > 6 else "")
            result.notes.append(
                f"answers to question(s) the set does not have are ignored: {listed}"
            )
        items = []
        for q in key.questions:
            text = sheet.answers.get(q.number, "")
            result.answers.append(AnswerResult(q.number, q.points))
            if text.strip():
                result.answers[-1].answer = text
                items.append((key.version, q.number, text))
        jobs.append((len(results) - 1, items))
    return results, jobs


def grade_sheets(
    keyset: KeySet,
    sheets: Sequence[Sheet],
    *,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int], None] | None = None,
) -> list[SheetResult]:
    """Grade every sheet. ``progress(k)`` is called as sheets complete (k of them so far)."""
    from dlquiz.sets.pool import default_processes, run_jobs

    results, work = prepare_results(keyset, sheets)
    per_job = [items for _, items in work]
    remaining = [len(items) for items in per_job]
    done = sum(1 for r in results if not r.graded) + sum(1 for n in remaining if n == 0)
    if progress:
        progress(done)
    if any(per_job):
        outcomes = run_jobs(
            per_job,
            AnswerGrader(keyset),
            processes=jobs or default_processes(),
            timeout=timeout,
            reset=_reset_symbolic_worker,
            init=_start_grader,
        )
        with closing(outcomes):  # on any exception (Ctrl-C) the workers go at once
            for outcome in outcomes:
                sheet_index, items = work[outcome.job]
                _, number, text = items[outcome.index]
                result = results[sheet_index]
                slot = next(i for i, a in enumerate(result.answers) if a.number == number)
                result.answers[slot] = _from_outcome(outcome, result.answers[slot], text, timeout)
                remaining[outcome.job] -= 1
                if remaining[outcome.job] == 0:
                    done += 1
                    if progress:
                        progress(done)
    for result in results:
        if result.graded:
            result.score = sum(a.score for a in result.answers)
            for status, why in (("timeout", "in time"), ("error", "(the judge failed)")):
                stopped = [str(a.number) for a in result.answers if a.status == status]
                if stopped:
                    result.notes.append(
                        f"question(s) {', '.join(stopped)} could not be judged {why} "
                        "and earn no points"
                    )
    return results


def _from_outcome(outcome: Any, blank: AnswerResult, text: str, timeout: float) -> AnswerResult:
    if outcome.status == "ok":
        return outcome.value
    blank.answer = text
    blank.score = 0.0
    if outcome.status == "timeout":
        blank.status, blank.mistake = "timeout", "timeout"
        blank.feedback = f"the answer could not be judged within {timeout:g} s"
    else:
        blank.status, blank.mistake = "error", "error"
        blank.feedback = f"the answer could not be judged ({outcome.value})"
    return blank


def grade_paths(
    keyset: KeySet,
    paths: Sequence[str | Path],
    *,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[int], None] | None = None,
) -> list[SheetResult]:
    """Read the sheet files and grade them (see ``grade_sheets``)."""
    sheets = [read_sheet(p) for p in paths]
    return grade_sheets(keyset, sheets, jobs=jobs, timeout=timeout, progress=progress)
