"""A template file as the loader reads it: its fields, and errors that name file and field.

An instructor writes templates; a mistake in one must say where it is and what is
expected (``softmax-regression/probabilities.toml: field 'values.p': ...``), never
raise a traceback. Every part of the loader reports through ``Source.fail``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlquiz.bank.family import FamilyError

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
FILL_DEPTH = 8  # params may use params (a linked choice naming {act}), this deep

ANSWER_KINDS = ("expression", "number", "numbers", "integer", "shape", "choice")
NUMERIC_KINDS = ("number", "numbers", "integer", "shape")
TOP_LEVEL = {
    "id": "the family id (default: topic/file name)",
    "title": "one line, shown by `dlquiz topics`",
    "kind": f"the answer kind ({', '.join(ANSWER_KINDS)})",
    "points": "a whole number of points",
    "tolerance": "a relative tolerance for numeric answers",
    "statement": "the question",
    "hints": "a list of hints",
    "solution": "the worked solution",
    "require": "conditions every draw must meet",
    "redraws": "how many draws to try before giving up",
    "params": "what is drawn per seed",
    "vars": "the answer's variables",
    "definitions": "named formulas",
    "values": "numbers computed from the params",
    "answer": "what the key is",
    "mistakes": "known wrong answers",
    "choice": "how many options a choice question shows",
    "options": "the option pool of a choice question",
    "checks": "independent checks run by `dlquiz verify`",
}


class Source:
    """One template: its path, its parsed TOML and the family id it defines."""

    def __init__(self, path: Path, data: dict[str, Any], topic: str) -> None:
        self.path = path
        self.data = data
        self.topic = topic

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    def fail(self, field: str, message: str) -> FamilyError:
        return FamilyError(f"{self.name}: field '{field}': {message}")

    # --- typed access -------------------------------------------------------------------
    def text(self, field: str, value: Any, *, required: bool = True) -> str:
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(field, "must be a non-empty string" if required else "must be a string")
        return value

    def table(self, field: str, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(field, "must be a table (name = value pairs)")
        return value

    def tables(self, field: str, value: Any) -> list[dict[str, Any]]:
        """An array of tables (``[[mistakes]]``)."""
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(field, f"must be an array of tables ([[{field}]] entries)")
        return value

    def keys(self, field: str, table: Mapping[str, Any], allowed: Mapping[str, str]) -> None:
        """Only the allowed keys (the message lists them with what each is for)."""
        for key in table:
            if key not in allowed:
                expected = "; ".join(f"{k} ({v})" for k, v in allowed.items())
                raise self.fail(
                    f"{field}.{key}" if field else key, f"is not a field here: expected {expected}"
                )

    def integer(self, field: str, value: Any, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(field, f"must be a whole number from {lo} to {hi}")
        return value


def fill(source: Source, text: str, params: Mapping[str, str], field: str) -> str:
    """``{name}`` replaced by its param's text; a param's text may itself use params."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) not in params:
            raise source.fail(field, f"uses {{{m.group(1)}}}, which is not a param")
        return params[m.group(1)]

    for _ in range(FILL_DEPTH):
        filled = _PARAM.sub(repl, text)
        if filled == text:
            if _PARAM.search(filled):  # a param whose value is itself
                break
            return filled
        text = filled
    raise source.fail(field, "params refer to each other in a loop")


def uses(text: str) -> set[str]:
    """The ``{name}`` params a text refers to."""
    return set(_PARAM.findall(text))
