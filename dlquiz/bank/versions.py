"""Content versions: what (family, seed) produces is fixed by these sources, so their hash
says when a stored problem (a practice attempt, a question of a key.json) may no longer be
what ``dlquiz show FAMILY --seed N`` shows.

A family's version hashes its own source (a template file, or a Python family's module)
with the sources every family's output goes through (the loader, the text rendering, the
printers, the one number formatter). The bank's version hashes every family's. Editing a
comment changes a version too: a version says "may have changed", never "has changed".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
# What every family's problems pass through (paths inside the package).
KERNEL = (
    "bank/family.py",
    "bank/problem.py",
    "bank/rand.py",
    "bank/render.py",
    "bank/coded/common.py",
    "core/numbers.py",
    "core/printing.py",
)
TEMPLATE_KERNEL = ("bank/templates.py", "bank/template")
LENGTH = 12  # hex digits shown and stored


def _files(rel: str) -> list[Path]:
    path = _PACKAGE / rel
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    return [path]


def _digest(parts: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in parts:
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()[:LENGTH]


@lru_cache(maxsize=8)
def _kernel(template: bool) -> tuple[tuple[str, bytes], ...]:
    rels = KERNEL + (TEMPLATE_KERNEL if template else ())
    out = []
    for rel in rels:
        for f in _files(rel):
            out.append((f.relative_to(_PACKAGE).as_posix(), f.read_bytes()))
    return tuple(out)


@lru_cache(maxsize=256)
def source_version(path: Path, *, template: bool = False) -> str:
    """The version of a family whose own source is ``path``."""
    own = (path.name, path.read_bytes())
    return _digest([own, *_kernel(template)])


def bank_version(versions: Iterable[tuple[str, str]]) -> str:
    """The bank's version from its families' (id, version) pairs."""
    return _digest((fid, v.encode()) for fid, v in sorted(versions))
