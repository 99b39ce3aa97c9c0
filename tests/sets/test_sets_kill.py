"""``grade`` killed with SIGKILL in every phase: the report is complete or says it is not,
nothing stale stays, and no process it started survives it.

One class of 1,000 sheets (generated once, with answers that make the grading workers
start SymPy workers of their own) is graded again and again into one ``--out`` that also
holds the instructor's own files, alternately all of it against its key and 900 of its
sheets against the same key under another title, so every run rewrites every file and
stale files of an earlier run would show. Two complete runs (the second over the first's
report, which it must clean of 100 students) time each phase; then each
phase (reading, judging, writing the report) is killed 6 times, at its start (its own
line on stderr) plus a delay spread over the phase's length. After each kill:

- ``INCOMPLETE`` is present, or the report is complete: ``manifest.json`` matches every
  file, and no report file is absent from it (nothing stale);
- either way every JSON file parses and no file is empty (no file is ever partial);
- no process started by ``grade`` is alive 2 s after the kill (found by an environment
  tag every child inherits, so also those started after any snapshot).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sets_helpers import TAG_VARIABLE, tagged_processes

from dlquiz.sets.output import INCOMPLETE, MANIFEST, PARTIAL_SUFFIX, listed, verify

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs Linux's /proc"),
]

KILLS_PER_PHASE = 6
PHASES = ("reading", "judging", "writing")
USER_FILES = ("notes-by-the-instructor.txt", "feedback/README-mine.txt")
KEY = {
    "title": "Kill test",
    "questions": [
        {"number": 1, "kind": "expression", "answer": "-log(1+exp(-30*x))", "vars": {"x": ""}},
        {"number": 2, "kind": "expression", "answer": "2*x*w", "vars": {"x": "", "w": ""}},
        {"number": 3, "kind": "integer", "answer": "14", "topic": "cnn"},
        {"number": 4, "kind": "numbers", "answer": "[0.25, 0.75]", "topic": "softmax"},
    ],
}


def _answers(i: int) -> str:
    first = "log(sigmoid(30*x))" if i % 40 == 0 else ("-log(1+exp(-30*x))", "x", "(")[i % 3]
    second = ("w*x*2", "x*w", "2*x*w + 0")[i % 3]
    return f"# student: s{i:04d}\n1: {first}\n2: {second}\n3: {14 + i % 2}\n4: [0.25, 0.75]\n"


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kill")
    (root / "key.json").write_text(json.dumps(KEY))
    # the same key under another title: every feedback file changes from run to run, so
    # each run rewrites the whole report (a re-run of the same key keeps unchanged files)
    (root / "key-b.json").write_text(json.dumps(KEY | {"title": "Kill test, again"}))
    for i in range(1000):
        folder = root / "class" / ("a" if i < 900 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"s{i:04d}.txt").write_text(_answers(i))
    return root


def _command(klass: Path, out: Path, run: int) -> list[str]:
    sheets = klass / "class" if run % 2 == 0 else klass / "class" / "a"
    key = klass / ("key.json" if run % 2 == 0 else "key-b.json")
    grade = [sys.executable, "-m", "dlquiz", "grade", str(key), str(sheets)]
    return [*grade, "--out", str(out), "--jobs", "2"]


def _run(klass: Path, out: Path, run: int, phase: str | None, delay: float) -> dict[str, float]:
    """One run of grade; killed ``delay`` s after ``phase`` starts (None: to the end).

    Returns when each phase started (seconds from the start), when the run ended, and
    ``landed``: 1.0 when the kill came inside ``phase`` (the process died by it before
    it announced the next phase)."""
    tag = uuid.uuid4().hex
    started = time.monotonic()
    proc = subprocess.Popen(
        _command(klass, out, run),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # the switch sends log(sigmoid(30*x)) to SymPy: grading workers start SymPy workers
        env={**os.environ, TAG_VARIABLE: tag, "NO_COLOR": "1", "DLQUIZ_FORCE_SYMBOLIC": "1"},
    )
    assert proc.stderr is not None
    times: dict[str, float] = {}
    lines: list[str] = []
    try:
        for line in proc.stderr:
            lines.append(line)
            for name in PHASES:
                if line.startswith(f"grading: {name}"):
                    times[name] = time.monotonic() - started
                    if name == phase:
                        time.sleep(delay)
                        proc.send_signal(signal.SIGKILL)
            if phase is not None and phase in times:
                break
        proc.wait(timeout=300)
        ended = time.monotonic()
        lines += proc.stderr.read().splitlines(keepends=True)  # written before it died
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    times["end"] = ended - started
    if phase is None:
        assert proc.returncode == 0, "".join(lines)
        times["landed"] = 0.0
    else:
        following = PHASES[PHASES.index(phase) + 1 :][:1]
        later = any(line.startswith(f"grading: {n}") for n in following for line in lines)
        times["landed"] = float(proc.returncode == -signal.SIGKILL and not later)
    # nothing it started outlives it by more than 2 s
    while tagged_processes(tag) and time.monotonic() - ended < 2.0:
        time.sleep(0.05)
    assert tagged_processes(tag) == [], f"alive 2 s after the end of a run killed in {phase}"
    return times


def _check_state(out: Path, expected_students: int | None) -> bool:
    """The folder's state is one the rules allow; True when the report is complete."""
    files = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    for rel in USER_FILES:
        assert files.pop(rel).read_text() == f"mine: {rel}"
    for rel, path in files.items():
        if rel.endswith(PARTIAL_SUFFIX):
            continue  # a temporary name: never a report file
        assert path.stat().st_size > 0, f"{rel} is empty"
        if rel.endswith(".json"):
            json.loads(path.read_text(encoding="utf-8"))  # never partial
    if (out / INCOMPLETE).exists():
        return False
    assert verify(out) == [], verify(out)
    report = {r for r in files if not r.endswith(PARTIAL_SUFFIX)}
    assert report == set(listed(out)) | {MANIFEST}, "stale files beside a complete report"
    # the only temporary name a kill can leave beside a complete report (killed while
    # writing INCOMPLETE itself, before it was renamed into place)
    assert {r for r in files if r.endswith(PARTIAL_SUFFIX)} <= {f".{INCOMPLETE}{PARTIAL_SUFFIX}"}
    if expected_students is not None:
        students = json.loads((out / "grades.json").read_text())["students"]
        assert len(students) == expected_students
    return True


def test_sigkill_in_every_phase_leaves_a_true_report_and_no_process(klass, tmp_path):
    out = tmp_path / "out"
    (out / "feedback").mkdir(parents=True)
    for rel in USER_FILES:
        (out / rel).write_text(f"mine: {rel}")
    _run(klass, out, 0, None, 0.0)
    assert _check_state(out, 1000)
    baseline = _run(klass, out, 1, None, 0.0)  # a re-run over a report: as the kills meet
    assert _check_state(out, 900)  # the 100 sheets of the first run left no file behind
    lengths = {
        "reading": baseline["judging"] - baseline["reading"],
        "judging": baseline["writing"] - baseline["judging"],
        "writing": baseline["end"] - baseline["writing"],
    }
    landed = {p: 0 for p in PHASES}
    complete: dict[str, list[bool]] = {p: [] for p in PHASES}
    run = 2
    for phase in PHASES:
        for k in range(KILLS_PER_PHASE):
            delay = lengths[phase] * k / KILLS_PER_PHASE
            for _ in range(6):  # a faster run than the timed one: the kill came late, again
                times = _run(klass, out, run, phase, delay)
                run += 1
                complete[phase].append(_check_state(out, None))
                if times["landed"]:
                    landed[phase] += 1
                    break
                delay /= 2
    # every phase was killed KILLS_PER_PHASE times inside it (a complete state after a
    # kill in reading or judging is the earlier run's report, intact), and kills in writing
    # did catch reports half-written, with INCOMPLETE beside them
    assert landed == {p: KILLS_PER_PHASE for p in PHASES}, (landed, lengths)
    assert not all(complete["writing"]), (complete, lengths)
    # and a complete run after all that leaves exactly its own report
    _run(klass, out, run, None, 0.0)
    assert _check_state(out, 1000 if run % 2 == 0 else 900)
