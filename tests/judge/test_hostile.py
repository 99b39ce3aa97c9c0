"""Answers are untrusted: hostile input ends quickly with exit 2 (or 1), no side effect."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

LIMIT = 10.0  # seconds, including interpreter start-up; the worker's own limit is 2 s

HOSTILE = [
    "__import__('os').system('touch PWNED')",
    "eval('1+1')",
    "exec(\"open('PWNED','w')\")",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "x; import os",
    "9**9**9**9",
    "10^10^10",
    "2^(2^100)",
    "(" * 5000 + "x" + ")" * 5000,
    "-" * 5000 + "x",
    "x^" * 2000 + "x",
    "x" * 100_000,
    "1" * 100_000,
    "x\x00y",
    "\x00",
    "exp(exp(exp(exp(exp(1000)))))",
    "99999999999999999999999999999999999999999999999999^99",
    "[" + ",".join(["x"] * 5000) + "]",
    "sum(" * 200 + "x" + ")" * 200,
    "\\frac{" * 300 + "x" + "}" * 300,
    "\\input{/etc/passwd}",
    "x'" * 50,
    "😀 + x",
    # found by fuzzing (issue 9): each was a traceback
    "1e30^11",
    "1e30*" * 11 + "x",
    "{" * 1000 + "x" + "}" * 1000,
    "\\sqrt{" * 330 + "x" + "}" * 330,
    "x" + "^{x" * 490 + "}" * 490,
    "\\left\\lfloor " * 200 + "x",
    "0.6265.3",
    "d/dw (w^2)",
    "tanh^-1(x)",
    "[1 2 3",
    "[" + " ".join(["-1"] * 1300) + "]",
    "0^-1",  # NumPy warns (all-NaN slice) inside the judge: never on stderr
]


def _run(args: list[str], tmp_path: Path, stdin: str | None = None) -> tuple:
    started = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "dlquiz", *args],
        capture_output=True,
        text=True,
        timeout=LIMIT * 3,
        cwd=tmp_path,
        env={**os.environ, "DLQUIZ_HOME": str(tmp_path / "home")},
        input=stdin,
    )
    return r, time.monotonic() - started


def _no_side_effect(tmp_path: Path) -> None:
    assert not (tmp_path / "PWNED").exists()
    assert [p.name for p in tmp_path.iterdir()] in ([], ["home"])


@pytest.mark.parametrize("answer", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_answer_to_check(answer: str, tmp_path: Path) -> None:
    if "\x00" in answer:  # a process argument cannot hold a NUL: the judge's API can
        from dlquiz.judge import check

        verdict = check(answer, "x")
        assert verdict.unusable
        assert "U+0000" in verdict.feedback
        return
    r, elapsed = _run(["check", "--expected", "x", "--", answer], tmp_path)
    assert r.returncode in (1, 2), r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "Warning" not in r.stderr
    assert elapsed < LIMIT
    _no_side_effect(tmp_path)


@pytest.mark.parametrize("answer", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_line_in_a_derivation(answer: str, tmp_path: Path) -> None:
    r, elapsed = _run(["steps", "-"], tmp_path, stdin=f"x\n= {answer}\n")
    assert r.returncode in (1, 2), r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "Warning" not in r.stderr
    assert elapsed < LIMIT
    _no_side_effect(tmp_path)


DERIVE_CASES = [
    (["1e30^11*x", "--wrt", "x"], 2),
    (["\\sqrt{" * 330 + "x" + "}" * 330, "--wrt", "x"], 2),
    (["y", "--wrt", "x", "--var", "x", "--var", "y"], 0),
    (["x^2", "--wrt", "x", "--timeout", "nan"], 2),
    (["x^2", "--wrt", "x", "--timeout", "1e9"], 2),
    (["x^2", "--wrt", "x", "--timeout", "inf"], 2),
]


@pytest.mark.parametrize(("args", "code"), DERIVE_CASES, ids=[f"derive{i}" for i in range(6)])
def test_hostile_derive(args: list[str], code: int, tmp_path: Path) -> None:
    r, elapsed = _run(["derive", *args], tmp_path)
    assert r.returncode == code, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "Warning" not in r.stderr
    assert elapsed < LIMIT
    _no_side_effect(tmp_path)


@pytest.mark.parametrize("timeout", ["nan", "1e9", "0"])
def test_hostile_steps_timeout(timeout: str, tmp_path: Path) -> None:
    r, elapsed = _run(["steps", "-", "--timeout", timeout], tmp_path, stdin="x\n= x\n")
    assert r.returncode == 2, r.stdout + r.stderr
    assert elapsed < LIMIT
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    _no_side_effect(tmp_path)


def test_hostile_chain_of_definitions_is_refused_quickly(tmp_path: Path) -> None:
    defines = []
    for i in range(30):
        previous = "x" if i == 0 else f"a{i - 1}"
        defines += ["--define", f"a{i}:={previous}+{previous}"]
    r, elapsed = _run(["check", "a29", "-e", "x", *defines], tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "too large" in r.stderr
    assert elapsed < LIMIT
    _no_side_effect(tmp_path)


def test_hostile_expression_for_derive_is_stopped_by_the_time_limit(tmp_path: Path) -> None:
    started = time.monotonic()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "dlquiz",
            "derive",
            "(" + "+".join(f"(x+{i})^{30 + i}" for i in range(40)) + ")^40",
            "--wrt",
            "x",
            "--timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    elapsed = time.monotonic() - started
    assert r.returncode == 2, r.stdout + r.stderr
    assert "longer than 1 s" in r.stderr
    assert elapsed < 30
