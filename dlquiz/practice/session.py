"""The practice loop as a plain object: an input source in, a display out, a store below.

``Session(store, picker, source, display).run()`` plays problems until ``n`` are done,
the student types ``q``, the input ends (Ctrl-D, end of a pipe) or Ctrl-C; in every case
it closes the session and hands the display a summary, and returns it. The terminal is
only one source and one display: tests drive the same loop with ``ScriptedInput`` and a
recording display.

At the prompt: an answer; ``?`` the next hint; ``!`` or ``solution`` the worked
solution; ``skip``; ``q`` to end. A wrong answer gets the judge's feedback and another
try, up to ``max_tries``; then the worked solution. An answer the notation cannot read
is not a try. Each graded answer is committed before its verdict is shown, and database
writes are shielded from Ctrl-C (the interrupt takes effect right after the write).
"""

from __future__ import annotations

import hashlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from dlquiz.practice import scheduler as sched
from dlquiz.practice.store import Store

if TYPE_CHECKING:
    from dlquiz.bank import Family, Problem

HINT = ("?",)
SOLUTION_COMMANDS = ("!", "solution")
SKIP = ("skip",)
QUIT = ("q", "quit")
MAX_TRIES = 3
RECENT = 100  # latest problems whose topics order the new families (least recent first)

# Why a session ended.
DONE, QUIT_REASON, END_OF_INPUT, INTERRUPTED = "done", "quit", "end-of-input", "interrupted"


class InputSource(Protocol):
    """Where answers come from. ``read`` raises EOFError at the end, KeyboardInterrupt on ^C."""

    def read(self, prompt: str) -> str: ...


class ScriptedInput:
    """Answers from a list (tests); ``INTERRUPT`` in the list acts as Ctrl-C there."""

    INTERRUPT = object()

    def __init__(self, lines: Sequence[Any]) -> None:
        self._lines = list(lines)
        self.prompts: list[str] = []

    def read(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self._lines:
            raise EOFError
        item = self._lines.pop(0)
        if item is ScriptedInput.INTERRUPT:
            raise KeyboardInterrupt
        return str(item)


class Display:
    """What the loop reports; every method a no-op here (subclass to show or record)."""

    def start(self, info: SessionInfo) -> None: ...
    def problem(self, problem: Problem, position: int, total: int | None) -> None: ...
    def hint(self, text: str, index: int, count: int) -> None: ...
    def no_more_hints(self, count: int) -> None: ...
    def unreadable(self, feedback: str) -> None: ...
    def right(self, feedback: str, tries: int, hints: int) -> None: ...
    def wrong(self, feedback: str, mistake: str | None, tries_left: int) -> None: ...
    def solution(self, problem: Problem, *, asked: bool) -> None: ...
    def skipped(self, problem: Problem) -> None: ...
    def notice(self, text: str) -> None: ...
    def summary(self, summary: Summary) -> None: ...


@dataclass(frozen=True)
class SessionInfo:
    mode: str
    n: int
    seed: int | None
    topics: tuple[str, ...] = ()
    families: tuple[str, ...] = ()


@dataclass
class Played:
    """One problem of this session as it ended (``outcome`` from ``scheduler.OUTCOMES``)."""

    family: str
    topic: str
    seed: int
    outcome: str
    tries: int
    hints: int
    seconds: float


@dataclass
class TopicLine:
    topic: str
    attempted: int = 0
    right_first_time: int = 0
    right_after_help: int = 0
    not_solved: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "attempted": self.attempted,
            "right_first_time": self.right_first_time,
            "right_after_help": self.right_after_help,
            "not_solved": self.not_solved,
            "seconds": round(self.seconds, 1),
        }


@dataclass
class Summary:
    """What the session did, per topic, and why it ended."""

    reason: str
    played: list[Played] = field(default_factory=list)
    session_id: int | None = None

    @property
    def interrupted(self) -> bool:
        return self.reason == INTERRUPTED

    def topics(self) -> list[TopicLine]:
        lines: dict[str, TopicLine] = {}
        for p in self.played:
            line = lines.setdefault(p.topic, TopicLine(p.topic))
            line.attempted += 1
            line.seconds += p.seconds
            if p.outcome == sched.RIGHT:
                line.right_first_time += 1
            elif p.outcome == sched.RIGHT_AFTER_HELP:
                line.right_after_help += 1
            else:
                line.not_solved += 1
        return list(lines.values())

    def total(self) -> TopicLine:
        total = TopicLine("total")
        for line in self.topics():
            total.attempted += line.attempted
            total.right_first_time += line.right_first_time
            total.right_after_help += line.right_after_help
            total.not_solved += line.not_solved
            total.seconds += line.seconds
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "topics": [t.to_json() for t in self.topics()],
            "total": self.total().to_json(),
        }


# --- choosing problems ---------------------------------------------------------------


def variant_key(problem: Problem) -> str:
    """A short hash of what the student sees, to tell variants apart."""
    text = "\x1f".join([problem.statement, problem.figure, *problem.choices])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Picker(Protocol):
    total: int | None

    def next(self, store: Store, previous: str | None) -> Problem | None: ...


class BuildError(RuntimeError):
    """A family failed to build its problem (a bug in the bank, not the student's doing)."""


class RandomPicker:
    """Exactly the problems ``dlquiz.bank.select`` gives (and ``generate`` writes), in order.

    Built one at a time from ``bank.plan``, so the first problem shows at once.
    """

    def __init__(self, topics: Sequence[str], families: Sequence[str], n: int, seed: int) -> None:
        from dlquiz.bank import plan

        self._plan: list[tuple[Family, int]] = plan(topics, families, n, seed)
        self.total: int | None = n

    def next(self, store: Store, previous: str | None) -> Problem | None:
        if not self._plan:
            return None
        family, seed = self._plan.pop(0)
        problem = _generate(family, seed)
        if problem is None:
            raise BuildError(f"the problem of {family.id} with seed {seed} could not be built")
        return problem


class AdaptivePicker:
    """Due families first, then the lowest retrievability; a fresh variant each time.

    Reads the cards again before every problem, so a family answered wrong comes back
    when FSRS makes it due (minutes later), and progress from another terminal counts.
    The variant seed is drawn from the family's problem count, skipping seeds already
    played and statements among its latest 20: deterministic given the database.
    """

    ATTEMPTS = 8  # candidate variants tried before accepting a recent statement

    def __init__(
        self,
        topics: Sequence[str],
        families: Sequence[str],
        n: int,
        *,
        seed: int = 0,
        clock: sched.Clock = sched.system_clock,
    ) -> None:
        from dlquiz.bank import pool

        self._pool = {f.id: f for f in pool(topics, families)}
        self.total: int | None = n
        self.seed = seed
        self.clock = clock
        self._broken: set[str] = set()

    def ranking(self, store: Store, previous: str | None = None) -> list[str]:
        cards = store.cards()
        candidates = [
            sched.Candidate(f.id, f.topic, cards.get(f.id))
            for f in self._pool.values()
            if f.id not in self._broken
        ]
        avoid = [previous] if previous else []
        recent = [
            row["topic"]
            for row in store.query("SELECT topic FROM problems ORDER BY id DESC LIMIT ?", (RECENT,))
        ]
        return sched.order(
            candidates, self.clock(), seed=self.seed, avoid=avoid, recent_topics=recent
        )

    def next(self, store: Store, previous: str | None) -> Problem | None:
        for family_id in self.ranking(store, previous):
            problem = self.fresh(store, family_id)
            if problem is not None:
                return problem
        return None

    def fresh(self, store: Store, family_id: str) -> Problem | None:
        family = self._pool[family_id]
        history = store.variants(family_id)
        problem = None
        k = history.count
        tried = 0
        while tried < self.ATTEMPTS:
            seed = sched.variant_seed(family_id, k)
            k += 1
            if seed in history.seeds:
                continue
            tried += 1
            problem = _generate(family, seed)
            if problem is None:
                self._broken.add(family_id)
                return None
            if variant_key(problem) not in history.recent:
                return problem
        return problem


def _generate(family: Family, seed: int) -> Problem | None:
    """A family's problem, or None if the family is broken (the session goes on)."""
    try:
        return family.generate(seed)
    except KeyboardInterrupt:
        raise
    except Exception:
        return None


# --- the loop ------------------------------------------------------------------------


class _End(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@contextmanager
def shielded() -> Iterator[None]:
    """Delay Ctrl-C until a database write is done (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


class Session:
    """One practice session (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        picker: Picker,
        source: InputSource,
        display: Display | None = None,
        *,
        info: SessionInfo,
        clock: sched.Clock = sched.system_clock,
        timer: Callable[[], float] = time.monotonic,
        max_tries: int = MAX_TRIES,
        prompt: str = "answer> ",
    ) -> None:
        self.store = store
        self.picker = picker
        self.source = source
        self.display = display or Display()
        self.info = info
        self.clock = clock
        self.timer = timer
        self.max_tries = max_tries
        self.prompt = prompt
        self.summary = Summary(DONE)

    def now(self) -> datetime:
        return self.clock()

    def run(self) -> Summary:
        """Play until done, ``q``, end of input or Ctrl-C; always summarise."""
        info = self.info
        try:
            with shielded():
                self.summary.session_id = self.store.start_session(
                    mode=info.mode,
                    at=self.now(),
                    seed=info.seed,
                    topics=info.topics,
                    families=info.families,
                    n=info.n,
                )
            self.display.start(info)
            previous: str | None = None
            for position in range(1, info.n + 1):
                try:
                    problem = self.picker.next(self.store, previous)
                except BuildError as exc:
                    self.display.notice(f"{exc}; skipping it.")
                    continue
                if problem is None:
                    self.display.notice("No problem could be built for this selection.")
                    break
                self._play(problem, position)
                previous = problem.id
        except _End as end:
            self.summary.reason = end.reason
        except KeyboardInterrupt:
            self.summary.reason = INTERRUPTED
        if self.summary.session_id is not None:
            try:
                with shielded():
                    self.store.end_session(
                        self.summary.session_id, at=self.now(), reason=self.summary.reason
                    )
            except KeyboardInterrupt:
                self.summary.reason = INTERRUPTED
        self.display.summary(self.summary)
        return self.summary

    def _play(self, problem: Problem, position: int) -> None:
        """One problem, from shown to its outcome (or to the session's end)."""
        with shielded():
            problem_id = self.store.start_problem(
                family=problem.id,
                topic=problem.topic,
                seed=problem.seed,
                at=self.now(),
                session_id=self.summary.session_id,
                position=position,
                variant=variant_key(problem),
                family_version=problem.family_version or None,
            )
        started = self.timer()
        tries = hints = 0
        finished = False

        def finish(outcome: str, *, solution_viewed: bool = False) -> None:
            nonlocal finished
            seconds = self.timer() - started
            with shielded():  # a Ctrl-C arriving here is raised after both lines
                finished = True
                self.store.finish_problem(
                    problem_id,
                    outcome=outcome,
                    tries=tries,
                    hints=hints,
                    seconds=seconds,
                    solution_viewed=solution_viewed,
                    at=self.now(),
                )
                self.summary.played.append(
                    Played(problem.id, problem.topic, problem.seed, outcome, tries, hints, seconds)
                )

        try:
            self.display.problem(problem, position, self.picker.total)
            while True:
                try:
                    text = self.source.read(self.prompt)
                except EOFError:
                    raise _End(END_OF_INPUT) from None
                answer = text.strip()
                command = answer.lower()
                if not answer:
                    continue
                if command in QUIT:
                    raise _End(QUIT_REASON)
                if command in HINT:
                    if hints < len(problem.hints):
                        hints += 1
                        self.display.hint(problem.hints[hints - 1], hints, len(problem.hints))
                    else:
                        self.display.no_more_hints(len(problem.hints))
                    continue
                if command in SOLUTION_COMMANDS:
                    finish(sched.SOLUTION, solution_viewed=True)
                    self.display.solution(problem, asked=True)
                    return
                if command in SKIP:
                    finish(sched.SKIPPED)
                    self.display.skipped(problem)
                    return
                try:
                    verdict = problem.check(answer)
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # a broken key is not the student's fault
                    self.display.notice(f"This problem cannot be judged ({exc}); moving on.")
                    if tries == 0:
                        self.store.discard_problem(problem_id)
                    return
                if verdict.unusable:
                    self.display.unreadable(verdict.feedback)
                    continue
                tries += 1
                with shielded():
                    self.store.record_attempt(
                        problem_id,
                        answer=answer,
                        correct=verdict.equivalent,
                        mistake=verdict.mistake,
                        feedback=verdict.feedback,
                        try_number=tries,
                        hints=hints,
                        seconds=self.timer() - started,
                        at=self.now(),
                    )
                if verdict.equivalent:
                    first = tries == 1 and hints == 0
                    finish(sched.RIGHT if first else sched.RIGHT_AFTER_HELP)
                    self.display.right(verdict.feedback, tries, hints)
                    return
                self.display.wrong(verdict.feedback, verdict.mistake, self.max_tries - tries)
                if tries >= self.max_tries:
                    finish(sched.WRONG, solution_viewed=True)
                    self.display.solution(problem, asked=False)
                    return
        except (_End, KeyboardInterrupt):
            # The session ends inside this problem: a wrong try counts (Again), else forget it.
            if not finished:
                with shielded():
                    if tries:
                        finish(sched.QUIT)
                    else:
                        self.store.discard_problem(problem_id)
            raise
