"""The problem bank: every topic of the notes as randomized families, and one selection.

``families()`` holds every family (TOML templates and Python), ``generate(id, seed)``
builds one problem, ``select(topics, families, n, seed)`` the ordered list of problems a
practice session or a generated set uses: the same arguments, the same problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from dlquiz.bank.family import TOPICS, Family, FamilyError
from dlquiz.bank.problem import INPUT_HINTS, Problem
from dlquiz.bank.rand import Draw

__all__ = [
    "INPUT_HINTS",
    "TOPICS",
    "Family",
    "FamilyError",
    "Problem",
    "families",
    "generate",
    "plan",
    "select",
    "version",
]


@lru_cache(maxsize=1)
def families() -> dict[str, Family]:
    """Every family by id, sorted by topic (in the notes' order) then id."""
    from dlquiz.bank.family import python_families
    from dlquiz.bank.templates import load_templates

    found = dict(python_families())
    for fid, fam in load_templates().items():
        if fid in found:
            raise FamilyError(f"the id '{fid}' is used by a template and by Python code")
        found[fid] = fam
    order = list(TOPICS)
    return dict(sorted(found.items(), key=lambda kv: (order.index(kv[1].topic), kv[0])))


@lru_cache(maxsize=1)
def version() -> str:
    """The bank's content version: it changes when what some (family, seed) gives may."""
    from dlquiz.bank.versions import bank_version

    return bank_version((fid, f.version) for fid, f in families().items())


def family(family_id: str) -> Family:
    try:
        return families()[family_id]
    except KeyError:
        raise FamilyError(f"no family '{family_id}' (see `dlquiz topics`)") from None


def generate(family_id: str, seed: int) -> Problem:
    return family(family_id).generate(seed)


def pool(topics: Sequence[str] = (), family_ids: Sequence[str] = ()) -> list[Family]:
    """The families a selection draws from: the named ones, or those of the topics, or all."""
    every = families()
    for t in topics:
        if t not in TOPICS:
            raise FamilyError(f"no topic '{t}' (one of {', '.join(TOPICS)})")
    chosen = [family(f) for f in family_ids]
    if topics:
        chosen += [f for f in every.values() if f.topic in topics and f not in chosen]
    return chosen or list(every.values())


def plan(
    topics: Sequence[str] = (), family_ids: Sequence[str] = (), n: int = 10, seed: int = 0
) -> list[tuple[Family, int]]:
    """The (family, variant seed) pairs ``select`` builds, without building them.

    Every family of the pool comes once before any comes again (so ``--family A --family
    B --family C --n 3`` asks A, B and C); within each round the topics take turns, in an
    order drawn from the seed, and each topic's families are shuffled. A practice session
    generates each problem only when it is shown.
    """
    if n < 1:
        raise FamilyError("n must be at least 1")
    draw = Draw("select", seed, ",".join(sorted(topics)), ",".join(family_ids))
    by_topic: dict[str, list[Family]] = {}
    for f in pool(topics, family_ids):
        by_topic.setdefault(f.topic, []).append(f)
    queues = {t: draw.shuffle(fs) for t, fs in by_topic.items()}
    topic_order = draw.shuffle(sorted(queues))
    one_round: list[Family] = []
    for depth in range(max(len(q) for q in queues.values())):
        one_round += [queues[t][depth] for t in topic_order if depth < len(queues[t])]
    picks = [one_round[i % len(one_round)] for i in range(n)]
    return [(f, draw.seed()) for f in picks]


def select(
    topics: Sequence[str] = (), family_ids: Sequence[str] = (), n: int = 10, seed: int = 0
) -> list[Problem]:
    """The ordered problems for a session or a set: topics interleaved, families shuffled.

    Deterministic in its arguments (SHA-256 draws), so a handed-out set can be practised
    problem for problem with the same arguments.
    """
    return [f.generate(s) for f, s in plan(topics, family_ids, n, seed)]
