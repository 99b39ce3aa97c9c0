"""Shared fixtures: an isolated data directory for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """No test touches the user's real progress database."""
    monkeypatch.setenv("DLQUIZ_HOME", str(tmp_path / "dlquiz-home"))
    monkeypatch.delenv("NO_COLOR", raising=False)
