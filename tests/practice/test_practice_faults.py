"""The progress store on a bad day: a damaged database, read-only storage, a home that is
a file. Every store command answers in one line with exit 2, or shows the progress it
can read; nothing is ever written into a database that failed its check.

Read-only storage is real: the commands run in a subprocess that cannot write where the
permission bits say so. The tests may run as root, whom mode bits do not stop (the
``CAP_DAC_OVERRIDE`` capability); then the subprocess drops that capability from its
bounding set before ``exec``, so the kernel enforces mode 555 for it exactly as for an
ordinary user. A fixture checks the drop took effect (a write into the read-only folder
fails) and skips, saying why, where it cannot.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from practice_helpers import DW, FIXTURES
from typer.testing import CliRunner

from dlquiz.cli import app
from dlquiz.practice import scheduler as sched
from dlquiz.practice.store import Store

runner = CliRunner()
COMMANDS = [
    ["stats"],
    ["stats", "--json"],
    ["history"],
    ["history", "--json"],
    ["reset", "--yes"],
    ["practice", "-n", "1", "--family", DW],
]
IDS = [" ".join(c[:2]) for c in COMMANDS]
PR_CAPBSET_DROP = 24  # <linux/prctl.h>
CAP_DAC_OVERRIDE = 1  # <linux/capability.h>


def _populate(path: Path, problems: int = 80) -> None:
    """A database with several pages per table (so a b-tree page can be damaged)."""
    t = datetime(2025, 3, 1, 9, tzinfo=UTC)
    with Store(path) as store:
        sid = store.start_session(mode="adaptive", at=t)
        for i in range(problems):
            at = t + timedelta(minutes=i)
            pid = store.start_problem(family=DW, topic="linear-regression", seed=i, at=at)
            store.record_attempt(
                pid,
                answer=f"4*(w*x + b - y)*x + {i}",
                correct=i % 2 == 0,
                mistake=None if i % 2 == 0 else "lost-factor",
                feedback="a factor of 2 is missing " * 3,
                try_number=1,
                hints=0,
                seconds=3.0,
                at=at,
            )
            outcome = sched.RIGHT if i % 2 == 0 else sched.WRONG
            store.finish_problem(
                pid, outcome=outcome, tries=1, hints=0, seconds=3, solution_viewed=False, at=at
            )
        store.end_session(sid, at=t + timedelta(hours=2), reason="done")


def _digest(folder: Path) -> dict[str, str]:
    """Every file of the folder and its SHA-256, but SQLite's shared-memory index and an
    empty WAL (a reader may create both; neither holds data)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
        and not p.name.endswith("-shm")
        and not (p.name.endswith("-wal") and p.stat().st_size == 0)
    }


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- a damaged database -------------------------------------------------------------------


def _corrupt(path: Path) -> None:
    """Overwrite the b-tree page header of the attempts table's root page (deterministic)."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'attempts'").fetchone()[0]
    conn.close()
    offset = (root - 1) * page_size + (100 if root == 1 else 0)
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(b"\xff" * 12)
    check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:  # the fixture is honest: SQLite itself sees the damage
        rows = check.execute("PRAGMA quick_check").fetchall()
        assert rows != [("ok",)]
    except sqlite3.DatabaseError as exc:
        assert "malformed" in str(exc)
    finally:
        check.close()


@pytest.fixture
def damaged(home) -> Path:
    home.mkdir()
    _populate(home / "progress.db")
    _corrupt(home / "progress.db")
    return home


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_damaged_database_is_one_line_exit_2_and_never_written(damaged, command):
    before = _digest(damaged)
    result = runner.invoke(app, command, input="skip\nq\n")
    assert result.exit_code == 2, result.output
    line = _one_line(result.stderr)
    assert "is damaged" in line and "nothing was written" in line
    if "--json" in command:
        assert "is damaged" in json.loads(result.stdout)["error"]
    else:
        assert result.stdout == ""  # practice: not one problem shown
    assert _digest(damaged) == before
    wal = damaged / "progress.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


# --- DLQUIZ_HOME names a file --------------------------------------------------------------


@pytest.mark.parametrize("below", [False, True], ids=["the-file", "a-folder-under-it"])
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_home_that_is_a_file_is_not_a_folder_for_every_command(
    tmp_path, monkeypatch, command, below
):
    f = tmp_path / "not-a-folder"
    f.write_text("a file")
    monkeypatch.setenv("DLQUIZ_HOME", str(f / "sub" if below else f))
    result = runner.invoke(app, command, input="skip\n")
    assert result.exit_code == 2, result.output
    assert "is not a folder" in _one_line(result.stderr)
    assert f.read_text() == "a file"


# --- read-only storage -----------------------------------------------------------------------


def _drop_override() -> None:  # runs in the child, before exec
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0:
        os._exit(77)


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    """A dlquiz command that the kernel holds to the permission bits (see the docstring)."""
    env = {**os.environ, "DLQUIZ_HOME": str(home), "NO_COLOR": "1"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "dlquiz", *args],
        input="skip\nq\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=_drop_override if os.geteuid() == 0 else None,
    )


def _writes_are_refused(folder: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", f"open({str(folder / 'probe')!r}, 'w')"],
        capture_output=True,
        preexec_fn=_drop_override if os.geteuid() == 0 else None,
    )
    if probe.returncode == 77:
        pytest.skip("running as root and CAP_DAC_OVERRIDE cannot be dropped here")
    if probe.returncode == 0:
        os.unlink(folder / "probe")
        pytest.skip("this process can write into a mode-555 folder: cannot test read-only")


def _open_folder(path: Path) -> None:
    """Let a process without the override reach ``path`` (pytest's tmp is mode 700)."""
    for p in [path, *path.parents]:
        if p == Path(p.anchor):
            break
        p.chmod(p.stat().st_mode | 0o755 if p == path else p.stat().st_mode | 0o711)


@pytest.fixture
def readable_only(tmp_path):  # type: ignore[no-untyped-def]
    """(read-only home, a writable copy of it, how it is read-only)."""
    made = []

    def make(how: str, schema: str = "current") -> tuple[Path, Path]:
        home = tmp_path / f"home-{how}-{schema}"
        home.mkdir()
        if schema == "current":
            _populate(home / "progress.db")
        else:
            conn = sqlite3.connect(home / "progress.db")
            conn.executescript((FIXTURES / "progress-v1.sql").read_text())
            conn.close()
        copy = tmp_path / f"copy-{how}-{schema}"
        shutil.copytree(home, copy)
        _open_folder(home)
        if how == "folder":
            home.chmod(0o555)
        else:
            (home / "progress.db").chmod(0o444)
        made.append(home)
        _writes_are_refused(home if how == "folder" else home / "progress.db")
        return home, copy

    yield make
    for home in made:
        home.chmod(0o755)


def _without_database_path(data: dict) -> dict:
    data = dict(data)
    data.pop("database", None)
    return data


@pytest.mark.parametrize("how", ["folder", "file"])
def test_stats_and_history_show_progress_from_read_only_storage(readable_only, monkeypatch, how):
    home, copy = readable_only(how)
    before = _digest(home)
    monkeypatch.setenv("DLQUIZ_HOME", str(copy))
    for args in (["stats", "--json"], ["history", "--json", "--limit", "100"]):
        ro = _run(home, *args)
        assert ro.returncode == 0, ro.stderr
        assert ro.stderr == ""
        writable = runner.invoke(app, args)
        assert writable.exit_code == 0
        assert _without_database_path(json.loads(ro.stdout)) == _without_database_path(
            json.loads(writable.stdout)
        )
    shown = _run(home, "history", "--limit", "1")
    assert shown.returncode == 0 and DW in shown.stdout
    assert json.loads(_run(home, "stats", "--json").stdout)["problems"] == 80
    assert _digest(home) == before


@pytest.mark.parametrize("how", ["folder", "file"])
def test_practice_and_reset_refuse_read_only_storage_in_one_line(readable_only, how):
    home, _ = readable_only(how)
    before = _digest(home)
    practice = _run(home, "practice", "-n", "1", "--family", DW)
    assert practice.returncode == 2, practice.stderr
    assert "cannot be written" in _one_line(practice.stderr)
    assert practice.stdout == ""  # before the first problem
    reset = _run(home, "reset", "--yes")
    assert reset.returncode == 2, reset.stderr
    assert "read-only" in _one_line(reset.stderr)
    assert _digest(home) == before


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_an_older_schema_on_read_only_storage_needs_a_writable_folder(readable_only, command):
    home, _ = readable_only("folder", schema="v1")
    before = _digest(home)
    result = _run(home, *command)
    assert result.returncode == 2, result.stderr
    line = _one_line(result.stderr)
    if command[0] == "practice":
        assert "cannot be written" in line
    else:  # the commands that open an existing database say why it cannot be read
        assert "needs a writable folder" in line
    assert _digest(home) == before
    assert not list(home.glob("*.bak"))


def test_a_new_database_in_a_read_only_folder(readable_only, tmp_path):
    readable_only("folder")  # (skips where read-only storage cannot be made)
    empty = tmp_path / "empty-home"
    empty.mkdir()
    _open_folder(empty)
    empty.chmod(0o555)
    try:
        stats = _run(empty, "stats")
        assert stats.returncode == 0 and "No practice recorded yet" in stats.stderr
        practice = _run(empty, "practice", "-n", "1", "--family", DW)
        assert practice.returncode == 2
        assert "cannot be written" in _one_line(practice.stderr)
        assert list(empty.iterdir()) == []
    finally:
        empty.chmod(0o755)
