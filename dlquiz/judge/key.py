"""The answer key: everything needed to judge answers to one question, in one type.

A bank ``Problem``, a question of a ``key.json`` (``dlquiz.sets.keys``) and the judge all
speak of the same information: the answer kind, the key in the notation, the declared
variables and definitions an answer may use, the relative tolerance, the known mistakes
and the options of a choice question. ``AnswerKey`` holds it once; ``prepare`` reads it
for the judge (cached), ``to_json``/``from_json`` are its form in a key file, where every
field is checked so that a hand-edited key fails with the field's name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlquiz.judge.core import KINDS, PreparedKey, Verdict, check, prepare


class KeyFormatError(ValueError):
    """A key field that cannot be used (the message names the field)."""


@dataclass(frozen=True)
class AnswerKey:
    kind: str
    answer: str
    vars: Mapping[str, str] = field(default_factory=dict)
    definitions: Mapping[str, str] = field(default_factory=dict)
    tolerance: float | None = None
    mistakes: tuple[Mapping[str, str], ...] = ()
    choices: tuple[str, ...] = ()

    def prepare(self) -> PreparedKey:
        """The judge's reading of the key (cached by the judge for equal keys)."""
        return prepare(
            self.answer,
            kind=self.kind,
            vars=dict(self.vars),
            definitions=dict(self.definitions),
            mistakes=[dict(m) for m in self.mistakes],
        )

    def check(self, answer: str) -> Verdict:
        """Judge an answer (untrusted text) against this key."""
        return check(answer, self.prepare(), tolerance=self.tolerance)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "answer": self.answer,
            "vars": dict(self.vars),
            "definitions": dict(self.definitions),
            "tolerance": self.tolerance,
            "mistakes": [dict(m) for m in self.mistakes],
            "choices": list(self.choices),
        }

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> AnswerKey:
        """The key fields of a JSON object, each checked (``KeyFormatError`` names the field)."""
        kind = entry.get("kind")
        if not isinstance(kind, str):
            raise KeyFormatError("'kind' must be text")
        if kind not in KINDS:
            raise KeyFormatError(f"unknown kind '{kind}' (one of {', '.join(KINDS)})")
        answer = entry.get("answer")
        if not isinstance(answer, str):
            raise KeyFormatError("'answer' must be text")
        tolerance = entry.get("tolerance")
        if tolerance is not None and (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, int | float)
            or not math.isfinite(tolerance)
            or not 0 <= tolerance < 1
        ):
            raise KeyFormatError("'tolerance' must be a relative tolerance in [0, 1)")
        mistakes = entry.get("mistakes") or []
        if not isinstance(mistakes, list) or not all(
            isinstance(m, dict)
            and isinstance(m.get("tag"), str)
            and isinstance(m.get("answer"), str)
            for m in mistakes
        ):
            raise KeyFormatError("'mistakes' must be a list of {tag, answer, feedback}")
        choices = entry.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise KeyFormatError("'choices' must be a list of texts")
        return cls(
            kind=kind,
            answer=answer,
            vars=_mapping(entry, "vars"),
            definitions=_mapping(entry, "definitions"),
            tolerance=None if tolerance is None else float(tolerance),
            mistakes=tuple(
                {"tag": m["tag"], "answer": m["answer"], "feedback": str(m.get("feedback", ""))}
                for m in mistakes
            ),
            choices=tuple(choices),
        )


def _mapping(entry: Mapping[str, Any], name: str) -> dict[str, str]:
    value = entry.get(name) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise KeyFormatError(f"'{name}' must map names to text")
    return dict(value)
