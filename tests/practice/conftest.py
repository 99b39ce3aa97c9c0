"""Fixtures for the practice tests: a fixed clock and the isolated data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from practice_helpers import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def home() -> Path:
    """The isolated DLQUIZ_HOME the root conftest set for this test."""
    return Path(os.environ["DLQUIZ_HOME"])
