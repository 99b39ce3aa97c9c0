"""Which files a class's SUBMISSION paths hold: every entry graded or reported, none silent.

A class folder arrives from many systems (zip archives, synced folders, a student's own
upload), so besides sheets it may hold named pipes, devices, symlinks that dangle or loop,
and symlinks that point elsewhere on the machine (``/etc/passwd``). The rules:

- hidden entries (a name starting with ``.``) are skipped, as are the report folder and
  the key's own files;
- a regular file is a submission;
- a FIFO, a device or a socket is reported with what it is, and never opened (opening a
  FIFO would block the batch);
- a symlink is followed only to a regular file inside the given SUBMISSION paths. Its
  target is then the same submission as the file itself: one sheet per real path, named
  by the path that is not a symlink (the alias is noted). A symlink that dangles, loops,
  leads to a device or out of the given paths is reported and not read. A symlink to a
  folder inside the paths adds nothing (its files are graded under their own folder).
- a SUBMISSION argument that is itself a symlink obeys the same rule (a shell glob such as
  ``subs/*`` hands over the students' own symlinks as arguments).

File names that are not valid UTF-8 are kept as the OS gives them (surrogate escapes in a
``str``), so they can be opened; ``shown`` is their printable form.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlquiz.sets.sheets import Sheet, read_sheet, shown

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


@dataclass
class Submissions:
    """The sheets to read (in order), the entries reported instead, and symlink aliases."""

    sheets: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why not read)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # sheet -> its symlinks

    def __len__(self) -> int:
        return len(self.sheets) + len(self.problems)


def _kind(mode: int) -> str:
    for test, what in _KINDS:
        if test(mode):
            return what
    return "not a regular file"


def _inside(real: str, folders: Iterable[str]) -> bool:
    return any(real == f or real.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def _real_argument(arg: str) -> str:
    """The argument with its folders resolved but its last part kept (a symlink stays one)."""
    absolute = os.path.abspath(arg)
    name = os.path.basename(absolute)
    if not name:  # "/"
        return absolute
    return os.path.join(os.path.realpath(os.path.dirname(absolute)), name)


@dataclass
class _Candidate:
    path: str
    real: str
    link: bool


class _Finder:
    def __init__(self, roots: list[str], excluded: set[str]) -> None:
        self.roots = roots  # real paths of the arguments that are not symlinks
        self.excluded = excluded  # real paths: the report folder, the key's files
        self.candidates: list[_Candidate] = []
        self.problems: list[tuple[str, str]] = []

    def skip(self, real: str) -> bool:
        return _inside(real, self.excluded)

    def entry(self, shown_path: str, real: str, st: os.stat_result) -> None:
        """One entry that is not a symlink (``real`` is its real path)."""
        if self.skip(real):
            return
        if stat.S_ISDIR(st.st_mode):
            self.folder(shown_path, real)
        elif stat.S_ISREG(st.st_mode):
            self.candidates.append(_Candidate(shown_path, real, link=False))
        else:
            self.problems.append((shown_path, f"{_kind(st.st_mode)}, not a file: not read"))

    def folder(self, shown_path: str, real: str) -> None:
        try:
            with os.scandir(real) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.problems.append((shown_path, f"cannot be listed ({exc.strerror or exc})"))
            return
        for e in entries:
            if e.name.startswith("."):
                continue
            child_shown = str(Path(shown_path) / e.name)
            child_real = os.path.join(real, e.name)
            try:
                st = e.stat(follow_symlinks=False)
            except OSError as exc:
                self.problems.append((child_shown, f"cannot be read ({exc.strerror or exc})"))
                continue
            if stat.S_ISLNK(st.st_mode):
                self.link(child_shown, child_real)
            else:
                self.entry(child_shown, child_real, st)

    def link(self, shown_path: str, lexical: str) -> None:
        """A symlink: followed only to a regular file inside the given paths."""
        try:
            st = os.stat(lexical)
        except FileNotFoundError:
            try:
                target = shown(os.readlink(lexical))
            except OSError:
                target = "?"
            self.problems.append(
                (shown_path, f"a dangling symlink (its target {target} does not exist): not read")
            )
            return
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                why = "a symlink that loops (it leads back to itself): not read"
            else:
                why = f"a symlink that cannot be followed ({exc.strerror or exc}): not read"
            self.problems.append((shown_path, why))
            return
        real = os.path.realpath(lexical)
        if self.skip(real):
            return
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            what = _kind(st.st_mode)
            self.problems.append(
                (shown_path, f"a symlink to {what} ({shown(real)}), not a file: not read")
            )
        elif not _inside(real, self.roots):
            self.problems.append(
                (
                    shown_path,
                    f"a symlink to {shown(real)}, outside the given submission paths: not read",
                )
            )
        elif stat.S_ISREG(st.st_mode):
            self.candidates.append(_Candidate(shown_path, real, link=True))
        # a symlink to a folder inside the paths: its files are found under their own names


def find_submissions(paths: Sequence[str], exclude: Iterable[str | Path] = ()) -> Submissions:
    """Every entry of the SUBMISSION paths, as a sheet to read or a reported problem."""
    excluded = {os.path.realpath(p) for p in exclude}
    arguments: list[tuple[str, str, os.stat_result | None]] = []
    roots: list[str] = []
    missing: list[tuple[str, str]] = []
    for arg in paths:
        lexical = _real_argument(arg)
        try:
            st = os.lstat(lexical)
        except OSError:
            st = None
        arguments.append((arg, lexical, st))
        if st is not None and not stat.S_ISLNK(st.st_mode):
            roots.append(lexical)
    finder = _Finder(roots, excluded)
    for arg, lexical, st in arguments:
        name = str(Path(arg))
        if st is None:
            missing.append((arg, "no such file or folder"))
        elif stat.S_ISLNK(st.st_mode):
            finder.link(name, lexical)
        else:
            finder.entry(name, lexical, st)
    found = Submissions(problems=finder.problems + missing)
    by_real: dict[str, list[tuple[int, _Candidate]]] = {}
    for i, c in enumerate(finder.candidates):
        by_real.setdefault(c.real, []).append((i, c))
    chosen = []
    for group in by_real.values():  # the first path that is not a symlink names the sheet
        position, sheet = min(group, key=lambda ic: (ic[1].link, ic[0]))
        chosen.append((position, sheet, [c.path for _, c in group if c is not sheet]))
    for _, sheet, others in sorted(chosen, key=lambda entry: entry[0]):
        found.sheets.append(sheet.path)
        if others:
            found.aliases[sheet.path] = others
    return found


def read_submissions(
    found: Submissions, progress: Callable[[int], None] | None = None
) -> list[Sheet]:
    """The sheets read, then one ``Sheet`` with its reason per reported entry."""
    sheets = []
    for i, path in enumerate(found.sheets):
        sheet = read_sheet(path)
        for alias in found.aliases.get(path, []):
            sheet.note(f"also submitted as {shown(alias)} (the same file): graded once")
        sheets.append(sheet)
        if progress is not None:
            progress(i + 1)
    sheets += [Sheet(path, error=why) for path, why in found.problems]
    return sheets
