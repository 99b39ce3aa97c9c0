"""Helpers shared by the practice tests (a unique module name: imported by the tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
# Two families the bank promises to keep (every other id may change while it grows).
DW = "linear-regression/dw-scalar"
SOFTMAX = "softmax-regression/probabilities"


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 3, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def wrong_answer(problem) -> str:  # type: ignore[no-untyped-def]
    """An answer the judge reads and rejects (checked, not assumed)."""
    candidates = [m["answer"] for m in problem.mistakes]
    if problem.kind == "expression":
        candidates.append(f"-({problem.answer})")
    candidates += ["0", "[0, 0]", "A"]
    for text in candidates:
        verdict = problem.check(text)
        if not verdict.equivalent and not verdict.unusable:
            return text
    raise AssertionError(f"no wrong answer found for {problem.id}")


def dlquiz_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dlquiz", *args]


def run_dlquiz(*args: str, input: str = "", env: dict | None = None, timeout: float = 120):  # type: ignore[no-untyped-def]
    return subprocess.run(
        dlquiz_cmd(*args),
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
