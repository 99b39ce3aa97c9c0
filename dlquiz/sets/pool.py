"""A process pool that survives its work: per-item time limits, and killing a stuck worker.

``concurrent.futures`` cannot stop one runaway task without breaking the whole pool, and
a class's answer sheets are untrusted. Here each worker process takes one job (a list of
items: one sheet's answers) at a time and reports after every item, so the parent knows
which item is running and since when. An item that passes its time limit is stopped in
the worker (a SIGALRM, cheap: the worker carries on); one that does not stop (stuck in C
code, or the worker died) has its worker killed and replaced, and the rest of its job is
handed out again. Either way the item is reported as timed out and the batch goes on.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

STARTUP_TIMEOUT = 60.0
GRACE = 2.0  # seconds after the soft limit before the worker is killed
MEMORY_LIMIT = 2 * 1024**3  # on top of what the worker already maps


class _SoftTimeout(BaseException):
    """Raised in a worker by SIGALRM; a BaseException so ``except Exception`` cannot eat it."""


@dataclass
class Outcome:
    """What became of one item: ``status`` is ok, timeout or error; ``value`` the result."""

    job: int
    index: int
    status: str
    value: Any = None


def _alarm(signum: int, frame: Any) -> None:
    raise _SoftTimeout()


def _limit_memory() -> None:
    try:
        import resource

        mapped = 0
        try:
            with open("/proc/self/statm") as f:
                mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        limit = mapped + MEMORY_LIMIT
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _serve(
    conn: Any,
    handler: Callable[[Any], Any],
    soft: float,
    reset: Callable[[], None] | None,
    init: Callable[[], None] | None,
) -> None:
    """The worker: items in, one outcome per item out, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGALRM, _alarm)
    _limit_memory()
    if init is not None:
        init()
    conn.send(("ready", None, None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job, items = message
        for index, item in enumerate(items):
            try:
                try:
                    signal.setitimer(signal.ITIMER_REAL, soft)
                    result: tuple[str, Any] = ("ok", handler(item))
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _SoftTimeout:
                result = ("timeout", None)
                if reset is not None:
                    reset()
            except MemoryError:
                result = ("error", "ran out of memory")
            except RecursionError:
                result = ("error", "nested too deeply")
            except Exception as exc:  # one bad item must not end the worker
                result = ("error", f"{type(exc).__name__}: {exc}")
            try:
                conn.send((job, index, result))
            except Exception as exc:
                conn.send((job, index, ("error", f"the result could not be sent: {exc}")))


@dataclass
class _Spec:
    ctx: Any
    handler: Callable[[Any], Any]
    soft: float
    reset: Callable[[], None] | None
    init: Callable[[], None] | None


class _Worker:
    def __init__(self, spec: _Spec) -> None:
        parent, child = spec.ctx.Pipe()
        self.proc = spec.ctx.Process(
            target=_serve,
            args=(child, spec.handler, spec.soft, spec.reset, spec.init),
            daemon=True,
            name="dlquiz-grader",
        )
        self.proc.start()
        child.close()
        self.conn = parent
        self.job: int | None = None
        self.items: Sequence[Any] = ()
        self.start = 0  # the job's items from here on were sent to this worker
        self.current = 0  # the item it is working on now
        self.deadline = 0.0
        if not parent.poll(STARTUP_TIMEOUT):
            self.kill()
            raise RuntimeError("a grading worker did not start")
        parent.recv()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


def run_jobs(
    jobs: Sequence[Sequence[Any]],
    handler: Callable[[Any], Any],
    *,
    processes: int,
    timeout: float,
    reset: Callable[[], None] | None = None,
    init: Callable[[], None] | None = None,
) -> Iterator[Outcome]:
    """Run ``handler`` on every item of every job in ``processes`` workers.

    Yields one ``Outcome`` per item as it completes (in no fixed order). ``timeout`` is
    the limit per item in seconds. ``reset`` runs in a worker after an item was stopped
    (to drop state the interrupted item may have left half-done); ``init`` once in each
    worker when it starts.
    """
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    spec = _Spec(mp.get_context(method), handler, timeout, reset, init)
    queue: deque[tuple[int, int, Sequence[Any]]] = deque(
        (j, 0, items) for j, items in enumerate(jobs) if items
    )
    hard = timeout + GRACE
    workers: list[_Worker] = []
    try:
        for _ in range(max(1, min(processes, len(queue)))):
            workers.append(_Worker(spec))
        while True:
            for w in workers:
                if w.job is None and queue:
                    job, start, items = queue.popleft()
                    w.job, w.items, w.start, w.current = job, items, start, start
                    w.conn.send((job, list(items[start:])))
                    w.deadline = time.monotonic() + hard
            busy = [w for w in workers if w.job is not None]
            if not busy:
                return
            wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=wait_for)
            for w in busy:
                if w.conn in ready:
                    try:
                        job, index, (status, value) = w.conn.recv()
                    except (EOFError, OSError):
                        yield from _replace(w, workers, queue, spec, "died")
                        continue
                    yield Outcome(job, w.start + index, status, value)
                    w.current = w.start + index + 1
                    if w.current >= len(w.items):
                        w.job = None
                    else:
                        w.deadline = time.monotonic() + hard
                elif time.monotonic() >= w.deadline:
                    yield from _replace(w, workers, queue, spec, "stuck")
    finally:
        for w in workers:  # nothing in a worker needs a clean exit
            w.kill()


def _replace(
    w: _Worker,
    workers: list[_Worker],
    queue: deque,
    spec: _Spec,
    why: str,
) -> Iterator[Outcome]:
    """The worker's current item failed: report it, requeue the rest, start a new worker."""
    assert w.job is not None
    job, items, done = w.job, w.items, w.current
    w.kill()
    workers.remove(w)
    status = "timeout" if why == "stuck" else "error"
    value = None if why == "stuck" else "the grading process stopped on this answer"
    yield Outcome(job, done, status, value)
    if done + 1 < len(items):
        queue.appendleft((job, done + 1, items))
    workers.append(_Worker(spec))


def default_processes() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
