"""``[params]``: what a template draws for each seed, read once and drawn by ``Draw``.

Forms (each a table, drawn in the order written, from the stream ``Draw(family, seed)``)::

    n = { int = [2, 9] }                       # inclusive; a bound may be a formula: "min(3, k)"
    z = { int = [-3, 3], nonzero = true }
    eta = { choice = ["0.1", "0.5"] }           # text; a number when it reads as one
    act = { choice = [{ f = "sigmoid", fp = "sigmoid'" }, ...] }   # linked: sets f and fp
    ask = { kind = ["theta", "v"] }             # a question-kind dimension (a choice)
    x = { vector = "{d}", int = [-2, 2] }       # a column vector, entry by entry
    W = { matrix = "{h}x{d}", int = [-2, 2], nonzero = true }

A drawn param has a text (``{name}`` in any string) and, when its text is a number, a
vector, a matrix or a formula of the numbers drawn (``n0``, ``{k} + 1``), that number bound
to its name in formulas. A kind's value is the option
drawn as written (for a table, its entry named like the param).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlquiz.bank.rand import Draw
from dlquiz.bank.template.scope import Scope
from dlquiz.bank.template.source import Source, uses
from dlquiz.core.names import canonical_name
from dlquiz.core.vars import MAX_DIM
from dlquiz.notation.parser import FUNCTIONS

RESERVED = {
    "answer": "the key as published, in any text",
    "correct": "the text of a choice question's right option",
}
MAX_ENTRIES = 4096  # entries of one vector or matrix param
MAX_OPTIONS = 1000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SIZE = re.compile(r"^\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*$")
_SPEC_KEYS = {
    "int": "[lo, hi]: a whole number in this range",
    "choice": "a list of options",
    "kind": "a list of options: a question-kind dimension",
    "vector": "the length of a column vector",
    "matrix": 'the shape of a matrix, e.g. "{h}x{d}"',
    "nonzero": "true: never 0 (with int)",
}


@dataclass(frozen=True)
class Param:
    name: str
    form: str  # "int", "choice" or "array"
    kind: bool  # a question-kind dimension
    bounds: tuple[Any, Any] | None = None  # (lo, hi), each an int or a formula
    nonzero: bool = False
    options: tuple[Any, ...] = ()  # choice: strings or tables; array of choices: strings
    size: str = ""  # array: "N" or "MxN" (may use params)
    matrix: bool = False

    @property
    def field(self) -> str:
        return f"params.{self.name}"

    def labels(self) -> tuple[str, ...]:
        """The values of a kind dimension, in order, each once."""
        return tuple(dict.fromkeys(_label(self.name, o) for o in self.options))


def _label(name: str, option: Any) -> str:
    if isinstance(option, dict):
        return str(option[name]) if name in option else str(next(iter(option.values())))
    return str(option)


def _text(value: Any) -> str:
    """A TOML scalar as a param's text (``0.5`` stays ``0.5``, ``true`` is refused before)."""
    return str(value)


def read_params(source: Source) -> list[Param]:
    out = []
    for name, spec in source.table("params", source.data.get("params")).items():
        field = f"params.{name}"
        if not _NAME.match(name):
            raise source.fail(field, "a param name is letters, digits and _ (not first)")
        if name in RESERVED:
            raise source.fail(field, f"'{name}' is reserved: {{{name}}} is {RESERVED[name]}")
        if name.lower() in FUNCTIONS and name.lower() != "sigma":
            raise source.fail(field, f"'{name}' is a function of the notation: rename the param")
        if not isinstance(spec, dict):
            raise source.fail(
                field,
                "must be a table: { int = [lo, hi] }, { choice = [...] }, "
                "{ kind = [...] } or { vector/matrix = ..., int = [lo, hi] }",
            )
        source.keys(field, spec, _SPEC_KEYS)
        draws = [k for k in ("int", "choice", "kind") if k in spec]
        if len(draws) != 1:
            raise source.fail(
                field, "needs exactly one of int = [lo, hi], choice = [...], kind = [...]"
            )
        nonzero = spec.get("nonzero", False)
        if not isinstance(nonzero, bool) or (nonzero and "int" not in spec):
            raise source.fail(f"{field}.nonzero", "is true or false, and only with int")
        array = [k for k in ("vector", "matrix") if k in spec]
        if len(array) > 1:
            raise source.fail(field, "is a vector or a matrix, not both")
        if array and "kind" in spec:
            raise source.fail(field, "a question kind is one option, not a vector")
        bounds = _bounds(source, field, spec["int"]) if "int" in spec else None
        options: tuple[Any, ...] = ()
        if "int" not in spec:
            options = _options(source, field, spec[draws[0]], name, array != [])
        size = ""
        if array:
            raw = spec[array[0]]
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise source.fail(f"{field}.{array[0]}", 'is a size: 3, "{n}" or "{h}x{d}"')
            size = str(raw)
        out.append(
            Param(
                name=name,
                form="array" if array else ("int" if bounds else "choice"),
                kind="kind" in spec,
                bounds=bounds,
                nonzero=nonzero,
                options=options,
                size=size,
                matrix=array == ["matrix"],
            )
        )
    return out


def _bounds(source: Source, field: str, raw: Any) -> tuple[Any, Any]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise source.fail(f"{field}.int", "must be [lo, hi] (both included)")
    for b in raw:
        if isinstance(b, bool) or not isinstance(b, int | str):
            raise source.fail(
                f"{field}.int", "bounds are whole numbers or formulas of earlier params"
            )
    lo, hi = raw
    if isinstance(lo, int) and isinstance(hi, int) and hi < lo:
        raise source.fail(f"{field}.int", f"the range [{lo}, {hi}] is empty")
    return lo, hi


def _options(source: Source, field: str, raw: Any, name: str, entries: bool) -> tuple[Any, ...]:
    if not isinstance(raw, list) or not raw:
        raise source.fail(field, "must be a non-empty list of options")
    if len(raw) > MAX_OPTIONS:
        raise source.fail(field, f"has more than {MAX_OPTIONS} options")
    tables = [o for o in raw if isinstance(o, dict)]
    scalars = [o for o in raw if isinstance(o, str | int | float) and not isinstance(o, bool)]
    if tables and len(tables) != len(raw):
        raise source.fail(field, "options are all texts or all tables, not a mix")
    if not tables and len(scalars) != len(raw):
        raise source.fail(field, "options are texts, numbers or tables")
    if tables:
        if entries:
            raise source.fail(field, "the entries of a vector or matrix are numbers, not tables")
        keys = list(tables[0])
        for t in tables:
            if not t or set(t) != set(keys) or not all(isinstance(v, str) for v in t.values()):
                raise source.fail(
                    field, "a choice of tables needs tables with the same keys and string values"
                )
        return tuple({k: _text(v) for k, v in t.items()} for t in tables)
    return tuple(_text(o) for o in raw)


# --- drawing ------------------------------------------------------------------------------


def draw_params(params: list[Param], draw: Draw, scope: Scope, seed: int) -> None:
    """Draw every param into ``scope``: texts, labels, and the numbers of number params."""
    deferred: list[str] = []
    for p in params:
        if p.form == "int":
            lo, hi = (_bound(scope, p, b, seed) for b in p.bounds or (0, 0))
            if hi < lo or (p.nonzero and lo == hi == 0):
                raise scope.source.fail(p.field, f"the range [{lo}, {hi}] is empty for seed {seed}")
            value = draw.nonzero(lo, hi) if p.nonzero else draw.integer(lo, hi)
            scope.texts[p.name] = scope.labels[p.name] = str(value)
            scope.bind(p.name, np.array(float(value)))
        elif p.form == "array":
            _draw_array(p, draw, scope, seed)
        else:
            picked = draw.choice(p.options)
            entries = dict(picked) if isinstance(picked, dict) else {}
            entries[p.name] = _label(p.name, picked)
            for key, value in entries.items():
                scope.texts[key] = scope.labels[key] = value
                deferred.append(key)  # bound (if it is a number) once all are drawn
                if not uses(value):
                    scope.bind_text(key, value)  # and now already (a later bound may use it)
    for name in dict.fromkeys(deferred):  # texts may use params drawn later: fill, then bind
        scope.texts[name] = scope.fill(scope.texts[name], f"params.{name}")
    for name in dict.fromkeys(deferred):
        scope.bind_text(name, scope.texts[name])


def _bound(scope: Scope, p: Param, b: Any, seed: int) -> int:
    if isinstance(b, int):
        return b
    value = scope.number(b, f"{p.field}.int")
    if value.size != 1 or float(value.flat[0]) != round(float(value.flat[0])):
        raise scope.source.fail(f"{p.field}.int", f"'{b}' is not a whole number for seed {seed}")
    return round(float(value.flat[0]))


def _draw_array(p: Param, draw: Draw, scope: Scope, seed: int) -> None:
    size = scope.fill(p.size, f"{p.field}.{'matrix' if p.matrix else 'vector'}")
    m = _SIZE.match(size)
    rows, cols = (int(m.group(1)), int(m.group(2) or 1)) if m else (0, 0)
    if not m or (p.matrix != bool(m.group(2))):
        want = "MxN, e.g. 3x2" if p.matrix else "a length, e.g. 3"
        raise scope.source.fail(p.field, f"size '{size}' is not {want}")
    if not (1 <= rows <= MAX_DIM and 1 <= cols <= MAX_DIM) or rows * cols > MAX_ENTRIES:
        raise scope.source.fail(p.field, f"size '{size}': each dimension from 1 to {MAX_DIM}")
    cells: list[list[str]] = []
    for _ in range(rows):
        row = []
        for _ in range(cols):
            if p.bounds is not None:
                lo, hi = (_bound(scope, p, b, seed) for b in p.bounds)
                row.append(str(draw.nonzero(lo, hi) if p.nonzero else draw.integer(lo, hi)))
            else:
                row.append(draw.choice(p.options))
        cells.append(row)
    if cols == 1 and not (p.matrix and rows == 1):
        text = "[" + ", ".join(r[0] for r in cells) + "]"
    elif rows == 1 and p.matrix:  # a one-row matrix: [1, 2] would be a column
        text = "[[" + ", ".join(cells[0]) + "]]"
    else:
        text = "[" + "; ".join(", ".join(r) for r in cells) + "]"
    scope.texts[p.name] = scope.labels[p.name] = text
    scope.bind_text(p.name, text)
    if canonical_name(p.name) not in scope.numbers:
        raise scope.source.fail(p.field, f"entries must be numbers (drew {text})")
