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
