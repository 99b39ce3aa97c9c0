"""Tokens to a typed ``Expr``: the grammar of the answer notation.

A hand-written recursive-descent parser (no ``eval``, no ``sympify``), bounded in depth
and in the size of the numbers it will fold, that resolves every name against the
known names as it goes, so an error can name the column it happened at.

Precedence, loosest first: ``+ -``; ``* / @ ⊙`` and implicit multiplication (all
left-associative, so ``1/2x`` is (1/2)·x); unary minus; ``^`` (right-associative);
postfix transpose; atoms. A run of juxtaposed known names (``wx``, ``δ₂a₁``) is split
into its names before any postfix transpose or power applies, which then takes the last
name only: ``wx^2`` is w·x², ``δ₂a₁ᵀ`` is δ₂ a₁ᵀ (the run stays one factor: ``1/wx`` is
1/(w·x)).
"""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import TYPE_CHECKING

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr, ShapeError
from dlquiz.notation.lexer import NotationError, Token

if TYPE_CHECKING:
    from dlquiz.core.vars import Namespace, VarSpec

MAX_DEPTH = 48
_LOOKAHEAD = 8
MAX_DIGITS = 40
MAX_EXPONENT = 100  # a power of a number is folded to an exact number up to this exponent
MAX_SYMBOLIC_EXPONENT = 10**6  # (a - x)^6000 stays a power; the judge decides it exactly
MAX_BITS = 4096
MAX_NODES = 3000
MAX_ENTRIES = 64 * 64
# A folded constant must be a float (1e30^11 is exact but cannot be evaluated).
MAX_MAGNITUDE = Fraction(sys.float_info.max)
SEPARATE_ENTRIES = "separate entries with commas; no thousands separators"

# Built-in functions, case-insensitive: spelling -> meaning.
FUNCTIONS = {
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "sqrt": "sqrt",
    "abs": "abs",
    "sign": "sign",
    "sigmoid": "sigmoid",
    "sigma": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "step": "step",
    "heaviside": "step",
    "max": "max",
    "min": "min",
    "softmax": "softmax",
    "sum": "sum",
    "mean": "mean",
    "norm": "norm",
    "hadamard": "hadamard",
    "ones": "ones",
    "floor": "floor",
    "ceil": "ceil",
    "ceiling": "ceil",
    "diag": "diag",
}
# ``f'`` for the functions whose derivative has a name in the notation.
PRIMED = {"sigmoid", "tanh", "relu", "exp", "log", "sqrt", "abs"}

_ATOM_START = {"NUM", "NAME", "LP", "LB", "SQRT", "DERIV", "LFLOOR", "LCEIL"}
# Operations that only mean something for vectors and matrices (``Parser.matrix_operation``).
MATRIX_ONLY_FUNCTIONS = frozenset({"softmax", "sum", "mean", "diag"})
_ROUNDING = {"LFLOOR": ("floor", "RFLOOR", "⌋"), "LCEIL": ("ceil", "RCEIL", "⌉")}


def star(a: Expr, b: Expr) -> Expr:
    """``*`` as a student means it: scale, matrix product if the shapes chain, else elementwise."""
    if a.is_scalar or b.is_scalar:
        return E.mul(a, b)
    if a.shape[1] == b.shape[0]:
        return E.matmul(a, b)
    if a.shape == b.shape:
        return E.mul(a, b)
    raise ShapeError(
        f"cannot multiply {E.shape_phrase(a.shape)} by {E.shape_phrase(b.shape)} "
        "(neither a matrix product nor elementwise)"
    )


class Parser:
    def __init__(self, tokens: list[Token], ns: Namespace, *, declare: bool = False) -> None:
        # EOF repeated past the end, so that peeking ahead needs no bounds check
        self.tokens = [*tokens, *([tokens[-1]] * _LOOKAHEAD)]
        self.declare = declare  # trusted text: an unknown name becomes a scalar variable
        self.last = len(tokens) - 1  # the EOF token
        self.pos = 0
        self.ns = ns
        self.depth = 0
        self.open_bars = 0
        self.open_norms = 0
        self.nodes = 0

    # --- helpers ----------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        try:
            return self.tokens[self.pos + k]
        except IndexError:  # further ahead than the padding: still the end
            return self.tokens[self.last]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise NotationError(f"expected {what} but found {self.describe(tok)}", tok.col)
        return self.advance()

    @staticmethod
    def describe(tok: Token) -> str:
        return "the end of the input" if tok.kind == "EOF" else f"'{tok.text}'"

    def build(self, tok: Token, make, *args):
        """Run a constructor; a shape problem becomes an error at this token's column."""
        operation = _MATRIX_ONLY.get(make)
        if operation is not None:
            self.matrix_operation(tok, operation, args)
        elif make is E.fn and args[0] in MATRIX_ONLY_FUNCTIONS:
            self.matrix_operation(tok, f"{args[0]}(...)", args[1:])
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise NotationError(f"expression too large (more than {MAX_NODES} parts)", tok.col)
        try:
            result = make(*args)
        except ShapeError as exc:
            raise NotationError(f"shape error: {exc}", tok.col) from None
        for node in (result, *result.args):
            if node.op == "num":
                v: Fraction = node.value  # type: ignore[assignment]
                # bit lengths first: only a value near 2^1023 needs the exact comparison
                big = v.numerator.bit_length() - v.denominator.bit_length() > 1022
                if big and abs(v) > MAX_MAGNITUDE:
                    raise NotationError("number too large (beyond 1.8e308)", tok.col)
        return result

    def matrix_operation(self, tok: Token, operation: str, operands: tuple[Expr, ...]) -> None:
        """Called before a matrix-only operation (``@``, ``⊙``, a transpose, ``softmax``,
        ``sum``, ``mean``, ``diag``) is built: a dialect may refuse scalar operands
        whose shape was never declared. The answer notation accepts them."""

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotationError(f"too deeply nested (the limit is {MAX_DEPTH})", tok.col)

    # --- grammar ----------------------------------------------------------------
    def parse(self) -> Expr:
        if self.peek().kind == "EOF":
            raise NotationError("empty input")
        e = self.sum()
        tok = self.peek()
        if tok.kind != "EOF":
            raise NotationError(f"unexpected {self.describe(tok)}", tok.col)
        return e

    def sum(self) -> Expr:
        self.enter(self.peek())
        left = self.product()
        while self.peek().kind == "OP" and self.peek().text in "+-":
            op = self.advance()
            right = self.product()
            left = self.build(op, E.add if op.text == "+" else E.sub, left, right)
        self.depth -= 1
        return left

    def product(self) -> Expr:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.text in "*/@⊙":
                self.advance()
                right = self.unary()
                make = {"*": star, "/": E.div, "@": E.matmul, "⊙": E.hadamard}[tok.text]
                left = self.build(tok, make, left, right)
            elif self.starts_factor(tok):
                if tok.kind == "NUM" and self.tokens[self.pos - 1].kind == "NUM":
                    raise NotationError(f"two numbers side by side: {SEPARATE_ENTRIES}", tok.col)
                right = self.power()
                left = self.build(tok, star, left, right)
            else:
                return left

    def starts_factor(self, tok: Token) -> bool:
        """Implicit multiplication: does ``tok`` begin a new factor (not close a bar)?"""
        if tok.kind == "BAR":
            return not self.open_bars
        if tok.kind == "DBAR":
            return not self.open_norms
        return tok.kind in _ATOM_START

    def unary(self) -> Expr:
        tok = self.peek()
        if tok.kind == "OP" and tok.text in "+-":
            self.advance()
            self.enter(tok)
            inner = self.unary()
            self.depth -= 1
            return inner if tok.text == "+" else self.build(tok, E.neg, inner)
        return self.power()

    def power(self) -> Expr:
        start = self.peek()
        prefix, base = self.postfix_run()
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.text == "^":
                nxt = self.peek(1)
                if nxt.kind == "NAME" and nxt.text == "T" and self.transpose_wins(base):
                    self.pos += 2
                    base = self.build(tok, E.transpose, base)
                    base = self.postfix_ops(base)
                    continue
                rest = self.transpose_then_names(nxt, base)
                if rest is not None:  # w^Tx: the transpose, then x as the next factor
                    self.tokens[self.pos + 1] = rest
                    self.pos += 1
                    base = self.build(tok, E.transpose, base)
                    continue
                self.advance()
                self.enter(tok)
                exponent = self.unary()
                self.depth -= 1
                return self.join_run(start, prefix, self.make_power(tok, base, exponent))
            if tok.kind == "SUP":
                self.advance()
                base = self.make_power(tok, base, E.num(tok.text))
                continue
            return self.join_run(start, prefix, base)

    def join_run(self, tok: Token, prefix: list[Expr], last: Expr) -> Expr:
        """The names of a juxtaposed run before its last one, times the last (with its
        postfix operators): one factor."""
        if not prefix:
            return last
        result = prefix[0]
        for piece in [*prefix[1:], last]:
            result = self.build(tok, star, result, piece)
        return result

    def transpose_then_names(self, tok: Token, base: Expr) -> Token | None:
        """``w^Tx`` (one token ``Tx``): when ``Tx`` is no name but ``x`` is (or a run of
        known names), the token that is left once ``T`` is taken as the transpose."""
        if tok.kind != "NAME" or len(tok.text) < 2 or tok.text[0] != "T":
            return None
        if tok.text in self.ns or not self.transpose_wins(base):
            return None
        rest = tok.text[1:]
        spec = self.ns.get(rest)
        if (spec is None or spec.is_function) and not split_name(rest, self.ns):
            return None
        return Token("NAME", rest, tok.col + 1, tok.newline)

    def transpose_wins(self, base: Expr) -> bool:
        """``x^T`` is a transpose, unless the base is a scalar and ``T`` is a known name."""
        spec = self.ns.get("T")
        return not (base.is_scalar and spec is not None)

    def make_power(self, tok: Token, base: Expr, exponent: Expr) -> Expr:
        if not exponent.free_symbols():
            value = _constant_value(exponent)
            limit = MAX_SYMBOLIC_EXPONENT if base.free_symbols() else MAX_EXPONENT
            if value is not None and abs(value) > limit:
                raise NotationError(f"exponent too large (the limit is {limit})", tok.col)
        result = self.build(tok, E.power, base, exponent)
        if result.op == "num":
            v: Fraction = result.value  # type: ignore[assignment]
            if v.numerator.bit_length() > MAX_BITS or v.denominator.bit_length() > MAX_BITS:
                raise NotationError("number too large", tok.col)
        return result

    def postfix(self) -> Expr:
        start = self.peek()
        prefix, last = self.postfix_run()
        return self.join_run(start, prefix, last)

    def postfix_run(self) -> tuple[list[Expr], Expr]:
        """An atom with its postfix operators; for a run of juxtaposed names (``wx``) the
        names before the last, and the last with the postfix operators."""
        if self.peek().kind == "NAME":
            pieces = self.name_atom()
            return pieces[:-1], self.postfix_ops(pieces[-1])
        return [], self.postfix_ops(self.atom())

    def postfix_ops(self, e: Expr) -> Expr:
        while True:
            tok = self.peek()
            if tok.kind == "TRANSPOSE":
                self.advance()
                e = self.build(tok, E.transpose, e)
            elif tok.kind == "PRIME":
                raise NotationError(
                    "' is not a transpose (write x.T or x^T); f'(x) is a derivative", tok.col
                )
            else:
                return e

    def atom(self) -> Expr:
        """Anything but a name (``postfix_run`` reads names: a run may split)."""
        tok = self.peek()
        kind = tok.kind
        if kind == "NUM":
            self.advance()
            return self.build(tok, E.num, _number(tok))
        if kind == "LP":
            self.advance()
            inner = self.sum()
            self.expect("RP", "')'")
            return inner
        if kind == "LB":
            return self.matrix_literal()
        if kind == "BAR":
            self.advance()
            self.open_bars += 1
            inner = self.sum()
            self.open_bars -= 1
            self.expect("BAR", "a closing '|'")
            return self.build(tok, E.fn, "abs", inner)
        if kind == "DBAR":
            self.advance()
            self.open_norms += 1
            inner = self.sum()
            self.open_norms -= 1
            self.expect("DBAR", "a closing '||'")
            return self.build(tok, E.fn, "norm", inner)
        if kind in _ROUNDING:
            fname, closing, symbol = _ROUNDING[kind]
            self.advance()
            inner = self.sum()
            self.expect(closing, f"a closing '{symbol}'")
            return self.build(tok, E.fn, fname, inner)
        if kind == "SQRT":
            self.advance()
            self.enter(tok)
            inner = self.postfix()
            self.depth -= 1
            return self.build(tok, E.power, inner, E.num(Fraction(1, 2)))
        if kind == "DERIV":
            self.advance()
            spec = self.ns.get(tok.text)
            if spec is None or spec.is_function:
                raise NotationError(
                    f"d/d{tok.text}: '{tok.text}' is not a known variable{self.known_hint()}",
                    tok.col,
                )
            self.enter(tok)
            body = self.power()
            self.depth -= 1
            return self.build(tok, E.deriv, body, E.sym(tok.text, spec.shape))
        if kind == "OP" and tok.text in "+-":
            return self.unary()
        if kind == "EOF":
            raise NotationError("the input ends too early", tok.col)
        raise NotationError(f"unexpected {self.describe(tok)}", tok.col)

    def name_atom(self) -> list[Expr]:
        """A name: a function call, or the names of a juxtaposed run (one name mostly)."""
        tok = self.advance()
        name = tok.text
        spec = self.ns.get(name)
        low = name.lower()
        declared_function = spec is not None and spec.is_function
        if declared_function or (spec is None and low in FUNCTIONS and low != "sigma"):
            exponent = self.function_power(tok)
            if exponent is not None:  # tanh^2(z) = tanh(z)^2
                value = self.name_call(tok, spec)
                return [self.make_power(exponent[0], value, E.num(exponent[1]))]
        return self.name_call(tok, spec, run=True)

    def name_call(self, tok: Token, spec: VarSpec | None, run: bool = False):  # type: ignore[no-untyped-def]
        """After the name ``tok``: a call (an Expr), or with ``run`` a name (a list)."""
        name = tok.text
        nxt = self.peek()
        primed = nxt.kind == "PRIME"
        call_follows = self.peek(1 if primed else 0).kind == "LP"
        low = name.lower()
        if spec is not None and spec.is_function:
            if not call_follows:
                raise NotationError(f"function '{name}' needs its argument in parentheses", tok.col)
            if primed:
                self.advance()
            (arg,) = self.call_args(tok, name, 1)
            fname = name + "'" if primed else name
            result = self.build(tok, E.generic_fn, fname, arg)
            return [result] if run else result
        is_function = low in FUNCTIONS and (spec is None or low == "sigma")
        if is_function and call_follows:
            if primed:
                self.advance()
                if low not in PRIMED and FUNCTIONS[low] not in PRIMED:
                    raise NotationError(f"no derivative notation for '{name}'", tok.col)
            result = self.call(tok, FUNCTIONS[low], primed)
            return [result] if run else result
        if not run:
            raise NotationError(f"function '{name}' needs its argument in parentheses", tok.col)
        if primed:
            raise NotationError(
                f"' is not a transpose (write {name}.T or {name}^T); only a function's "
                "derivative uses ' (relu'(z))",
                nxt.col,
            )
        if is_function and spec is None and low != "sigma":
            raise NotationError(f"function '{name}' needs its argument in parentheses", tok.col)
        if (
            call_follows
            and spec is None
            and name not in ("pi", "e")
            and not split_name(name, self.ns)
        ):
            raise NotationError(
                f"unknown function '{name}' (functions: {', '.join(sorted(set(FUNCTIONS)))})",
                tok.col,
            )
        return self.resolve(tok)

    def function_power(self, name: Token) -> tuple[Token, int] | None:
        """``tanh^2(``, ``tanh²(``, ``tanh^{2}(``: consume the power, return (its token, n).

        Only a positive whole number: ``tanh^-1(z)`` would be the inverse function.
        """
        tok = self.peek()
        if tok.kind == "SUP":
            if self.peek(1).kind != "LP":
                return None
            text, used = tok.text, 1
        elif tok.kind == "OP" and tok.text == "^":
            k = 1
            paren = self.peek(k).kind == "LP"
            k += paren
            sign = ""
            if self.peek(k).kind == "OP" and self.peek(k).text in "+-":
                sign = self.peek(k).text
                k += 1
            if self.peek(k).kind != "NUM":
                return None
            text = sign + self.peek(k).text
            k += 1
            if paren:
                if self.peek(k).kind != "RP":
                    return None
                k += 1
            if self.peek(k).kind != "LP":
                return None
            used = k
        else:
            return None
        if text.startswith("-"):
            raise NotationError(
                f"{name.text}^{text}(...) would be the inverse function, which is not part of "
                f"the notation; for a reciprocal write 1/{name.text}(...)",
                tok.col,
            )
        digits = text.lstrip("+")
        if not digits.isdigit() or int(digits) == 0:
            raise NotationError(
                f"a power of a function must be a positive whole number "
                f"({name.text}^2(z) is {name.text}(z)^2), not {text}",
                tok.col,
            )
        self.pos += used
        return tok, int(digits)

    def call_args(self, tok: Token, name: str, count: int | None) -> list[Expr]:
        self.expect("LP", "'('")
        args = [self.sum()]
        while self.peek().kind == "COMMA":
            self.advance()
            args.append(self.sum())
        self.expect("RP", "')'")
        if count is not None and len(args) != count:
            raise NotationError(f"{name} takes {count} argument(s), not {len(args)}", tok.col)
        return args

    def call(self, tok: Token, fname: str, primed: bool) -> Expr:
        if fname == "ones":
            return self.ones_call(tok)
        args = self.call_args(tok, fname, None)
        b = self.build
        if fname == "hadamard":
            if len(args) < 2:
                raise NotationError("hadamard takes two or more arguments", tok.col)
            return b(tok, E.hadamard, *args)
        if fname in ("max", "min"):
            if len(args) == 1:
                if args[0].is_scalar:
                    return args[0]
                if fname == "max":
                    return b(tok, E.fn, "maxof", args[0])
                raise NotationError("min takes two arguments (elementwise)", tok.col)
            if len(args) != 2:
                raise NotationError(f"{fname} takes one or two arguments", tok.col)
            return b(tok, E.fn, fname, *args)
        if len(args) != 1:
            raise NotationError(f"{fname} takes one argument, not {len(args)}", tok.col)
        (x,) = args
        if primed:
            return self.derivative_of(tok, fname, x)
        if fname == "sqrt":
            return b(tok, E.power, x, E.num(Fraction(1, 2)))
        return b(tok, E.fn, fname, x)

    def derivative_of(self, tok: Token, fname: str, x: Expr) -> Expr:
        """``f'(x)`` for the functions the notes differentiate."""
        b = self.build
        if fname in ("sigmoid", "tanh"):
            return b(tok, E.fn, fname + "'", x)
        if fname == "relu":
            return b(tok, E.fn, "step", x)
        if fname == "exp":
            return b(tok, E.fn, "exp", x)
        if fname == "log":
            return b(tok, E.power, x, E.num(-1))
        if fname == "sqrt":
            return b(
                tok,
                lambda y: E.div(E.num(1), E.mul(E.num(2), E.power(y, E.num(Fraction(1, 2))))),
                x,
            )
        if fname == "abs":
            return b(tok, E.fn, "sign", x)
        raise NotationError(f"no derivative notation for '{fname}'", tok.col)

    def ones_call(self, tok: Token) -> Expr:
        args = self.call_args(tok, "ones", None)
        dims = []
        for a in args:
            if a.op != "num" or a.value.denominator != 1 or not 1 <= a.value <= 64:  # type: ignore[union-attr]
                raise NotationError("ones takes whole-number dimensions from 1 to 64", tok.col)
            dims.append(int(a.value))  # type: ignore[arg-type]
        if len(dims) == 1:
            dims.append(1)
        if len(dims) != 2:
            raise NotationError("ones takes one or two dimensions: ones(3) or ones(2, 3)", tok.col)
        return E.ones((dims[0], dims[1]))

    def matrix_literal(self) -> Expr:
        start = self.advance()
        if self.peek().kind == "LB":  # [[1, 2], [3, 4]]
            rows = [self.bracket_row()]
            while self.peek().kind == "COMMA":
                self.advance()
                rows.append(self.bracket_row())
            self.expect("RB", "']'")
            return self.build(start, E.matrix, rows)
        grid = self.number_grid()
        if grid is not None:
            return grid
        rows: list[list[Expr]] = [[self.sum()]]
        saw_semicolon = False
        count = 1
        while self.peek().kind in ("COMMA", "SEMI"):
            sep = self.advance()
            count += 1
            if count > MAX_ENTRIES:
                raise NotationError(f"too many entries (the limit is {MAX_ENTRIES})", sep.col)
            if sep.kind == "SEMI":
                saw_semicolon = True
                rows.append([self.sum()])
            else:
                rows[-1].append(self.sum())
        self.expect("RB", "']'")
        if not saw_semicolon:  # a flat list is a vector, and a vector is a column
            rows = [[e] for e in rows[0]]
        return self.build(start, E.matrix, rows)

    def number_grid(self) -> Expr | None:
        """``[1 2 3]``, ``[28 28; 29 28]``, ``[1 -2]``: signed numbers separated by spaces.

        Only a bracket without commas that holds nothing but number literals (a sign
        counts when it touches its number and follows a space: ``[1 -2]`` is two entries,
        ``[1 - 2]`` and ``[1-2]`` are -1). ``;`` and a line break end a row. Anything else
        is None: the bracket reads as an expression list.
        """
        tokens = self.tokens
        i = self.pos
        rows: list[list[tuple[Token, Token | None]]] = [[]]
        spaced = False  # two entries with only space between them: the reason to be here
        previous: Token | None = None
        while True:
            tok = tokens[min(i, self.last)]
            if tok.kind == "RB":
                break
            if tok.kind == "SEMI":
                rows.append([])
                previous = tok
                i += 1
                continue
            sign = None
            if (
                tok.kind == "OP"
                and tok.text in "+-"
                and tokens[min(i + 1, self.last)].kind == "NUM"
                and tokens[i + 1].col == tok.end
                and (previous is None or previous.kind == "SEMI" or previous.end < tok.col)
            ):
                sign = tok
                i += 1
                tok = tokens[i]
            if tok.kind != "NUM":
                return None
            first = sign or tok
            if rows[-1]:
                spaced = True
                if first.newline:
                    rows.append([])  # a line break inside the bracket is a row break
            rows[-1].append((tok, sign))
            previous = tok
            i += 1
        if not spaced:
            return None
        start = tokens[self.pos - 1]
        count = sum(len(r) for r in rows)
        if count > MAX_ENTRIES:
            raise NotationError(f"too many entries (the limit is {MAX_ENTRIES})", start.col)
        entries = [
            [self.build(t, E.num, -_number(t) if s and s.text == "-" else _number(t)) for t, s in r]
            for r in rows
        ]
        self.pos = i + 1
        if len(entries) == 1:  # a flat list is a vector, and a vector is a column
            entries = [[e] for e in entries[0]]
        return self.build(start, E.matrix, entries)

    def bracket_row(self) -> list[Expr]:
        self.expect("LB", "'['")
        row = [self.sum()]
        while self.peek().kind == "COMMA":
            self.advance()
            row.append(self.sum())
        self.expect("RB", "']'")
        return row

    def resolve(self, tok: Token) -> list[Expr]:
        """A name: a known variable, a constant, or the known names of a run (``wx``)."""
        name = tok.text
        spec = self.ns.get(name)
        if spec is not None:
            return [E.sym(name, spec.shape)]
        if name == "pi":
            return [E.const("pi")]
        if name == "e":
            return [E.const("e")]
        pieces = split_name(name, self.ns)
        if not pieces and self.declare:
            self.ns.ensure(name)
            return [E.sym(name, self.ns.vars[name].shape)]
        if pieces:
            self.nodes += len(pieces)
            return [E.sym(piece, self.ns.vars[piece].shape) for piece in pieces]
        raise NotationError(f"unknown name '{name}'{self.known_hint()}", tok.col)

    def known_hint(self) -> str:
        names = self.ns.names()
        if not names:
            return " (this answer takes no variables)"
        return "; known names: " + ", ".join(names)


_MATRIX_ONLY = {E.matmul: "@", E.hadamard: "⊙", E.transpose: "a transpose"}


def split_name(name: str, ns: Namespace) -> list[str] | None:
    """``wx`` -> [w, x] when w and x are known names; the split with fewest pieces."""
    known = {n for n, v in ns.vars.items() if not v.is_function}
    if not known or len(name) > 40:
        return None
    best: list[list[str] | None] = [None] * (len(name) + 1)
    best[0] = []
    for i in range(len(name)):
        if best[i] is None:
            continue
        for j in range(i + 1, len(name) + 1):
            piece = name[i:j]
            if piece in known:
                candidate = [*best[i], piece]  # type: ignore[misc]
                if best[j] is None or len(candidate) < len(best[j]):  # type: ignore[arg-type]
                    best[j] = candidate
    result = best[len(name)]
    return result if result and len(result) > 1 else None


def _number(tok: Token) -> Fraction:
    mantissa, _, exponent = tok.text.lower().partition("e")
    if len(mantissa.replace(".", "")) > MAX_DIGITS:
        raise NotationError(f"number too long (more than {MAX_DIGITS} digits)", tok.col)
    if exponent and abs(int(exponent)) > 30:
        raise NotationError("number too large (exponent beyond e±30)", tok.col)
    if tok.text.isdigit():
        return Fraction(int(tok.text))  # much faster than parsing the string as a Fraction
    return Fraction(tok.text)


def _constant_value(e: Expr) -> float | None:
    """The float value of a constant expression, or None when it has none."""
    from dlquiz.core.numeric import evaluate_constant

    try:
        return evaluate_constant(e)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
