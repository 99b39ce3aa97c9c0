"""What the derivatives of a derivation file stand for, and the file's definitions.

* ``d/dw E``: the derivative of E with every definition put in except ``w``'s own, so
  ``d/dŷ L`` holds ŷ as a variable (a chain-rule factor) and ``d/dw L`` goes through ŷ.
* ``dA/dB``: ``d/dB A`` for a defined A (or a variable); for a function name
  (``d sigmoid/dx``, ``dφ/dz``) the function's derivative at B.
* ``dL/dB`` for a cost L the file never defines (the notes' "cost function of a_L and
  y"): the chain rule through the file's model definitions, ending in opaque quantities.
  If no definition uses B, ``dL/dB`` is an opaque symbol ``∂L/∂B`` with the shape of B
  (random values when lines are compared, the same in every line); otherwise it is
  ``Σ_D (∂D/∂B)ᵀ dL/dD`` over the definitions D that use B directly. So
  ``dL/dw_m = dL/dz_m a_{m-1}ᵀ`` holds for ``z_m = w_m a_{m-1} + b_m``.

Derivatives are worked out by SymPy and symbolic backpropagation in the worker process
(``dlquiz.judge.worker``), each call within what is left of the line's time limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr, ShapeError, shape_phrase, substitute
from dlquiz.core.names import DEFAULT_DOMAINS
from dlquiz.core.printing import to_unicode
from dlquiz.core.vars import Namespace, VarSpec
from dlquiz.judge.worker import WorkerError, WorkerTimeout, run
from dlquiz.notation.lexer import NotationError, Token
from dlquiz.notation.parser import FUNCTIONS

MAX_CHAIN = 64  # definitions the chain rule of an undefined cost may pass through


class Unverified(ArithmeticError):
    """A worked-out derivative that disagrees with the engine's autograd (dlquiz's fault)."""


def shown(name: str) -> str:
    """A name as a student writes it (``yhat`` -> ``ŷ``, ``W1`` -> ``W₁``)."""
    return to_unicode.name(name)


def opaque_name(cost: str, var: str) -> str:
    """The symbol for dL/dB of an undefined cost (no name of the notation has '/')."""
    return f"∂{shown(cost)}/∂{shown(var)}"


def is_internal(name: str) -> bool:
    """Symbols the checker makes (opaque gradients, seeds), never names of the file."""
    return "/" in name or name.startswith("⟨")


@dataclass
class Definition:
    name: str
    raw: Expr  # as written: defined names are symbols, derivatives are worked out
    line: int
    forward: bool  # written without derivatives: part of the model the chain rule follows
    params: tuple[str, ...] = ()  # f(x) = ...: the variables it is written as a function of


class Deadline:
    """What is left of one line's time limit (``--timeout``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise WorkerTimeout(f"gave up after {self.seconds:g} s")
        return left


class Calculus:
    """The file's definitions and the meaning of its derivatives (see the module)."""

    def __init__(
        self, ns: Namespace, *, declared: set[str], opaque: set[str], timeout: float
    ) -> None:
        self.ns = ns
        self.declared = declared  # names whose shape the file or --var gives
        self.opaque = opaque  # costs the file names in dL/dz but never defines
        self.definitions: dict[str, Definition] = {}
        self.deadline = Deadline(timeout)
        self._values: dict[tuple[str, str | None], Expr] = {}
        self._gradients: dict[tuple[str, str], Expr] = {}
        self._derivatives: dict[tuple[Expr, str], Expr] = {}  # until the next definition
        self._seeds = 0

    # --- definitions ---------------------------------------------------------------------
    def define(self, definition: Definition) -> None:
        self.definitions[definition.name] = definition
        old = self.ns.get(definition.name)
        domain = old.domain if old is not None and not old.is_function else "real"
        self.ns.vars[definition.name] = VarSpec(definition.name, definition.raw.shape, domain)
        self._values.clear()
        self._gradients.clear()
        self._derivatives.clear()

    def resolve(self, e: Expr, hold: str | None = None) -> Expr:
        """``e`` with every definition put in (transitively), except ``hold``'s."""
        names = [n for n in e.free_symbols() if n in self.definitions and n != hold]
        if not names:
            return e
        return substitute(e, {n: self._value(n, hold) for n in names})

    def _value(self, name: str, hold: str | None) -> Expr:
        """The definition of ``name`` with the others put in (iterative: no recursion)."""
        stack, path = [name], set()
        while stack:
            current = stack[-1]
            if (current, hold) in self._values:
                stack.pop()
                path.discard(current)
                continue
            raw = self.definitions[current].raw
            deps = [
                n
                for n in raw.free_symbols()
                if n in self.definitions and n != hold and (n, hold) not in self._values
            ]
            if deps:
                if any(n in path for n in deps):
                    raise NotationError(f"the definitions of {shown(current)} go round in a circle")
                path.add(current)
                stack.extend(deps)
                continue
            mapping = {
                n: self._values[(n, hold)]
                for n in raw.free_symbols()
                if n in self.definitions and n != hold
            }
            self._values[(current, hold)] = substitute(raw, mapping) if mapping else raw
            stack.pop()
            path.discard(current)
        return self._values[(name, hold)]

    def signature(self, name: str) -> tuple[str, ...] | None:
        """The parameters of a name defined as ``f(x) = ...`` (None for other names)."""
        definition = self.definitions.get(name)
        return definition.params if definition is not None and definition.params else None

    def apply(self, name: str, args: list[Expr], primed: bool, tok: Token) -> Expr:
        """``f(a)`` (f's definition with x := a) or ``f'(a)`` for ``f(x) = ...``."""
        params = self.definitions[name].params
        shape = self.ns.vars[name].shape
        for param, arg in zip(params, args, strict=True):
            want = self.ns.vars[param].shape
            if arg.shape != want:
                raise NotationError(
                    f"{shown(name)}({', '.join(map(shown, params))}): {shown(param)} is "
                    f"{shape_phrase(want)}, the argument {shape_phrase(arg.shape)}",
                    tok.col,
                )
        if primed:
            if len(params) != 1:
                raise NotationError(
                    f"{shown(name)}' is the derivative of a function of one variable; "
                    f"write d{shown(name)}/d{shown(params[0])}",
                    tok.col,
                )
            body = self.derivative(E.sym(name, shape), params[0], tok)
        elif all(a.op == "sym" and a.value == p for a, p in zip(args, params, strict=True)):
            return E.sym(name, shape)  # f(x) is f
        else:
            body = self.resolve(E.sym(name, shape))
        mapping = {
            p: a for p, a in zip(params, args, strict=True) if not (a.op == "sym" and a.value == p)
        }
        return substitute(body, mapping) if mapping else body

    # --- derivatives ----------------------------------------------------------------------
    def variable(self, var: str, tok: Token, written: str) -> VarSpec:
        spec = self.ns.get(var)
        if spec is None or spec.is_function or is_internal(var):
            raise NotationError(
                f"{written}: '{shown(var)}' is not a variable of this file", tok.col
            )
        if var in self.opaque:
            raise NotationError(
                f"{written}: {shown(var)} is a cost this file does not define, not a variable",
                tok.col,
            )
        return spec

    def derivative(self, body: Expr, var: str, tok: Token) -> Expr:
        """``d/dvar body``, worked out (see the module for what is held)."""
        written = f"d/d{shown(var)}"
        spec = self.variable(var, tok, written)
        held = self.resolve(body, hold=var)
        known = self._derivatives.get((held, var))
        if known is not None:
            return known
        x = E.sym(var, spec.shape)
        result = self.expand(self._deriv(held, x, tok, written))
        for cost in sorted(held.free_symbols() & self.opaque):
            if not held.is_scalar:
                raise NotationError(
                    f"{written}: the cost {shown(cost)} inside {shape_phrase(held.shape)}",
                    tok.col,
                )
            slope = self.expand(self._deriv(held, E.sym(cost), tok, written))
            result = E.add(result, E.mul(slope, self.cost_gradient(cost, var, tok)))
        self._derivatives[(held, var)] = result
        return result

    def leibniz(self, numerator: str, var: str, tok: Token) -> Expr:
        """``d numerator / d var``."""
        written = f"d{shown(numerator)}/d{shown(var)}"
        spec = self.variable(var, tok, written)
        x = E.sym(var, spec.shape)
        if numerator in self.definitions:
            return self.derivative(E.sym(numerator, self.ns.vars[numerator].shape), var, tok)
        if numerator in self.opaque:
            return self.cost_gradient(numerator, var, tok)
        own = self.ns.get(numerator)
        if own is not None and own.is_function:  # dφ/dz: φ'(z)
            return self.derivative(E.generic_fn(numerator, x), var, tok)
        low = numerator.lower()
        if own is None and low in FUNCTIONS:  # d sigmoid/dx: sigmoid'(x)
            try:
                body = E.fn(FUNCTIONS[low], x)
            except ShapeError as exc:
                raise NotationError(f"{written}: {exc}", tok.col) from None
            return self.derivative(body, var, tok)
        if own is not None and not is_internal(numerator):
            return self.derivative(E.sym(numerator, own.shape), var, tok)
        raise NotationError(f"{written}: '{shown(numerator)}' is not a name of this file", tok.col)

    def cost_gradient(self, cost: str, var: str, tok: Token, depth: int = 0) -> Expr:
        """dL/dB for a cost L the file does not define: the chain rule through the model."""
        key = (cost, var)
        if key in self._gradients:
            return self._gradients[key]
        if depth > MAX_CHAIN:
            raise NotationError(
                f"the chain rule for d{shown(cost)} passes through more than {MAX_CHAIN} "
                "definitions"
            )
        spec = self.ns.vars[var]
        users = [
            d
            for d in self.definitions.values()
            if d.forward
            and var in d.raw.free_symbols()
            and cost not in self.resolve(d.raw).free_symbols()
        ]
        if not users:
            name = opaque_name(cost, var)
            self.ns.vars[name] = VarSpec(name, spec.shape)
            result = E.sym(name, spec.shape)
        else:
            x = E.sym(var, spec.shape)
            total: Expr | None = None
            for d in users:
                upstream = self.cost_gradient(cost, d.name, tok, depth + 1)
                seed = self._seed(d.raw.shape)
                if d.raw.is_scalar:
                    seeded = E.mul(seed, d.raw)
                else:
                    seeded = E.fn("sum", E.hadamard(seed, d.raw))
                part = self.expand(E.deriv(seeded, x))
                part = substitute(part, {str(seed.value): upstream})
                total = part if total is None else E.add(total, part)
            assert total is not None
            result = total
        self._gradients[key] = result
        return result

    def _seed(self, shape: E.Shape) -> Expr:
        """A fresh symbol standing for an upstream gradient while one factor is derived."""
        self._seeds += 1
        name = f"⟨seed{self._seeds}⟩"
        self.ns.vars[name] = VarSpec(name, shape)
        return E.sym(name, shape)

    def _deriv(self, body: Expr, x: Expr, tok: Token, written: str) -> Expr:
        try:
            return E.deriv(body, x)
        except ShapeError:
            raise NotationError(
                f"{written} of {shape_phrase(body.shape)} is a Jacobian, which the notation "
                f"cannot write: differentiate a scalar (the gradient has the shape of "
                f"{shown(str(x.value))}) or an elementwise function of it",
                tok.col,
            ) from None

    def expand(self, e: Expr) -> Expr:
        """Work out every derivative in ``e`` in the worker, within the line's time."""
        if not any(node.op == "deriv" for node in e.walk()):
            return e
        timeout = self.deadline.remaining()
        try:
            result = run("expand", e, self.ns, timeout=timeout)
        except WorkerTimeout:
            raise
        except WorkerError as exc:
            head, sep, rest = str(exc).partition(": ")
            message = rest if sep and head.endswith("Error") else str(exc)
            raise NotationError(f"cannot differentiate: {message}") from None
        self._verify(e, result)
        return result

    def _verify(self, e: Expr, result: Expr) -> None:
        """A second computation, as ``derive`` makes: the engine's reverse mode."""
        from dlquiz.core.numeric import EvaluationError
        from dlquiz.core.verification import verify_expression

        try:
            check = verify_expression(e, result, self.ns)
        except (EvaluationError, ValueError, ArithmeticError):
            return  # what the engine cannot run is not a disagreement
        if check.points and not check.ok:
            raise Unverified(
                "the worked-out derivative disagrees with the engine's autograd (largest "
                f"relative difference {check.max_rel_error:.2g}): dlquiz cannot judge this "
                "line, which is its own fault; please report it"
            )

    # --- no silent scalars ---------------------------------------------------------------
    def shapeless(self, name: str) -> bool:
        """A variable whose shape nothing gives: used as a scalar, never declared one."""
        spec = self.ns.get(name)
        return (
            spec is not None
            and not spec.is_function
            and name not in self.declared
            and name not in self.definitions
            and name not in self.opaque
            and name not in DEFAULT_DOMAINS
            and not is_internal(name)
        )

    def require_shapes(self, tok: Token, operation: str, operands: Sequence[Expr]) -> None:
        """A matrix-only operation on an undeclared name is an error naming it."""
        for operand in operands:
            missing = sorted(n for n in self.resolve(operand).free_symbols() if self.shapeless(n))
            if missing:
                n = shown(missing[0])
                raise NotationError(
                    f"{operation} needs the shape of '{n}', which is not declared: add a line "
                    f"such as {n} ∈ ℝ^3 (a column vector), {n} ∈ ℝ^{{2×3}} (a matrix) or "
                    f"{n} ∈ ℝ (a scalar)",
                    tok.col,
                )
