"""Helpers shared by the sets tests (imported by name: tests/sets is on sys.path)."""

from __future__ import annotations

import json
from pathlib import Path

FAMILIES = ["linear-regression/dw-scalar", "softmax-regression/probabilities"]


def questions(key_path: Path) -> list[dict]:
    return json.loads(key_path.read_text(encoding="utf-8"))["questions"]


def sheet(answers: dict[int, str], *, student: str | None = None, version: int | None = None):
    lines = []
    if version is not None:
        lines.append(f"# version: {version}")
    if student is not None:
        lines.append(f"# student: {student}")
    lines += [f"{n}: {a}" for n, a in sorted(answers.items())]
    return "\n".join(lines) + "\n"
