"""Answer sheets: the ``answers.txt`` a student fills in, read robustly.

The format (what ``generate`` writes)::

    # version: 2            which version of the set (picks the key from a roster)
    # student: s1234567     who (else the file name is the student id)
    # any other line starting with # is a comment
    1: 4*(w*x + b - y)*x
    2: [0.0159, 0.867,      an answer may continue on the following lines
        0.117]              (until a blank line, a comment or the next answer)

``N: answer`` also reads as ``N. answer`` or ``N) answer``. A sheet is untrusted input:
whatever a file holds (nothing, binary data, a megabyte of text, another encoding,
duplicate or unknown question numbers) gives a ``Sheet`` with the answers that could be
read and notes saying what was done, or an ``error`` saying why it cannot be graded.
Nothing here raises for a bad file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

MAX_SHEET_BYTES = 1_000_000
MAX_ANSWER_CHARS = 20_000  # the judge rejects anything over its own limit with a message
MAX_NOTES = 8
MAX_ID_CHARS = 100

_ANSWER = re.compile(r"^(\d{1,9})\s*(?::|[.)](?=\s|$))\s*(.*)$")
_HEADER = re.compile(r"^#\s*(version|student)\s*:\s*(.*?)\s*$", re.IGNORECASE)
_TRAILING_COMMENT = re.compile(r"\s+#.*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAGIC = (
    (b"%PDF", "a PDF file"),
    (b"PK\x03\x04", "a zip archive (a Word document?)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"\x7fELF", "a program"),
    (b"\x1f\x8b", "a gzip archive"),
)


@dataclass
class Sheet:
    """What a sheet says: answers by question number, and what was odd about it."""

    path: str
    student: str | None = None
    version: int | None = None
    answers: dict[int, str] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)  # question -> line of its answer
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # set when the sheet cannot be graded at all

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)
        elif len(self.notes) == MAX_NOTES:
            self.notes.append("(more problems on this sheet are not listed)")


def shown(text: str) -> str:
    """Text fit for a report: bytes of a file name that are not UTF-8 as ``\\xNN``.

    Python keeps such bytes as surrogate escapes (U+DC80..U+DCFF); any other lone
    surrogate becomes ``\\uXXXX``. Text without surrogates is returned as it is.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _read_bytes(path: str | Path) -> bytes:
    """At most ``MAX_SHEET_BYTES + 1`` bytes of a regular file, never blocking.

    Opened non-blocking and checked after opening, so a FIFO or a device put in place
    of a sheet (even after the folder was listed) is refused instead of hanging.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return f.read(MAX_SHEET_BYTES + 1)


def read_sheet(path: str | Path) -> Sheet:
    """Read one sheet file; never raises (an unreadable file gives ``Sheet.error``)."""
    sheet = Sheet(str(path))
    try:
        data = _read_bytes(path)
    except OSError as exc:
        sheet.error = f"cannot be read ({exc.strerror or exc})"
        return sheet
    if len(data) > MAX_SHEET_BYTES:
        sheet.error = (
            f"the file is larger than {MAX_SHEET_BYTES // 1_000_000} MB, "
            "far more than an answer sheet"
        )
        return sheet
    text, how, error = decode(data)
    if error is not None or text is None:
        sheet.error = error
        return sheet
    if how:
        sheet.note(how)
    return parse_sheet(text, str(path), sheet)


def decode(data: bytes) -> tuple[str | None, str | None, str | None]:
    """(text, note on how it was decoded, error): UTF-8 first, then UTF-16 or Windows-1252."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return None, None, f"{what}, not a text answer sheet"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "read as UTF-16 text", None
        except UnicodeDecodeError:
            return None, None, "starts like UTF-16 text but cannot be read as it"
    if len(data) >= 4 and len(data) % 2 == 0 and b"\x00" in data:
        odd, even = data[1::2], data[0::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) == 0:
            try:
                return data.decode("utf-16-le"), "read as UTF-16 text", None
            except UnicodeDecodeError:
                pass
    if b"\x00" in data:
        return None, None, "a binary file (it contains NUL bytes), not a text sheet"
    note = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        lenient = data.decode("utf-8-sig", errors="replace")
        multibyte = sum(1 for ch in lenient if ord(ch) > 0x7F and ch != "\ufffd")
        if multibyte > lenient.count("\ufffd"):  # UTF-8 with a few broken bytes
            text = lenient
            note = "some bytes are not valid UTF-8: they were replaced by \ufffd"
        else:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            note = "not UTF-8: read as Windows-1252 (Latin-1) text"
    controls = len(_CONTROL.findall(text))
    if controls > max(4, len(text) // 20):
        return None, None, "a binary file (mostly control characters), not a text sheet"
    return text, note, None


def parse_sheet(text: str, path: str = "<sheet>", sheet: Sheet | None = None) -> Sheet:
    """The answers, ``# version:`` and ``# student:`` of a sheet's text."""
    sheet = sheet if sheet is not None else Sheet(path)
    current: int | None = None  # the question an answer line may continue
    versions: dict[str, int] = {}
    stray: list[int] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _CONTROL.sub("", raw).strip().lstrip("\ufeff")
        if not line:
            current = None
            continue
        if line.startswith("#"):
            current = None
            header = _HEADER.match(line)
            if header:
                _header(sheet, header.group(1).lower(), header.group(2), lineno, versions)
            continue
        line = _TRAILING_COMMENT.sub("", line)
        m = _ANSWER.match(line)
        if m:
            number, answer = int(m.group(1)), m.group(2).strip()
            if number in sheet.answers and number in sheet.lines:
                sheet.note(
                    f"question {number} is answered twice (lines {sheet.lines[number]} and "
                    f"{lineno}): the last answer is graded"
                )
            sheet.answers[number] = answer[:MAX_ANSWER_CHARS]
            sheet.lines[number] = lineno
            current = number
        elif current is not None:
            joined = f"{sheet.answers[current]} {line}".strip()
            sheet.answers[current] = joined[:MAX_ANSWER_CHARS]
        else:
            stray.append(lineno)
    if stray:
        shown = ", ".join(map(str, stray[:5])) + (" ..." if len(stray) > 5 else "")
        sheet.note(
            f"{len(stray)} line(s) are not answers (write 'N: answer'): ignored (line {shown})"
        )
    if len(versions) > 1:
        sheet.error = f"the sheet names {len(versions)} different versions ({', '.join(versions)})"
    if not sheet.answers and sheet.error is None:
        sheet.note("no answers found on the sheet (each answer goes on a line 'N: answer')")
    return sheet


def _header(sheet: Sheet, name: str, value: str, lineno: int, versions: dict[str, int]) -> None:
    value = _TRAILING_COMMENT.sub("", value).strip()
    if not value:
        return
    if name == "student":
        student = clean_id(value)
        if sheet.student is None:
            sheet.student = student or None
        elif student != sheet.student:
            sheet.note(f"a second '# student:' line (line {lineno}) is ignored")
        return
    if not re.fullmatch(r"\d{1,6}", value):
        sheet.error = f"the '# version:' line (line {lineno}) says '{value[:20]}', not a number"
        return
    versions.setdefault(str(int(value)), lineno)
    if sheet.version is None:
        sheet.version = int(value)


def clean_id(text: str) -> str:
    """A student id fit for a table: one line, bounded, without control or format
    characters (no terminal escapes, no right-to-left overrides)."""
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return " ".join(text.split())[:MAX_ID_CHARS]


def student_from_path(path: str | Path) -> str:
    """The student id a file name gives: ``alice.txt`` -> ``alice``.

    A generic name (``answers.txt``, as uploaded into one folder per student) gives the
    folder's name instead.
    """
    p = Path(shown(str(path)))
    stem = p.stem or p.name
    if stem.lower() in ("answers", "answer", "sheet", "submission") and p.parent.name:
        return clean_id(p.parent.name)
    return clean_id(stem)
