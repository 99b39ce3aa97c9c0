"""The first pass over a derivation file: what every line is, and the file's names.

Before any line is checked, the whole file is read once, because some of its meaning is
independent of line order:

* declarations anywhere apply to the whole file (and must agree with ``--var``);
* every name that is neither defined nor reserved is a variable (a scalar unless
  declared), so no ``--var`` is needed;
* a run of juxtaposed letters is split against all the names the file uses: ``wx`` is
  w·x when ``w`` and ``x`` appear elsewhere in the file, otherwise one name;
* a name that is differentiated (``dL/dz``) but never defined, nor differentiated with
  respect to, is a cost the file leaves undefined (see ``dlquiz.steps.calculus``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlquiz.core.expr import SCALAR, shape_text
from dlquiz.core.names import DEFAULT_DOMAINS, GREEK_NAMES
from dlquiz.core.vars import Namespace, VarSpec
from dlquiz.notation import NotationError, tokens
from dlquiz.notation.lexer import Token
from dlquiz.notation.parser import FUNCTIONS, split_name
from dlquiz.steps.declarations import DeclarationError, Declared, read_declaration
from dlquiz.steps.dialect import LEIBNIZ, DerivationDialect
from dlquiz.steps.lines import Line, Part, classify, strip_part

MAX_LINES = 500
RESERVED = frozenset({"d", "e", "pi", "T"})


@dataclass
class ReadPart:
    text: str
    start: int  # where the part starts in the line (0-based), for columns in messages
    tokens: list[Token]


@dataclass
class ReadLine:
    line: Line
    parts: list[ReadPart] = field(default_factory=list)
    declared: list[Declared] = field(default_factory=list)
    error: str = ""  # the line cannot be read (tokens, declaration, conflicts)

    @property
    def number(self) -> int:
        return self.line.number

    def defined_name(self) -> str | None:
        """The NAME of ``NAME = ...``, ``NAME := ...`` or ``NAME(x, y) = ...``."""
        found = self.signature()
        return found[0] if found is not None else None

    def signature(self) -> tuple[str, tuple[str, ...]] | None:
        """The name a line may define and its parameters (``f(x) = ...``), or None."""
        if len(self.parts) < 2 or self.line.continues:
            return None
        toks = self.parts[0].tokens
        if not toks or toks[0].kind != "NAME" or toks[0].text in RESERVED:
            return None
        name = toks[0].text
        if name.lower() in FUNCTIONS and not (name == "sigma" and len(toks) == 2):
            return None  # σ(z) = ..., Sigmoid(x) = ...: a claim about a function (σ = ... defines)
        if len(toks) == 2:
            return name, ()
        inner = toks[2:-2]
        if (
            toks[1].kind != "LP"
            or toks[-2].kind != "RP"
            or not inner
            or len(inner) % 2 == 0
            or any(t.kind != "NAME" for t in inner[::2])
            or any(t.kind != "COMMA" for t in inner[1::2])
        ):
            return None
        params = tuple(t.text for t in inner[::2])
        if len(set(params)) != len(params) or name in params:
            return None
        return name, params


@dataclass
class ReadFile:
    lines: list[ReadLine]
    ns: Namespace
    declared: set[str]  # names the file or --var gives a shape
    opaque: set[str]  # costs named in dL/dz but never defined
    too_long: bool = False
    named_costs: set[str] = field(default_factory=set)  # "L = cost function of ..." lines


def read_name(text: str) -> str:
    """A name as written in a declaration (``\\hat{y}``, ``W_{m+1}``, ``ŷ``), canonical."""
    found = tokens(text.strip())
    if len(found) != 2 or found[0].kind != "NAME":
        raise ValueError("write one name, such as w, W₁, ŷ or \\hat{y}")
    name = found[0].text
    if name in RESERVED or (name.lower() in FUNCTIONS and name.lower() != "sigma"):
        raise ValueError(f"'{name}' is reserved")
    return name


def read(text: str, given: Namespace | None = None) -> ReadFile:
    """Read the file's lines and names (see the module); never raises for its content."""
    raw_lines = text.splitlines()
    too_long = len(raw_lines) > MAX_LINES
    dialect = DerivationDialect()
    lines: list[ReadLine] = []
    for number, raw in enumerate(raw_lines[:MAX_LINES], start=1):
        line = ReadLine(classify(number, raw))
        lines.append(line)
        kind = line.line.kind
        try:
            if kind == "declaration":
                line.declared = read_declaration(line.line.text, read_name)
            elif kind == "cost":
                line.declared = [Declared(read_name(line.line.cost_name))]
            elif kind == "steps":
                for part in map(strip_part, line.line.parts):
                    line.parts.append(_read_part(part, dialect))
                if any(_prose(p.tokens) for p in line.parts):
                    raise ValueError(PROSE_MESSAGE)
        except (DeclarationError, ValueError) as exc:
            line.error = _message(exc, line.line, part if kind == "steps" else None)
    ns = given.copy() if given is not None else Namespace()
    declared = _declare(lines, ns, given)
    opaque = _names(lines, ns, declared)
    named = {line.declared[0].name for line in lines if line.line.kind == "cost" and line.declared}
    return ReadFile(lines, ns, declared, opaque, too_long, named)


PROSE_MESSAGE = "this line reads as words, not mathematics: start a comment with # (or %)"


def _prose(toks: list[Token]) -> bool:
    """Three or more names side by side, two of them words (``By the chain rule``)."""
    run: list[str] = []
    for tok in toks:
        if tok.kind == "NAME":
            run.append(tok.text)
            words = [
                w
                for w in run
                if len(w) >= 3
                and w.isascii()
                and w.isalpha()
                and w.lower() not in FUNCTIONS
                and w not in GREEK_NAMES
                and not w.endswith("hat")
            ]
            if len(run) >= 3 and len(words) >= 2:
                return True
        else:
            run = []
    return False


def _read_part(part: Part, dialect: DerivationDialect) -> ReadPart:
    if not part.text:
        raise NotationError("an empty side of '='", part.start + 1)
    return ReadPart(part.text, part.start, tokens(part.text, dialect=dialect))


def _message(exc: Exception, line: Line, part: Part | None) -> str:
    """The error with its column counted in the whole line (a part starts inside it)."""
    if isinstance(exc, NotationError) and exc.column:
        return f"column {exc.column + (part.start if part is not None else 0)}: {exc.message}"
    return str(exc)


def _declare(lines: list[ReadLine], ns: Namespace, given: Namespace | None) -> set[str]:
    """Put the file's declarations into ``ns``; conflicting ones mark their line."""
    seen: dict[str, tuple[Declared, int]] = {}
    declared = set(given.vars) if given is not None else set()
    for line in lines:
        for d in line.declared:
            if line.line.kind == "cost":
                continue
            spec = ns.get(d.name)
            first = seen.get(d.name)
            conflict = _conflict(d, first[0] if first else None, spec, given)
            if conflict:
                where = f"on line {first[1]}" if first else "by --var"
                line.error = f"'{d.name}' is declared {conflict} {where}"
                continue
            shape = d.shape if d.shape is not None else (spec.shape if spec else SCALAR)
            if d.domain is not None:
                domain = d.domain
            elif spec is not None and not spec.is_function:
                domain = spec.domain
            else:
                domain = DEFAULT_DOMAINS.get(d.name, "real")
            ns.vars[d.name] = VarSpec(d.name, shape, domain)
            merged = Declared(
                d.name,
                d.shape if d.shape is not None else (first[0].shape if first else None),
                d.domain if d.domain is not None else (first[0].domain if first else None),
            )
            seen[d.name] = (merged, first[1] if first else line.number)
            declared.add(d.name)
    return declared


def _conflict(
    d: Declared, first: Declared | None, spec: VarSpec | None, given: Namespace | None
) -> str:
    """How ``d`` disagrees with an earlier declaration of its name (or --var), or ''."""
    if first is not None:
        if d.shape is not None and first.shape is not None and d.shape != first.shape:
            return f"{shape_text(d.shape)} here and {shape_text(first.shape)}"
        if d.domain is not None and first.domain is not None and d.domain != first.domain:
            return f"{d.domain} here and {first.domain}"
        return ""
    if given is not None and spec is not None and d.name in given.vars:
        if d.shape is not None and d.shape != spec.shape:
            return f"{shape_text(d.shape)} here and {shape_text(spec.shape)}"
        if d.is_function != spec.is_function:
            return (
                "a function here and a variable"
                if d.is_function
                else "a variable here and a function"
            )
        default = DEFAULT_DOMAINS.get(d.name, "real")
        if d.domain is not None and spec.domain not in (default, d.domain):
            return f"{d.domain} here and {spec.domain}"
    return ""


def _names(lines: list[ReadLine], ns: Namespace, declared: set[str]) -> set[str]:
    """Make every name of the file known to ``ns``; return the undefined costs."""
    words: set[str] = set()
    numerators: set[str] = set()
    variables: set[str] = set()  # differentiated with respect to
    defined: set[str] = set()
    costs: set[str] = set()
    for line in lines:
        if line.line.kind == "cost" and line.declared:
            costs.add(line.declared[0].name)
        name = line.defined_name()
        if name is not None:
            defined.add(name)
        for part in line.parts:
            toks = part.tokens
            for i, tok in enumerate(toks):
                if tok.kind == "NAME" and _is_call(toks, i):
                    continue  # σ(z), tanh²(z): a function, not the name σ
                if tok.kind == "NAME":
                    after_power = i > 0 and toks[i - 1].kind == "OP" and toks[i - 1].text == "^"
                    if after_power and tok.text.startswith("T") and len(tok.text) > 1:
                        words.add(tok.text[1:])  # w^Tx: the transpose, then x
                    else:
                        words.add(tok.text)
                elif tok.kind == "DERIV":
                    variables.add(tok.text.lstrip("_"))
                    body = toks[i + 1 : i + 3]
                    if (
                        len(body) == 2
                        and body[0].kind == "NAME"
                        and (body[1].kind in ("EOF", "RP") or body[1].text in "+-")
                    ):
                        numerators.add(body[0].text)  # d/dz L with L undefined
                elif tok.kind == LEIBNIZ:
                    top, _, var = tok.text.partition("/")
                    numerators.add(top)
                    variables.add(var)
    functions = {n for n, s in ns.vars.items() if s.is_function}
    words |= variables | defined | set(ns.vars)
    words -= RESERVED | functions
    words = {w for w in words if w.lower() not in FUNCTIONS or w.lower() == "sigma"}
    numerators = {n for n in numerators if n not in functions}
    numerators -= {n for n in numerators if n.lower() in FUNCTIONS and n not in words}
    protected = declared | defined | variables | set(ns.vars)
    atoms = _atoms(words | numerators, protected)
    for name in sorted(atoms):
        if name not in ns.vars:
            ns.vars[name] = VarSpec(name, SCALAR, DEFAULT_DOMAINS.get(name, "real"))
    return (numerators | costs) - defined - variables - functions


def _is_call(toks: list[Token], i: int) -> bool:
    """Is the name at ``i`` a built-in function applied (``σ(z)``, ``tanh'(z)``, ``tanh²(z)``)?"""
    if toks[i].text.lower() not in FUNCTIONS:
        return False
    nxt = toks[i + 1]
    if nxt.kind == "PRIME":
        nxt = toks[i + 2]
    elif nxt.kind == "SUP" or (nxt.kind == "OP" and nxt.text == "^"):
        return toks[i].text.lower() != "sigma"  # σ² is sigma squared; tanh^2(z) a call
    return nxt.kind == "LP" or (toks[i].text.lower() != "sigma" and nxt.kind != "EOF")


def _atoms(words: set[str], protected: set[str]) -> set[str]:
    """The words that are names; the others are runs of names (``wx`` = w·x)."""
    scratch = Namespace({w: VarSpec(w) for w in words})
    atoms = set(words)
    for word in sorted(words, key=len):
        if word in protected:
            continue
        spec = scratch.vars.pop(word)
        if split_name(word, scratch):
            atoms.discard(word)  # stays out of the scratch space: not a piece of others
        else:
            scratch.vars[word] = spec
    return atoms
