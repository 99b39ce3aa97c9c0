"""The typed expression tree every part of dlquiz shares.

Answers, keys, templates and derivations all become ``Expr`` trees whose every node
knows its shape. SymPy's own matrix expressions cannot broadcast a scalar, print
``𝟙`` for it and are slow to build; this tree is small, immutable and hashable, lowers
to SymPy where SymPy is strong (scalar and elementwise algebra, see
``dlquiz.symbolic``) and evaluates numerically without SymPy (``dlquiz.core.numeric``).

Shapes: ``()`` is a scalar, ``(m, n)`` a matrix, ``(n, 1)`` a (column) vector. A 1x1
result (``w.T@x``) is a scalar: shape ``(1, 1)`` never occurs.

Operations (``Expr.op``):
    num      exact rational constant (``value`` is a Fraction)
    const    ``pi`` or ``e``
    sym      a variable (``value`` is its name)
    add      n-ary sum; scalars broadcast
    mul      n-ary elementwise product; scalars broadcast, so scaling and the
             Hadamard product are one operation (commutative, as SymPy's Mul)
    pow      elementwise power with a scalar exponent (division is ``pow(b, -1)``)
    matmul   matrix product (a scalar acts as 1x1 when it chains)
    fn       a function applied elementwise, as a reduction, as a vector map or as
             ``diag`` (a vector to its diagonal matrix); ``value`` is its name
    T        transpose
    matrix   a literal matrix of scalar entries, row-major
    ones     a matrix of ones of the node's shape
    zeros    a matrix of zeros of the node's shape (what a gradient that never arrives is)
    deriv    ``d/dvar (expr)`` before it is worked out (derivation checker only)
"""

from __future__ import annotations

import math
from fractions import Fraction

Shape = tuple[int, ...]
SCALAR: Shape = ()

# Functions applied entry by entry; a primed name is that function's derivative.
ELEMENTWISE = frozenset(
    {
        "exp",
        "log",
        "abs",
        "sign",
        "sigmoid",
        "sigmoid'",
        "tanh",
        "tanh'",
        "relu",
        "step",
        "floor",
        "ceil",
        "max",
        "min",
    }
)
# Functions that reduce a matrix to a scalar.
REDUCTIONS = frozenset({"sum", "mean", "norm", "maxof"})
# Functions that map a vector to a vector of the same shape.
VECTOR_MAPS = frozenset({"softmax"})
# Functions that map a vector of n entries to an n x n matrix.
MATRIX_MAPS = frozenset({"diag"})
# A substitution that would build more than this many argument slots (flattening
# ``a1 := a0 + a0`` doubles a sum at each definition) is refused, not built.
MAX_SUBSTITUTED = 100_000
# Nor one nested deeper than this (each ``a1 := a0^2 + 1`` adds two levels): printing,
# comparing and SymPy recurse over the tree, so depth is bounded like size.
MAX_SUBSTITUTED_DEPTH = 200


class EvaluationError(ValueError):
    """An expression that cannot be evaluated (too large, or not expanded).

    Defined here so that ``substitute`` can refuse an oversized result; re-exported by
    ``dlquiz.core.numeric``, where every caller imports it from.
    """


class ShapeError(ValueError):
    """Two operands whose shapes do not fit the operation."""


class Expr:
    """One immutable node of the tree; equality and hashing are structural."""

    __slots__ = ("_free", "_hash", "_order", "args", "op", "shape", "value")

    def __init__(
        self, op: str, args: tuple[Expr, ...] = (), shape: Shape = SCALAR, value: object = None
    ) -> None:
        self.op = op
        self.args = args
        self.shape = shape
        self.value = value
        self._hash: int | None = None
        self._order: list[Expr] | None = None
        self._free: frozenset[str] | None = None

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Expr):
            return NotImplemented
        return (
            self.op == other.op
            and self.value == other.value
            and self.shape == other.shape
            and self.args == other.args
        )

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.op, self.value, self.shape, self.args))
        return self._hash

    def __reduce__(self):  # slots + lazy hash: pickle by reconstruction (worker process)
        return (Expr, (self.op, self.args, self.shape, self.value))

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    def __repr__(self) -> str:  # structural: the printers live above this module
        inner = ", ".join(repr(a) for a in self.args)
        value = "" if self.value is None else f"{self.value!s}"
        head = self.op + (f" {value}" if value else "")
        return f"{head}({inner})" if self.args else f"{head}[{shape_text(self.shape)}]"

    # Operator sugar for building trees in Python code (templates, tests, derivations).
    def __add__(self, other: object) -> Expr:
        return add(self, lift(other))

    def __radd__(self, other: object) -> Expr:
        return add(lift(other), self)

    def __sub__(self, other: object) -> Expr:
        return sub(self, lift(other))

    def __rsub__(self, other: object) -> Expr:
        return sub(lift(other), self)

    def __mul__(self, other: object) -> Expr:
        return mul(self, lift(other))

    def __rmul__(self, other: object) -> Expr:
        return mul(lift(other), self)

    def __truediv__(self, other: object) -> Expr:
        return div(self, lift(other))

    def __rtruediv__(self, other: object) -> Expr:
        return div(lift(other), self)

    def __neg__(self) -> Expr:
        return neg(self)

    def __pow__(self, other: object) -> Expr:
        return power(self, lift(other))

    def __matmul__(self, other: Expr) -> Expr:
        return matmul(self, other)

    @property
    def T(self) -> Expr:
        return transpose(self)

    def walk(self) -> list[Expr]:
        """Every node once, children before parents (iterative: no recursion limit).

        Computed once per node: trees are immutable and evaluated many times.
        """
        if self._order is not None:
            return self._order
        order: list[Expr] = []
        seen: set[int] = set()
        stack: list[tuple[Expr, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args))
        self._order = order
        return order

    def free_symbols(self) -> frozenset[str]:
        if self._free is None:
            if self.op == "sym":
                self._free = frozenset((self.value,))  # type: ignore[arg-type]
                return self._free
            if all(a._free is not None for a in self.args):  # the usual case: built bottom-up
                self._free = frozenset().union(*(a._free for a in self.args))  # type: ignore[misc]
                return self._free
            for node in self.walk():  # children first, so theirs are known: no recursion
                if node._free is None:
                    if node.op == "sym":
                        node._free = frozenset((node.value,))  # type: ignore[arg-type]
                    else:
                        node._free = frozenset().union(*(a._free for a in node.args))  # type: ignore[misc]
        return self._free  # type: ignore[return-value]

    def size(self) -> int:
        return sum(1 for _ in self.walk())


def fingerprint(e: Expr) -> str:
    """The tree as text, each shared node once (in ``walk`` order): the same on every run
    and machine, unlike ``hash`` (salted per process), and linear in the shared tree."""
    index: dict[int, int] = {}
    parts = []
    for i, node in enumerate(e.walk()):
        index[id(node)] = i
        children = ",".join(str(index[id(c)]) for c in node.args)
        parts.append(f"{node.op}|{node.value}|{node.shape}|{children}")
    return ";".join(parts)


def shape_text(shape: Shape) -> str:
    """``()`` -> ``scalar``; ``(3, 1)`` -> ``3x1``; ``(2, 3)`` -> ``2x3``."""
    if shape == SCALAR:
        return "scalar"
    return "x".join(str(d) for d in shape)


def shape_phrase(shape: Shape) -> str:
    """Human words for a shape in feedback: ``a scalar``, ``a 3x1 column``..."""
    if shape == SCALAR:
        return "a scalar"
    m, n = shape
    if n == 1:
        return f"a {m}x1 column"
    if m == 1:
        return f"a 1x{n} row"
    return f"a {m}x{n} matrix"


def normalize_shape(shape: Shape) -> Shape:
    return SCALAR if shape in ((1, 1), ()) else shape


def broadcast(*shapes: Shape) -> Shape:
    """The common shape of elementwise operands: equal shapes, scalars broadcast."""
    result: Shape = SCALAR
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return shapes[0]
    for s in shapes:
        if s == SCALAR:
            continue
        if result == SCALAR:
            result = s
        elif s != result:
            raise ShapeError(
                f"{shape_phrase(result)} and {shape_phrase(s)} do not combine elementwise"
            )
    return result


# --- leaves -------------------------------------------------------------------------

ZERO: Expr
ONE: Expr


def num(value: int | Fraction | str) -> Expr:
    return Expr("num", value=value if type(value) is Fraction else Fraction(value))


def const(name: str) -> Expr:
    if name not in ("pi", "e"):
        raise ValueError(f"unknown constant {name}")
    return Expr("const", value=name)


def sym(name: str, shape: Shape = SCALAR) -> Expr:
    return Expr("sym", shape=normalize_shape(shape), value=name)


def ones(shape: Shape) -> Expr:
    shape = normalize_shape(shape)
    return ONE if shape == SCALAR else Expr("ones", shape=shape)


def matrix(rows: list[list[Expr]]) -> Expr:
    """A literal matrix; a single entry is just that entry."""
    if not rows or not rows[0]:
        raise ShapeError("an empty matrix")
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise ShapeError("the rows of a matrix must have the same length")
    entries = tuple(e for r in rows for e in r)
    if any(not e.is_scalar for e in entries):
        raise ShapeError("matrix entries must be scalars")
    shape = normalize_shape((len(rows), width))
    if shape == SCALAR:
        return entries[0]
    return Expr("matrix", entries, shape)


def lift(x: object) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, (int, Fraction)):
        return num(x)
    if isinstance(x, float):
        return num(Fraction(repr(x)))
    raise TypeError(f"cannot use {type(x).__name__} in an expression")


ZERO = num(0)
ONE = num(1)


def is_num(e: Expr, value: int | Fraction | None = None) -> bool:
    return e.op == "num" and (value is None or e.value == value)


def is_zero(e: Expr) -> bool:
    return (e.op == "num" and e.value == 0) or e.op == "zeros"


# --- operations ---------------------------------------------------------------------


def add(*terms: Expr) -> Expr:
    """Sum with nested sums flattened, numbers folded and zeros dropped."""
    flat: list[Expr] = []
    total: int | Fraction = 0  # an int until a fraction is met: Fraction arithmetic is slow
    number_first = terms[0].op == "num" or (terms[0].op == "add" and terms[0].args[0].op == "num")
    for t in terms:
        for u in t.args if t.op == "add" else (t,):
            if u.op == "num":
                v: Fraction = u.value  # type: ignore[assignment]
                total += v.numerator if v.denominator == 1 else v  # ints stay ints: faster
            elif u.op != "zeros":
                flat.append(u)
    shape = broadcast(*(t.shape for t in terms))
    if not flat and total == 0:
        return _zeros(shape)
    if total != 0 or not flat:
        flat.insert(0, num(total)) if number_first else flat.append(num(total))
    if len(flat) == 1:
        only = flat[0]
        return only if only.shape == shape else mul(only, ones(shape))
    return Expr("add", tuple(flat), shape)


def mul(*factors: Expr) -> Expr:
    """Elementwise product (scaling when a factor is scalar); numbers folded first."""
    flat: list[Expr] = []
    coeff: int | Fraction = 1  # an int until a fraction is met: Fraction arithmetic is slow
    special = False  # a zeros or ones factor among them
    for f in factors:
        for u in f.args if f.op == "mul" else (f,):
            op = u.op
            if op == "num":
                v: Fraction = u.value  # type: ignore[assignment]
                coeff *= v.numerator if v.denominator == 1 else v  # ints stay ints: faster
            else:
                flat.append(u)
                special = special or op in ("zeros", "ones")
    shape = broadcast(*(f.shape for f in factors))
    if coeff == 0 or (special and any(u.op == "zeros" for u in flat)):
        return _zeros(shape)
    if special and any(u.shape == shape and u.op != "ones" for u in flat):
        flat = [u for u in flat if u.op != "ones"]  # ones broadcast: a factor of 1
    if coeff != 1:
        flat.insert(0, num(coeff))
    if not flat:
        return ones(shape)
    if len(flat) == 1 and flat[0].shape == shape:
        return flat[0]
    return Expr("mul", tuple(flat), shape)


def _zeros(shape: Shape) -> Expr:
    return Expr("zeros", shape=shape) if shape != SCALAR else ZERO


def zeros(shape: Shape) -> Expr:
    return _zeros(normalize_shape(shape))


def neg(x: Expr) -> Expr:
    return mul(num(-1), x)


def sub(a: Expr, b: Expr) -> Expr:
    return add(a, neg(b))


def power(base: Expr, exponent: Expr) -> Expr:
    """Elementwise power; the exponent must be a scalar."""
    if not exponent.is_scalar:
        raise ShapeError(f"an exponent must be a scalar, not {shape_phrase(exponent.shape)}")
    if is_num(exponent, 1):
        return base
    if is_num(exponent, 0):
        return ones(base.shape)
    if base.op == "const" and base.value == "e":
        return fn("exp", exponent)
    if (
        base.op == "pow"
        and exponent.op == "num"
        and exponent.value.denominator == 1  # type: ignore[union-attr]
        and base.args[1].op == "num"
    ):  # (x^a)^n = x^(a*n) for a whole n
        return power(base.args[0], num(base.args[1].value * exponent.value))  # type: ignore[operator]
    if base.op == "num" and exponent.op == "num":
        folded = _fold_power(base.value, exponent.value)  # type: ignore[arg-type]
        if folded is not None:
            return num(folded)
    return Expr("pow", (base, exponent), base.shape)


def _fold_power(base: Fraction, exponent: Fraction) -> Fraction | None:
    """Exact value of a small rational power, or None (left symbolic, like sqrt(2))."""
    if exponent.denominator != 1 or abs(exponent.numerator) > 64:
        return None
    if base == 0 and exponent < 0:
        return None
    return base**exponent.numerator


def div(a: Expr, b: Expr) -> Expr:
    if not b.is_scalar and not a.is_scalar and a.shape != b.shape:
        raise ShapeError(f"cannot divide {shape_phrase(a.shape)} by {shape_phrase(b.shape)}")
    if b.op == "num":
        if b.value == 0:
            raise ShapeError("division by zero")
        return mul(num(1 / b.value), a)  # type: ignore[operator]
    return mul(a, power(b, num(-1)))


def matmul(a: Expr, b: Expr) -> Expr:
    """Matrix product; a scalar counts as 1x1, a 1x1 result is a scalar."""
    ash = a.shape or (1, 1)
    bsh = b.shape or (1, 1)
    if ash[1] != bsh[0]:
        raise ShapeError(
            f"cannot multiply {shape_phrase(a.shape)} by {shape_phrase(b.shape)}: "
            f"inner dimensions {ash[1]} and {bsh[0]} differ"
        )
    if a.is_scalar or b.is_scalar:
        return mul(a, b)
    if is_zero(a) or is_zero(b):
        return zeros((ash[0], bsh[1]))
    return Expr("matmul", (a, b), normalize_shape((ash[0], bsh[1])))


def transpose(x: Expr) -> Expr:
    if x.is_scalar:
        return x
    if x.op == "T":
        return x.args[0]
    m, n = x.shape
    if x.op in ("ones", "zeros"):
        return Expr(x.op, shape=(n, m))
    return Expr("T", (x,), (n, m))


def fn(name: str, *args: Expr) -> Expr:
    """Apply a named function: elementwise, a reduction or a vector map."""
    if name in REDUCTIONS:
        if len(args) != 1:
            raise ShapeError(f"{name} takes one argument")
        return Expr("fn", args, SCALAR, name)
    if name in MATRIX_MAPS:
        if len(args) != 1:
            raise ShapeError(f"{name} takes one argument")
        (v,) = args
        if v.is_scalar:
            return v  # the 1x1 diagonal matrix of a scalar is the scalar
        if 1 not in v.shape:
            raise ShapeError(f"{name} takes a vector, not {shape_phrase(v.shape)}")
        n = max(v.shape)
        return Expr("fn", args, (n, n), name)
    if name in VECTOR_MAPS:
        (v,) = args
        if v.is_scalar or 1 not in v.shape:
            raise ShapeError(f"{name} takes a vector, not {shape_phrase(v.shape)}")
        return Expr("fn", args, v.shape, name)
    if name in ("max", "min"):
        if len(args) != 2:
            raise ShapeError(f"{name} takes two arguments elementwise (or one vector)")
    elif len(args) != 1:
        raise ShapeError(f"{name} takes one argument")
    if name in ("floor", "ceil") and args[0].op == "num":  # exact: floor(27/2) is 13
        value: Fraction = args[0].value  # type: ignore[assignment]
        return num(math.floor(value) if name == "floor" else math.ceil(value))
    return Expr("fn", args, broadcast(*(a.shape for a in args)), name)


def generic_fn(name: str, arg: Expr) -> Expr:
    """A declared but unspecified elementwise function, such as the notes' phi."""
    return Expr("fn", (arg,), arg.shape, name)


def deriv(body: Expr, var: Expr) -> Expr:
    """``d/dvar (body)``: a gradient (scalar body) or an elementwise derivative."""
    if var.op != "sym":
        raise ShapeError("a derivative is taken with respect to a variable")
    if body.is_scalar:
        shape = var.shape
    elif body.shape == var.shape:
        shape = body.shape
    else:
        raise ShapeError(
            f"d/d{var.value} of {shape_phrase(body.shape)}: a derivative needs a scalar "
            f"or an elementwise function of {var.value}"
        )
    return Expr("deriv", (body, var), shape)


def hadamard(*factors: Expr) -> Expr:
    """The elementwise product, whatever the shapes' chaining would suggest."""
    broadcast(*(f.shape for f in factors))
    return mul(*factors)


def substitute(e: Expr, mapping: dict[str, Expr]) -> Expr:
    """Replace variables by expressions (definitions in the derivation checker)."""
    if not mapping:
        return e
    memo: dict[int, Expr] = {}
    depth: dict[int, int] = {}  # of each result, by the id of the node it replaces
    budget = MAX_SUBSTITUTED
    for node in e.walk():
        if node.op == "sym" and node.value in mapping:
            value = mapping[node.value]  # type: ignore[index]
            memo[id(node)], depth[id(node)] = value, tree_depth(value)
        elif node.args:
            args = tuple(memo[id(a)] for a in node.args)
            depth[id(node)] = 1 + max(depth[id(a)] for a in node.args)
            if args != node.args:
                budget -= _flat_length(node.op, args)
                if budget < 0:
                    raise EvaluationError(
                        "expression too large after substituting the definitions "
                        f"(more than {MAX_SUBSTITUTED} parts)"
                    )
                if depth[id(node)] > MAX_SUBSTITUTED_DEPTH:
                    raise EvaluationError(
                        "expression too deeply nested after substituting the definitions "
                        f"(more than {MAX_SUBSTITUTED_DEPTH} levels)"
                    )
            memo[id(node)] = rebuild(node, args)
        else:
            memo[id(node)], depth[id(node)] = node, 1
    return memo[id(e)]


def tree_depth(e: Expr) -> int:
    """Levels from the root to the deepest leaf (iterative: no recursion limit)."""
    depth: dict[int, int] = {}
    for node in e.walk():
        depth[id(node)] = 1 + max((depth[id(a)] for a in node.args), default=0)
    return depth[id(e)]


def _flat_length(op: str, args: tuple[Expr, ...]) -> int:
    """How many arguments ``op`` over ``args`` will hold once nested sums/products flatten."""
    if op in ("add", "mul"):
        return sum(len(a.args) if a.op == op else 1 for a in args)
    return len(args)


def rebuild(node: Expr, args: tuple[Expr, ...]) -> Expr:
    """The same operation over new arguments, through the checking constructors."""
    if args == node.args:
        return node
    op = node.op
    if op == "add":
        return add(*args)
    if op == "mul":
        return mul(*args)
    if op == "pow":
        return power(*args)
    if op == "matmul":
        return matmul(*args)
    if op == "T":
        return transpose(args[0])
    if op == "fn":
        name = node.value
        if name in ELEMENTWISE or name in REDUCTIONS or name in VECTOR_MAPS or name in MATRIX_MAPS:
            return fn(name, *args)  # type: ignore[arg-type]
        return generic_fn(name, args[0])  # type: ignore[arg-type]
    if op == "matrix":
        m, n = node.shape
        return matrix([list(args[i * n : (i + 1) * n]) for i in range(m)])
    if op == "deriv":
        return deriv(*args)
    raise ValueError(f"cannot rebuild {op}")
