"""The symbolic worker: a runaway task is killed on time and the worker is replaced."""

from __future__ import annotations

import time

import pytest

from dlquiz.core.vars import Namespace
from dlquiz.judge.worker import Worker, WorkerError, WorkerTimeout
from dlquiz.notation import parse


@pytest.fixture
def worker():
    w = Worker()
    yield w
    w.stop()


def test_a_task_past_its_limit_is_killed_and_the_next_one_runs(worker: Worker) -> None:
    ns = Namespace.from_specs(["w"])
    assert worker.run("equal", parse("w + w", ns), parse("2*w", ns), ns, timeout=30)
    first = worker._proc.pid
    started = time.monotonic()
    with pytest.raises(WorkerTimeout):
        worker.run("sleep", 60, timeout=0.5)
    assert time.monotonic() - started < 5
    assert worker._proc is None  # killed
    assert worker.run("equal", parse("w*w", ns), parse("w^2", ns), ns, timeout=30)
    assert worker._proc.pid != first


def test_a_failing_task_reports_without_killing_the_worker(worker: Worker) -> None:
    ns = Namespace.from_specs(["w"])
    with pytest.raises(WorkerError, match="not a variable"):
        worker.run("derive", parse("w^2", ns), "q", ns, False, timeout=30)
    assert worker.run("equal", parse("w", ns), parse("w", ns), ns, timeout=30)
