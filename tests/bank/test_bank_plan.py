"""``plan``/``select``: every family of the pool once before any repeats, topics in turn."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dlquiz.bank import TOPICS, families, plan

IDS = sorted(families())


def test_four_named_families_in_four_problems_for_every_seed() -> None:
    """The issue's case: three backprop families and one mlp, n = 4."""
    named = [*[f for f in IDS if f.startswith("backprop/")][:3], "mlp/forward"]
    for seed in range(40):
        assert sorted(f.id for f, _ in plan([], named, 4, seed)) == sorted(named), seed


@settings(max_examples=150, deadline=None)
@given(
    named=st.lists(st.sampled_from(IDS), min_size=1, max_size=12, unique=True),
    extra=st.integers(0, 15),
    seed=st.integers(0, 2**32),
)
def test_named_families_each_come_once_before_any_repeats(named, extra, seed) -> None:
    picks = [f.id for f, _ in plan([], named, len(named) + extra, seed)]
    k = len(named)
    assert sorted(picks[:k]) == sorted(named)
    # later rounds repeat the first one's order, each with fresh variant seeds
    assert all(picks[i] == picks[i % k] for i in range(len(picks)))


@settings(max_examples=60, deadline=None)
@given(
    topics=st.lists(st.sampled_from(list(TOPICS)), min_size=1, max_size=4, unique=True),
    seed=st.integers(0, 2**32),
)
def test_topics_take_turns_and_every_family_comes_once(topics, seed) -> None:
    pool = [f for f in IDS if families()[f].topic in topics]
    picks = plan(topics, [], len(pool), seed)
    assert sorted(f.id for f, _ in picks) == sorted(pool)
    # while two topics still have families in this round they alternate
    seen_topics = [f.topic for f, _ in picks]
    for i in range(1, len(seen_topics)):
        left = set(seen_topics[i:])
        if len(left) > 1:
            assert seen_topics[i] != seen_topics[i - 1], seen_topics


def test_every_problem_has_its_own_variant_seed_when_it_cycles() -> None:
    picks = plan([], ["linear-regression/dw-scalar"], 5, 3)
    assert len({s for _, s in picks}) == 5
