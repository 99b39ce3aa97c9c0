"""Children that end with their parent (``dlquiz.judge.lifetime``), by either mechanism."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

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


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not _alive(pid)


@pytest.mark.parametrize("how", ["signal", "poll"])
def test_a_child_ends_within_2_s_of_its_parent_being_killed(how):
    middle = subprocess.Popen(
        [sys.executable, "-c", MIDDLE, how, "true"], stdout=subprocess.PIPE, text=True
    )
    assert middle.stdout is not None
    child = int(middle.stdout.readline())
    try:
        time.sleep(0.3)  # the child is armed and sleeping
        assert _alive(child)
        middle.send_signal(signal.SIGKILL)
        middle.wait()
        assert _gone_within(child, 2.0)
    finally:
        if _alive(child):
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
        if _alive(child):
            os.kill(child, signal.SIGKILL)
