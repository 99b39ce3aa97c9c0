"""Line by line: is every step of a derivation equal to the one before it?

What a line of steps is compared with:

* ``= EXPR`` continues: EXPR must equal the expression before it (the last part of the
  line before, or of the definition before);
* ``NAME := EXPR``, and ``NAME = EXPR`` for a NAME that is not a variable of the file,
  define NAME; a part after it (``L = ½(ŷ - y)² = ½(wᵀx + b - y)²``) or a following
  ``= ...`` line is checked against EXPR;
* ``A = B = C`` states A and checks B against A, C against B; a derivative as A
  (``dL/dw = dL/dŷ dŷ/dw = (ŷ - y) x``) starts a chain;
* a line that is one expression is a step from the line before, unless it is a
  derivative alone (``d/dw L``), which starts a chain, or nothing comes before it.

Lines after a wrong one are still checked against their predecessor. A chain (the lines
that continue from one derivative) ends when a new expression starts; its last line is
compared with the derivative it started from, so a right final result after a wrong
middle step is said to be right. Each line has ``timeout`` seconds of SymPy work; a line
that runs out is undecided.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from dlquiz.core.expr import Expr, shape_phrase
from dlquiz.core.numeric import EvaluationError
from dlquiz.core.vars import Namespace
from dlquiz.judge.core import UNDECIDABLE, compare_expressions, has_decimals
from dlquiz.judge.worker import DEFAULT_TIMEOUT, WorkerError, WorkerTimeout
from dlquiz.notation.lexer import NotationError
from dlquiz.steps.calculus import Calculus, Deadline, Definition, Unverified, shown
from dlquiz.steps.dialect import LEIBNIZ, DerivationDialect
from dlquiz.steps.reader import MAX_LINES, ReadFile, ReadLine, ReadPart, read
from dlquiz.steps.report import OK, UNDECIDED, UNREADABLE, WRONG, Chain, Step, StepsReport


class LineError(ValueError):
    """A line that cannot be used as written (the message says why and what to write)."""


@dataclass
class Value:
    expr: Expr
    line: int
    text: str


@dataclass
class OpenChain:
    start: Value
    written: str
    steps: list[tuple[Step, Value]] = field(default_factory=list)
    back: list[int] = field(default_factory=list)  # wrong lines equal to the start again

    @property
    def wrong(self) -> list[int]:
        return [s.line for s, _ in self.steps if s.status == WRONG]


def check_steps(
    text: str, ns: Namespace | None = None, *, timeout: float | None = None
) -> StepsReport:
    """Check a whole derivation; never raises for what the file contains."""
    limit = DEFAULT_TIMEOUT if timeout is None else timeout
    return Checker(read(text, ns), limit).run()


class Checker:
    def __init__(self, file: ReadFile, timeout: float) -> None:
        self.file = file
        self.ns = file.ns
        self.timeout = timeout
        self.calculus = Calculus(
            file.ns, declared=file.declared, opaque=file.opaque, timeout=timeout
        )
        self.dialect = DerivationDialect(self.calculus)
        self.report = StepsReport()
        self.previous: Value | None = None
        self.after_definition = False  # the previous expression is a definition's
        self.gap: int | None = None  # a line since ``previous`` that could not be used
        self.chain: OpenChain | None = None
        self.used: dict[str, int] = {}  # names checked lines use as variables: first line

    # --- the file --------------------------------------------------------------------------
    def run(self) -> StepsReport:
        for line in self.file.lines:
            self.line(line)
        self.close_chain()
        if self.file.too_long:
            self.add(
                Step(
                    MAX_LINES + 1,
                    False,
                    f"too many lines (limit {MAX_LINES})",
                    "",
                    "step",
                    UNREADABLE,
                )
            )
        if not self.report.steps:
            self.add(Step(0, False, "the file has no steps", "", "step", UNREADABLE))
        return self.report

    def add(self, step: Step) -> Step:
        self.report.steps.append(step)
        return step

    def line(self, line: ReadLine) -> None:
        kind = line.line.kind
        text = line.line.text
        if kind == "blank":
            return
        if line.error:
            self.unusable(
                line.number,
                text,
                f"cannot read this line: {line.error}",
                continues=line.line.continues,
            )
            return
        if kind == "declaration":
            self.add(Step(line.number, True, _declares(line, self.ns), text, "declaration"))
            return
        if kind == "cost":
            name = shown(line.declared[0].name)
            self.add(
                Step(
                    line.number,
                    True,
                    f"{name} is a cost this file does not define: d{name}/dz stands for a "
                    "quantity with the shape of z, worked out by the chain rule through "
                    "the definitions",
                    text,
                    "declaration",
                )
            )
            return
        if kind == "update":
            self.unusable(
                line.number,
                text,
                "an update (←) is not a step of a derivation, whose lines are equal: "
                "give the new value a name of its own (w_new := w - η ∇_w L)",
            )
            return
        self.calculus.deadline = Deadline(self.timeout)
        self.steps_line(line)

    def unusable(
        self,
        number: int,
        text: str,
        feedback: str,
        status: str = UNREADABLE,
        *,
        continues: bool = False,
    ) -> None:
        """A line (or the rest of one) that cannot be used; ``continues``: it was a step of
        the open chain, whose final result then cannot be judged."""
        step = self.add(Step(number, False, feedback, text, "step", status))
        self.gap = number
        if not continues:  # it would have started something: what came before is over
            self.close_chain()
            self.previous = None
        elif self.chain is not None:
            self.chain.steps.append((step, Value(self.chain.start.expr, number, text)))

    # --- one line of steps -------------------------------------------------------------------
    def steps_line(self, line: ReadLine) -> None:
        parts = list(line.parts)
        first = True  # the next part is the first of the line
        try:
            if line.line.continues:
                pass
            elif (name := self.definition(line)) is not None:
                self.define(line, name, parts[1], line.signature()[1])  # type: ignore[index]
                parts, first = parts[2:], False
            elif len(parts) >= 2:
                value, pure = self.evaluate(line, parts[0])
                self.start(line, parts[0], value, pure)
                parts, first = parts[1:], False
            else:
                value, pure = self.evaluate(line, parts[0])
                if pure or self.previous is None or self.after_definition:
                    self.start(line, parts[0], value, pure)
                    return
            for part in parts:
                value, _ = self.evaluate(line, part)
                self.compare(line, part, value, across=first)
                first = False
        except Unverified as exc:
            self.unusable(
                line.number,
                line.line.text,
                f"undecided: {exc}",
                UNDECIDED,
                continues=line.line.continues or not first,
            )
        except WorkerTimeout:
            self.unusable(
                line.number,
                line.line.text,
                f"undecided: working out the derivatives took longer than {self.timeout:g} s "
                "(--timeout)",
                UNDECIDED,
                continues=line.line.continues or not first,
            )
        except (NotationError, EvaluationError, LineError, WorkerError, RecursionError) as exc:
            self.unusable(
                line.number,
                line.line.text,
                f"cannot read this line: {_reason(exc)}",
                continues=line.line.continues or not first,
            )

    def definition(self, line: ReadLine) -> str | None:
        """The name this line defines, or None (a claim about a name already defined)."""
        name = line.defined_name()
        if name is None:
            if line.line.defines:
                raise LineError("only a name can be defined with := (ŷ := wᵀx + b)")
            return None
        if name in self.calculus.definitions:
            if line.line.defines:
                first = self.calculus.definitions[name].line
                raise LineError(f"{shown(name)} is already defined on line {first}")
            return None  # L = ... again: checked against L's definition
        if any(t.kind == "NAME" and t.text == name for t in line.parts[1].tokens):
            raise LineError(_update(name))
        if name in self.used:
            raise LineError(
                f"{shown(name)} is already a variable of this file (line {self.used[name]} "
                f"uses it), so this would redefine it: define {shown(name)} before its first "
                f"use, or give the new value a name of its own ({shown(name)}_new := ...)"
            )
        return name

    def define(
        self, line: ReadLine, name: str, part: ReadPart, params: tuple[str, ...] = ()
    ) -> None:
        raw, pure = self.parse(part)
        for param in params:
            spec = self.ns.get(param)
            if spec is None or spec.is_function or param in self.calculus.definitions:
                raise LineError(f"{shown(param)} in {shown(name)}(...) must be a variable")
        if name in raw.free_symbols():  # w = wx: through a run of names
            raise LineError(_update(name))
        spec = self.ns.get(name)
        if name in self.file.declared and spec is not None and spec.shape != raw.shape:
            raise LineError(
                f"{shown(name)} is declared as {shape_phrase(spec.shape)}, but its definition "
                f"is {shape_phrase(raw.shape)}"
            )
        value = self.calculus.resolve(raw)
        for used in value.free_symbols():
            self.used.setdefault(used, line.number)
        forward = not any(t.kind in ("DERIV", LEIBNIZ) for t in part.tokens)
        self.calculus.define(Definition(name, raw, line.number, forward, params))
        text = line.line.text
        what = "the derivative" if pure else shape_phrase(raw.shape)
        called = f"{shown(name)}({', '.join(map(shown, params))})" if params else shown(name)
        self.add(Step(line.number, True, f"defines {called} ({what})", text, "definition"))
        self.new_start(Value(value, line.number, part.text), pure, part.text, after_definition=True)

    # --- parts ---------------------------------------------------------------------------
    def parse(self, part: ReadPart) -> tuple[Expr, bool]:
        """The part as written (defined names kept), and whether it is one derivative."""
        parser = self.dialect.parser(list(part.tokens), self.ns, declare=False)
        try:
            raw = parser.parse()
        except NotationError as exc:
            if exc.column:
                raise NotationError(exc.message, exc.column + part.start) from None
            raise
        return raw, parser.first_derivative is not None and raw is parser.first_derivative

    def evaluate(self, line: ReadLine, part: ReadPart) -> tuple[Value, bool]:
        raw, pure = self.parse(part)
        value = self.calculus.resolve(raw)
        for name in value.free_symbols():
            self.used.setdefault(name, line.number)
        return Value(value, line.number, part.text), pure

    def start(self, line: ReadLine, part: ReadPart, value: Value, pure: bool) -> None:
        feedback = "start of a derivation" if pure else "starting expression"
        if self.gap is not None and line.line.continues:
            feedback += f" (line {self.gap} could not be checked, so this line starts afresh)"
        self.add(Step(line.number, True, feedback, _shown_text(line, part), "start"))
        self.new_start(value, pure, part.text)

    def new_start(
        self, value: Value, pure: bool, written: str, after_definition: bool = False
    ) -> None:
        self.close_chain()
        if pure:
            self.chain = OpenChain(value, written)
        self.previous = value
        self.after_definition = after_definition
        self.gap = None

    def compare(self, line: ReadLine, part: ReadPart, value: Value, *, across: bool) -> None:
        text = _shown_text(line, part)
        previous = self.previous
        if previous is None:
            self.start(line, part, value, False)
            return
        if across:
            yours, right = "this line", "the line before"
            if self.gap is not None:
                right = f"line {previous.line}"
        else:
            yours, right = "this side", "the side before it"
        verdict = self.judge(value, previous, yours, right)
        if verdict.equivalent:
            status = OK
            feedback = "follows from " + right
        elif verdict.mistake == UNDECIDABLE:
            status, feedback = UNDECIDED, f"undecided: {verdict.feedback}"
        else:
            status, feedback = WRONG, f"does not follow: {verdict.feedback}"
            feedback += self.undefined_note(value, previous)
        if across and self.gap is not None:
            feedback += (
                f" (line {self.gap} could not be checked, so this line is compared with "
                f"line {previous.line})"
            )
        chain = self.chain
        if chain is not None and status == WRONG and chain.wrong:
            again = self.judge(value, chain.start, yours, "the start")
            if again.equivalent:
                feedback += (
                    f"; it equals the derivative the chain started from (line "
                    f"{chain.start.line}) again"
                )
                chain.back.append(line.number)
        step = self.add(Step(line.number, status == OK, feedback, text, "step", status))
        if chain is not None:
            chain.steps.append((step, value))
        self.previous = value
        self.after_definition = False
        self.gap = None

    def undefined_note(self, *values: Value) -> str:
        """When an undefined cost is involved, say so: it may be a forgotten definition."""
        costs = set()
        for v in values:
            costs |= {n for n in v.expr.free_symbols() if n.startswith("∂")}
        if not costs:
            return ""
        names = sorted({n[1:].split("/")[0] for n in costs})
        named = {shown(n) for n in self.file.named_costs}
        names = [n for n in names if n not in named]  # the file says they are costs
        if not names:
            return ""
        listed = ", ".join(names)
        verb = "is" if len(names) == 1 else "are"
        return (
            f" ({listed} {verb} not defined in this file, so {sorted(costs)[0]} stands for an "
            f"unknown quantity; define {names[0]} = ... if a particular cost is meant)"
        )

    def judge(self, value: Value, before: Value, yours: str, right: str):  # type: ignore[no-untyped-def]
        decimals = has_decimals(value.text) or has_decimals(before.text)
        salt = f"{before.text}\x1f{value.text}"
        return compare_expressions(
            value.expr,
            before.expr,
            self.ns,
            salt=salt,
            decimals=decimals,
            yours=yours,
            right=right,
            timeout=max(0.05, self.calculus.deadline.end - time.monotonic()),
        )

    def close_chain(self) -> None:
        chain, self.chain = self.chain, None
        if chain is None or not chain.steps:
            return
        last_step, last = chain.steps[-1]
        if last_step.status in (UNREADABLE, UNDECIDED):
            final: bool | None = None
        elif all(s.status == OK for s, _ in chain.steps):
            final = True
        else:
            self.calculus.deadline = Deadline(self.timeout)
            verdict = self.judge(last, chain.start, "the last line", "the derivative")
            final = None if verdict.mistake == UNDECIDABLE else verdict.equivalent
        self.report.chains.append(
            Chain(chain.start.line, last_step.line, final, chain.written, chain.wrong, chain.back)
        )


def _shown_text(line: ReadLine, part: ReadPart) -> str:
    """A part as the report shows it: the whole line when it is the line's only part."""
    if len(line.parts) == 1:
        return line.line.text
    return part.text if part is line.parts[0] and not line.line.continues else f"= {part.text}"


def _update(name: str) -> str:
    n = shown(name)
    return (
        f"{n} is on both sides: an update ({n} = {n} - η ∇L) is not a step of a derivation, "
        f"whose lines are equal; give the new value a name of its own ({n}_new := ...)"
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "too deeply nested"
    if isinstance(exc, NotationError) and exc.column:
        return f"column {exc.column}: {exc.message}"
    text = str(exc)
    head, sep, rest = text.partition(": ")
    if sep and head.endswith("Error") and " " not in head:
        return rest
    return text


def _declares(line: ReadLine, ns: Namespace) -> str:
    parts = []
    for d in line.declared:
        spec = ns.get(d.name)
        if spec is None:
            continue
        parts.append(spec.describe().replace(spec.name, shown(spec.name), 1))
    return "declares " + "; ".join(parts)
