"""The practice loop through its Python API: scripted answers, a recording display."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from practice_helpers import DW, SOFTMAX, wrong_answer

from dlquiz.bank import select
from dlquiz.practice import scheduler as sched
from dlquiz.practice.session import (
    AdaptivePicker,
    Display,
    RandomPicker,
    ScriptedInput,
    Session,
    SessionInfo,
    shielded,
)
from dlquiz.practice.store import Store

INTERRUPT = ScriptedInput.INTERRUPT


class Recorder(Display):
    """Keeps every event, to check what the student was shown."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def problem(self, problem, position, total):  # type: ignore[no-untyped-def]
        self.events.append(("problem", problem.id, problem.seed, position, total))

    def hint(self, text, index, count):  # type: ignore[no-untyped-def]
        self.events.append(("hint", text, index, count))

    def no_more_hints(self, count):  # type: ignore[no-untyped-def]
        self.events.append(("no-more-hints", count))

    def unreadable(self, feedback):  # type: ignore[no-untyped-def]
        self.events.append(("unreadable", feedback))

    def right(self, feedback, tries, hints):  # type: ignore[no-untyped-def]
        self.events.append(("right", tries, hints))

    def wrong(self, feedback, mistake, tries_left):  # type: ignore[no-untyped-def]
        self.events.append(("wrong", feedback, mistake, tries_left))

    def solution(self, problem, *, asked):  # type: ignore[no-untyped-def]
        self.events.append(("solution", asked))

    def skipped(self, problem):  # type: ignore[no-untyped-def]
        self.events.append(("skipped",))

    def summary(self, summary):  # type: ignore[no-untyped-def]
        self.events.append(("summary", summary.reason))

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]


def _run(lines, *, n=3, seed=7, families=(DW,), clock=None):  # type: ignore[no-untyped-def]
    store = Store()
    display = Recorder()
    problems = select([], list(families), n, seed)
    session = Session(
        store,
        RandomPicker([], list(families), n, seed),
        ScriptedInput([line(problems) if callable(line) else line for line in lines]),
        display,
        info=SessionInfo("random", n, seed, (), tuple(families)),
        **({"clock": clock} if clock else {}),
    )
    summary = session.run()
    return summary, display, store, problems


def _problems(store):  # type: ignore[no-untyped-def]
    return store.query("SELECT * FROM problems ORDER BY id")


def _attempts(store):  # type: ignore[no-untyped-def]
    return store.query("SELECT * FROM attempts ORDER BY id")


def test_the_random_picker_gives_exactly_what_select_gives():
    for families, n, seed in [((DW, SOFTMAX), 5, 3), ((), 6, 11), ((SOFTMAX,), 2, 0)]:
        picker = RandomPicker([], list(families), n, seed)
        shown = []
        while (p := picker.next(None, None)) is not None:  # type: ignore[arg-type]
            shown.append(p.to_json())
        assert shown == [p.to_json() for p in select([], list(families), n, seed)]


def test_right_first_time(home, clock):
    summary, display, store, problems = _run([lambda ps: ps[0].answer, "q"], clock=clock)
    assert summary.reason == "quit"
    assert display.kinds() == ["problem", "right", "problem", "summary"]
    rows = _problems(store)
    assert len(rows) == 1  # the second problem was shown but never answered: not kept
    assert (rows[0]["family"], rows[0]["seed"]) == (problems[0].id, problems[0].seed)
    assert (rows[0]["outcome"], rows[0]["rating"], rows[0]["tries"]) == ("right", sched.GOOD, 1)
    from dlquiz.bank import families

    assert rows[0]["family_version"] == families()[DW].version  # history: not an older bank
    (attempt,) = _attempts(store)
    assert attempt["answer"] == problems[0].answer and attempt["correct"] == 1
    assert store.card(DW).due == clock() + timedelta(minutes=10)
    line = summary.topics()[0]
    assert (line.attempted, line.right_first_time, line.right_after_help) == (1, 1, 0)


def test_wrong_then_right_records_both_answers_and_the_mistake(home):
    summary, display, store, problems = _run(
        [lambda ps: wrong_answer(ps[0]), lambda ps: ps[0].answer], n=1
    )
    assert summary.reason == "done"
    expected = problems[0].check(wrong_answer(problems[0]))
    assert display.events[1] == ("wrong", expected.feedback, expected.mistake, 2)
    assert display.events[2] == ("right", 2, 0)
    (row,) = _problems(store)
    assert (row["outcome"], row["rating"], row["tries"]) == ("right-after-help", sched.HARD, 2)
    first, second = _attempts(store)
    assert (first["correct"], first["mistake"], first["try_number"]) == (0, expected.mistake, 1)
    assert first["feedback"] == expected.feedback
    assert (second["correct"], second["try_number"]) == (1, 2)


def test_a_hint_then_right_is_right_after_help(home):
    summary, display, store, problems = _run(["?", lambda ps: ps[0].answer], n=1)
    hints = problems[0].hints
    assert display.events[1] == ("hint", hints[0], 1, len(hints))
    (row,) = _problems(store)
    assert (row["outcome"], row["hints"], row["rating"]) == ("right-after-help", 1, sched.HARD)
    assert _attempts(store)[0]["hints"] == 1
    assert summary.topics()[0].right_after_help == 1


def test_asking_for_more_hints_than_there_are(home):
    count = len(select([], [DW], 1, 7)[0].hints)
    _, display, store, _ = _run(["?"] * (count + 1), n=1)
    assert [e[0] for e in display.events[1:-1]] == ["hint"] * count + ["no-more-hints"]
    assert _problems(store) == []  # the input ended before an answer: nothing to keep


def test_the_solution_ends_the_problem_as_again(home):
    summary, display, store, _ = _run(["!", "solution"], n=2)
    assert display.kinds() == ["problem", "solution", "problem", "solution", "summary"]
    rows = _problems(store)
    assert [r["outcome"] for r in rows] == ["solution", "solution"]
    assert [r["rating"] for r in rows] == [sched.AGAIN] * 2
    assert all(r["solution_viewed"] for r in rows)
    assert summary.total().not_solved == 2


def test_skip(home):
    _, display, store, _ = _run(["skip"], n=1)
    (row,) = _problems(store)
    assert (row["outcome"], row["rating"], row["tries"]) == ("skipped", sched.AGAIN, 0)
    assert display.kinds() == ["problem", "skipped", "summary"]


def test_three_wrong_answers_show_the_solution(home):
    wrong = lambda ps: wrong_answer(ps[0])  # noqa: E731
    _, display, store, _ = _run([wrong, wrong, wrong], n=1)
    assert display.kinds() == ["problem", "wrong", "wrong", "wrong", "solution", "summary"]
    assert [e[3] for e in display.events if e[0] == "wrong"] == [2, 1, 0]
    assert display.events[4] == ("solution", False)
    (row,) = _problems(store)
    assert (row["outcome"], row["rating"], row["tries"]) == ("wrong", sched.AGAIN, 3)
    assert len(_attempts(store)) == 3


def test_an_unreadable_answer_is_not_a_try(home):
    _, display, store, _ = _run(["((", lambda ps: ps[0].answer], n=1)
    assert display.kinds() == ["problem", "unreadable", "right", "summary"]
    (row,) = _problems(store)
    assert (row["outcome"], row["tries"]) == ("right", 1)
    assert len(_attempts(store)) == 1


def test_quitting_after_a_wrong_try_counts_it(home):
    summary, _, store, _ = _run([lambda ps: wrong_answer(ps[0]), "q"], n=3)
    assert summary.reason == "quit"
    (row,) = _problems(store)
    assert (row["outcome"], row["rating"], row["tries"]) == ("quit", sched.AGAIN, 1)
    assert len(_attempts(store)) == 1
    session = store.query("SELECT * FROM sessions")[0]
    assert (session["end_reason"], session["mode"], session["seed"]) == ("quit", "random", 7)


def test_ctrl_c_ends_the_session_with_a_summary(home):
    summary, display, store, _ = _run([lambda ps: ps[0].answer, "?", INTERRUPT], n=3)
    assert summary.reason == "interrupted" and summary.interrupted
    assert display.kinds()[-1] == "summary"
    assert [r["outcome"] for r in _problems(store)] == ["right"]
    assert store.query("SELECT end_reason FROM sessions")[0][0] == "interrupted"


def test_end_of_input_ends_the_session(home):
    summary, _, store, _ = _run([lambda ps: ps[0].answer], n=3)
    assert summary.reason == "end-of-input"
    assert [r["outcome"] for r in _problems(store)] == ["right"]


def test_a_whole_adaptive_session(home, clock):
    store = Store()
    display = Recorder()
    picker = AdaptivePicker([], [DW, SOFTMAX], 4, clock=clock)
    shown = []

    class Answers:
        """Right for DW, wrong three times for SOFTMAX (reads the problem just shown)."""

        def read(self, prompt):  # type: ignore[no-untyped-def]
            problem = shown[-1]
            clock.advance(minutes=1)
            return problem.answer if problem.id == DW else wrong_answer(problem)

    original = picker.next

    def remember(store, previous):  # type: ignore[no-untyped-def]
        problem = original(store, previous)
        shown.append(problem)
        return problem

    picker.next = remember  # type: ignore[method-assign]
    summary = Session(
        store, picker, Answers(), display, info=SessionInfo("adaptive", 4, None), clock=clock
    ).run()
    assert summary.reason == "done"
    assert len(shown) == 4
    # Never the same family twice in a row while there is another; fresh variants.
    assert all(shown[i].id != shown[i + 1].id for i in range(3))
    assert len({(p.id, p.seed) for p in shown}) == 4
    rows = _problems(store)
    assert [r["outcome"] for r in rows] == ["right" if p.id == DW else "wrong" for p in shown]
    assert store.card(SOFTMAX).state.name in ("Learning", "Relearning")


def test_a_family_that_fails_to_build_is_skipped_with_a_notice(home):
    class Broken:
        id = "broken/family"

        def generate(self, seed):  # type: ignore[no-untyped-def]
            raise ZeroDivisionError("a bug in the bank")

    notices = []

    class Notes(Recorder):
        def notice(self, text):  # type: ignore[no-untyped-def]
            notices.append(text)

    picker = RandomPicker([], [DW], 2, 5)
    good = picker._plan[1]
    picker._plan[0] = (Broken(), 1)
    store = Store()
    summary = Session(
        store,
        picker,
        ScriptedInput([good[0].generate(good[1]).answer]),
        Notes(),
        info=SessionInfo("random", 2, 5),
    ).run()
    assert notices == ["the problem of broken/family with seed 1 could not be built; skipping it."]
    assert [p.outcome for p in summary.played] == ["right"]


def test_shielded_delays_ctrl_c_until_the_write_is_done():
    done = []

    def write() -> None:
        with shielded():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("write")

    with pytest.raises(KeyboardInterrupt):
        write()
    assert done == ["write"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
