"""Writing a problem set: the bank's selection as handed-out files and an answer key.

Version 1 of a set is exactly ``dlquiz.bank.select(topics, families, n, seed)``, the
problems ``dlquiz practice --seed S --mode random`` presents for the same arguments.
Versions 2..K (``--variants K``) keep the same family in each position and its question
kind (what is asked, the convention, the activation, the depth, the loss...) and draw
other variant seeds (SHA-256, keyed by the set's seed, the version and the position), so
every version asks the same kind of question with different numbers and names. Files
are byte-identical for the same arguments: JSON with sorted keys, no timestamps, a fixed order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlquiz.bank import Problem
from dlquiz.sets import documents
from dlquiz.sets.keys import KEY_FORMAT

DEFAULT_TITLE = "Deep learning problem set"
MAX_VARIANTS = 200
MAX_QUESTIONS = 200
_DISTINCT_TRIES = 25
STUDENT_FILES = ("problems.md", "problems.tex", "answers.txt")
INSTRUCTOR_FILES = ("solutions.md", "solutions.tex", "key.json")


class SetError(ValueError):
    """A set that cannot be written (bad arguments, an unwritable folder)."""


class GenerationError(RuntimeError):
    """A family of the bank failed to build a problem (a bug in the bank, not the input)."""


@dataclass
class WrittenSet:
    """What ``write_set`` wrote: paths relative to ``out``, and Moodle's omissions."""

    out: Path
    files: list[str]
    versions: list[list[Problem]]
    notes: list[str] = field(default_factory=list)
    moodle_questions: int = 0
    omitted: list = field(default_factory=list)  # moodle.Omitted

    def to_json(self) -> dict:
        data = {
            "out": str(self.out),
            "files": self.files,
            "versions": [
                [{"number": i, "id": p.id, "seed": p.seed} for i, p in enumerate(v, 1)]
                for v in self.versions
            ],
            "notes": self.notes,
        }
        if "moodle.xml" in self.files:
            data["moodle"] = {
                "questions": self.moodle_questions,
                "left_out": [o.to_json() for o in self.omitted],
            }
        return data


def build_versions(
    topics: Sequence[str],
    family_ids: Sequence[str],
    n: int,
    seed: int,
    variants: int = 1,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[list[Problem]], list[str]]:
    """The problems of each version (version 1 is the bank's ``select``), and notes."""
    from dlquiz.bank import family, generate, plan
    from dlquiz.bank.rand import Draw

    if not 1 <= n <= MAX_QUESTIONS:
        raise SetError(f"--n must be between 1 and {MAX_QUESTIONS}")
    if not 1 <= variants <= MAX_VARIANTS:
        raise SetError(f"--variants must be between 1 and {MAX_VARIANTS}")
    if progress:
        progress(f"version 1 of {variants}" if variants > 1 else "choosing the problems")
    # ``select`` is exactly these pairs generated in order; building them one by one
    # lets a family that fails be named.
    first = [_build(generate, fam.id, s) for fam, s in plan(topics, family_ids, n, seed)]
    versions = [first]
    notes: list[str] = []
    seen = [{p.statement} for p in first]
    for v in range(2, variants + 1):
        if progress:
            progress(f"version {v} of {variants}")
        problems = []
        for i, base in enumerate(first):
            draw = Draw("dlquiz-set-variant", seed, v, i + 1, base.id)

            def same_kind(fid: str, s: int, base: Problem = base) -> Problem:
                """Another variant of base's question kind: only numbers and names change."""
                return family(fid).generate_kind(base.question_kind, s)

            for _ in range(_DISTINCT_TRIES):
                problem = _build(same_kind, base.id, draw.seed())
                if problem.statement not in seen[i]:
                    break
            else:
                notes.append(
                    f"question {i + 1} ({base.id}): version {v} repeats an earlier version "
                    "(the family has too few variants)"
                )
            seen[i].add(problem.statement)
            problems.append(problem)
        versions.append(problems)
    return versions, notes


def _build(generate: Callable[[str, int], Problem], family_id: str, seed: int) -> Problem:
    from dlquiz.bank import FamilyError

    try:
        return generate(family_id, seed)
    except FamilyError:
        raise
    except Exception as exc:  # a broken family: name it, never a traceback
        raise GenerationError(
            f"family {family_id} failed to build the problem for seed {seed}: "
            f"{type(exc).__name__}: {exc}"
        ) from None


def key_document(
    problems: Sequence[Problem],
    *,
    title: str,
    version: int | None,
    selection: dict,
) -> dict:
    """``key.json`` (format 2): the bank's key fields per question, the bank's version, and
    how the set was chosen."""
    from dlquiz import __version__
    from dlquiz.bank import version as bank_version

    questions = []
    for i, p in enumerate(problems, start=1):
        entry = p.key_json(i)
        entry["title"] = p.title
        entry["topic"] = p.topic
        questions.append(entry)
    return {
        "dlquiz": "key",
        "format": KEY_FORMAT,
        "generator": f"dlquiz {__version__}",
        "bank_version": bank_version(),
        "title": title,
        "version": version,
        "selection": selection,
        "total_points": sum(p.points for p in problems),
        "questions": questions,
    }


def _json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_version(
    folder: Path, problems: Sequence[Problem], title: str, version: int | None, selection: dict
) -> list[Path]:
    """The six files of one version."""
    files = {
        "problems.md": documents.problems_markdown(problems, title, version),
        "problems.tex": documents.problems_tex(problems, title, version),
        "solutions.md": documents.solutions_markdown(problems, title, version),
        "solutions.tex": documents.solutions_tex(problems, title, version),
        "key.json": _json(
            key_document(problems, title=title, version=version, selection=selection)
        ),
        "answers.txt": documents.answer_sheet(problems, title, version),
    }
    for name, text in files.items():
        _write(folder / name, text)
    return [folder / name for name in files]


def write_set(
    out: str | Path,
    *,
    topics: Sequence[str] = (),
    family_ids: Sequence[str] = (),
    n: int = 10,
    seed: int = 0,
    title: str | None = None,
    variants: int | None = None,
    moodle: bool = False,
    progress: Callable[[str], None] | None = None,
) -> WrittenSet:
    """Choose the problems and write the set into ``out``.

    Without ``variants`` the files go straight into ``out``; with ``variants=K`` each
    version goes into ``out/vN/`` and ``out/roster.json`` maps versions to their keys.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SetError(f"{out} exists and is not a folder")
    title = " ".join((title or DEFAULT_TITLE).split()) or DEFAULT_TITLE
    count = 1 if variants is None else variants
    versions, notes = build_versions(topics, family_ids, n, seed, count, progress)
    selection = {"topics": list(topics), "families": list(family_ids), "n": n, "seed": seed}
    written: list[Path] = []
    try:
        if variants is None:
            written += write_version(out, versions[0], title, None, selection)
        else:
            roster = {"dlquiz": "roster", "format": KEY_FORMAT, "title": title, "versions": {}}
            for v, problems in enumerate(versions, start=1):
                written += write_version(out / f"v{v}", problems, title, v, selection)
                roster["versions"][str(v)] = f"v{v}/key.json"
            _write(out / "roster.json", _json(roster))
            written.append(out / "roster.json")
        result = WrittenSet(out, [], versions, notes)
        if moodle:
            from dlquiz.sets.moodle import moodle_xml

            xml, omitted = moodle_xml(versions, title, with_versions=variants is not None)
            _write(out / "moodle.xml", xml)
            written.append(out / "moodle.xml")
            result.omitted = omitted
            result.moodle_questions = sum(len(v) for v in versions) - len(omitted)
    except OSError as exc:
        raise SetError(f"cannot write into {out}: {exc.strerror or exc}") from None
    result.files = [str(p.relative_to(out)) for p in written]
    return result
