"""A report folder that is complete or says it is not: ``INCOMPLETE`` and ``manifest.json``.

A grader can be killed at any moment (Ctrl-C twice, a closed laptop, ``kill -9``), and a
folder of 2,000 feedback files that looks finished but is not gets uploaded. So:

- every file is written under a temporary name in its own folder (``.NAME.dlquiz-partial``)
  and renamed into place: no file is ever seen half-written;
- ``INCOMPLETE`` is written before anything else and removed last, after
  ``manifest.json``, which lists every file of the report with its size and SHA-256. While
  ``INCOMPLETE`` is there the run did not finish; it lists the files the run was writing;
- the files named by the previous run (its ``manifest.json``, or the ``INCOMPLETE`` of a
  run that was killed) that this run does not write again are removed before the first
  new file, so nothing stale stays beside a new report; those it writes again are
  replaced by the rename, or kept where their bytes are already the new ones (a re-run);
  ``grades.csv`` and ``grades.json`` are removed first in any case. Nothing else in the
  folder is ever touched: a file dlquiz did not write survives every run, and only
  regular files inside the folder are removed (never a symlink, never through a folder
  that leads out of it).

The files are renamed into place, not synced to disk: a killed process leaves them
complete, a power cut may not (the manifest's checksums tell).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from dlquiz.sets.sheets import shown

INCOMPLETE = "INCOMPLETE"
MANIFEST = "manifest.json"
PARTIAL_SUFFIX = ".dlquiz-partial"
MAX_LIST_BYTES = 50_000_000  # a previous manifest larger than this is not read
_INCOMPLETE_TEXT = (
    "dlquiz grade did not finish writing this report: it is incomplete, re-run the same\n"
    "command. The report is complete when this file is gone; manifest.json then lists\n"
    "every file with its size and SHA-256. Below, the files this run writes (the next run\n"
    "removes them before it writes its own).\n"
)
_FILES_LINE = "--- files ---\n"
_FORMAT = 1


class ReportError(OSError):
    """The report folder cannot be written as promised (the message says why)."""


def partial_name(path: Path) -> Path:
    """The temporary name a file is written under before it is renamed into place."""
    return path.with_name(f".{path.name}{PARTIAL_SUFFIX}")


def _safe_relative(rel: Any) -> PurePosixPath | None:
    """A path a manifest may name: relative, no ``..``, no empty or hidden tricks."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return None
    p = PurePosixPath(rel)
    if p.is_absolute() or any(part in ("", ".", "..") for part in p.parts):
        return None
    return p


class ReportFolder:
    """The ``--out`` folder of ``grade``: writes a report by the rules above."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.real = ""
        self._checked: set[Path] = set()  # folders already found inside (while writing)
        self._keep: set[Path] = set()  # folders the new report writes into: never removed
        self._verdicts: dict[Path, bool] = {}  # folder -> inside (while removing)

    # --- paths ------------------------------------------------------------------------
    def _inside(self, path: Path) -> bool:
        """Is ``path`` (existing or not) really inside the folder, symlinks resolved?"""
        real = os.path.realpath(path)
        return real == self.real or real.startswith(self.real.rstrip(os.sep) + os.sep)

    def _folder_inside(self, folder: Path) -> bool:
        if folder not in self._verdicts:
            self._verdicts[folder] = self._inside(folder)
        return self._verdicts[folder]

    def _target(self, rel: str) -> Path:
        safe = _safe_relative(rel)
        if safe is None:
            raise ReportError(f"{rel!r} is not a file name inside the report folder")
        return self.out.joinpath(*safe.parts)

    # --- what an earlier run wrote -----------------------------------------------------
    def previous_files(self) -> tuple[set[str], list[str]]:
        """The files the last run listed (manifest, or a killed run's INCOMPLETE), notes."""
        names: set[str] = set()
        notes: list[str] = []
        manifest = self._read_text(self.out / MANIFEST)
        if manifest is not None:
            try:
                data = json.loads(manifest)
                entries = data["files"]
                names |= {e["path"] for e in entries if isinstance(e, dict)}
            except (ValueError, KeyError, TypeError, RecursionError):
                notes.append(
                    f"{self.out / MANIFEST} cannot be read: the files of the earlier run "
                    "it listed are left in place"
                )
        incomplete = self._read_text(self.out / INCOMPLETE)
        if incomplete is not None and _FILES_LINE in incomplete:
            names |= set(incomplete.split(_FILES_LINE, 1)[1].splitlines())
        safe = {n for n in names if isinstance(n, str) and _safe_relative(n) is not None}
        return safe, notes

    def _read_text(self, path: Path) -> str | None:
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_LIST_BYTES:
                return None
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _remove(self, rel: str) -> None:
        """Remove one file dlquiz wrote (and its partial copy), if it is still ours."""
        path = self._target(rel)
        if not self._folder_inside(path.parent):
            return
        for p in (path, partial_name(path)):
            try:
                if stat.S_ISREG(os.lstat(p).st_mode):
                    os.unlink(p)
            except FileNotFoundError:
                pass
        parent = path.parent
        while parent != self.out and parent not in self._keep:
            try:  # a folder dlquiz made and emptied (gradescope/STUDENT); never a full one
                if stat.S_ISLNK(os.lstat(parent).st_mode):
                    break
                os.rmdir(parent)
            except OSError:
                break
            self._verdicts.clear()  # a folder went: what a path leads to may change
            parent = parent.parent

    # --- writing -------------------------------------------------------------------------
    def _write(self, rel: str, data: bytes) -> None:
        path = self._target(rel)
        if path.parent not in self._checked:  # checked before a folder is made through it
            if not self._inside(path.parent):
                raise ReportError(f"{path.parent} leads out of {self.out} (a symlink)")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._checked.add(path.parent)
        tmp = partial_name(path)
        if _holds(path, data):  # a re-run's unchanged file: already complete, kept
            try:  # ... but not the temporary copy a killed run may have left beside it
                if stat.S_ISREG(os.lstat(tmp).st_mode):
                    os.unlink(tmp)
            except FileNotFoundError:
                pass
            return
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def write(
        self, files: Mapping[str, str], *, last: Sequence[str] = ()
    ) -> tuple[list[str], list[str]]:
        """Write ``files`` (relative path -> text), those in ``last`` after the rest.

        Returns the files in the order written and notes for the user. Raises
        ``OSError`` (``ReportError``) when the folder cannot be written; ``INCOMPLETE``
        then stays.
        """
        self.out.mkdir(parents=True, exist_ok=True)
        self.real = os.path.realpath(self.out)
        order = [r for r in files if r not in last] + [r for r in last if r in files]
        for rel in order:
            if _safe_relative(rel) is None or rel in (INCOMPLETE, MANIFEST):
                raise ReportError(f"{rel!r} cannot be a report file")
        previous, notes = self.previous_files()
        listing = _INCOMPLETE_TEXT + _FILES_LINE + "".join(f"{r}\n" for r in order)
        self._write(INCOMPLETE, listing.encode("utf-8"))
        # What this run writes anew is replaced file by file (a rename over the old one);
        # the rest of the previous run goes now, and so do its last files, so an old
        # grades.csv never stands beside new feedback.
        self._keep = {self._target(r).parent for r in order}
        stale = previous - set(order) | (previous & set(last))
        for rel in sorted(stale - {INCOMPLETE, MANIFEST}):
            self._remove(rel)
        self._remove(MANIFEST)
        self._checked.clear()  # removing may have emptied and removed a folder
        entries = []
        for rel in order:
            try:
                data = files[rel].encode("utf-8")
            except UnicodeEncodeError:  # a stray surrogate (a file name's byte): \xNN
                data = shown(files[rel]).encode("utf-8", "backslashreplace")
            self._write(rel, data)
            entries.append({"path": rel, "size": len(data), "sha256": _sha256(data)})
        manifest = {"dlquiz": "grade report", "format": _FORMAT, "files": entries}
        self._write(MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
        self._remove(INCOMPLETE)
        return order, notes


def _holds(path: Path, data: bytes) -> bool:
    """Is ``path`` a regular file with exactly these bytes (no rewrite needed)?"""
    try:
        st = os.lstat(path)
        if st.st_size != len(data) or not stat.S_ISREG(st.st_mode):
            return False
        with open(path, "rb") as f:
            return f.read(len(data) + 1) == data
    except OSError:
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(out: str | Path) -> list[str]:
    """What is wrong with a report folder (nothing: complete and as the manifest says).

    For tests and for anyone checking an upload: ``INCOMPLETE`` present, the manifest
    missing or unreadable, a listed file missing, of another size or checksum.
    """
    out = Path(out)
    problems = []
    if (out / INCOMPLETE).exists():
        problems.append("INCOMPLETE is present: the run did not finish")
    try:
        entries = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return [*problems, "manifest.json is missing or unreadable"]
    for e in entries:
        path = out / e["path"]
        try:
            data = path.read_bytes()
        except OSError:
            problems.append(f"{e['path']} is missing")
            continue
        if len(data) != e["size"] or _sha256(data) != e["sha256"]:
            problems.append(f"{e['path']} differs from the manifest")
    return problems


def listed(out: str | Path) -> Iterable[str]:
    """The files manifest.json lists (empty when there is none)."""
    try:
        data = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
        return [e["path"] for e in data["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
