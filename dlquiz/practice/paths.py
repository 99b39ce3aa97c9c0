"""Where a student's progress lives: the platform's data directory, or ``DLQUIZ_HOME``.

``DLQUIZ_HOME`` exists so that tests (and anyone keeping several progress files, one per
course) can point dlquiz at another directory without touching the real one.
"""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_NAME = "progress.db"
HISTORY_NAME = "prompt-history"


def data_dir() -> Path:
    """``$DLQUIZ_HOME`` if set, else the user data directory (e.g. ~/.local/share/dlquiz)."""
    home = os.environ.get("DLQUIZ_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("dlquiz", appauthor=False))


def describe_data_dir() -> str:
    """How messages name the data directory: by the variable that chose it, if any."""
    return "DLQUIZ_HOME" if os.environ.get("DLQUIZ_HOME") else "the data directory"


def database_path() -> Path:
    """The SQLite progress database."""
    return data_dir() / DATABASE_NAME


def history_path() -> Path:
    """The prompt's readline history (answers typed at a terminal)."""
    return data_dir() / HISTORY_NAME
