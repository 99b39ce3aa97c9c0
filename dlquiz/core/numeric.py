"""Numbers for expressions: random points in each variable's domain, and batched evaluation.

The judge decides equality mostly by evaluating both sides at several random points at
once. Every value here carries a leading batch axis of K points and is 3-d:
``(K, m, n)`` for a matrix, ``(K, 1, 1)`` for a scalar, so broadcasting is NumPy's own.
Evaluation is a walk over a size-limited tree in float64: bounded by construction, so
it runs in-process (no worker needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dlquiz.core.expr import EvaluationError, Expr
from dlquiz.core.vars import Namespace, VarSpec

COST_BUDGET = 2.5e8  # multiply-adds per evaluation, summed over the batch
# floor and ceil read a value this close (relatively) to a whole number as that number:
# 49 * (1/49) is 0.9999999999999999 in floats, and floor(49/49) must be 1.
WHOLE_SNAP = 1e-12


@dataclass(frozen=True)
class GenericFunction:
    """A concrete smooth stand-in for a declared function such as ``phi``.

    phi(t) = a*tanh(b*t + c) + d*t, and phi'(t) its exact derivative, so an answer using
    phi' is tested against a function that really is phi's derivative.
    """

    a: float
    b: float
    c: float
    d: float

    def value(self, x: np.ndarray) -> np.ndarray:
        return self.a * np.tanh(self.b * x + self.c) + self.d * x

    def derivative(self, x: np.ndarray) -> np.ndarray:
        t = np.tanh(self.b * x + self.c)
        return self.a * self.b * (1 - t * t) + self.d

    def second_derivative(self, x: np.ndarray) -> np.ndarray:
        t = np.tanh(self.b * x + self.c)
        return -2 * self.a * self.b * self.b * t * (1 - t * t)


def _signs(rng: np.random.Generator, count: int) -> np.ndarray:
    """Half positive, half negative, in random order: step(z) must not look like 1."""
    signs = np.where(np.arange(count) % 2 == 0, 1.0, -1.0)
    rng.shuffle(signs)
    return signs


def sample_value(spec: VarSpec, k: int, rng: np.random.Generator) -> np.ndarray:
    """K random values of one variable, shaped (K, m, n)."""
    m, n = spec.shape or (1, 1)
    size = (k, m, n)
    domain = spec.domain
    if domain == "positive":
        return rng.uniform(0.25, 3.0, size)
    if domain == "unit":
        return rng.uniform(0.05, 0.95, size)
    if domain == "integer":
        return rng.integers(1, 6, size).astype(float)
    if domain == "onehot":
        out = np.zeros(size)
        length = max(m, n)
        hot = rng.integers(0, length, k)
        if n == 1:
            out[np.arange(k), hot, 0] = 1.0
        else:
            out[np.arange(k), 0, hot] = 1.0
        return out
    magnitude = rng.uniform(0.25, 2.0, size)
    if m * n == 1:
        return magnitude * _signs(rng, k)[:, None, None]
    return magnitude * rng.choice([-1.0, 1.0], size)


def sample_env(
    ns: Namespace, names: set[str], k: int, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], dict[str, GenericFunction]]:
    """Random values for ``names`` and random stand-ins for the declared functions."""
    env: dict[str, np.ndarray] = {}
    funcs: dict[str, GenericFunction] = {}
    for name in sorted(names):
        spec = ns.get(name)
        if spec is None:
            spec = VarSpec(name)
        env[name] = sample_value(spec, k, rng)
    for name in sorted(n for n, s in ns.vars.items() if s.is_function):
        a, b = rng.uniform(0.6, 1.6, 2)
        funcs[name] = GenericFunction(float(a), float(b), float(rng.uniform(-0.5, 0.5)), 0.3)
    return env, funcs


def cost(e: Expr) -> float:
    """Multiply-adds for one point, to refuse what would take too long before starting."""
    total = 0.0
    for node in e.walk():
        if node.op == "matmul":
            a, b = node.args
            (m, k), n = (a.shape or (1, 1)), (b.shape or (1, 1))[1]
            total += m * k * n
        elif node.shape:
            total += node.shape[0] * node.shape[1]
        else:
            total += 1
    return total


def batch_size(exprs: list[Expr], wanted: int) -> int:
    """How many points fit the budget (at least 4), or an error when not even 4 do."""
    if sum(len(e.walk()) for e in exprs) * 64**3 * wanted <= COST_BUDGET:
        return wanted  # small trees: no need to add up the exact cost
    per_point = sum(cost(e) for e in exprs)
    k = wanted
    while k > 4 and per_point * k > COST_BUDGET:
        k //= 2
    if per_point * k > COST_BUDGET:
        raise EvaluationError("expression too large to check")
    return k


def as_float(value: Fraction) -> float:
    """A rational as a float; beyond the float range it is +-inf, never an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def snap_whole(x: np.ndarray) -> np.ndarray:
    """Values within rounding error of a whole number, moved onto it (floor/ceil)."""
    r = np.round(x)
    return np.where(np.abs(x - r) <= WHOLE_SNAP * np.maximum(1.0, np.abs(x)), r, x)


def _diag(x: np.ndarray) -> np.ndarray:
    """(K, n, 1) or (K, 1, n) vectors to (K, n, n) diagonal matrices."""
    k = x.shape[0]
    v = x.reshape(k, -1)
    n = v.shape[1]
    out = np.zeros((k, n, n), dtype=v.dtype)
    idx = np.arange(n)
    out[:, idx, idx] = v
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1/(1 + exp(-x)) to full relative precision for every x (no cancellation)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def _sigmoid_slope(x: np.ndarray) -> np.ndarray:
    """sigmoid(x) (1 - sigmoid(x)) = sigmoid(x) sigmoid(-x), without 1 - sigmoid(x)."""
    e = np.exp(-np.abs(x))
    return e / (1.0 + e) ** 2


def _tanh_slope(x: np.ndarray) -> np.ndarray:
    """1 - tanh(x)^2 = 1/cosh(x)^2, without the cancellation of 1 - tanh(x)^2."""
    return 1.0 / np.cosh(x) ** 2


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    ex = np.exp(shifted)
    return ex / np.sum(ex, axis=axis, keepdims=True)


_ELEMENTWISE = {
    "exp": np.exp,
    "log": np.log,
    "abs": np.abs,
    "sign": np.sign,
    "sigmoid": _sigmoid,
    "sigmoid'": _sigmoid_slope,
    "tanh": np.tanh,
    "tanh'": _tanh_slope,
    "relu": lambda x: np.maximum(x, 0.0),
    "step": lambda x: (x > 0).astype(float),
    "floor": lambda x: np.floor(snap_whole(x)),
    "ceil": lambda x: np.ceil(snap_whole(x)),
}


def evaluate(
    e: Expr,
    env: dict[str, np.ndarray],
    k: int,
    funcs: dict[str, GenericFunction] | None = None,
    memo: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """Value of ``e`` at K points: an array of shape (K, m, n) ((K, 1, 1) for a scalar).

    ``memo`` (optional) receives every node's value by ``id(node)``.
    """
    funcs = funcs or {}
    memo = {} if memo is None else memo
    with np.errstate(all="ignore"):
        for node in e.walk():
            memo[id(node)] = evaluate_node(node, [memo[id(a)] for a in node.args], env, k, funcs)
    return memo[id(e)]


def evaluate_node(
    node: Expr,
    args: list[np.ndarray],
    env: dict[str, np.ndarray],
    k: int,
    funcs: dict[str, GenericFunction],
) -> np.ndarray:
    op = node.op
    if op == "num":
        return np.full((k, 1, 1), as_float(node.value))  # type: ignore[arg-type]
    if op == "sym":
        try:
            return env[node.value]  # type: ignore[index]
        except KeyError:
            raise EvaluationError(f"no value for '{node.value}'") from None
    if op == "const":
        return np.full((k, 1, 1), np.pi if node.value == "pi" else np.e)
    if op == "add":
        out = args[0]
        for a in args[1:]:
            out = out + a
        return out
    if op == "mul":
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if op == "pow":
        return np.power(args[0], args[1])
    if op == "matmul":
        return np.matmul(args[0], args[1])
    if op == "T":
        return np.swapaxes(args[0], 1, 2)
    if op in ("ones", "zeros"):
        m, n = node.shape
        return (np.ones if op == "ones" else np.zeros)((k, m, n))
    if op == "matrix":
        m, n = node.shape
        return _assemble(args, m, n)
    if op == "fn":
        return _evaluate_fn(node, args, funcs)
    if op == "deriv":
        raise EvaluationError("a derivative must be worked out before it is evaluated")
    raise EvaluationError(f"cannot evaluate '{op}'")


def _assemble(entries: list[np.ndarray], m: int, n: int) -> np.ndarray:
    flat = np.stack([a.reshape(-1) for a in entries], axis=1)  # (K, m*n)
    return flat.reshape(-1, m, n)


def _evaluate_fn(
    node: Expr, args: list[np.ndarray], funcs: dict[str, GenericFunction]
) -> np.ndarray:
    name: str = node.value  # type: ignore[assignment]
    x = args[0]
    if name in _ELEMENTWISE:
        return _ELEMENTWISE[name](x)
    if name == "max":
        return np.maximum(args[0], args[1])
    if name == "min":
        return np.minimum(args[0], args[1])
    if name == "sum":
        return x.sum(axis=(1, 2), keepdims=True)
    if name == "mean":
        return x.mean(axis=(1, 2), keepdims=True)
    if name == "norm":
        return np.sqrt((x * x).sum(axis=(1, 2), keepdims=True))
    if name == "maxof":
        return x.max(axis=(1, 2), keepdims=True)
    if name == "softmax":
        return _softmax(x, axis=1 if node.shape[1] == 1 else 2)
    if name == "diag":
        return _diag(x)
    base = name.rstrip("'")
    if base in funcs:
        f = funcs[base]
        return f.derivative(x) if name.endswith("'") else f.value(x)
    raise EvaluationError(f"cannot evaluate function '{name}'")


def evaluate_constant(e: Expr) -> float:
    """The value of an expression without variables (used to bound exponents)."""
    if e.free_symbols():
        raise ValueError("not a constant")
    if not e.is_scalar:
        raise ValueError("not a scalar")
    return float(evaluate(e, {}, 1)[0, 0, 0])
