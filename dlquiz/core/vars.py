"""Declared variables: the names an answer may use, with their shapes and domains.

One syntax everywhere (``--var``, templates, keys): ``NAME[:SHAPE][:DOMAIN]`` where
NAME is a name of the notation (``W1``, ``ŷ``, ``n_in``, an index subscript ``W_{m+1}``),
SHAPE is ``3x2`` (matrix), ``3`` (column vector) or ``1x3`` (row), and DOMAIN is
``positive``, ``unit`` (in (0, 1)), ``onehot`` (a one-hot vector), ``nonzero`` or
``function`` (an unspecified elementwise function such as the notes' ``phi``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dlquiz.core.expr import SCALAR, Shape, normalize_shape, shape_text
from dlquiz.core.names import DEFAULT_DOMAINS, canonical_name

DOMAINS = ("real", "positive", "unit", "onehot", "nonzero", "integer", "function")
MAX_DIM = 64

_NAME = re.compile(
    r"^[A-Za-z\u0370-\u03ffŷŶôĥŝĝ][A-Za-z0-9_\u0370-\u03ffŷŶôĥŝĝ\u0302\u2080-\u2089]*"
    r"(?:_\{\s*[A-Za-z0-9]+(?:\s*[+-]\s*[A-Za-z0-9]+)*\s*\})?$"
)
_SHAPE = re.compile(r"^(\d+)(?:\s*[x×]\s*(\d+))?$")


class VarSpecError(ValueError):
    """A ``--var`` declaration that cannot be read."""


@dataclass(frozen=True)
class VarSpec:
    name: str
    shape: Shape = SCALAR
    domain: str = "real"

    @property
    def is_function(self) -> bool:
        return self.domain == "function"

    def text(self) -> str:
        """Back to the declaration syntax (``W:3x2``), for keys and JSON."""
        parts = [self.name]
        if self.shape != SCALAR:
            m, n = self.shape
            parts.append(str(m) if n == 1 else f"{m}x{n}")
        if self.domain != "real":
            parts.append(self.domain)
        return ":".join(parts)

    def describe(self) -> str:
        """For statements and hints: ``W: 3x2``, ``eta: positive scalar``."""
        what = shape_text(self.shape)
        if self.domain == "function":
            return f"{self.name}: elementwise function"
        if self.domain != "real":
            what = f"{self.domain} {what}"
        return f"{self.name}: {what}"


def parse_shape(text: str) -> Shape:
    """``3x2`` -> (3, 2); ``3`` -> (3, 1); ``1`` and ``1x1`` -> scalar."""
    m = _SHAPE.match(text.strip())
    if not m:
        raise VarSpecError(f"'{text}' is not a shape (write 3x2 for a matrix, 3 for a vector)")
    rows = int(m.group(1))
    cols = int(m.group(2)) if m.group(2) else 1
    if not (1 <= rows <= MAX_DIM and 1 <= cols <= MAX_DIM):
        raise VarSpecError(f"shape '{text}': each dimension must be between 1 and {MAX_DIM}")
    return normalize_shape((rows, cols))


def parse_name(text: str, where: str = "") -> str:
    """A declared name in its canonical spelling (``ŷ`` -> ``yhat``, ``W_{m + 1}`` ->
    ``W_{m+1}``), or a ``VarSpecError`` naming ``where`` it was found."""
    text = text.strip()
    if not text or not _NAME.match(text):
        raise VarSpecError(f"'{text}' is not a variable name" + (f" (in {where})" if where else ""))
    return canonical_name(text)


def parse_var(text: str) -> VarSpec:
    """Read one declaration such as ``W:3x2``, ``p:unit`` or ``y:3:onehot``."""
    parts = [p.strip() for p in text.split(":")]
    name = parse_name(parts[0], f"--var '{text}'")
    shape: Shape = SCALAR
    domain = DEFAULT_DOMAINS.get(name, "real")
    for part in parts[1:]:
        if part in DOMAINS:
            domain = part
        elif _SHAPE.match(part):
            shape = parse_shape(part)
        else:
            raise VarSpecError(
                f"'{part}' in --var '{text}' is neither a shape (3x2, 3) nor a domain "
                f"({', '.join(DOMAINS)})"
            )
    if domain == "onehot" and (shape == SCALAR or 1 not in shape):
        raise VarSpecError(f"'{name}' is one-hot, so it needs a vector shape such as {name}:3")
    return VarSpec(name, shape, domain)


@dataclass
class Namespace:
    """The known names an expression may use."""

    vars: dict[str, VarSpec] = field(default_factory=dict)

    @classmethod
    def from_specs(cls, specs: list[str] | dict[str, str] | None) -> Namespace:
        """From ``["W:3x2", ...]`` or ``{"W": "3x2", ...}`` (the Problem ``vars`` form)."""
        ns = cls()
        if not specs:
            return ns
        items = (
            [f"{k}:{v}" if v else k for k, v in specs.items()] if isinstance(specs, dict) else specs
        )
        for item in items:
            ns.declare(parse_var(item))
        return ns

    def declare(self, spec: VarSpec) -> None:
        """Add or refine a name; a second declaration may change the domain, not the shape."""
        old = self.vars.get(spec.name)
        if old is not None and old.shape != spec.shape:
            raise VarSpecError(
                f"'{spec.name}' is declared twice with different shapes "
                f"({shape_text(old.shape)} and {shape_text(spec.shape)})"
            )
        self.vars[spec.name] = spec

    def ensure(self, name: str) -> None:
        """Know a name found in an expected answer, as a scalar unless declared."""
        if name not in self.vars:
            self.vars[name] = VarSpec(name, SCALAR, DEFAULT_DOMAINS.get(name, "real"))

    def copy(self) -> Namespace:
        return Namespace(dict(self.vars))

    def __contains__(self, name: str) -> bool:
        return name in self.vars

    def get(self, name: str) -> VarSpec | None:
        return self.vars.get(name)

    def names(self) -> list[str]:
        return sorted(n for n, v in self.vars.items() if not v.is_function)

    def as_dict(self) -> dict[str, str]:
        """The Problem/JSON form: name -> ``3x2`` / ``3`` / domain (``""`` for a plain scalar)."""
        out = {}
        for name, spec in self.vars.items():
            out[name] = spec.text().partition(":")[2]
        return out
