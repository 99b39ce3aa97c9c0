"""Real processes: piped stdin, colour switches, Ctrl-C, kill -9, two sessions at once."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time

import pytest
from practice_helpers import DW, SOFTMAX, dlquiz_cmd, run_dlquiz, wrong_answer

from dlquiz.bank import select
from dlquiz.practice.store import Store

COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|9[0-7]|38;)")  # a foreground colour code
ENV = {"PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}


def _outcomes() -> list[tuple[str, int, str | None]]:
    with Store() as store:
        return [
            (r["family"], r["seed"], r["outcome"])
            for r in store.query("SELECT family, seed, outcome FROM problems ORDER BY id")
        ]


def test_piped_answers_drive_a_session(home):
    ps = select([], [DW, SOFTMAX], 3, 5)
    answers = [ps[0].answer, wrong_answer(ps[1]), ps[1].answer, "skip"]
    r = run_dlquiz(
        "practice",
        "--family",
        DW,
        "--family",
        SOFTMAX,
        "-n",
        "3",
        "--seed",
        "5",
        input="\n".join(answers) + "\n",
        env=ENV,
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    # The transcript shows each answer after its prompt, like a terminal session.
    for a in answers:
        assert f"answer> {a}\n" in r.stdout
    assert r.stdout.count("✓ Right") == 2
    assert "Session summary" in r.stdout
    assert not COLOUR.search(r.stdout)
    assert [o for _, _, o in _outcomes()] == ["right", "right-after-help", "skipped"]


def test_no_color_and_the_no_color_option(home):
    ps = select([], [DW], 1, 0)
    forced = {**ENV, "FORCE_COLOR": "1"}
    args = ["practice", "--family", DW, "-n", "1", "--seed", "0"]
    coloured = run_dlquiz(*args, input=ps[0].answer + "\n", env=forced)
    assert COLOUR.search(coloured.stdout)  # the check below can fail
    plain = run_dlquiz(*args, input=ps[0].answer + "\n", env={**forced, "NO_COLOR": "1"})
    assert plain.returncode == 0 and "✓ Right" in plain.stdout
    assert not COLOUR.search(plain.stdout)
    option = run_dlquiz("--no-color", *args, input=ps[0].answer + "\n", env=forced)
    assert option.returncode == 0 and "✓ Right" in option.stdout
    assert not COLOUR.search(option.stdout)


class Live:
    """A practice process fed one line at a time, its output read as it comes."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            dlquiz_cmd("practice", *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **ENV},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)  # type: ignore[arg-type]  # the output is closed

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def wait_for(self, marker: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(marker in line for line in self.seen):
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"the process ended without printing {marker!r}"
            self.seen.append(line)

    def rest(self) -> str:
        """Everything printed, once the process has closed its output."""
        while (line := self.lines.get(timeout=60)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def test_ctrl_c_prints_the_summary_and_exits_130(home):
    ps = select([], [DW], 3, 8)
    live = Live("--family", DW, "-n", "3", "--seed", "8")
    live.send(ps[0].answer)
    live.wait_for("✓ Right")
    live.send(wrong_answer(ps[1]))
    live.wait_for("✗ Not right")
    live.proc.send_signal(signal.SIGINT)
    assert live.proc.wait(timeout=60) == 130
    out = live.rest()
    stderr = live.proc.stderr.read()  # type: ignore[union-attr]
    assert "Interrupted." in out and "Session summary" in out
    assert "Traceback" not in stderr and "Traceback" not in out
    assert [o for _, _, o in _outcomes()] == ["right", "quit"]


def test_kill_9_loses_no_graded_answer(home):
    ps = select([], [DW, SOFTMAX], 4, 6)
    live = Live("--family", DW, "--family", SOFTMAX, "-n", "4", "--seed", "6")
    live.send(ps[0].answer)
    live.wait_for("✓ Right")
    live.send(wrong_answer(ps[1]))
    live.wait_for("✗ Not right")
    live.proc.kill()  # SIGKILL: no handler, no cleanup
    live.proc.wait(timeout=60)
    with Store() as store:
        answers = [
            (r["answer"], r["correct"])
            for r in store.query("SELECT answer, correct FROM attempts ORDER BY id")
        ]
    assert answers == [(ps[0].answer, 1), (wrong_answer(ps[1]), 0)]
    assert _outcomes() == [(ps[0].id, ps[0].seed, "right"), (ps[1].id, ps[1].seed, None)]
    # The next session goes on from there; history shows the unfinished problem.
    r = run_dlquiz("history", "--json", env=ENV)
    assert '"outcome": "unfinished"' in r.stdout


def test_two_sessions_at_once_lose_nothing(home):
    Store().close()
    n = 8
    runs = []
    for seed in (21, 22):
        ps = select([], [DW, SOFTMAX], n, seed)
        proc = subprocess.Popen(
            dlquiz_cmd(
                "practice", "--family", DW, "--family", SOFTMAX, "-n", str(n), "--seed", str(seed)
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **ENV},
        )
        runs.append((proc, ps))
    for proc, ps in runs:
        # Wrong then right on every problem: 2 answers per problem, 4 writes each.
        lines = [x for p in ps for x in (wrong_answer(p), p.answer)]
        proc.stdin.write("\n".join(lines) + "\n")  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
    for proc, _ in runs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()  # type: ignore[union-attr]
    with Store() as store:
        rows = store.query(
            "SELECT p.family, p.seed, p.session_id, a.answer, a.correct FROM attempts a"
            " JOIN problems p ON p.id = a.problem_id"
        )
        assert store.counts()["sessions"] == 2
        assert store.counts()["problems"] == 2 * n
        reviews = sum(r[0] for r in store.conn.execute("SELECT reviews FROM cards"))
        assert reviews == 2 * n
        seeds = dict(store.conn.execute("SELECT id, seed FROM sessions").fetchall())
    for seed, (_, ps) in zip((21, 22), runs, strict=True):
        mine = [
            (r["family"], r["seed"], r["answer"]) for r in rows if seeds[r["session_id"]] == seed
        ]
        expected = [(p.id, p.seed, x) for p in ps for x in (wrong_answer(p), p.answer)]
        assert sorted(mine) == sorted(expected)


def test_a_terminal_prompt_has_readline_history(home):
    """At a TTY the prompt is readline's: the up arrow recalls the previous line, and the
    lines typed are kept in the history file in the data directory."""
    import select as poll

    pytest.importorskip("readline")
    ps = select([], [DW], 3, 0)
    try:
        master, slave = os.openpty()
    except OSError as exc:  # a sandbox without /dev/ptmx
        pytest.skip(f"no pseudo-terminal: {exc}")
    proc = subprocess.Popen(
        dlquiz_cmd("practice", "--family", DW, "-n", "3", "--seed", "0"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, **ENV, "TERM": "xterm"},
    )
    os.close(slave)
    seen = b""

    def until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while marker not in seen:
            assert time.monotonic() < deadline, f"no {marker!r} in {seen[-400:]!r}"
            if poll.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 65536)
        seen = seen[seen.index(marker) + len(marker) :]

    try:
        until(b"answer> ")
        os.write(master, ps[0].answer.encode() + b"\r")
        until("✓ Right".encode())
        until(b"answer> ")
        os.write(master, b"skip\r")
        until(b"Skipped")
        until(b"answer> ")
        os.write(master, b"\x1b[A\r")  # up arrow recalls "skip"; Enter
        until(b"Session summary")
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        os.close(master)
    with Store() as store:
        outcomes = [o for (o,) in store.conn.execute("SELECT outcome FROM problems ORDER BY id")]
    assert outcomes == ["right", "skipped", "skipped"]
    assert (home / "prompt-history").read_text().splitlines() == [ps[0].answer, "skip", "skip"]
