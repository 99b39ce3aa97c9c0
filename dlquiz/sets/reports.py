"""What grading leaves behind: for the instructor, for each student, for Gradescope.

``write_reports`` writes ``grades.csv`` (student, score, max, one column per question,
then version, file and problems), ``grades.json`` (everything, with the summary),
``feedback/<student>.md`` and ``gradescope/<student>/results.json``, through
``dlquiz.sets.output`` (complete, or marked ``INCOMPLETE``). ``summarize`` is the class at
a glance: mean, median, a histogram of scores, and per question and per topic the success
rate and the most common diagnosed mistake. Sheets that could not be graded are listed,
never averaged in. Student-supplied text (ids, answers, file names) is made safe for each
format: file names are sanitised (bytes that are not UTF-8 shown as ``\\xNN``),
spreadsheet formulas neutralised, Markdown code spans fenced.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlquiz.sets.grade import AnswerResult, SheetResult
from dlquiz.sets.keys import KeySet
from dlquiz.sets.output import ReportFolder

MAX_SHOWN_ANSWER = 300
_MARKS = {
    "right": "✓ right",
    "partial": "◐ partly right",
    "wrong": "✗ wrong",
    "unreadable": "✗ unreadable",
    "missing": "– no answer",
    "timeout": "✗ not judged (time limit)",
    "error": "✗ not judged (error)",
}


def number(x: float | None) -> str:
    """A score for people: 3, 2.5, 0.6667."""
    if x is None:
        return ""
    r = round(float(x), 4)
    return str(int(r)) if r == int(r) else f"{r:g}"


# --- the summary -------------------------------------------------------------------------


HISTOGRAM_BINS = 10  # score bands of 10% of the maximum


def _mistakes(answers: Sequence[AnswerResult]) -> tuple[Counter, dict[str, Any] | None]:
    """The diagnosed mistakes of wrong or partly right answers, and the most common one."""
    tags = Counter(
        a.mistake
        for a in answers
        if a.status in ("wrong", "partial") and a.mistake and a.mistake != "unreadable"
    )
    if not tags:
        return tags, None
    tag, count = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    example = next(a.feedback for a in answers if a.mistake == tag)
    return tags, {"tag": tag, "count": count, "feedback": example}


def _rate(right: int, total: int) -> float | None:
    return round(right / total, 4) if total else None


def histogram(percents: Sequence[float], bins: int = HISTOGRAM_BINS) -> list[dict[str, Any]]:
    """How many sheets scored in each band of the maximum (the last band includes 100%)."""
    width = 100 / bins
    counts = [0] * bins
    for p in percents:
        counts[min(bins - 1, max(0, int(p // width)))] += 1
    return [
        {"from": round(i * width, 2), "to": round((i + 1) * width, 2), "count": c}
        for i, c in enumerate(counts)
    ]


def summarize(keyset: KeySet, results: Sequence[SheetResult]) -> dict[str, Any]:
    """Mean, median, a histogram, and per question and per topic: success rate and the
    most common mistake."""
    graded = [r for r in results if r.graded]
    scores = [r.score or 0.0 for r in graded]
    percents = [100 * (r.score or 0.0) / r.max_score for r in graded if r.max_score]
    titles = keyset.titles()
    questions = []
    for n in keyset.numbers:
        answers = [a for r in graded for a in r.answers if a.number == n]
        right = sum(1 for a in answers if a.status == "right")
        tags, common = _mistakes(answers)
        points = max((a.points for a in answers), default=0)
        questions.append(
            {
                "number": n,
                "title": titles.get(n, ""),
                "points": points,
                "sheets": len(answers),
                "right": right,
                "success_rate": _rate(right, len(answers)),
                "mean_score": round(statistics.fmean(a.score for a in answers), 4)
                if answers
                else None,
                "unanswered": sum(1 for a in answers if a.status == "missing"),
                "unreadable": sum(1 for a in answers if a.status == "unreadable"),
                "not_judged": sum(1 for a in answers if a.status in ("timeout", "error")),
                "mistakes": dict(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))),
                "most_common_mistake": common,
            }
        )
    by_topic: dict[str, list[AnswerResult]] = {}
    numbers: dict[str, set[int]] = {}
    for r in graded:
        for a in r.answers:
            topic = keyset.topic(r.version, a.number)
            by_topic.setdefault(topic, []).append(a)
            numbers.setdefault(topic, set()).add(a.number)
    topics = []
    for topic in sorted(by_topic, key=lambda t: (t == "other", min(numbers[t]), t)):
        answers = by_topic[topic]
        right = sum(1 for a in answers if a.status == "right")
        _, common = _mistakes(answers)
        topics.append(
            {
                "topic": topic,
                "questions": sorted(numbers[topic]),
                "answers": len(answers),
                "right": right,
                "success_rate": _rate(right, len(answers)),
                "most_common_mistake": common,
            }
        )
    every = [a for r in graded for a in r.answers]
    return {
        "sheets": len(results),
        "graded": len(graded),
        "not_graded": len(results) - len(graded),
        "mean": round(statistics.fmean(scores), 4) if scores else None,
        "median": round(statistics.median(scores), 4) if scores else None,
        "mean_percent": round(statistics.fmean(percents), 2) if percents else None,
        "median_percent": round(statistics.median(percents), 2) if percents else None,
        "max_score": max((r.max_score or 0 for r in graded), default=None),
        "timeouts": sum(1 for a in every if a.status == "timeout"),
        "judge_errors": sum(1 for a in every if a.status == "error"),
        "histogram": histogram(percents) if percents else [],
        "questions": questions,
        "topics": topics,
    }


# --- file names ------------------------------------------------------------------------------


def file_names(results: Sequence[SheetResult]) -> list[str]:
    """A safe, unique file name (no extension) per student."""
    names: list[str] = []
    used: set[str] = set()
    for r in results:
        ascii_id = unicodedata.normalize("NFKD", r.student).encode("ascii", "ignore").decode()
        base = re.sub(r"[^\w.-]+", "_", ascii_id, flags=re.ASCII).strip("._") or "student"
        base = base[:80]
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name.lower())
        names.append(name)
    return names


# --- grades.csv ----------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def grades_csv(keyset: KeySet, results: Sequence[SheetResult]) -> str:
    numbers = keyset.numbers
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["student", "score", "max", *[f"q{n}" for n in numbers], "version", "file", "problems"]
    )
    for r in results:
        by_number = {a.number: a for a in r.answers}
        cells = [number(by_number[n].score) if n in by_number and r.graded else "" for n in numbers]
        problems = "; ".join(([r.error] if r.error else []) + r.notes)
        w.writerow(
            [
                _cell(r.student),
                number(r.score) if r.graded else "",
                number(r.max_score),
                *cells,
                "" if r.version is None else r.version,
                _cell(r.path),
                _cell(problems),
            ]
        )
    return buf.getvalue()


# --- feedback -------------------------------------------------------------------------------


def _code(text: str) -> str:
    """An inline Markdown code span holding any text."""
    text = " ".join(text.split())
    if len(text) > MAX_SHOWN_ANSWER:
        text = text[:MAX_SHOWN_ANSWER] + " …"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md(text: str) -> str:
    """Feedback or a title inside Markdown: no raw HTML, no table breaks."""
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", " ".join(text.split()))


def _answer_feedback(a: AnswerResult) -> str:
    if a.status == "right":
        return "Correct."
    if a.status == "missing":
        return "No answer."
    text = a.feedback.strip() or "Not the right answer."
    if a.mistake and a.mistake not in ("unreadable", "timeout", "error", "empty"):
        text += f" (mistake: {a.mistake})"
    return text


def feedback_markdown(keyset: KeySet, result: SheetResult, title: str) -> str:
    titles = keyset.titles()
    lines = [f"# Feedback: {_md(title)}", "", f"**Student:** {_md(result.student)}  "]
    if result.version is not None:
        lines.append(f"**Version:** {result.version}  ")
    if not result.graded:
        lines += [
            "**Score:** not graded",
            "",
            f"Your sheet could not be graded: {_md(result.error or '')}.",
            "Please contact your instructor.",
            "",
        ]
        return "\n".join(lines)
    pct = f" ({100 * (result.score or 0) / result.max_score:.0f}%)" if result.max_score else ""
    lines += [f"**Score:** {number(result.score)} / {number(result.max_score)}{pct}", ""]
    lines += ["| # | Question | Points | Result |", "|---|---|---|---|"]
    for a in result.answers:
        lines.append(
            f"| {a.number} | {_md(titles.get(a.number, ''))} | "
            f"{number(a.score)} / {number(a.points)} | {_MARKS[a.status]} |"
        )
    lines.append("")
    for a in result.answers:
        lines.append(f"## {a.number}. {_md(titles.get(a.number, ''))}")
        lines.append("")
        shown = _code(a.answer) if a.answer else "*(none)*"
        lines.append(f"Your answer: {shown}  ")
        lines.append(
            f"{_MARKS[a.status]}, {number(a.score)} / {number(a.points)}: "
            f"{_md(_answer_feedback(a))}"
        )
        lines.append("")
    if result.notes:
        lines += ["## Notes on your sheet", ""]
        lines += [f"- {_md(n)}" for n in result.notes]
        lines.append("")
    return "\n".join(lines)


def gradescope_results(keyset: KeySet, result: SheetResult) -> dict[str, Any]:
    """Gradescope's autograder ``results.json``: score, max_score and one test per question."""
    titles = keyset.titles()
    if not result.graded:
        return {
            "score": 0,
            "max_score": result.max_score or 0,
            "output": f"This sheet could not be graded: {result.error}",
            "tests": [],
        }
    tests = []
    for a in result.answers:
        answer = " ".join((a.answer or "").split())[:MAX_SHOWN_ANSWER]
        tests.append(
            {
                "name": f"{a.number}. {titles.get(a.number, '')}".strip(),
                "number": str(a.number),
                "score": round(a.score, 4),
                "max_score": a.points,
                "status": "passed" if a.status == "right" else "failed",
                "output": f"Your answer: {answer or '(none)'}\n{_answer_feedback(a)}",
            }
        )
    data: dict[str, Any] = {
        "score": round(result.score or 0.0, 4),
        "max_score": result.max_score,
        "tests": tests,
    }
    if result.notes:
        data["output"] = "\n".join(result.notes)
    return data


# --- writing ----------------------------------------------------------------------------------


def grades_document(
    keyset: KeySet, results: Sequence[SheetResult], summary: dict[str, Any]
) -> dict[str, Any]:
    names = file_names(results)
    students = []
    for r, name in zip(results, names, strict=True):
        data = r.to_json()
        data["feedback"] = f"feedback/{name}.md"
        data["gradescope"] = f"gradescope/{name}/results.json"
        students.append(data)
    return {
        "key": keyset.path,
        "title": keyset.title,
        "summary": summary,
        "students": students,
    }


def write_reports(
    out: str | Path, keyset: KeySet, results: Sequence[SheetResult]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Write every report into ``out`` by ``ReportFolder``'s rules (``grades.csv`` and
    ``grades.json`` last, then ``manifest.json``); returns grades.json's content, the
    files written and notes for the user."""
    summary = summarize(keyset, results)
    document = grades_document(keyset, results, summary)
    title = keyset.title or "Problem set"
    files: dict[str, str] = {}
    for r, name in zip(results, file_names(results), strict=True):
        files[f"feedback/{name}.md"] = feedback_markdown(keyset, r, title)
        files[f"gradescope/{name}/results.json"] = (
            json.dumps(gradescope_results(keyset, r), indent=2, ensure_ascii=False, sort_keys=True)
            + "\n"
        )
    files["grades.json"] = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    files["grades.csv"] = grades_csv(keyset, results)
    written, notes = ReportFolder(out).write(files, last=("grades.json", "grades.csv"))
    return document, written, notes
