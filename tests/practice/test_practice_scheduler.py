"""The adaptive order: due families first, then lowest retrievability, with a fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from practice_helpers import DW, SOFTMAX

from dlquiz.bank import families
from dlquiz.practice import scheduler as sched
from dlquiz.practice.scheduler import Candidate
from dlquiz.practice.session import AdaptivePicker, variant_key
from dlquiz.practice.store import Store


@pytest.mark.parametrize(
    ("outcome", "rating"),
    [
        (sched.RIGHT, sched.GOOD),
        (sched.RIGHT_AFTER_HELP, sched.HARD),
        (sched.WRONG, sched.AGAIN),
        (sched.SKIPPED, sched.AGAIN),
        (sched.SOLUTION, sched.AGAIN),
        (sched.QUIT, sched.AGAIN),
    ],
)
def test_outcomes_map_to_the_issues_ratings(outcome, rating):
    assert sched.rating_for(outcome) == rating


def test_an_unknown_outcome_is_an_error():
    with pytest.raises(ValueError, match="unknown outcome"):
        sched.rating_for("maybe")


def test_card_ids_are_stable_and_distinct():
    assert sched.card_id(DW) == sched.card_id(DW)
    assert sched.card_id(DW) != sched.card_id(SOFTMAX)
    assert sched.card_id(DW) == 253059866452791  # sha256-derived: the same on every machine


def _history(clock, *ratings):  # type: ignore[no-untyped-def]
    """A made-up card: the given ratings, one day apart, ending at the clock's now."""
    at = clock() - timedelta(days=len(ratings) - 1)
    card = None
    for r in ratings:
        card = sched.review(card, "f", r, at)
        at += timedelta(days=1)
    return card


def test_again_brings_a_family_back_in_a_minute_good_much_later(clock):
    again = sched.review(None, DW, sched.AGAIN, clock())
    assert again.due == clock() + timedelta(minutes=1)
    good = _history(clock, sched.GOOD, sched.GOOD, sched.GOOD)
    assert good.due - clock() > timedelta(days=2)


def test_order_due_first_then_new_then_lowest_retrievability(clock):
    now = clock()
    strong = _history(clock, sched.GOOD, sched.GOOD, sched.GOOD)  # due in days
    # Reviewed long ago and never since: due, and its retrievability has dropped.
    old = sched.review(None, "x", sched.GOOD, now - timedelta(days=40))
    # Failed a minute ago: due again now, retrievability still 1 (same day).
    failed = sched.review(None, "y", sched.AGAIN, now - timedelta(minutes=2))
    # Answered Hard a week ago with a long interval: not due yet, but weaker than `strong`.
    weak = sched.review(None, "z", sched.GOOD, now - timedelta(days=3))
    weak = sched.review(weak, "z", sched.GOOD, now - timedelta(days=2))
    assert weak.due > now and strong.due > now
    assert sched.retrievability(weak, now) < sched.retrievability(strong, now)
    assert sched.retrievability(old, now) < sched.retrievability(failed, now)
    candidates = [
        Candidate("t1/strong", "t1", strong),
        Candidate("t1/old", "t1", old),
        Candidate("t2/new-a", "t2", None),
        Candidate("t2/failed", "t2", failed),
        Candidate("t3/new-b", "t3", None),
        Candidate("t3/weak", "t3", weak),
    ]
    ranked = sched.order(candidates, now)
    assert ranked[:2] == ["t1/old", "t2/failed"]  # due: lowest retrievability first
    assert set(ranked[2:4]) == {"t2/new-a", "t3/new-b"}  # never practised: due from the start
    assert ranked[4:] == ["t3/weak", "t1/strong"]  # not due: lowest retrievability first
    # The family just shown goes last while there is another.
    assert sched.order(candidates, now, avoid=["t1/old"])[0] == "t2/failed"
    assert sched.order(candidates, now, avoid=["t1/old"])[-1] == "t1/old"


def test_new_families_interleave_topics_in_a_seeded_order(clock):
    candidates = [Candidate(f"{t}/f{i}", t, None) for t in ("a", "b", "c") for i in range(3)]
    ranked = sched.order(candidates, clock(), seed=1)
    topics = [f.split("/")[0] for f in ranked]
    assert sorted(topics[:3]) == ["a", "b", "c"]  # every topic early
    assert all(topics[i] != topics[i + 1] for i in range(len(topics) - 1))
    assert sched.order(candidates, clock(), seed=1) == ranked  # deterministic
    assert any(sched.order(candidates, clock(), seed=s) != ranked for s in range(2, 8))


def _played(store, clock, family, outcome, seed):  # type: ignore[no-untyped-def]
    fam = families()[family]
    problem = fam.generate(seed)
    pid = store.start_problem(
        family=family, topic=fam.topic, seed=seed, at=clock(), variant=variant_key(problem)
    )
    store.finish_problem(
        pid, outcome=outcome, tries=1, hints=0, seconds=5, solution_viewed=False, at=clock()
    )


def test_the_picker_brings_back_the_family_answered_wrong(home, clock):
    """A made-up history: DW right twice long ago, SOFTMAX failed just now."""
    store = Store()
    clock.advance(days=-10)
    _played(store, clock, DW, sched.RIGHT, 1)
    clock.advance(days=1)
    _played(store, clock, DW, sched.RIGHT, 2)
    clock.advance(days=9)
    _played(store, clock, SOFTMAX, sched.WRONG, 3)
    picker = AdaptivePicker([], [DW, SOFTMAX], n=5, clock=clock)
    # Right after the failure SOFTMAX is not due yet (1 minute); DW is due after 9 days.
    assert store.card(DW).due <= clock()
    assert picker.ranking(store)[0] == DW
    clock.advance(minutes=2)
    # Now both are due; the failed one was seen today (retrievability 1), DW 9 days ago.
    assert picker.ranking(store)[0] == DW
    # With DW answered well today, the failed family comes first.
    _played(store, clock, DW, sched.RIGHT, 4)
    assert picker.ranking(store) == [SOFTMAX, DW]
    problem = picker.next(store, previous=DW)
    assert problem.id == SOFTMAX
    store.close()


def test_the_picker_never_repeats_a_seed_and_is_deterministic(home, clock):
    store = Store()
    picker = AdaptivePicker([], [DW], n=5, clock=clock)
    seen = []
    for _ in range(6):
        problem = picker.next(store, previous=None)
        assert problem.id == DW
        assert problem.seed not in seen
        seen.append(problem.seed)
        pid = store.start_problem(
            family=DW,
            topic=problem.topic,
            seed=problem.seed,
            at=clock(),
            variant=variant_key(problem),
        )
        store.finish_problem(
            pid, outcome=sched.RIGHT, tries=1, hints=0, seconds=1, solution_viewed=False, at=clock()
        )
        clock.advance(minutes=20)
    # The same database state gives the same next variant.
    again = AdaptivePicker([], [DW], n=5, clock=clock)
    assert again.next(store, None).seed == picker.next(store, None).seed
    store.close()


def test_the_picker_skips_a_statement_seen_recently(home, clock):
    store = Store()
    family = families()[DW]
    # One problem played; the next candidate (k = 1) shows a statement seen recently.
    candidate = family.generate(sched.variant_seed(DW, 1))
    store.start_problem(
        family=DW, topic=family.topic, seed=-2, at=clock(), variant=variant_key(candidate)
    )
    picker = AdaptivePicker([], [DW], n=1, clock=clock)
    problem = picker.next(store, None)
    assert problem.seed == sched.variant_seed(DW, 2)
    assert variant_key(problem) != variant_key(candidate)
    store.close()
