"""Tokens to a typed ``Expr``: the grammar of the answer notation.

A hand-written recursive-descent parser (no ``eval``, no ``sympify``), bounded in depth
and in the size of the numbers it will fold, that resolves every name against the
known names as it goes, so an error can name the column it happened at.

Precedence, loosest first: ``+ -``; ``* / @ ⊙`` and implicit multiplication (all
left-associative, so ``1/2x`` is (1/2)·x); unary minus; ``^`` (right-associative);
postfix transpose; atoms.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr, ShapeError
from dlquiz.notation.lexer import NotationError, Token

if TYPE_CHECKING:
    from dlquiz.core.vars import Namespace

MAX_DEPTH = 48
MAX_DIGITS = 40
MAX_EXPONENT = 100  # a power of a number is folded to an exact number up to this exponent
MAX_SYMBOLIC_EXPONENT = 10**6  # (a - x)^6000 stays a power; the judge decides it exactly
MAX_BITS = 4096
MAX_NODES = 3000
MAX_ENTRIES = 64 * 64

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
}
# ``f'`` for the functions whose derivative has a name in the notation.
PRIMED = {"sigmoid", "tanh", "relu", "exp", "log", "sqrt", "abs"}

_ATOM_START = {"NUM", "NAME", "LP", "LB", "SQRT", "DERIV"}


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
        self.tokens = tokens
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
        i = self.pos + k
        return self.tokens[i] if i < self.last else self.tokens[self.last]

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
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise NotationError(f"expression too large (more than {MAX_NODES} parts)", tok.col)
        try:
            return make(*args)
        except ShapeError as exc:
            raise NotationError(f"shape error: {exc}", tok.col) from None

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
        base = self.postfix()
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.text == "^":
                nxt = self.peek(1)
                if nxt.kind == "NAME" and nxt.text == "T" and self.transpose_wins(base):
                    self.pos += 2
                    base = self.build(tok, E.transpose, base)
                    base = self.postfix_ops(base)
                    continue
                self.advance()
                self.enter(tok)
                exponent = self.unary()
                self.depth -= 1
                return self.make_power(tok, base, exponent)
            if tok.kind == "SUP":
                self.advance()
                base = self.make_power(tok, base, E.num(tok.text))
                continue
            return base

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
        return self.postfix_ops(self.atom())

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
        tok = self.peek()
        kind = tok.kind
        if kind == "NUM":
            self.advance()
            return self.build(tok, E.num, _number(tok))
        if kind == "NAME":
            return self.name_atom()
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

    def name_atom(self) -> Expr:
        tok = self.advance()
        name = tok.text
        spec = self.ns.get(name)
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
            return self.build(tok, E.generic_fn, fname, arg)
        is_function = low in FUNCTIONS and (spec is None or low == "sigma")
        if is_function and call_follows:
            if primed:
                self.advance()
                if low not in PRIMED and FUNCTIONS[low] not in PRIMED:
                    raise NotationError(f"no derivative notation for '{name}'", tok.col)
            return self.call(tok, FUNCTIONS[low], primed)
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

    def bracket_row(self) -> list[Expr]:
        self.expect("LB", "'['")
        row = [self.sum()]
        while self.peek().kind == "COMMA":
            self.advance()
            row.append(self.sum())
        self.expect("RB", "']'")
        return row

    def resolve(self, tok: Token) -> Expr:
        """A name: a known variable, a constant, or a product of known names (``wx``)."""
        name = tok.text
        spec = self.ns.get(name)
        if spec is not None:
            return E.sym(name, spec.shape)
        if name == "pi":
            return E.const("pi")
        if name == "e":
            return E.const("e")
        pieces = split_name(name, self.ns)
        if not pieces and self.declare:
            self.ns.ensure(name)
            return E.sym(name, self.ns.vars[name].shape)
        if pieces:
            result = E.sym(pieces[0], self.ns.vars[pieces[0]].shape)
            for piece in pieces[1:]:
                result = self.build(tok, star, result, E.sym(piece, self.ns.vars[piece].shape))
            return result
        raise NotationError(f"unknown name '{name}'{self.known_hint()}", tok.col)

    def known_hint(self) -> str:
        names = self.ns.names()
        if not names:
            return " (this answer takes no variables)"
        return "; known names: " + ", ".join(names)


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
    return Fraction(tok.text)


def _constant_value(e: Expr) -> float | None:
    """The float value of a constant expression, or None when it has none."""
    from dlquiz.core.numeric import evaluate_constant

    try:
        return evaluate_constant(e)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None
