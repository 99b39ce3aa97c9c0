"""Between ``Expr`` and SymPy.

Scalar expressions map one to one. For matrix expressions, SymPy does the part it is
strong at, elementwise algebra: a region of ``+ * / ^`` and elementwise functions over
same-shaped arrays is a commutative algebra, so each non-elementwise piece (a matrix
product, a transpose, a sum, a softmax, a matrix variable) becomes an opaque commuting
symbol, SymPy simplifies the region, and the pieces are put back. This is how
``s ⊙ (y ⊘ s)`` cancels to ``y`` and ``σ(z)(1 - σ(z))`` keeps its shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr
from dlquiz.core.vars import Namespace


class sigmoid(sp.Function):
    """The logistic function, with sigma' = sigma (1 - sigma) as SymPy's derivative."""

    @classmethod
    def eval(cls, x):  # type: ignore[no-untyped-def]
        if x == 0:
            return sp.S.Half
        return None

    def fdiff(self, argindex: int = 1):  # type: ignore[no-untyped-def]
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x, **kwargs):  # type: ignore[no-untyped-def]
        return 1 / (1 + sp.exp(-x))

    def _eval_is_real(self):  # type: ignore[no-untyped-def]
        return self.args[0].is_real

    def _eval_is_positive(self):  # type: ignore[no-untyped-def]
        return self.args[0].is_real

    def _latex(self, printer):  # type: ignore[no-untyped-def]
        return rf"\sigma\left({printer._print(self.args[0])}\right)"

    def _pretty(self, printer):  # type: ignore[no-untyped-def]
        return _pretty_call("σ", printer, self.args[0])

    def _eval_evalf(self, prec):  # type: ignore[no-untyped-def]
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)


class relu(sp.Function):
    """max(0, x) with ReLU'(0) = 0 as in the notes: the derivative is Heaviside(x, 0)."""

    @classmethod
    def eval(cls, x):  # type: ignore[no-untyped-def]
        if x.is_positive:
            return x
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1):  # type: ignore[no-untyped-def]
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, x, **kwargs):  # type: ignore[no-untyped-def]
        return sp.Max(0, x)

    def _eval_is_real(self):  # type: ignore[no-untyped-def]
        return self.args[0].is_real

    def _latex(self, printer):  # type: ignore[no-untyped-def]
        return rf"\operatorname{{ReLU}}\left({printer._print(self.args[0])}\right)"

    def _pretty(self, printer):  # type: ignore[no-untyped-def]
        return _pretty_call("ReLU", printer, self.args[0])

    def _eval_evalf(self, prec):  # type: ignore[no-untyped-def]
        return sp.Max(0, self.args[0])._eval_evalf(prec)


class _Rounding(sp.Function):
    """floor and ceil: SymPy's own where it evaluates (numbers, integers), with derivative 0.

    SymPy leaves d/dx floor(x) unevaluated; the derivative is 0 wherever it exists (and
    the engine, like PyTorch, says 0 at the jumps too), which is what ``derive`` needs.
    """

    _sympy: type[sp.Function]
    _brackets: tuple[str, str]

    @classmethod
    def eval(cls, x):  # type: ignore[no-untyped-def]
        value = cls._sympy(x)
        if not value.has(cls._sympy):  # floor(7/2) = 3, floor(n) = n for an integer n
            return value
        return None

    def fdiff(self, argindex: int = 1):  # type: ignore[no-untyped-def]
        return sp.S.Zero

    def _eval_is_integer(self):  # type: ignore[no-untyped-def]
        return True if self.args[0].is_real else None

    def _eval_is_real(self):  # type: ignore[no-untyped-def]
        return self.args[0].is_real

    def _latex(self, printer):  # type: ignore[no-untyped-def]
        left, right = self._brackets
        return rf"\left\{left} {printer._print(self.args[0])} \right\{right}"

    def _eval_evalf(self, prec):  # type: ignore[no-untyped-def]
        return self._sympy(self.args[0])._eval_evalf(prec)


class floor(_Rounding):
    _sympy = sp.floor
    _brackets = ("lfloor", "rfloor")


class ceil(_Rounding):
    _sympy = sp.ceiling
    _brackets = ("lceil", "rceil")


def _pretty_call(head: str, printer, arg):  # type: ignore[no-untyped-def]
    from sympy.printing.pretty.stringpict import prettyForm, stringPict

    inner = prettyForm(*printer._print(arg).parens())
    return prettyForm(*stringPict.next(prettyForm(head), inner))


def step(x: sp.Expr) -> sp.Expr:
    """The notes' step: 1 for x > 0, 0 for x <= 0 (SymPy's default Heaviside(0) is 1/2)."""
    return sp.Heaviside(x, 0)


class SymbolicError(ValueError):
    """An expression SymPy produced that the notation cannot express."""


_ELEMENTWISE_OPS = {"num", "const", "sym", "add", "mul", "pow", "ones", "zeros"}


def _assumptions(domain: str) -> dict[str, bool]:
    if domain in ("positive", "unit"):
        return {"positive": True}
    if domain == "integer":
        return {"integer": True, "positive": True}
    if domain == "nonzero":
        return {"real": True, "nonzero": True}
    return {"real": True}


@dataclass
class Bridge:
    """One conversion session: remembers which SymPy symbol stands for which piece."""

    ns: Namespace = field(default_factory=Namespace)
    atoms: dict[sp.Symbol, Expr] = field(default_factory=dict)
    by_expr: dict[Expr, sp.Symbol] = field(default_factory=dict)
    functions: dict[str, sp.FunctionClass] = field(default_factory=dict)

    # --- Expr -> SymPy ------------------------------------------------------------
    def to_sympy(self, e: Expr, simplify_atom=None) -> sp.Expr:  # type: ignore[no-untyped-def]
        """SymPy form; non-elementwise pieces become opaque symbols (``simplify_atom`` first)."""
        memo: dict[int, sp.Expr] = {}
        stack: list[tuple[Expr, bool]] = [(e, False)]
        while stack:  # children first, but never into an opaque piece
            node, ready = stack.pop()
            if id(node) in memo:
                continue
            if not _is_elementwise(node):
                simpler = simplify_atom(node) if simplify_atom else node
                if simpler != node and _is_elementwise(simpler):
                    memo[id(node)] = self.to_sympy(simpler, simplify_atom)
                else:
                    memo[id(node)] = self.atom(simpler)
            elif ready or not node.args:
                memo[id(node)] = self._node(node, [memo[id(a)] for a in node.args])
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args)
        return memo[id(e)]

    def atom(self, node: Expr) -> sp.Expr:
        if node.op == "sym" and node.is_scalar:
            return self.symbol(node.value)  # type: ignore[arg-type]
        if node.op == "num":
            return sp.Rational(node.value.numerator, node.value.denominator)  # type: ignore[union-attr]
        if node.op == "ones":
            return sp.S.One
        if node.op == "zeros":
            return sp.S.Zero
        if node.op == "fn" and node.value == "sum" and node.args[0].op == "sym":
            spec = self.ns.get(node.args[0].value)  # type: ignore[arg-type]
            if spec is not None and spec.domain == "onehot":
                return sp.S.One
        if node not in self.by_expr:
            if node.op == "sym":
                name = str(node.value)
            else:
                name = f"_atom{len(self.by_expr)}"
            spec = self.ns.get(str(node.value)) if node.op == "sym" else None
            symbol = sp.Symbol(name, **_assumptions(spec.domain if spec else "real"))
            self.by_expr[node] = symbol
            self.atoms[symbol] = node
        return self.by_expr[node]

    def symbol(self, name: str) -> sp.Symbol:
        spec = self.ns.get(name)
        symbol = sp.Symbol(name, **_assumptions(spec.domain if spec else "real"))
        self.atoms.setdefault(symbol, E.sym(name))
        return symbol

    def function(self, name: str) -> sp.FunctionClass:
        if name not in self.functions:
            self.functions[name] = sp.Function(name, real=True)
        return self.functions[name]

    def _node(self, node: Expr, args: list[sp.Expr]) -> sp.Expr:
        op = node.op
        if op == "num":
            v: Fraction = node.value  # type: ignore[assignment]
            return sp.Rational(v.numerator, v.denominator)
        if op == "const":
            return sp.pi if node.value == "pi" else sp.E
        if op == "sym":
            return self.atom(node)
        if op == "ones":
            return sp.S.One
        if op == "zeros":
            return sp.S.Zero
        if op == "add":
            return sp.Add(*args)
        if op == "mul":
            return sp.Mul(*args)
        if op == "pow":
            return sp.Pow(args[0], args[1])
        if op == "fn":
            return self._function(node.value, args)  # type: ignore[arg-type]
        raise SymbolicError(f"no SymPy form for '{op}'")

    def _function(self, name: str, args: list[sp.Expr]) -> sp.Expr:
        x = args[0]
        table = {
            "exp": sp.exp,
            "log": sp.log,
            "abs": sp.Abs,
            "sign": sp.sign,
            "sigmoid": sigmoid,
            "tanh": sp.tanh,
            "relu": relu,
            "step": step,
            "floor": floor,
            "ceil": ceil,
        }
        if name in table:
            return table[name](x)
        if name in _SCALAR_IDENTITY:  # of a scalar (see _is_elementwise)
            return x
        if name == "norm":  # of a scalar: its absolute value
            return sp.Abs(x)
        if name == "sigmoid'":
            return sigmoid(x) * (1 - sigmoid(x))
        if name == "tanh'":
            return 1 - sp.tanh(x) ** 2
        if name == "max":
            return sp.Max(*args)
        if name == "min":
            return sp.Min(*args)
        if name.endswith("'"):
            return _derivative_at(self.function(name[:-1]), x)
        return self.function(name)(x)

    # --- SymPy -> Expr ------------------------------------------------------------
    def from_sympy(self, s: sp.Expr, shape: E.Shape = E.SCALAR) -> Expr:
        result = self._back(s)
        if result.shape != shape:
            if result.is_scalar:
                return E.mul(result, E.ones(shape))
            raise SymbolicError("the result has an unexpected shape")
        return result

    def _back(self, s: sp.Basic) -> Expr:
        if s.is_Symbol:
            if s in self.atoms:
                return self.atoms[s]  # type: ignore[index]
            return E.sym(str(s))
        if s.is_Integer or s.is_Rational:
            return E.num(Fraction(int(s.p), int(s.q)))  # type: ignore[attr-defined]
        if s.is_Float:
            return E.num(Fraction(str(s)))
        if s is sp.pi:
            return E.const("pi")
        if s is sp.E:
            return E.const("e")
        if s.is_Add:
            return E.add(*(self._back(a) for a in _ordered_terms(s)))
        if s.is_Mul:
            return E.mul(*(self._back(a) for a in sorted(s.args, key=self._factor_rank)))
        if s.is_Pow:
            base, exponent = s.args
            if base is sp.E:
                return E.fn("exp", self._back(exponent))
            return E.power(self._back(base), self._back(exponent))
        if isinstance(s, sp.exp):
            return E.fn("exp", self._back(s.args[0]))
        if isinstance(s, sp.log):
            if len(s.args) != 1:
                raise SymbolicError("a logarithm with a base")
            return E.fn("log", self._back(s.args[0]))
        simple = {
            sp.Abs: "abs",
            sp.sign: "sign",
            sp.tanh: "tanh",
            sigmoid: "sigmoid",
            relu: "relu",
            floor: "floor",
            sp.floor: "floor",
            ceil: "ceil",
            sp.ceiling: "ceil",
        }
        for cls, name in simple.items():
            if isinstance(s, cls):
                return E.fn(name, self._back(s.args[0]))
        if isinstance(s, sp.Heaviside):
            return E.fn("step", self._back(s.args[0]))
        if isinstance(s, (sp.Max, sp.Min)):
            args = [self._back(a) for a in s.args]
            name = "max" if isinstance(s, sp.Max) else "min"
            result = args[0]
            for a in args[1:]:
                result = E.fn(name, result, a)
            return result
        if isinstance(s, (sp.cosh, sp.sinh, sp.sech, sp.csch, sp.coth)):
            return self._back(s.rewrite(sp.exp))
        if isinstance(s, sp.DiracDelta):
            return E.ZERO
        if isinstance(s, sp.Piecewise):
            return self._piecewise(s)
        if isinstance(s, (sp.Subs, sp.Derivative)):
            return self._generic_derivative(s)
        if isinstance(s, sp.core.function.AppliedUndef):
            return E.generic_fn(str(s.func), self._back(s.args[0]))
        raise SymbolicError(f"cannot write '{s}' in the answer notation")

    def _piecewise(self, s: sp.Piecewise) -> Expr:
        """Branches that only hold at isolated points (``Eq(w, 0)``) are dropped."""
        *special, (value, last) = s.args
        if last is sp.true and all(isinstance(c, sp.Eq) for _, c in special):
            return self._back(value)
        raise SymbolicError(f"cannot write the case analysis '{s}' in the answer notation")

    def _factor_rank(self, factor: sp.Expr) -> int:
        """Reading order of factors: 2 η (Wᵀδ) σ(z) (1 - σ(z)) (ŷ - y) x."""
        if factor.is_Number:
            return 0
        if factor.is_Symbol:
            atom = self.atoms.get(factor)
            if atom is not None and atom.op != "sym":
                return 2
            spec = self.ns.get(str(factor))
            return 1 if spec is not None and spec.domain in ("positive", "unit") else 5
        base = factor.args[0] if factor.is_Pow else factor
        if base.is_Add:
            return 4
        if base.is_Symbol:
            return 5
        return 3

    def _generic_derivative(self, s: sp.Basic) -> Expr:
        if isinstance(s, sp.Subs):
            if len(s.point) != 1:
                raise SymbolicError("a derivative at several points")
            inner = self._generic_derivative(s.expr)
            return E.generic_fn(str(inner.value), self._back(s.point[0]))
        if len(s.variables) != 1 or not isinstance(s.expr, sp.core.function.AppliedUndef):
            raise SymbolicError("only first derivatives of a declared function can be written")
        f = s.expr
        return E.generic_fn(str(f.func) + "'", self._back(f.args[0]))


def _derivative_at(f: sp.FunctionClass, x: sp.Expr) -> sp.Expr:
    t = sp.Dummy("t")
    return sp.Subs(sp.Derivative(f(t), t), t, x)


def _ordered_terms(s: sp.Add) -> list[sp.Expr]:
    """Terms with the constant last, positive terms first: ``w x + b - y``, ``1 - σ(z)``."""
    terms = list(s.as_ordered_terms())
    positive = [t for t in terms if not t.could_extract_minus_sign()]
    negative = [t for t in terms if t.could_extract_minus_sign()]
    return positive + negative


# Reductions that are the identity on a scalar: sum(s) = mean(s) = maxof(s) = s.
_SCALAR_IDENTITY = frozenset({"sum", "mean", "maxof"})
# Reductions with a plain SymPy form on a scalar: those, and norm(s) = |s|.
_SCALAR_SIMPLE = _SCALAR_IDENTITY | {"norm"}


def _is_elementwise(node: Expr) -> bool:
    if node.op in _ELEMENTWISE_OPS:
        return True
    if node.op == "fn" and node.value in _SCALAR_SIMPLE and node.args[0].is_scalar:
        return True  # not an opaque piece: d/do sum(3*o^2) is 6*o, not 0
    return node.op == "fn" and node.value not in (E.REDUCTIONS | E.VECTOR_MAPS | E.MATRIX_MAPS)
