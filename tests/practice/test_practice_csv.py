"""`stats --csv` and `history --csv`: spreadsheet-safe rows on stdout."""

from __future__ import annotations

import csv
import io

from practice_helpers import DW
from typer.testing import CliRunner

from dlquiz.bank import families, plan
from dlquiz.cli import app

runner = CliRunner()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _practise() -> list:
    """Two problems of DW: the first answered '-w' (wrong) then right, the second skipped."""
    problems = [f.generate(s) for f, s in plan([], [DW], 2, 6)]
    lines = ["-w", problems[0].answer, "skip"]
    r = runner.invoke(
        app, ["practice", "-f", DW, "-n", "2", "-s", "6"], input="\n".join(lines) + "\n"
    )
    assert r.exit_code == 0, r.output
    return problems


def test_history_csv_has_one_row_per_answer_and_defuses_formulas(home) -> None:
    problems = _practise()
    r = runner.invoke(app, ["history", "--csv"])
    assert r.exit_code == 0, r.output
    header = r.stdout.splitlines()[0].split(",")
    assert header == [
        *("problem", "session", "family", "seed", "outcome", "try", "answer", "correct"),
        *("mistake", "hints", "seconds", "time"),
    ]
    rows = _rows(r.stdout)
    # newest problem first: the skipped one has no answer, one row with its outcome
    assert [(x["seed"], x["outcome"], x["try"], x["answer"]) for x in rows] == [
        (str(problems[1].seed), "skipped", "", ""),
        (str(problems[0].seed), "right-after-help", "1", "'-w"),
        (str(problems[0].seed), "right-after-help", "2", problems[0].answer),
    ]
    assert [x["correct"] for x in rows] == ["", "no", "yes"]
    assert all(x["family"] == DW and x["session"] == "1" and x["time"] for x in rows)
    assert not r.stderr


def test_history_csv_follows_the_limit(home) -> None:
    _practise()
    rows = _rows(runner.invoke(app, ["history", "--csv", "-n", "1"]).stdout)
    assert [x["outcome"] for x in rows] == ["skipped"]


def test_stats_csv_has_one_row_per_family(home) -> None:
    problems = _practise()
    r = runner.invoke(app, ["stats", "--csv"])
    assert r.exit_code == 0, r.output
    rows = _rows(r.stdout)
    assert list(rows[0]) == [
        "family",
        "topic",
        "problems",
        "accuracy",
        "streak",
        "mastery",
        "next_due",
    ]
    assert [x["family"] for x in rows] == list(families())
    (dw,) = [x for x in rows if x["family"] == DW]
    assert dw["topic"] == "linear-regression" and dw["problems"] == str(len(problems))
    assert dw["accuracy"] == "0.0" and dw["streak"] == "0" and dw["next_due"]
    other = next(x for x in rows if x["family"] != DW)
    assert other["problems"] == "0" and other["accuracy"] == "" and other["next_due"] == ""


def test_csv_without_any_practice_and_with_json(home) -> None:
    r = runner.invoke(app, ["history", "--csv"])
    assert r.exit_code == 0 and r.stdout.startswith("problem,session,")
    assert _rows(r.stdout) == []
    r = runner.invoke(app, ["stats", "--csv", "--json"])
    assert r.exit_code == 2 and "cannot be combined" in r.stderr
