"""Children that end with their parent (``dlquiz.judge.lifetime``), by either mechanism."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sets_helpers import alive

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")

MIDDLE = textwrap.dedent(
    """
    import multiprocessing as mp, os, sys, time
    from dlquiz.judge.lifetime import die_with_parent

    def child(parent_pid, use_signal):
        die_with_parent(parent_pid, use_signal=use_signal)
        time.sleep(120)

    if __name__ == "__main__":
        use_signal = sys.argv[1] == "signal"
        claimed = os.getpid() if sys.argv[2] == "true" else 1  # 1: "my parent is gone"
        p = mp.get_context("fork").Process(target=child, args=(claimed, use_signal))
        p.start()
        print(p.pid, flush=True)
        time.sleep(120)
    """
)


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


@pytest.mark.parametrize("how", ["signal", "poll"])
def test_a_child_ends_within_2_s_of_its_parent_being_killed(how):
    middle = subprocess.Popen(
        [sys.executable, "-c", MIDDLE, how, "true"], stdout=subprocess.PIPE, text=True
    )
    assert middle.stdout is not None
    child = int(middle.stdout.readline())
    try:
        time.sleep(0.3)  # the child is armed and sleeping
        assert alive(child)
        middle.send_signal(signal.SIGKILL)
        middle.wait()
        assert _gone_within(child, 2.0)
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_child_whose_parent_died_before_it_was_armed_leaves_at_once():
    """The race ``getppid()`` closes: told its parent is another process, it exits."""
    middle = subprocess.Popen(
        [sys.executable, "-c", MIDDLE, "signal", "false"], stdout=subprocess.PIPE, text=True
    )
    assert middle.stdout is not None
    child = int(middle.stdout.readline())
    try:
        assert _gone_within(child, 2.0)
        assert middle.poll() is None  # its parent is still alive: the check did it
    finally:
        middle.kill()
        middle.wait()
        if alive(child):
            os.kill(child, signal.SIGKILL)


def _live_children(name: str) -> list:
    import multiprocessing as mp

    return [p for p in mp.active_children() if p.name == name and p.is_alive()]


@pytest.fixture
def ctrl_c_after_fork(monkeypatch):  # type: ignore[no-untyped-def]
    """Every fork of a worker is followed at once by Ctrl-C, before its caller goes on."""
    from multiprocessing.context import ForkProcess

    real_start = ForkProcess.start

    def start_then_ctrl_c(self):  # type: ignore[no-untyped-def]
        real_start(self)
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # Python raises a pending interrupt at the next chance
            pass

    monkeypatch.setattr(ForkProcess, "start", start_then_ctrl_c)


def test_ctrl_c_just_as_a_grading_worker_is_forked_leaves_no_worker(ctrl_c_after_fork):
    """The interrupt lands in the instant after the fork, before the pool could list the
    new worker: the worker must still be killed (a live one left behind makes the
    interpreter wait for it at exit, forever: Ctrl-C would hang)."""
    from dlquiz.sets.pool import run_jobs

    with pytest.raises(KeyboardInterrupt):
        list(run_jobs([[1, 2], [3]], abs, processes=2, timeout=5))
    left = _live_children("dlquiz-grader")
    for p in left:  # so that a failure here does not also hang pytest at its exit
        p.kill()
        p.join(5)
    assert left == []


def test_an_interrupted_command_ends_every_child_it_started():
    """The CLI's backstop on Ctrl-C: no worker of any kind survives, and exit is not held."""
    import multiprocessing as mp

    from dlquiz.judge.lifetime import end_children

    child = mp.get_context("fork").Process(target=time.sleep, args=(60,), name="stray")
    child.start()
    started = time.monotonic()
    end_children()
    assert not child.is_alive()
    assert time.monotonic() - started < 5


def test_ctrl_c_just_as_the_symbolic_worker_is_forked_leaves_it_stoppable(ctrl_c_after_fork):
    """Same instant for the judge's SymPy worker: it is recorded, so ``stop`` ends it."""
    from dlquiz.judge.worker import Worker

    worker = Worker()
    with pytest.raises(KeyboardInterrupt):
        worker.run("sleep", 0)
    assert worker._proc is None  # stopped on the way out, not merely forgotten
    assert _live_children("dlquiz-worker") == []
