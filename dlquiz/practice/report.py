"""What ``dlquiz stats`` and ``dlquiz history`` report, as plain data (JSON-ready dicts).

Definitions (the README repeats them): *accuracy* is the share of problems answered right
the first time without a hint; a *streak* is the number of latest problems in a row
answered so; *mastery* of a family is that share over its latest three problems
(0 if never practised), and a topic's mastery is the mean over its families, so a
topic's bar fills only when every family in it has been right recently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dlquiz.practice import scheduler as sched
from dlquiz.practice.store import Store, parse_timestamp, timestamp

MASTERY_WINDOW = 3
TOP_MISTAKES = 3


def relative(due: datetime | None, now: datetime) -> str:
    """'now', 'in 8 min', 'in 3 h', 'in 2 days', or 'new' for a family never practised."""
    if due is None:
        return "new"
    seconds = (due - now).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 3600:
        return f"in {max(1, round(seconds / 60))} min"
    if seconds < 86400:
        return f"in {round(seconds / 3600)} h"
    days = round(seconds / 86400)
    return f"in {days} day{'s' if days != 1 else ''}"


def _streak(outcomes: Iterable[str]) -> int:
    n = 0
    for o in outcomes:  # newest first
        if o != sched.RIGHT:
            break
        n += 1
    return n


def _mastery(outcomes: list[str]) -> float:
    latest = outcomes[:MASTERY_WINDOW]
    return sum(o == sched.RIGHT for o in latest) / MASTERY_WINDOW if latest else 0.0


def _mistakes(counter: Counter[str]) -> list[dict[str, Any]]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_MISTAKES]
    return [{"tag": tag, "count": n} for tag, n in ranked]


def stats(store: Store | None, now: datetime) -> dict[str, Any]:
    """Per topic and per family: attempts, accuracy, streak, mistakes, due, mastery."""
    from dlquiz.bank import TOPICS, families

    bank = families()
    family_topic = {fid: f.topic for fid, f in bank.items()}
    outcomes: dict[str, list[str]] = {}
    answers: Counter[str] = Counter()
    mistakes: dict[str, Counter[str]] = {}
    last: dict[str, str] = {}
    cards = {}
    if store is not None:
        for row in store.query(
            "SELECT family, topic, outcome, ended_at FROM problems WHERE outcome IS NOT NULL"
            " ORDER BY ended_at DESC, id DESC"
        ):
            family_topic.setdefault(row["family"], row["topic"])
            outcomes.setdefault(row["family"], []).append(row["outcome"])
            last.setdefault(row["family"], row["ended_at"])
        for row in store.query(
            "SELECT p.family, p.topic, a.correct, a.mistake FROM attempts a"
            " JOIN problems p ON p.id = a.problem_id"
        ):
            family_topic.setdefault(row["family"], row["topic"])
            answers[row["family"]] += 1
            if not row["correct"] and row["mistake"]:
                mistakes.setdefault(row["family"], Counter())[row["mistake"]] += 1
        cards = store.cards()

    fam_rows = []
    for fid, topic in family_topic.items():
        seq = outcomes.get(fid, [])
        card = cards.get(fid)
        first = sum(o == sched.RIGHT for o in seq)
        fam_rows.append(
            {
                "family": fid,
                "topic": topic,
                "in_bank": fid in bank,
                "problems": len(seq),
                "answers": answers[fid],
                "right_first_time": first,
                "solved": sum(o in sched.SOLVED for o in seq),
                "accuracy": round(first / len(seq), 4) if seq else None,
                "streak": _streak(seq),
                "mastery": round(_mastery(seq), 4),
                "mistakes": _mistakes(mistakes.get(fid, Counter())),
                "last_practised": last.get(fid),
                "next_due": timestamp(card.due) if card else None,
                "due_in": relative(card.due if card else None, now),
                "retrievability": round(sched.retrievability(card, now), 4) if card else None,
            }
        )
    order = list(TOPICS)
    fam_rows.sort(
        key=lambda r: (order.index(r["topic"]) if r["topic"] in order else len(order), r["family"])
    )

    topic_rows = []
    topic_names = order + sorted({r["topic"] for r in fam_rows} - set(order))
    for topic in topic_names:
        rows = [r for r in fam_rows if r["topic"] == topic]
        seq = [o for fid in (r["family"] for r in rows) for o in outcomes.get(fid, [])]
        recent = _topic_sequence(store, topic) if store is not None else []
        dues = [parse_timestamp(r["next_due"]) for r in rows if r["next_due"]]
        new = sum(1 for r in rows if r["next_due"] is None and r["in_bank"])
        counter: Counter[str] = Counter()
        for r in rows:
            counter.update(mistakes.get(r["family"], Counter()))
        first = sum(o == sched.RIGHT for o in seq)
        in_bank = [r for r in rows if r["in_bank"]] or rows
        earliest = min(dues) if dues else None
        topic_rows.append(
            {
                "topic": topic,
                "families": len(in_bank),
                "practised": sum(1 for r in rows if r["problems"]),
                "problems": len(seq),
                "answers": sum(r["answers"] for r in rows),
                "right_first_time": first,
                "solved": sum(o in sched.SOLVED for o in seq),
                "accuracy": round(first / len(seq), 4) if seq else None,
                "streak": _streak(recent),
                "mastery": round(sum(r["mastery"] for r in in_bank) / len(in_bank), 4)
                if in_bank
                else 0.0,
                "mistakes": _mistakes(counter),
                "new_families": new,
                "next_due": timestamp(earliest) if earliest else None,
                "due_in": _due_in(new, earliest, now) if rows else "–",
            }
        )
    total_problems = sum(r["problems"] for r in fam_rows)
    return {
        "database": str(store.path) if store is not None else None,
        "problems": total_problems,
        "answers": sum(r["answers"] for r in fam_rows),
        "topics": topic_rows,
        "families": fam_rows,
    }


def _due_in(new: int, earliest: datetime | None, now: datetime) -> str:
    """A topic is due now if a family in it has never been practised (FSRS: new is due)."""
    return "now" if new else relative(earliest, now)


def _topic_sequence(store: Store, topic: str) -> list[str]:
    return [
        row["outcome"]
        for row in store.query(
            "SELECT outcome FROM problems WHERE topic = ? AND outcome IS NOT NULL"
            " ORDER BY ended_at DESC, id DESC LIMIT 200",
            (topic,),
        )
    ]


def history(store: Store | None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest problems, newest first, each with the answers given to it.

    ``older_bank`` is true when the problem was built by another version of its family
    than the installed one (or before versions were recorded, or by a family no longer
    in the bank): ``dlquiz show FAMILY --seed N`` may now show another problem.
    """
    if store is None:
        return []
    from dlquiz.bank import families

    bank = families()
    problems = store.query(
        "SELECT id, session_id, family, topic, seed, shown_at, ended_at, outcome, rating,"
        " tries, hints, seconds, solution_viewed, family_version FROM problems"
        " ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    ids = [p["id"] for p in problems]
    answers: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        marks = ",".join("?" * len(ids))
        for a in store.query(
            "SELECT problem_id, at, answer, correct, mistake, feedback, try_number, hints,"
            f" seconds FROM attempts WHERE problem_id IN ({marks}) ORDER BY id",
            ids,
        ):
            answers[a["problem_id"]].append(
                {
                    "answer": a["answer"],
                    "correct": bool(a["correct"]),
                    "mistake": a["mistake"],
                    "feedback": a["feedback"],
                    "try": a["try_number"],
                    "hints": a["hints"],
                    "seconds": round(a["seconds"], 1),
                    "at": a["at"],
                }
            )
    return [
        {
            "id": p["id"],
            "session": p["session_id"],
            "family": p["family"],
            "topic": p["topic"],
            "seed": p["seed"],
            "shown_at": p["shown_at"],
            "ended_at": p["ended_at"],
            "outcome": p["outcome"] or "unfinished",
            "rating": p["rating"],
            "tries": p["tries"] if p["outcome"] else len(answers[p["id"]]),
            "hints": p["hints"],
            "seconds": round(p["seconds"], 1) if p["seconds"] is not None else None,
            "solution_viewed": bool(p["solution_viewed"]),
            "family_version": p["family_version"],
            "older_bank": p["family"] not in bank
            or p["family_version"] != bank[p["family"]].version,
            "answers": answers[p["id"]],
        }
        for p in problems
    ]


# --- CSV (`stats --csv`, `history --csv`) ------------------------------------------------

STATS_COLUMNS = ("family", "topic", "problems", "accuracy", "streak", "mastery", "next_due")
HISTORY_COLUMNS = (
    *("problem", "session", "family", "seed", "outcome", "try", "answer", "correct"),
    *("mistake", "hints", "seconds", "time"),
)


def _csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV whose text cells a spreadsheet shows as text (the defusing of ``grades.csv``)."""
    import csv
    import io

    from dlquiz.sets.reports import _cell as spreadsheet_text

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(
            ["" if v is None else spreadsheet_text(v) if isinstance(v, str) else v for v in row]
        )
    return buf.getvalue()


def stats_csv(data: dict[str, Any]) -> str:
    """One row per family of ``stats``: its topic, problems, accuracy, streak, mastery, due."""
    return _csv(
        STATS_COLUMNS,
        ([f[c] for c in STATS_COLUMNS] for f in data["families"]),
    )


def history_csv(problems: list[dict[str, Any]]) -> str:
    """One row per answer of ``history`` (newest problem first, its answers in order).

    A problem that ended without an answer (skipped, solution viewed, unfinished) has one
    row with its outcome and empty answer cells, so no problem is missing.
    """
    rows = []
    for p in problems:
        head = [p["id"], p["session"], p["family"], p["seed"], p["outcome"]]
        if not p["answers"]:
            when = p["ended_at"] or p["shown_at"]
            rows.append([*head, None, None, None, None, p["hints"], p["seconds"], when])
        for a in p["answers"]:
            correct = "yes" if a["correct"] else "no"
            rows.append(
                [
                    *head,
                    a["try"],
                    a["answer"],
                    correct,
                    a["mistake"],
                    a["hints"],
                    a["seconds"],
                    a["at"],
                ]
            )
    return _csv(HISTORY_COLUMNS, rows)
