"""Answer keys on disk: ``key.json`` (one version of a set) and ``roster.json`` (several).

The grader reads a key file alone and never regenerates problems, so a key written by an
older install (or edited by hand) still grades. Loading checks everything the grader will
rely on, and reads every question with the judge once: a key that cannot be used is
reported (exit 2) before any sheet is graded, never half-way through a batch.

Format 2 (written now) adds the bank's version to the key and, to each question, its
question kind and the version of the family that built it; format 1 keys (and keys
without a ``format``) are read as before. A question's key fields are the one answer-key
type of the judge (``dlquiz.judge.AnswerKey``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlquiz.judge.key import AnswerKey, KeyFormatError

KEY_FORMAT = 2
READS_FORMATS = (1, 2)
MAX_KEY_BYTES = 50_000_000


class KeyFileError(ValueError):
    """A key or roster file that cannot be used (the message names the file and the field)."""


@dataclass
class Question:
    """One graded question: its answer key (the judge's type), its number and points."""

    number: int
    id: str
    key: AnswerKey
    points: float = 1
    title: str = ""
    topic: str = ""  # the bank's topic ("" in a key without one: ``other`` in summaries)
    seed: int | None = None
    family_version: str = ""  # format 2: the version of the family that built it
    question_kind: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.key.kind

    @property
    def answer(self) -> str:
        return self.key.answer

    @property
    def tolerance(self) -> float | None:
        return self.key.tolerance

    def prepare(self) -> Any:
        """The judge's prepared key (parsed once; ``UnusableKey`` if it cannot be)."""
        return self.key.prepare()


@dataclass
class Key:
    """One version of a set: its questions in order."""

    path: str
    questions: list[Question]
    title: str = ""
    version: int | None = None
    format: int = 1
    bank_version: str = ""  # format 2: the bank that built the set

    @property
    def max_score(self) -> float:
        return float(sum(q.points for q in self.questions))

    def question(self, number: int) -> Question | None:
        for q in self.questions:
            if q.number == number:
                return q
        return None


@dataclass
class KeySet:
    """What ``grade`` grades against: one key, or a roster of versions."""

    path: str
    keys: dict[int | None, Key]
    roster: bool = False
    title: str = ""

    def for_version(self, version: int | None) -> tuple[Key | None, str | None]:
        """The key a sheet with this ``# version:`` line is graded against, or why none."""
        if not self.roster:
            key = next(iter(self.keys.values()))
            if version is not None and key.version is not None and version != key.version:
                return None, (
                    f"the sheet is version {version} but {self.path} is the key of version "
                    f"{key.version}: grade with the set's roster.json"
                )
            return key, None
        versions = ", ".join(str(v) for v in self.keys)
        if version is None:
            if len(self.keys) == 1:
                return next(iter(self.keys.values())), None
            return None, f"no '# version: N' line, so no key can be chosen (versions: {versions})"
        if version not in self.keys:
            return None, f"version {version} is not in the roster (versions: {versions})"
        return self.keys[version], None

    @property
    def numbers(self) -> list[int]:
        """Every question number of every version, in order (the columns of grades.csv)."""
        return sorted({q.number for k in self.keys.values() for q in k.questions})

    def topic(self, version: int | None, number: int) -> str:
        """The topic of a question of one version (``other`` when the key names none)."""
        key = self.keys.get(version)
        question = key.question(number) if key is not None else None
        return (question.topic if question is not None else "") or "other"

    def titles(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for key in self.keys.values():
            for q in key.questions:
                out.setdefault(q.number, q.title or q.id)
        return out


# --- reading ----------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise KeyFileError(f"{path}: not a file")
    if size > MAX_KEY_BYTES:
        raise KeyFileError(f"{path}: {size} bytes is too large for a key")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"{path}: not UTF-8 text, so not a key written by dlquiz") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise KeyFileError(f"{path}: JSON nested too deeply") from None


def load_keys(path: str | Path) -> KeySet:
    """A ``key.json`` or a ``roster.json``, checked and read by the judge.

    A set's folder stands for its ``roster.json`` (or its ``key.json`` without variants).
    """
    p = Path(path)
    if p.is_dir():
        for name in ("roster.json", "key.json"):
            if (p / name).is_file():
                p = p / name
                break
        else:
            raise KeyFileError(f"{path}: a folder without a roster.json or key.json")
    data = _read_json(p)
    if isinstance(data, dict) and "versions" in data and "questions" not in data:
        return _load_roster(p, data)
    key = _key_from_data(p, data)
    return KeySet(str(p), {key.version: key}, roster=False, title=key.title)


def _load_roster(path: Path, data: dict[str, Any]) -> KeySet:
    versions = data["versions"]
    if not isinstance(versions, dict) or not versions:
        raise KeyFileError(f"{path}: 'versions' must map version numbers to key files")
    keys: dict[int | None, Key] = {}
    for name, rel in versions.items():
        try:
            number = int(name)
        except (TypeError, ValueError):
            raise KeyFileError(f"{path}: version '{name}' is not a number") from None
        if not isinstance(rel, str) or not rel:
            raise KeyFileError(f"{path}: version {number}: the key path must be text")
        key_path = path.parent / rel
        key = _key_from_data(key_path, _read_json(key_path))
        if key.version is not None and key.version != number:
            raise KeyFileError(
                f"{path}: version {number} points to {rel}, the key of version {key.version}"
            )
        key.version = number
        keys[number] = key
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    return KeySet(str(path), dict(sorted(keys.items())), roster=True, title=title or "")


def _key_from_data(path: Path, data: Any) -> Key:
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise KeyFileError(
            f"{path}: not a dlquiz key (a key.json has a 'questions' list, "
            "a roster.json a 'versions' map)"
        )
    fmt = data.get("format", 1)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
        raise KeyFileError(f"{path}: 'format' must be a whole number")
    if fmt not in READS_FORMATS:
        raise KeyFileError(
            f"{path}: key format {fmt} was written by a newer dlquiz (this one reads formats "
            f"{', '.join(map(str, READS_FORMATS))}): upgrade dlquiz"
        )
    raw = data["questions"]
    if not raw:
        raise KeyFileError(f"{path}: the key has no questions")
    questions: list[Question] = []
    seen: set[int] = set()
    for i, entry in enumerate(raw, start=1):
        q = _question(path, i, entry)
        if q.number in seen:
            raise KeyFileError(f"{path}: question number {q.number} appears twice")
        seen.add(q.number)
        questions.append(q)
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise KeyFileError(f"{path}: 'version' must be a whole number")
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    bank = data.get("bank_version") if isinstance(data.get("bank_version"), str) else ""
    key = Key(str(path), questions, title or "", version, fmt, bank or "")
    _check_with_judge(key)
    return key


def _question(path: Path, index: int, entry: Any) -> Question:
    where = f"{path}: question {index}"
    if not isinstance(entry, dict):
        raise KeyFileError(f"{where}: must be an object")
    number = entry.get("number", index)
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise KeyFileError(f"{where}: 'number' must be a positive whole number")
    where = f"{path}: question {number}"

    def text(name: str, default: str | None = None) -> str:
        value = entry.get(name, default)
        if not isinstance(value, str):
            raise KeyFileError(f"{where}: '{name}' must be text")
        return value

    points = entry.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, int | float) or not points > 0:
        raise KeyFileError(f"{where}: 'points' must be a positive number")
    if not math.isfinite(points):
        raise KeyFileError(f"{where}: 'points' must be finite")
    try:
        key = AnswerKey.from_json(entry)
    except KeyFormatError as exc:
        raise KeyFileError(f"{where}: {exc}") from None
    seed = entry.get("seed")
    topic = entry.get("topic")  # only for summaries: a key without one still grades
    kind = entry.get("question_kind")
    kind = (
        {k: v for k, v in kind.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(kind, dict)
        else {}
    )
    version = entry.get("family_version")
    return Question(
        number=number,
        id=text("id", ""),
        key=key,
        points=points,
        title=text("title", ""),
        topic=topic if isinstance(topic, str) else "",
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        family_version=version if isinstance(version, str) else "",
        question_kind=kind,
    )


def _check_with_judge(key: Key) -> None:
    """Every question must be readable by the judge, and its own answer must earn full marks."""
    from dlquiz.core.vars import VarSpecError
    from dlquiz.judge import UnusableKey, check

    for q in key.questions:
        where = f"{key.path}: question {q.number}"
        try:
            prepared = q.prepare()
            verdict = check(q.answer, prepared, tolerance=q.tolerance)
        except (UnusableKey, VarSpecError) as exc:
            raise KeyFileError(f"{where}: {exc}") from None
        except (RecursionError, MemoryError, ValueError) as exc:
            raise KeyFileError(f"{where}: the key cannot be read ({exc})") from None
        if not verdict.equivalent:
            raise KeyFileError(
                f"{where}: the judge does not accept the key's own answer ({verdict.feedback})"
            )
