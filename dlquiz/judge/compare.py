"""Are two expressions equal? Decided by evaluating both at points chosen to find differences.

Random points in each variable's domain catch what symbolic simplification misses
(``step`` vs ``1``, ``ReLU``, ``Heaviside(0)``) and take microseconds, but only where
they fall: agreement on a narrow band says nothing about ``x + relu(x - 3)`` against
``x``. So the points are drawn to find differences:

* **several scales**: a third of the points in the band where problems live (|x| in
  [0.25, 2]), the rest with magnitudes log-uniform from 1e-3 to 1e3, both signs, within
  each variable's declared domain;
* **both sides of every breakpoint** of either expression: where an argument of
  ``step``, ``relu``, ``abs`` or ``sign`` changes sign, where the two arguments of
  ``max``/``min`` meet (and ties inside ``max(v)``), the integer jumps of
  ``floor``/``ceil``, the domain edges of ``sqrt``, ``log`` and powers. They are found
  numerically along random lines through the sample (a log-spaced grid, then two
  interpolation steps on each bracket) and a point is placed on either side;
* **every orthant** when the expected answer is undefined at many points: sign patterns
  of the variables are searched, and the answer must agree on each one where the
  expected answer is defined;
* a point where either side **overflows or underflows** (``dlquiz.core.precision``) is
  redrawn closer to 1, never counted as a difference.

Agreement is judged per point and per entry, relative to that entry's magnitude, with an
absolute floor from the rounding-error bound of each side's evaluation
(``dlquiz.core.precision``): ``[1e9 x; y]`` cannot hide an error in ``y``. ``Sample``
keeps the points so the diagnosis tests its hypotheses (a factor, a sign, a missing
term) on the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from dlquiz.core import expr as E
from dlquiz.core.expr import Expr, fingerprint, is_zero
from dlquiz.core.numeric import GenericFunction, batch_size, evaluate
from dlquiz.core.precision import Detailed, evaluate_detailed
from dlquiz.core.vars import Namespace, VarSpec

CORE_POINTS = 8  # |x| in [0.25, 2]
SCALED_POINTS = 16  # magnitudes log-uniform in [1e-3, 1e3]
MIN_VALID = 6
REDRAWS = 3  # rounds of pulling an over/underflowing point towards 1
SEED = 20_240_917  # fixed: the same answer gets the same verdict on every run
SYMBOLIC_RTOL = 1e-10  # exact expressions: rounding is covered by the error bound
SAFETY = 8.0  # the error bound is first order: allow this many times it
LOG_RANGE = 3.0  # magnitudes 10^-3 .. 10^3

# The breakpoint search: lines through the sample, a grid on each.
LINES = 3
GRID = np.concatenate([-np.logspace(8, -3, 34), [0.0], np.logspace(-3, 8, 34)])
MAX_BRACKETS = 24
# The orthant search, when the expected answer is undefined at many points.
MAX_ORTHANT_UNITS = 6  # all 2^n sign patterns up to this many variables, random beyond
RANDOM_ORTHANTS = 64
ORTHANT_POINTS = 4


@dataclass
class Sample:
    """Points where the expected answer is defined, with its values there.

    Plain float values first; the rounding-error bounds and over/underflow flags
    (``dlquiz.core.precision``) are computed only where a plain comparison is not enough
    (a point that differs, or is not finite), so an answer that agrees costs two
    evaluations.
    """

    ns: Namespace
    env: dict[str, np.ndarray]
    funcs: dict[str, GenericFunction]
    k: int
    valid: np.ndarray  # (K,) bool: the expected value is finite and trustworthy
    key: Expr
    expected: np.ndarray  # (K, m, n): the key's values
    rtol: float = SYMBOLIC_RTOL
    values: dict[Expr, np.ndarray] = field(default_factory=dict)
    safety: float = SAFETY  # times the rounding bounds allowed (0: floats must agree exactly)
    details: dict[Expr, Detailed] = field(default_factory=dict)
    # every node of a detailed tree, by id: its (value, error bound, the tree's flags)
    parts: dict[int, tuple[np.ndarray, object, np.ndarray]] = field(default_factory=dict)
    held: list[Expr] = field(default_factory=list)  # the detailed trees: their ids stay valid

    def value(self, e: Expr) -> np.ndarray:
        if e not in self.values:
            self.values[e] = evaluate(e, self.env, self.k, self.funcs)
        return self.values[e]

    def detail(self, e: Expr) -> Detailed:
        """Values with error bounds; a subexpression of a tree already detailed is read
        from that tree's walk (its flags are the whole tree's: a superset)."""
        if e not in self.details:
            part = self.parts.get(id(e))
            if part is not None:
                value, error, risky = part
                shaped = np.broadcast_to(error, (self.k, *value.shape[1:]))
                self.details[e] = Detailed(np.broadcast_to(value, shaped.shape), shaped, risky)
            else:
                values: dict[int, np.ndarray] = {}
                errors: dict[int, object] = {}
                d = evaluate_detailed(e, self.env, self.k, self.funcs, values, errors)  # type: ignore[arg-type]
                self.held.append(e)
                for node in e.walk():
                    self.parts[id(node)] = (values[id(node)], errors[id(node)], d.risky)
                self.details[e] = d
        return self.details[e]

    def error(self, e: Expr) -> np.ndarray:
        return self.detail(e).error

    @property
    def expected_error(self) -> np.ndarray:
        return self.detail(self.key).error

    @property
    def count(self) -> int:
        return int(self.valid.sum())

    def agrees(self, e: Expr, target: Expr | None = None) -> bool:
        """Does ``e`` equal the expected answer (or ``target``) at every valid point?

        First entry by entry to the relative tolerance alone; where that fails, again
        with each side's rounding-error bound, leaving out points either side lost.
        """
        t = self.key if target is None else target
        va, vt = self.value(e), self.value(t)
        if va.shape[1:] != vt.shape[1:] or not self.valid.any():
            return False
        v = self.valid
        if close(va[v], vt[v], self.rtol, 0.0).all():
            return True
        d, dt = self.detail(e), self.detail(t)
        return same_values(
            self,
            d.value,
            target=dt.value,
            error=d.error,
            target_error=dt.error,
            points=~(d.risky | dt.risky),
        )


# --- a fast deterministic stream of random numbers ---------------------------------------


POOL_SIZE = 1 << 16
RUN = CORE_POINTS + SCALED_POINTS


@lru_cache(maxsize=1)
def _pools() -> dict[str, np.ndarray]:
    """Fixed pools of numbers in the shapes the judge draws, made once per process."""
    rng = np.random.default_rng(SEED)
    uniform = rng.random(POOL_SIZE)
    halves = np.where(np.arange(POOL_SIZE) % 2 == 0, 1.0, -1.0)
    return {
        "uniform": uniform,
        "band": rng.uniform(0.25, 2.0, POOL_SIZE),  # the problems' own band
        "wide": 10.0 ** rng.uniform(-LOG_RANGE, LOG_RANGE, POOL_SIZE),  # every scale
        # runs of RUN signs (the usual batch), each as many + as -, shuffled
        "alternating": np.concatenate(
            [rng.permutation(halves[:RUN]) for _ in range(POOL_SIZE // RUN)]
        ),
    }


class Stream:
    """Numbers from fixed pools, from an offset set by the seed.

    A new NumPy generator costs tens of microseconds, a fifth of a whole check; the
    judge needs deterministic numbers, not fresh entropy, so it reads fixed pools.
    """

    def __init__(self, seed: int) -> None:
        self.pools = _pools()
        self.at = (seed * 2_654_435_761) % POOL_SIZE

    def take(self, pool: str, size: tuple[int, ...]) -> np.ndarray:
        count = math.prod(size)
        end = self.at + count
        if end <= POOL_SIZE:
            out = self.pools[pool][self.at : end]
        else:
            out = np.resize(np.roll(self.pools[pool], -self.at), count)
        self.at = end % POOL_SIZE
        return out.reshape(size)

    def random(self, size: tuple[int, ...]) -> np.ndarray:
        return self.take("uniform", size)

    def uniform(self, lo: float, hi: float, size: tuple[int, ...]) -> np.ndarray:
        return lo + (hi - lo) * self.random(size)

    def signs(self, size: tuple[int, ...]) -> np.ndarray:
        return np.where(self.random(size) < 0.5, -1.0, 1.0)


# --- drawing values in a domain ----------------------------------------------------------


def _magnitudes(stream: Stream, core: int, scaled: int, shape: tuple[int, int]) -> np.ndarray:
    m, n = shape
    return np.concatenate([stream.take("band", (core, m, n)), stream.take("wide", (scaled, m, n))])


def _alternating(stream: Stream, count: int) -> np.ndarray:
    """Half positive, half negative, in a shuffled order: step(z) must not look like 1."""
    if count == RUN:  # the usual batch: a ready shuffled run
        block = (stream.at // RUN) % (POOL_SIZE // RUN)
        stream.at = (stream.at + RUN) % POOL_SIZE
        return stream.pools["alternating"][block * RUN : (block + 1) * RUN]
    signs = np.where(np.arange(count) % 2 == 0, 1.0, -1.0)
    return signs[np.argsort(stream.random((count,)))]


def sample_values(
    spec: VarSpec, core: int, scaled: int, stream: Stream, signs: np.ndarray | None = None
) -> np.ndarray:
    """``core + scaled`` values of one variable, shaped (K, m, n), within its domain.

    ``signs`` (K,) fixes the sign of every entry at each point (the orthant search).
    """
    m, n = spec.shape or (1, 1)
    k = core + scaled
    domain = spec.domain
    if domain == "onehot":
        out = np.zeros((k, m, n))
        length = max(m, n)
        hot = np.minimum((stream.random((k,)) * length).astype(int), length - 1)
        if n == 1:
            out[np.arange(k), hot, 0] = 1.0
        else:
            out[np.arange(k), 0, hot] = 1.0
        return out
    if domain == "unit":  # (0, 1), with points near both ends
        mid = stream.uniform(0.05, 0.95, (k, m, n))
        edge = 10.0 ** stream.uniform(-LOG_RANGE, np.log10(0.05), (k, m, n))
        which = stream.random((k, m, n))
        out = np.where(which < 0.5, mid, np.where(which < 0.75, edge, 1.0 - edge))
        out[:core] = mid[:core]
        return out
    magnitude = _magnitudes(stream, core, scaled, (m, n))
    if domain == "integer":
        return np.maximum(
            1.0,
            np.round(
                np.concatenate([np.round(stream.uniform(0.5, 5.5, (core, m, n))), magnitude[core:]])
            ),
        )
    if domain == "positive":
        return magnitude
    if signs is not None:
        return magnitude * signs[:, None, None]
    if m * n == 1:
        return magnitude * _alternating(stream, k)[:, None, None]
    return magnitude * stream.signs((k, m, n))


def _functions(ns: Namespace, stream: Stream) -> dict[str, GenericFunction]:
    funcs = {}
    for name in sorted(n for n, s in ns.vars.items() if s.is_function):
        a, b = stream.uniform(0.6, 1.6, (2,))
        funcs[name] = GenericFunction(
            float(a), float(b), float(stream.uniform(-0.5, 0.5, (1,))[0]), 0.3
        )
    return funcs


def _spec(ns: Namespace, name: str) -> VarSpec:
    return ns.get(name) or VarSpec(name)


def _pull_in(env: dict[str, np.ndarray], rows: np.ndarray, ns: Namespace) -> None:
    """Move the values at ``rows`` towards magnitude 1 (halve their decimal exponent)."""
    for name, values in env.items():
        spec = _spec(ns, name)
        if spec.domain in ("onehot", "unit"):
            continue
        v = values[rows]
        with np.errstate(all="ignore"):
            pulled = np.sign(v) * np.sqrt(np.abs(v))
        if spec.domain == "integer":
            pulled = np.maximum(1.0, np.round(pulled))
        values[rows] = pulled


# --- the sample ---------------------------------------------------------------------------


def draw(
    expected: Expr,
    others: list[Expr],
    ns: Namespace,
    seed: int = SEED,
    *,
    rtol: float = SYMBOLIC_RTOL,
    safety: float = SAFETY,
) -> Sample:
    """Points that find differences between ``expected`` and ``others`` (see the module)."""
    stream = Stream(seed)
    exprs = list(dict.fromkeys([expected, *others]))  # equal trees: one evaluation
    names: set[str] = set()
    for e in exprs:
        names |= e.free_symbols()
    k = batch_size(exprs, CORE_POINTS + SCALED_POINTS)
    core = max(2, k // 3)
    scaled = k - core
    funcs = _functions(ns, stream)
    env = {n: sample_values(_spec(ns, n), core, scaled, stream) for n in sorted(names)}
    values, good, defined = _settle(exprs, env, k, funcs, ns)

    extra: list[dict[str, np.ndarray]] = []
    if (good & defined).sum() < max(MIN_VALID, k // 2):
        extra.append(_orthant_points(exprs, ns, names, stream, funcs))
    breakpoints = _breakpoint_points(exprs, env, good & defined, ns, names, stream, funcs)
    if breakpoints is not None:
        extra.append(breakpoints)
    extra = [x for x in extra if x and next(iter(x.values())).shape[0]]
    if extra:
        more = {n: np.concatenate([x[n] for x in extra]) for n in env}
        count = next(iter(more.values())).shape[0]
        new = {e: evaluate(e, more, count, funcs) for e in exprs}
        lost = _lost(exprs, more, count, funcs, new)
        env = {n: np.concatenate([env[n], more[n]]) for n in env}
        values = {e: np.concatenate([values[e], new[e]]) for e in exprs}
        good = np.concatenate([good, ~lost])
        k += count
    key_values = values[expected]
    valid = good & np.isfinite(key_values).all(axis=(1, 2))
    return Sample(ns, env, funcs, k, valid, expected, key_values, rtol, values, safety=safety)


def _lost(
    exprs: list[Expr],
    env: dict[str, np.ndarray],
    k: int,
    funcs: dict[str, GenericFunction],
    values: dict[Expr, np.ndarray],
) -> np.ndarray:
    """(K,) points where some side is not finite because a float lost it (an overflow,
    a log of what rounding made 0), rather than because it is undefined there."""
    lost = np.zeros(k, dtype=bool)
    if all(np.isfinite(values[e]).all() for e in exprs):
        return lost  # the common case, in one test per side
    bad = np.zeros(k, dtype=bool)
    for e in exprs:
        bad |= ~np.isfinite(values[e]).all(axis=(1, 2))
    rows = np.nonzero(bad)[0]
    sub = {n: v[rows] for n, v in env.items()}
    for e in exprs:
        lost[rows] |= evaluate_detailed(e, sub, rows.size, funcs).risky
    return lost


def _settle(
    exprs: list[Expr],
    env: dict[str, np.ndarray],
    k: int,
    funcs: dict[str, GenericFunction],
    ns: Namespace,
) -> tuple[dict[Expr, np.ndarray], np.ndarray, np.ndarray]:
    """Evaluate, redrawing closer to 1 the points a float lost (``env`` is updated).

    Returns each expression's values at the final points, the (K,) points that are
    trustworthy, and those where the expected answer (``exprs[0]``) is defined.
    """
    good = np.ones(k, dtype=bool)
    values = {e: np.array(evaluate(e, env, k, funcs)) for e in exprs}  # own, writable
    for attempt in range(REDRAWS + 1):
        lost = _lost(exprs, env, k, funcs, values)
        if not lost.any():
            break
        rows = np.nonzero(lost)[0]
        if attempt == REDRAWS:
            good[rows] = False
            break
        _pull_in(env, rows, ns)
        sub = {n: v[rows] for n, v in env.items()}
        for e in exprs:
            values[e][rows] = evaluate(e, sub, rows.size, funcs)
    defined = np.isfinite(values[exprs[0]]).all(axis=(1, 2))
    return values, good, defined


def _orthant_points(
    exprs: list[Expr],
    ns: Namespace,
    names: set[str],
    stream: Stream,
    funcs: dict[str, GenericFunction],
) -> dict[str, np.ndarray]:
    """Points in every sign pattern of the real variables, kept where the key is defined."""
    units = sorted(n for n in names if _spec(ns, n).domain in ("real", "nonzero"))
    if not units:
        return {}
    if len(units) <= MAX_ORTHANT_UNITS:
        patterns = np.array(
            [
                [1.0 if (i >> j) & 1 else -1.0 for j in range(len(units))]
                for i in range(2 ** len(units))
            ]
        )
    else:
        patterns = stream.signs((RANDOM_ORTHANTS, len(units)))
    signs = np.repeat(patterns, ORTHANT_POINTS, axis=0)  # (P, units)
    total = signs.shape[0]
    core = total // ORTHANT_POINTS  # a quarter in the band, the rest at all scales
    order = np.argsort(np.tile(np.arange(ORTHANT_POINTS), patterns.shape[0]), kind="stable")
    signs = signs[order]
    env = {}
    for name in sorted(names):
        spec = _spec(ns, name)
        unit_signs = signs[:, units.index(name)] if name in units else None
        env[name] = sample_values(spec, core, total - core, stream, unit_signs)
    value = evaluate(exprs[0], env, total, funcs)
    keep = np.isfinite(value).all(axis=(1, 2))
    return {n: v[keep] for n, v in env.items()}


# --- breakpoints ----------------------------------------------------------------------


def _kinks(e: Expr) -> set[tuple]:
    """The breakpoints of ``e``: (how to read it, the argument whose sign change it is).

    Written so that one breakpoint reads the same whatever function makes it:
    ``relu(z)``, ``step(z)``, ``abs(z)`` and ``max(z, 0)`` all give ("sign", z).
    """
    found: set[tuple] = set()
    for node in e.walk():
        if node.op == "fn":
            name = node.value
            if name in ("floor", "ceil"):
                found.add(("jumps", node.args[0]))
            elif name in ("step", "relu", "abs", "sign", "log"):
                found |= _signed(node.args[0])
            elif name in ("max", "min"):
                a, b = node.args
                found |= _signed(a if is_zero(b) else E.sub(a, b))
            elif name == "maxof":
                found.add(("ties", node.args[0]))
        elif node.op == "pow":  # a square root's domain edge (poles are not breakpoints)
            exponent = node.args[1]
            if exponent.op != "num" or exponent.value.denominator != 1:  # type: ignore[union-attr]
                found |= _signed(node.args[0])
    return found


def _signed(x: Expr) -> set[tuple]:
    """A sign change of x, which is one of -x: both, so that either spelling matches."""
    return {("sign", x), ("sign", E.neg(x))}


def _kink_values(kind: tuple, env: dict[str, np.ndarray], k: int, funcs: dict) -> np.ndarray:
    """(K, entries) values whose sign changes mark the breakpoint."""
    head = kind[0]
    vals = [evaluate(a, env, k, funcs) for a in kind[1:]]
    if head == "sign":
        out = vals[0]
    elif head == "jumps":
        out = np.sin(np.pi * vals[0])
    else:  # ties inside max(v): every pair of entries
        flat = vals[0].reshape(vals[0].shape[0], -1)
        i, j = np.triu_indices(flat.shape[1], 1)
        out = flat[:, i] - flat[:, j]
    return np.broadcast_to(out, (k, *out.shape[1:])).reshape(k, -1)


def _breakpoint_points(
    exprs: list[Expr],
    env: dict[str, np.ndarray],
    good: np.ndarray,
    ns: Namespace,
    names: set[str],
    stream: Stream,
    funcs: dict[str, GenericFunction],
) -> dict[str, np.ndarray] | None:
    """Points on both sides of each breakpoint found along random lines.

    Only where the two sides break at different places, or the sample has too few
    points where the expected answer is defined: with the same breakpoints both sides
    are smooth in each piece between them, where ordinary points tell them apart.

    Each line runs through a sample point in a random direction of the real variables;
    the arguments of the kinks are evaluated on a log-spaced grid of the line, each sign
    change is bracketed, its root found by regula falsi (exact in one step for an
    affine argument, one more step for a curved one), and points are placed at the
    bracket's ends, just beside the root and a little further.
    """
    sets = [_kinks(e) for e in exprs]
    if all(s == sets[0] for s in sets[1:]) and good.sum() >= max(MIN_VALID, good.size // 2):
        return None  # (a domain's edge is still searched for points where it is defined)
    kinds: list[tuple] = []
    ordered = sorted(set().union(*sets), key=lambda k: (k[0], *map(fingerprint, k[1:])))
    for kind in ordered:  # in a fixed order (hashes vary by process), one of each x, -x
        if not (kind[0] == "sign" and ("sign", E.neg(kind[1])) in kinds):
            kinds.append(kind)
    moving = sorted(n for n in names if _spec(ns, n).domain in ("real", "nonzero"))
    if not kinds or not moving:
        return None
    rows = np.nonzero(good)[0][:LINES]
    if not rows.size:
        rows = np.arange(min(LINES, good.size))
    bases = {n: env[n][rows] for n in env}
    directions = {n: stream.uniform(-1.0, 1.0, bases[n].shape) for n in moving}

    def at(line: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """The points base[line[i]] + t[i] * direction[line[i]]."""
        out = {}
        for n, base in bases.items():
            b = base[line]
            if n in directions:
                b = b + t[:, None, None] * directions[n][line]
            out[n] = b
        return out

    lines = rows.size
    grid_line = np.repeat(np.arange(lines), GRID.size)
    grid_t = np.tile(GRID, lines)
    grid_env = at(grid_line, grid_t)
    brackets = []  # (kind index, line, entry, lo, hi)
    for ki, kind in enumerate(kinds):
        table = _kink_values(kind, grid_env, grid_t.size, funcs).reshape(lines, GRID.size, -1)
        sign = np.sign(table)
        change = (sign[:, :-1] * sign[:, 1:] < 0) | ((sign[:, :-1] == 0) != (sign[:, 1:] == 0))
        change &= np.isfinite(table[:, :-1]) & np.isfinite(table[:, 1:])
        for line, g, entry in zip(*np.nonzero(change), strict=True):
            brackets.append((ki, int(line), int(entry), float(GRID[g]), float(GRID[g + 1])))
    if not brackets:
        return None
    if len(brackets) > MAX_BRACKETS:
        pick = np.linspace(0, len(brackets) - 1, MAX_BRACKETS).round().astype(int)
        brackets = [brackets[i] for i in pick]
    line = np.array([b[1] for b in brackets])
    lo = np.array([b[3] for b in brackets])
    hi = np.array([b[4] for b in brackets])

    def values_at(t: np.ndarray) -> np.ndarray:
        """Each bracket's own kink entry at parameter t[i] on its own line."""
        pts = at(line, t)
        out = np.empty(len(brackets))
        for ki, kind in enumerate(kinds):
            mine = [i for i, b in enumerate(brackets) if b[0] == ki]
            if mine:
                table = _kink_values(kind, pts, t.size, funcs)
                out[mine] = table[mine, [brackets[i][2] for i in mine]]
        return out

    grid_lo, grid_hi = lo.copy(), hi.copy()  # on opposite sides, and further away
    f_lo, f_hi = values_at(lo), values_at(hi)
    with np.errstate(all="ignore"):
        mid = lo - f_lo * (hi - lo) / (f_hi - f_lo)
    mid = np.where(np.isfinite(mid) & (mid > lo) & (mid < hi), mid, 0.5 * (lo + hi))
    f_mid = values_at(mid)
    left = np.sign(f_mid) == np.sign(f_lo)
    lo, f_lo = np.where(left, mid, lo), np.where(left, f_mid, f_lo)
    hi, f_hi = np.where(left, hi, mid), np.where(left, f_hi, f_mid)
    with np.errstate(all="ignore"):
        root = lo - f_lo * (hi - lo) / (f_hi - f_lo)
    root = np.where(np.isfinite(root) & (root >= lo) & (root <= hi), root, mid)
    near = 1e-9 * (1.0 + np.abs(root))  # inside any jump the root is this close to
    close_by = 1e-4 * (1.0 + np.abs(root))  # where a kink's two slopes differ visibly
    offsets = [grid_lo, grid_hi, root - near, root + near, root - close_by, root + close_by]
    t = np.concatenate(offsets)
    return at(np.tile(line, len(offsets)), t)


# --- agreement -------------------------------------------------------------------------


def close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float | np.ndarray) -> np.ndarray:
    """Entrywise |a - b| <= atol + rtol * max(|a|, |b|); infinities never match."""
    with np.errstate(all="ignore"):
        ok = np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))
    return ok & np.isfinite(a) & np.isfinite(b)


def tolerance(
    sample: Sample, error: np.ndarray | None, target_error: np.ndarray | None
) -> np.ndarray:
    """The absolute floor per point and entry: a few times both sides' rounding bounds."""
    te = sample.expected_error if target_error is None else target_error
    e = te if error is None else error
    return sample.safety * (e + te) + 1e-300


def same_values(
    sample: Sample,
    values: np.ndarray,
    target: np.ndarray | None = None,
    rtol: float | None = None,
    *,
    error: np.ndarray | None = None,
    target_error: np.ndarray | None = None,
    points: np.ndarray | None = None,
) -> bool:
    """Do ``values`` equal the expected ones (or ``target``) at every valid point?

    Per entry: relative to its own magnitude (``rtol``, the sample's by default) plus a
    few times the rounding-error bound of each side (``error``: of ``values``, taken
    as the target's when not given). ``points`` (K,) may exclude points (a hypothesis
    that overflows there).
    """
    target = sample.expected if target is None else target
    if values.shape[1:] != target.shape[1:]:
        return False
    v = sample.valid if points is None else sample.valid & points
    if v.sum() < min(MIN_VALID, sample.count) or not v.any():
        return False
    rtol = sample.rtol if rtol is None else rtol
    floor = tolerance(sample, error, target_error)
    return bool(close(values[v], target[v], rtol, np.broadcast_to(floor, target.shape)[v]).all())


def max_relative_error(sample: Sample, values: np.ndarray) -> float:
    v = sample.valid
    with np.errstate(all="ignore"):
        diff = np.abs(values[v] - sample.expected[v])
        scale = np.maximum(np.abs(values[v]), np.abs(sample.expected[v]))
        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1), diff)
    return float(np.nanmax(rel)) if rel.size else 0.0


def excess(sample: Sample, values: np.ndarray, error: np.ndarray) -> float:
    """How many times its tolerance the worst entry misses by (inf for non-finite)."""
    v = sample.valid
    if not v.any():
        return 0.0
    a, b = values[v], sample.expected[v]
    floor = np.broadcast_to(tolerance(sample, error, None), sample.expected.shape)[v]
    with np.errstate(all="ignore"):
        allowed = floor + sample.rtol * np.maximum(np.abs(a), np.abs(b))
        ratio = np.abs(a - b) / allowed
    ratio = np.where(np.isfinite(a) & np.isfinite(b), ratio, np.inf)
    return float(np.nanmax(ratio)) if ratio.size else 0.0
