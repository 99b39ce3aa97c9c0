"""A process pool that survives its work: per-item time limits, and killing a stuck worker.

``concurrent.futures`` cannot stop one runaway task without breaking the whole pool, and
a class's answer sheets are untrusted. Here each worker process takes one job (a list of
items: one sheet's answers) at a time and sends back all its results at once, while it
publishes in shared memory which item it is on and since when. So the parent knows, at no
cost per item, which answer is running and for how long. An item that passes its time
limit is stopped in the worker (a SIGALRM, cheap: the worker carries on); one that does
not stop (stuck in C code, or the worker died) has its worker killed and replaced, and
the other items of its job are handed out again. Either way the item is reported as
timed out (or failed) and the batch goes on.

Workers are not daemonic processes, so they can start the judge's SymPy worker for the
rare answer that needs symbolic confirmation (``multiprocessing`` forbids a daemon to
have children); instead each one arms ``die_with_parent`` first thing, so no worker, and
none of its own children, outlives a killed parent. The pool kills its workers on every
way out (completion, an exception, Ctrl-C). Ctrl-C is held back while a worker is forked
and put on the pool's list, so no interrupt can fall between the two and leave a worker
that nobody kills (the interpreter would then wait for it at exit, forever).
"""

from __future__ import annotations

import gc
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

from dlquiz.judge.lifetime import ctrl_c_held

STARTUP_TIMEOUT = 60.0
GRACE = 2.0  # seconds after the soft limit before the worker is killed
MEMORY_LIMIT = 2 * 1024**3  # on top of what the worker already maps
_JOB, _INDEX, _STARTED = 0, 1, 2  # the shared state: job, item index, when it started


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


def _run_item(handler: Callable, item: Any, soft: float, reset: Callable | None) -> tuple:
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, soft)
            return ("ok", handler(item))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _SoftTimeout:
        if reset is not None:
            reset()
        return ("timeout", None)
    except MemoryError:
        return ("error", "ran out of memory")
    except RecursionError:
        return ("error", "nested too deeply")
    except Exception as exc:  # one bad item must not end the worker
        return ("error", f"{type(exc).__name__}: {exc}")


def _publish(state: Any, job: int, index: int) -> None:
    """Which item the worker is on, since now; ``started`` is cleared while it changes."""
    state[_STARTED] = 0.0
    state[_JOB], state[_INDEX] = job, index
    state[_STARTED] = time.monotonic()


def _serve(conn: Any, state: Any, spec: _Spec, parent_pid: int) -> None:
    """The worker: a job in, its results out, until the pipe closes."""
    from dlquiz.judge.lifetime import die_with_parent, release_ctrl_c

    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    release_ctrl_c()  # held back in the parent while it forked
    signal.signal(signal.SIGALRM, _alarm)
    _limit_memory()
    if spec.init is not None:
        spec.init()
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job, items = message
        results = []
        for index, item in items:
            _publish(state, job, index)
            results.append((index, _run_item(spec.handler, item, spec.soft, spec.reset)))
        _publish(state, job, -1)  # sending the results
        try:
            conn.send((job, results))
        except Exception as exc:
            conn.send(
                (job, [(i, ("error", f"the result could not be sent: {exc}")) for i, _ in items])
            )


@dataclass
class _Spec:
    """What a worker runs (picklable, for platforms that spawn rather than fork)."""

    handler: Callable[[Any], Any]
    soft: float
    reset: Callable[[], None] | None
    init: Callable[[], None] | None


def _context() -> Any:
    return mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")


class _Worker:
    """One grading process, on ``pool`` from the moment it exists (see the module docstring)."""

    def __init__(self, spec: _Spec, pool: list[_Worker]) -> None:
        ctx = _context()
        parent, child = ctx.Pipe()
        self.state = ctx.RawArray("d", 3)
        self.proc = ctx.Process(
            target=_serve,
            args=(child, self.state, spec, os.getpid()),
            daemon=False,  # it may start the judge's SymPy worker (see the module docstring)
            name="dlquiz-grader",
        )
        self.conn = parent
        self.job: int | None = None
        self.items: list[tuple[int, Any]] = []
        self.sent = 0.0
        try:
            with ctrl_c_held():
                self.proc.start()
                pool.append(self)
        except BaseException:
            if self not in pool:  # it never started: nothing for the pool to kill
                self.conn.close()
            raise
        finally:
            child.close()

    def wait_ready(self) -> None:
        """Wait for the worker's first message (it is killed by the pool's way out if not)."""
        if not self.conn.poll(STARTUP_TIMEOUT):
            raise RuntimeError("a grading worker did not start")
        self.conn.recv()

    def current(self) -> tuple[int | None, float]:
        """The item being judged (None: none yet, or sending) and since when."""
        started, job, index = self.state[_STARTED], self.state[_JOB], self.state[_INDEX]
        if started == 0.0 or self.state[_STARTED] != started:
            return None, time.monotonic()  # changing right now: look again later
        if int(job) != self.job:
            return None, self.sent
        return (None if index < 0 else int(index)), started

    def kill(self) -> None:
        if self.proc.pid is not None:
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

    Yields one ``Outcome`` per item (a job's outcomes together when it completes, in no
    fixed order between jobs). ``timeout`` is the limit per item in seconds. ``reset``
    runs in a worker after an item was stopped (to drop state the interrupted item may
    have left half-done); ``init`` once in each worker when it starts.
    """
    spec = _Spec(handler, timeout, reset, init)
    queue: deque[tuple[int, list[tuple[int, Any]]]] = deque(
        (j, list(enumerate(items))) for j, items in enumerate(jobs) if items
    )
    hard = timeout + GRACE
    workers: list[_Worker] = []
    gc.freeze()  # forked workers then do not copy every page when their collector runs
    try:
        for _ in range(max(1, min(processes, len(queue)))):
            _Worker(spec, workers)
        for w in workers:  # they start side by side
            w.wait_ready()
        while True:
            for w in workers:
                if w.job is None and queue:
                    w.job, w.items = queue.popleft()
                    w.sent = time.monotonic()
                    w.conn.send((w.job, w.items))
            busy = [w for w in workers if w.job is not None]
            if not busy:
                return
            now = time.monotonic()
            deadline = min(w.current()[1] for w in busy) + hard
            ready = wait([w.conn for w in busy], timeout=min(max(deadline - now, 0.01), 1.0))
            for w in busy:
                if w.conn in ready:
                    try:
                        job, results = w.conn.recv()
                    except (EOFError, OSError):
                        yield from _replace(w, workers, queue, spec, "died")
                        continue
                    for index, (status, value) in results:
                        yield Outcome(job, index, status, value)
                    w.job, w.items = None, []
                else:
                    _, started = w.current()
                    if time.monotonic() - started > hard:
                        yield from _replace(w, workers, queue, spec, "stuck")
    finally:
        for w in workers:  # nothing in a worker needs a clean exit
            w.kill()
        gc.unfreeze()


def _replace(
    w: _Worker, workers: list[_Worker], queue: deque, spec: _Spec, why: str
) -> Iterator[Outcome]:
    """The worker's current item failed: report it, requeue the others, start a new worker.

    The results of items it had already finished were never sent, so they are judged
    again by another worker (judging is deterministic).
    """
    assert w.job is not None
    job, items = w.job, w.items
    index, _ = w.current()
    if index is None:  # before its first item or after its last: blame the first
        index = items[0][0]
    w.kill()
    workers.remove(w)
    if why == "stuck":
        yield Outcome(job, index, "timeout", None)
    else:
        yield Outcome(job, index, "error", "the grading process stopped on this answer")
    rest = [(i, item) for i, item in items if i != index]
    if rest:
        queue.appendleft((job, rest))
    _Worker(spec, workers).wait_ready()


def default_processes() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
