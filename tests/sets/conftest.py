"""Sets built once per session: generating calls SymPy, grading forks workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sets_helpers import FAMILIES


@pytest.fixture(scope="session")
def single_set(tmp_path_factory) -> Path:
    """A 4-question set of the two stable families (no variants)."""
    from dlquiz.sets.generate import write_set

    out = tmp_path_factory.mktemp("set") / "quiz"
    write_set(out, family_ids=FAMILIES, n=4, seed=11, title="Quiz 1", moodle=True)
    return out


@pytest.fixture(scope="session")
def variant_set(tmp_path_factory) -> Path:
    """The same families in 3 versions."""
    from dlquiz.sets.generate import write_set

    out = tmp_path_factory.mktemp("variants") / "quiz"
    write_set(out, family_ids=FAMILIES, n=3, seed=4, title="Quiz 2", variants=3)
    return out
