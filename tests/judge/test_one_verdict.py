"""One verdict everywhere: ``check``, practice and ``grade`` agree on the whole corpus.

Every labelled pair of benchmarks/judge_corpus.toml becomes a question: judged by
``dlquiz check`` (the command), answered in a practice session (one try each, through
the session loop and the progress database) and graded on an answer sheet by the real
``dlquiz grade`` process with its worker processes. The three verdicts must be the same,
and right; then again with the test switch that sends every float difference to SymPy
(which then decides some pairs wrongly: it cannot compare vectors, nor see a domain),
so the confirmation inside grading workers is held to the same verdict as ``check``'s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlquiz.bank import Problem
from dlquiz.cli import app
from dlquiz.core.vars import Namespace
from dlquiz.judge import prepare
from dlquiz.practice.session import ScriptedInput, Session, SessionInfo
from dlquiz.practice.store import Store

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "judge_corpus.toml"
PAIRS = [
    p
    for p in tomllib.loads(CORPUS.read_text(encoding="utf-8"))["pair"]
    if "\n" not in p["answer"] and "#" not in p["answer"]  # one line of a sheet each
]
runner = CliRunner()


def _problem(i: int, pair: dict) -> Problem:
    specs = Namespace.from_specs(pair["vars"]).as_dict()
    kind = prepare(pair["expected"], kind=pair.get("kind", "auto"), vars=pair["vars"]).kind
    return Problem(
        id=f"corpus/{i}",
        seed=0,
        topic="autograd",
        kind=kind,
        statement="a corpus pair",
        statement_latex="a corpus pair",
        answer=pair["expected"],
        vars=specs,
        title=f"pair {i}",
    )


PROBLEMS = [_problem(i, p) for i, p in enumerate(PAIRS)]


def _check_command(i: int) -> bool:
    pair, problem = PAIRS[i], PROBLEMS[i]
    args = ["check", pair["answer"], "-e", pair["expected"], "--kind", problem.kind, "--json"]
    for spec in pair["vars"]:
        args += ["--var", spec]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["equivalent"]


class _Listed:
    """Hands the session the corpus problems in order."""

    def __init__(self) -> None:
        self.queue = list(PROBLEMS)
        self.total = len(PROBLEMS)

    def next(self, store, previous):  # type: ignore[no-untyped-def]
        return self.queue.pop(0) if self.queue else None


def _practice(tmp_path: Path) -> list[bool]:
    store = Store(tmp_path / "progress.db")
    answers = ScriptedInput([p["answer"] for p in PAIRS])
    info = SessionInfo(mode="random", n=len(PROBLEMS), seed=0)
    Session(store, _Listed(), answers, info=info, max_tries=1).run()
    rows = store.query(
        "SELECT p.family, a.correct FROM attempts a JOIN problems p ON p.id = a.problem_id "
        "ORDER BY a.id"
    )
    verdicts = {int(family.split("/")[1]): bool(correct) for family, correct in rows}
    assert len(verdicts) == len(PAIRS), "every corpus answer was judged once in practice"
    return [verdicts[i] for i in range(len(PAIRS))]


def _grade(tmp_path: Path, env: dict[str, str]) -> list[bool]:
    key = {
        "format": 1,
        "title": "corpus",
        "questions": [
            {
                "number": i + 1,
                "id": p.id,
                "kind": p.kind,
                "answer": p.answer,
                "vars": p.vars,
                "points": 1,
            }
            for i, p in enumerate(PROBLEMS)
        ],
    }
    (tmp_path / "key.json").write_text(json.dumps(key))
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    lines = [f"{i + 1}: {p['answer']}" for i, p in enumerate(PAIRS)]
    (sheets / "student.txt").write_text("\n\n".join(lines) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "dlquiz", "grade", str(tmp_path / "key.json"), str(sheets),
         "-o", str(tmp_path / "grades"), "--json", "-j", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1", **env},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (student,) = json.loads(proc.stdout)["students"]
    statuses = [a["status"] for a in student["answers"]]
    assert all(s in ("right", "wrong", "partial") for s in statuses), statuses
    return [s == "right" for s in statuses]


@pytest.mark.parametrize("forced", [False, True], ids=["floats", "sympy-confirms"])
def test_check_practice_and_grade_give_one_verdict(tmp_path, monkeypatch, forced):
    env = {"DLQUIZ_FORCE_SYMBOLIC": "1", "DLQUIZ_TIMEOUT": "20"} if forced else {}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if forced:
        from dlquiz.judge import worker

        monkeypatch.setattr(worker, "DEFAULT_TIMEOUT", 20.0)
    labels = [p["equivalent"] for p in PAIRS]
    checked = [_check_command(i) for i in range(len(PAIRS))]
    practised = _practice(tmp_path)
    graded = _grade(tmp_path, env)
    for i, pair in enumerate(PAIRS):
        where = f"{pair['answer']!r} against {pair['expected']!r}"
        if not forced:  # forced, SymPy alone decides what floats do not: not always right
            assert checked[i] is labels[i], f"check is wrong on {where}"
        assert practised[i] is checked[i], f"practice differs from check on {where}"
        assert graded[i] is checked[i], f"grade differs from check on {where}"
