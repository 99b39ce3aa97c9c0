"""Every family keeps the question kinds and mistake tags of its committed fixture.

The fixture (``fixtures/kinds/``) was dumped before a family was rewritten; a rewrite that
drops a kind of question or a diagnosed mistake fails here. See ``kind_fixtures.py`` for
how to write one (``DLQUIZ_WRITE_KIND_FIXTURES``).
"""

from __future__ import annotations

import os

import pytest
from kind_fixtures import FOLDER, fixture_path, kind_tags, problems, read, write

from dlquiz.bank import families
from dlquiz.bank.family import Family

FAMILY_IDS = list(families())
WRITE = os.environ.get("DLQUIZ_WRITE_KIND_FIXTURES", "")


@pytest.mark.parametrize("family_id", FAMILY_IDS)
def test_a_family_keeps_its_question_kinds_and_mistake_tags(family_id: str) -> None:
    if WRITE in ("all", family_id):
        write(family_id)
    assert fixture_path(family_id).is_file(), (
        f"no fixture for {family_id}: write one with DLQUIZ_WRITE_KIND_FIXTURES={family_id}"
    )
    assert kind_tags(family_id) == read(family_id)


def test_every_fixture_belongs_to_a_family() -> None:
    """A fixture of a family that no longer exists (renamed, removed) must go too."""
    stale = [
        p.relative_to(FOLDER).as_posix()
        for p in FOLDER.rglob("*.json")
        if p.relative_to(FOLDER).with_suffix("").as_posix() not in FAMILY_IDS
    ]
    assert not stale


def test_a_family_declares_every_kind_it_reports() -> None:
    """``Family.kinds`` lists each dimension and value the problems report (and no other)."""
    for family_id, family in families().items():
        seen: dict[str, set[str]] = {}
        own = type(family).question_kind is not Family.question_kind  # a cheap override
        for seed, problem in enumerate(problems(family_id, 40)):  # drawn once, shared
            if own and seed < 10:  # what ``select`` reads without drawing the problem
                assert family.question_kind(seed) == problem.question_kind, (family_id, seed)
            for dim, value in problem.question_kind.items():
                seen.setdefault(dim, set()).add(value)
                assert value in family.kinds[dim], (family_id, dim, value)
        assert set(seen) == set(family.kinds), family_id
