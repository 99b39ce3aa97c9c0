"""Spaced repetition over problem families: one FSRS card per family, never per variant.

A family (``backprop/output-layer-dw``) is the skill; its random variants are fresh
exercises of the same skill, so the card is keyed by the family's stable id. Outcomes map
to FSRS ratings as the issue fixes them: wrong, skipped or solution viewed is Again, right
after hints or retries is Hard, right first time is Good. Fuzzing is off, so a card is a
pure function of its review history (the store can rebuild every card by replaying it,
and tests get exact due dates).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from dlquiz.bank.rand import Draw

if TYPE_CHECKING:
    from fsrs import Card, Scheduler

Clock = Callable[[], datetime]

# How a problem ended (stored in the database; a contract for stats and history).
RIGHT = "right"  # right first time, without hints
RIGHT_AFTER_HELP = "right-after-help"  # right after hints or wrong tries
WRONG = "wrong"  # every try wrong
SKIPPED = "skipped"
SOLUTION = "solution"  # the worked solution was asked for
QUIT = "quit"  # the session ended after a wrong try, before the problem was solved
OUTCOMES = (RIGHT, RIGHT_AFTER_HELP, WRONG, SKIPPED, SOLUTION, QUIT)
SOLVED = (RIGHT, RIGHT_AFTER_HELP)

AGAIN, HARD, GOOD = 1, 2, 3  # fsrs.Rating values


def system_clock() -> datetime:
    """Now, in UTC (everything stored is UTC; displays convert to local time)."""
    return datetime.now(UTC)


def rating_for(outcome: str) -> int:
    """The FSRS rating of a problem's outcome."""
    if outcome == RIGHT:
        return GOOD
    if outcome == RIGHT_AFTER_HELP:
        return HARD
    if outcome in OUTCOMES:
        return AGAIN
    raise ValueError(f"unknown outcome '{outcome}'")


@lru_cache(maxsize=1)
def scheduler() -> Scheduler:
    """FSRS with its default parameters (90% desired retention), without random fuzz."""
    from fsrs import Scheduler

    return Scheduler(enable_fuzzing=False)


def card_id(family_id: str) -> int:
    """A stable integer id for a family's card (FSRS wants an int; ids are text)."""
    return int.from_bytes(hashlib.sha256(family_id.encode()).digest()[:6], "big")


def new_card(family_id: str, at: datetime) -> Card:
    from fsrs import Card

    return Card(card_id=card_id(family_id), due=at)


def review(card: Card | None, family_id: str, rating: int, at: datetime) -> Card:
    """The family's card after one more problem rated ``rating`` at ``at``."""
    from fsrs import Rating

    if card is None:
        card = new_card(family_id, at)
    updated, _log = scheduler().review_card(card, Rating(rating), review_datetime=at)
    return updated


def card_to_json(card: Card) -> str:
    return card.to_json()


def card_from_json(text: str) -> Card:
    from fsrs import Card

    return Card.from_json(text)


def retrievability(card: Card | None, now: datetime) -> float:
    """FSRS's probability of recall now (0 for a family never practised)."""
    if card is None:
        return 0.0
    return float(scheduler().get_card_retrievability(card, now))


@dataclass(frozen=True)
class Candidate:
    """A family the adaptive session may choose, with its card (None: never practised)."""

    family: str
    topic: str
    card: Card | None = None


def order(
    candidates: Sequence[Candidate],
    now: datetime,
    *,
    seed: int = 0,
    avoid: Iterable[str] = (),
    recent_topics: Sequence[str] = (),
) -> list[str]:
    """Families in the order the adaptive mode offers them.

    First the due families: those practised before whose card is due (lowest
    retrievability, then earliest due), then those never practised (due from the start in
    FSRS; topics interleaved, see ``_interleave``). Then the rest by lowest
    retrievability, then earliest due. Families in ``avoid`` (the one just shown) go last,
    so the same family does not come twice in a row while there is another.
    ``recent_topics`` are the topics of the latest problems shown, newest first.
    """
    avoid = set(avoid)
    due, new, later = [], [], []
    for c in candidates:
        if c.card is None:
            new.append(c)
        elif c.card.due <= now:
            due.append(c)
        else:
            later.append(c)

    def urgency(c: Candidate) -> tuple:
        assert c.card is not None
        return (retrievability(c.card, now), c.card.due, c.family)

    ranked = [c.family for c in sorted(due, key=urgency)]
    ranked += _interleave(new, seed, recent_topics)
    ranked += [c.family for c in sorted(later, key=urgency)]
    return [f for f in ranked if f not in avoid] + [f for f in ranked if f in avoid]


def _interleave(
    new: Sequence[Candidate], seed: int, recent_topics: Sequence[str] = ()
) -> list[str]:
    """New families topic by topic in turn, so a first session meets every topic early.

    The order is read again before every problem, so it starts with the topic met least
    recently: topics not among ``recent_topics`` first (in an order drawn from ``seed``),
    then the others, the one seen longest ago first. Without this the seed's first topic
    would win every time until its new families ran out.
    """
    draw = Draw("practice-new", seed)
    by_topic: dict[str, list[str]] = {}
    for c in sorted(new, key=lambda c: c.family):
        by_topic.setdefault(c.topic, []).append(c.family)
    drawn = draw.shuffle(sorted(by_topic))
    last_seen = {}
    for age, topic in enumerate(recent_topics):
        last_seen.setdefault(topic, age)
    never = len(recent_topics)
    topics = sorted(drawn, key=lambda t: (-last_seen.get(t, never), drawn.index(t)))
    queues = [draw.shuffle(by_topic[t]) for t in topics]
    out: list[str] = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop(0))
    return out


def variant_seed(family_id: str, k: int) -> int:
    """The k-th candidate variant seed of a family for practice (k counts its problems)."""
    return Draw("practice-variant", family_id, k).seed()
