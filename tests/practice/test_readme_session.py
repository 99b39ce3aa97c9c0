"""The README's 8-problem adaptive session at 80 columns is what `dlquiz practice` prints.

The session is replayed exactly: a fresh DLQUIZ_HOME, a frozen clock, a timer that moves
7 s per reading, and answers piped in. A first pass through the Python API finds the
problems the adaptive mode picks and the lines a student types for each; the second pass
is the command itself. Set DLQUIZ_WRITE_README=1 to write the transcript into README.md.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from practice_helpers import FixedClock, wrong_answer
from rich.cells import cell_len
from typer.testing import CliRunner

from dlquiz.cli import app, practice_cmds
from dlquiz.practice.session import AdaptivePicker, Display, Session, SessionInfo
from dlquiz.practice.store import Store

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- transcript: adaptive-session -->", "<!-- /transcript -->"
COMMAND = ["practice", "-n", "8"]
START = datetime(2025, 3, 10, 18, 30, tzinfo=UTC)
# What the student does at each problem: R right, W a wrong answer, ? a hint, ! the solution.
SCRIPT = {1: "R", 2: "W?R", 3: "R", 4: "?R", 5: "skip", 6: "R", 7: "WWW", 8: "!"}
SHOWN_HOME = "~/.local/share/dlquiz"


class Student(Display):
    """Types the script's lines for whatever problem the session shows."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.pending: list[str] = []
        self.position = 0

    def problem(self, problem, position, total):  # type: ignore[no-untyped-def]
        self.position = position
        script = SCRIPT[position]
        moves = [script] if script == "skip" else list(script)
        wrong = iter(_wrong_answers(problem))
        self.pending = [
            problem.answer if m == "R" else next(wrong) if m == "W" else m for m in moves
        ]

    def read(self, prompt: str) -> str:
        if not self.pending:
            raise EOFError
        line = self.pending.pop(0)
        self.lines.append(line)
        return line


def _wrong_answers(problem) -> list[str]:  # type: ignore[no-untyped-def]
    """Wrong answers a student might type: the problem's known mistakes, shortest first."""
    candidates = sorted({m["answer"] for m in problem.mistakes}, key=lambda t: (len(t), t))
    found = []
    for text in candidates:
        verdict = problem.check(text)
        if not verdict.equivalent and not verdict.unusable:
            found.append(text)
    fallback = wrong_answer(problem)
    return [*found, fallback, fallback, fallback]


def _timer():  # type: ignore[no-untyped-def]
    ticks = count()
    return lambda: 7.0 * next(ticks)


def _typed_lines(home: Path, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The first pass: the session through the Python API, in its own database."""
    monkeypatch.setenv("DLQUIZ_HOME", str(home))
    clock = FixedClock(START)
    student = Student()
    with Store() as store:
        picker = AdaptivePicker([], [], 8, seed=0, clock=clock)
        info = SessionInfo("adaptive", 8, None)
        Session(store, picker, student, student, info=info, clock=clock, timer=_timer()).run()
    return student.lines


def request_cleanup(path: Path) -> None:
    import atexit
    import shutil

    atexit.register(shutil.rmtree, path, True)


def transcript(tmp_path: Path, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    lines = _typed_lines(tmp_path / "first", monkeypatch)
    # a short data directory, so the last line reads as it does at home
    home = Path(tempfile.mkdtemp(prefix="dq", dir="/tmp" if Path("/tmp").is_dir() else None))
    request_cleanup(home)
    monkeypatch.setenv("DLQUIZ_HOME", str(home))
    monkeypatch.setattr(practice_cmds, "CLOCK", FixedClock(START))
    monkeypatch.setattr(practice_cmds, "TIMER", _timer())
    r = CliRunner().invoke(
        app, COMMAND, input="".join(f"{x}\n" for x in lines), env={"COLUMNS": "80"}
    )
    assert r.exit_code == 0, r.output
    out = r.stdout.replace(str(home), SHOWN_HOME)
    return "$ dlquiz " + " ".join(COMMAND) + "\n" + "\n".join(x.rstrip() for x in out.splitlines())


def _block(text: str) -> re.Match:
    m = re.search(re.escape(BEGIN) + r"\n```text\n(.*?)```\n" + re.escape(END), text, re.S)
    assert m, "the README has no adaptive-session transcript"
    return m


def _readme_block(text: str) -> str:
    return _block(text).group(1).rstrip("\n")


def test_the_readme_shows_the_session_dlquiz_prints(tmp_path, monkeypatch) -> None:
    shown = transcript(tmp_path, monkeypatch)
    text = README.read_text(encoding="utf-8")
    if os.environ.get("DLQUIZ_WRITE_README"):
        m = _block(text)
        text = text[: m.start(1)] + shown + "\n" + text[m.end(1) :]
        README.write_text(text, encoding="utf-8")
        text = README.read_text(encoding="utf-8")
    assert _readme_block(text) == shown
    # what the README promises about it
    assert "Adaptive practice: 8 problems" in shown
    topics = re.findall(r"^╭─ \d\. ([a-z-]+)/", shown, flags=re.M)
    assert len(topics) == 8 and len(set(topics)) >= 4
    # every line fits, except what the student typed (an answer is not wrapped)
    assert all(cell_len(x) <= 80 for x in shown.splitlines() if not x.startswith("answer> "))
