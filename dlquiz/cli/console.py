"""Where output goes: data on stdout, messages on stderr, colour only when wanted.

Rich already honours ``NO_COLOR``; ``--no-color`` sets the same switch for this process.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_consoles: dict[str, Console] = {}


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def out() -> Console:
    """The console for data (stdout)."""
    if "out" not in _consoles:
        from rich.console import Console

        _consoles["out"] = Console(no_color=_no_color(), highlight=False)
    return _consoles["out"]


def err() -> Console:
    """The console for messages and progress (stderr)."""
    if "err" not in _consoles:
        from rich.console import Console

        _consoles["err"] = Console(stderr=True, no_color=_no_color(), highlight=False)
    return _consoles["err"]


def disable_color() -> None:
    """Apply ``--no-color``: the same effect as ``NO_COLOR=1`` for this process."""
    os.environ["NO_COLOR"] = "1"
    _consoles.clear()


def reset() -> None:
    """Forget the consoles (tests swap stdout/stderr between invocations)."""
    _consoles.clear()


def print_json(data: Any) -> None:
    """Machine output: one JSON document on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()


def message(text: str, *, style: str | None = None) -> None:
    """A one-line human message on stderr (never wrapped: it may be parsed)."""
    err().print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def line(text: str, *, markup: bool = True) -> None:
    """One line of data on stdout, never wrapped (so scripts can read it)."""
    out().print(text, markup=markup, highlight=False, soft_wrap=True)
