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


TAG_VARIABLE = "DLQUIZ_TEST_PROCESS_TAG"


def tagged_processes(tag: str) -> list[int]:
    """Live processes whose environment carries ``TAG_VARIABLE=tag`` (Linux's /proc).

    Every process a command starts inherits its environment, so this finds them all,
    also those started after any snapshot of the process tree; zombies (dead, not yet
    reaped) do not count.
    """
    import os

    marker = f"{TAG_VARIABLE}={tag}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if marker not in f.read().split(b"\0"):
                    continue
        except OSError:
            continue
        if alive(int(name)):
            found.append(int(name))
    return found


def proc_stat(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first, then the
    parent's pid), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    """Running or sleeping: a zombie (dead, not yet reaped) does not count."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] not in (b"Z", b"X")


def describe_processes(pids: list[int]) -> str:
    """One line per process (pid, parent, state, command): what a hung test leaves behind."""
    lines = []
    for pid in pids:
        fields = proc_stat(pid)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            fields = None
        if fields is None:  # gone meanwhile
            continue
        lines.append(f"{pid} parent {int(fields[1])} state {fields[0].decode()}: {command}")
    return "\n".join(lines)
