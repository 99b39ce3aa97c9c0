"""A worker process for work that can run away: SymPy simplification and derivation.

Numeric checks are bounded by construction and run in-process. Symbolic work is not
(``simplify`` can take minutes, a power can grow a huge integer), so it runs in one
long-lived child process: a call costs a pipe round trip (tens of microseconds), and a
call that passes its time limit gets the child killed and replaced, so a hostile input
ends on time. The child also has a memory cap.
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import sys
import time
from typing import Any

DEFAULT_TIMEOUT = float(os.environ.get("DLQUIZ_TIMEOUT", "2.0"))
MEMORY_LIMIT = 2 * 1024**3
STARTUP_TIMEOUT = 60.0
# A fresh worker's first task also fills SymPy's caches (about a second on a loaded
# machine): that call alone gets this much more time, so a cold start is not a verdict.
COLD_ALLOWANCE = 5.0


class WorkerError(RuntimeError):
    """The task failed in the worker (its message says why)."""


class WorkerTimeout(WorkerError):
    """The task passed its time limit; the worker was replaced."""


def _tasks() -> dict[str, Any]:
    from dlquiz.symbolic import tasks

    return tasks.TASKS


def _serve(conn: Any, parent_pid: int) -> None:  # runs in the child
    import signal

    from dlquiz.judge.lifetime import die_with_parent, release_ctrl_c

    die_with_parent(parent_pid)  # never outlive the process that asked for the work
    # Ctrl-C in the terminal reaches the whole process group; the parent decides, and
    # kills this process when it ends, so the worker must not print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    release_ctrl_c()  # held back in the parent while it forked
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    tasks = _tasks()
    conn.send(("ready", None))
    while True:
        try:
            name, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = ("ok", tasks[name](*args))
        except MemoryError:
            result = ("error", "out of memory")
        except RecursionError:
            result = ("error", "expression too deeply nested")
        except Exception as exc:  # report, keep serving
            result = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except Exception as exc:
            conn.send(("error", f"result could not be sent back: {exc}"))


class Worker:
    def __init__(self) -> None:
        self._proc: Any = None
        self._conn: Any = None
        self._warm = False  # has this process finished a task yet?

    def _start(self) -> None:
        from dlquiz.judge.lifetime import ctrl_c_held

        method = "fork" if sys.platform.startswith("linux") else "spawn"
        ctx = mp.get_context(method)
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_serve, args=(child, os.getpid()), daemon=True, name="dlquiz-worker"
        )
        # Recorded as it starts, so whatever interrupts the wait below (Ctrl-C, a grading
        # worker's time limit) leaves nothing that ``stop`` cannot find.
        self._warm = False
        try:
            with ctrl_c_held():
                proc.start()
                self._proc, self._conn = proc, parent
            child.close()
            if not parent.poll(STARTUP_TIMEOUT):
                raise WorkerError("the symbolic worker did not start")
            parent.recv()
        except BaseException:
            self.stop()
            raise

    def run(self, name: str, *args: Any, timeout: float | None = None) -> Any:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        try:
            self._conn.send((name, args))
        except (BrokenPipeError, OSError):
            self.stop()
            self._start()
            self._conn.send((name, args))
        limit = DEFAULT_TIMEOUT if timeout is None else timeout
        if not self._warm:
            limit += COLD_ALLOWANCE
        started = time.monotonic()
        if not self._conn.poll(limit):
            self.stop()
            raise WorkerTimeout(f"gave up after {limit:g} s")
        try:
            status, value = self._conn.recv()
        except EOFError:
            self.stop()
            raise WorkerError("the symbolic worker stopped unexpectedly") from None
        self.last_seconds = time.monotonic() - started
        self._warm = True
        if status != "ok":
            raise WorkerError(value)
        return value

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(timeout=5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None


_worker: Worker | None = None


def worker() -> Worker:
    global _worker
    if _worker is None:
        _worker = Worker()
        atexit.register(_worker.stop)
    return _worker


def forget_inherited() -> None:
    """In a forked child: start its own worker when needed, never use the parent's.

    The child inherits the parent's pipe to the parent's worker; talking through it would
    mix replies. The parent's worker is left alone (the parent stops it).
    """
    global _worker
    _worker = None


def restart() -> None:
    """Stop this process's worker (an interrupted call may have left a reply in the pipe)."""
    if _worker is not None:
        _worker.stop()


def run(name: str, *args: Any, timeout: float | None = None) -> Any:
    """Run a registered symbolic task in the worker, within ``timeout`` seconds."""
    return worker().run(name, *args, timeout=timeout)
