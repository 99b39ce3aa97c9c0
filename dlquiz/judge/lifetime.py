"""Child processes that end with their parent: no worker outlives a killed dlquiz.

A worker blocked on its pipe would notice its parent's death only if no process still
held the pipe's other end, and a forked sibling does. So each child asks the kernel to
kill it when its parent dies (Linux's ``PR_SET_PDEATHSIG``), then checks ``getppid()``
once: a parent that died between the fork and that call has already been replaced by
another (init or a subreaper), and the child leaves at once. Where the OS has no such
signal a thread polls ``getppid()`` instead (a child whose parent died is reparented).

``PR_SET_PDEATHSIG`` fires when the *thread* that forked the child ends: dlquiz starts
its workers from the main thread, so that is the process's end.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_SECONDS = 0.25  # the fallback's check interval: well inside the 2 s promise


def _parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError, ImportError):
        return False


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)


def die_with_parent(parent_pid: int, *, use_signal: bool = True) -> None:
    """Call first thing in a child process: it ends within a moment of its parent.

    ``parent_pid`` is the parent's pid as the parent knew it before starting the child
    (so a parent that is already gone is caught). ``use_signal=False`` forces the
    polling fallback (for tests of it on Linux).
    """
    if not (use_signal and _parent_death_signal()):
        threading.Thread(
            target=_watch, args=(parent_pid,), daemon=True, name="dlquiz-parent-watch"
        ).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def end_children(wait: float = 2.0) -> None:
    """Kill every worker this process started that is still running, and reap it.

    The last step of an interrupted command. Each pool already kills its workers on its
    way out; this is the backstop that keeps exit from waiting: the interpreter joins
    its live non-daemonic children at exit, without a time limit.
    """
    mp = sys.modules.get("multiprocessing")
    if mp is None:  # nothing was ever started
        return
    children = mp.active_children()
    for child in children:
        child.kill()
    deadline = time.monotonic() + wait
    for child in children:
        child.join(timeout=max(0.0, deadline - time.monotonic()))


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Ctrl-C arrives only after the block (where the OS can hold a signal back).

    Around starting a worker and recording it: an interrupt between the two would leave a
    live child that nobody stops. The child inherits the held signal and must release it
    (``release_ctrl_c``) once it has chosen how to treat Ctrl-C.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def release_ctrl_c() -> None:
    """In a child started under ``ctrl_c_held``: stop holding Ctrl-C back."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
