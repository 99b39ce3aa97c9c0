"""Adaptive mode interleaves topics: a first session meets many topics early."""

from __future__ import annotations

import itertools

import pytest

from dlquiz.practice.session import AdaptivePicker, Display, Session, SessionInfo
from dlquiz.practice.store import Store


class AnswersRight(Display):
    """A display that remembers the problem shown, and an input that answers it right."""

    def __init__(self) -> None:
        self.shown: list = []

    def problem(self, problem, position, total):  # type: ignore[no-untyped-def]
        self.shown.append(problem)

    def read(self, prompt: str) -> str:
        return self.shown[-1].answer


@pytest.mark.parametrize("seed", [0, 1, 2, 5, 7, 11])
def test_a_first_adaptive_session_spans_at_least_four_topics_in_eight(home, clock, seed):
    student = AnswersRight()
    with Store() as store:
        picker = AdaptivePicker([], [], 8, seed=seed, clock=clock)
        summary = Session(
            store, picker, student, student, info=SessionInfo("adaptive", 8, seed), clock=clock
        ).run()
    assert [p.outcome for p in summary.played] == ["right"] * 8
    topics = [p.topic for p in student.shown]
    assert len(set(topics)) >= 4, topics
    # and no topic twice in a row while new topics remain
    assert all(a != b for a, b in itertools.pairwise(topics)), topics


def test_a_second_session_goes_on_with_the_topics_met_least_recently(home, clock):
    student = AnswersRight()
    with Store() as store:
        for _ in range(2):
            picker = AdaptivePicker([], [], 4, seed=3, clock=clock)
            info = SessionInfo("adaptive", 4, 3)
            Session(store, picker, student, student, info=info, clock=clock).run()
    topics = [p.topic for p in student.shown]
    assert len(set(topics)) == 8, topics
