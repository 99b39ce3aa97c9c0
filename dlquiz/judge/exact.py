"""Exact equality of rational expressions, decided modulo a large prime (Schwartz–Zippel).

When both sides are rational functions (numbers, variables, ``+ - * /``, whole powers,
matrix products, transposes, literal matrices, sums) and every number in them is exact,
floats are the wrong tool: a degree-13 polynomial with 14-digit coefficients, its
constant term off by 1, agrees to every float digit with its factored form. Here both
sides are evaluated exactly in the field of integers modulo a prime p at random points.
If their difference is a nonzero rational function whose numerator has degree at most
d, it vanishes at a random point with probability at most d/p (Schwartz–Zippel), so k
points with (d/p)^k < 1e-15 decide. The prime and the points come from a hash of the two
expressions: deterministic (the same verdict on every run) but not public, so an answer
cannot plant a coefficient that is a multiple of p, or roots at fixed points.
"""

from __future__ import annotations

import hashlib
import math
import random
from fractions import Fraction

import numpy as np

from dlquiz.core.expr import Expr, fingerprint

FAILURE_BOUND = 1e-15
MAX_DEGREE = 10**12  # beyond this the float path decides
INTEGER_DEGREE = 1024  # up to this degree: exact rationals at random 62-bit integers
POINT_BITS = 62
MAX_WORK = 200_000  # modular multiplications per point (matrix products of object ints)
_OPS = {"num", "sym", "add", "mul", "pow", "matmul", "T", "matrix", "ones", "zeros"}
_FNS = {"sum", "mean", "diag"}
_EXACT_DOMAINS = {"real", "positive", "nonzero", "unit", "integer"}


class _Pole(ArithmeticError):
    """A denominator vanished modulo p at this point: draw another point."""


class _BadPrime(ArithmeticError):
    """A constant denominator is a multiple of p: draw another prime."""


def rational(e: Expr, domains: dict[str, str]) -> bool:
    """Is ``e`` a rational function of its variables with exact coefficients?"""
    for node in e.walk():
        op = node.op
        if op == "fn":
            if node.value not in _FNS:
                return False
        elif op not in _OPS:
            return False
        elif op == "pow":
            exponent = node.args[1]
            if exponent.op != "num" or exponent.value.denominator != 1:  # type: ignore[union-attr]
                return False
        elif op == "sym" and domains.get(str(node.value), "real") not in _EXACT_DOMAINS:
            return False
    return True


def degree(e: Expr) -> tuple[int, int]:
    """Bounds (numerator, denominator) on the degrees of ``e`` written as one fraction."""
    memo: dict[int, tuple[int, int]] = {}
    for node in e.walk():
        args = [memo[id(a)] for a in node.args]
        op = node.op
        if op == "sym":
            d = (1, 0)
        elif op in ("num", "ones", "zeros"):
            d = (0, 0)
        elif op == "add":
            d = args[0]
            for a in args[1:]:
                d = _add(d, a)
        elif op == "mul":
            d = (sum(a[0] for a in args), sum(a[1] for a in args))
        elif op == "pow":
            n = int(node.args[1].value)  # type: ignore[arg-type]
            base = args[0]
            d = (n * base[0], n * base[1]) if n >= 0 else (-n * base[1], -n * base[0])
        elif op == "matmul":
            inner = node.args[0].shape[1] if node.args[0].shape else 1
            d = _repeat((args[0][0] + args[1][0], args[0][1] + args[1][1]), inner)
        elif op == "T":
            d = args[0]
        elif op == "matrix":
            d = (max(a[0] for a in args), max(a[1] for a in args))
        else:  # sum, mean, diag
            x = node.args[0]
            count = (x.shape[0] * x.shape[1]) if x.shape and node.value != "diag" else 1
            d = _repeat(args[0], count)
        memo[id(node)] = d
    return memo[id(e)]


def _add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    if a[1] == 0 and b[1] == 0:
        return (max(a[0], b[0]), 0)
    return (max(a[0] + b[1], b[0] + a[1]), a[1] + b[1])


def _repeat(d: tuple[int, int], count: int) -> tuple[int, int]:
    """A sum of ``count`` terms of degrees ``d`` (different denominators multiply)."""
    if d[1] == 0:
        return d
    return (d[0] + (count - 1) * d[1], count * d[1])


def equal(a: Expr, b: Expr, domains: dict[str, str], salt: str = "") -> bool | None:
    """Are ``a`` and ``b`` equal as rational functions? None when this cannot decide.

    ``salt`` should identify the pair (the answer's and the key's text): the points and
    the prime are drawn from its hash.
    """
    if a.shape != b.shape or not (rational(a, domains) and rational(b, domains)):
        return None
    (na, da), (nb, db) = degree(a), degree(b)
    top = max(na + db, nb + da, 1)
    if top > MAX_DEGREE or _work(a) + _work(b) > MAX_WORK:
        return None
    rng = random.Random(_digest(a, b, salt))
    names = sorted(a.free_symbols() | b.free_symbols())
    shapes = {}
    for e in (a, b):
        for node in e.walk():
            if node.op == "sym":
                shapes[str(node.value)] = node.shape
    if top <= INTEGER_DEGREE:  # exact rationals at 62-bit integers: nothing to plant
        return _agree_at_points(a, b, names, shapes, rng, 0, top)
    for _ in range(8):  # primes: another when a constant denominator is a multiple of p
        try:
            return _agree_at_points(a, b, names, shapes, rng, _prime(rng), top)
        except _BadPrime:
            continue
    return None


def _agree_at_points(
    a: Expr, b: Expr, names: list[str], shapes: dict, rng: random.Random, p: int, top: int
) -> bool | None:
    """Do ``a`` and ``b`` agree at enough random points (mod p, or exactly when p = 0)?

    Schwartz–Zippel: a nonzero numerator of degree ``top`` vanishes at a random point
    with probability at most top / (the number of values a point's coordinate can take),
    so ``points`` agreements bound a wrong "equal" by ``FAILURE_BOUND``. None when poles
    leave too few points.
    """
    size = p or 2**POINT_BITS
    points = max(1, math.ceil(math.log(FAILURE_BOUND) / math.log(top / size)))
    tried = 0
    for _attempt in range(4 * points + 8):
        env = {n: _random_value(rng, p, shapes[n]) for n in names}
        try:
            same = _same(_evaluate(a, env, p), _evaluate(b, env, p))
        except (_Pole, ZeroDivisionError):  # a denominator vanished at this point
            continue
        if not same:
            return False
        tried += 1
        if tried == points:
            return True
    return None


def _digest(a: Expr, b: Expr, salt: str) -> int:
    """A seed from the two sides: their texts when the caller has them (``salt``),
    else their trees."""
    h = hashlib.sha256(salt.encode(errors="surrogatepass"))
    if salt:
        return int.from_bytes(h.digest(), "big")
    for e in (a, b):
        h.update(fingerprint(e).encode(errors="surrogatepass") + b"\x1f")
    return int.from_bytes(h.digest(), "big")


def _work(e: Expr) -> int:
    total = 0
    for node in e.walk():
        if node.op == "matmul":
            a, b = node.args
            (m, k), n = (a.shape or (1, 1)), (b.shape or (1, 1))[1]
            total += m * k * n
        else:
            total += max(1, (node.shape or (1, 1))[0] * (node.shape or (1, 1))[1])
    return total


# --- primes -------------------------------------------------------------------------------

_WINDOW = 256  # odd candidates sieved at once (a prime gap near 2^61 averages 42)
_SIEVE = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
          89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173,
          179, 181, 191, 193, 197, 199)  # fmt: skip


def _strong_probable_prime(n: int, base: int) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    x = pow(base, d, n)
    if x in (1, n - 1):
        return True
    for _ in range(s - 1):
        x = x * x % n
        if x == n - 1:
            return True
    return False


def _prime(rng: random.Random) -> int:
    """A random prime between 2^61 and 2^62.

    Candidates are sieved by the odd primes below 200; survivors take
    strong probable-prime tests to the bases 2 and 3 (a composite passing both is rarer
    than one in 10^10 among random numbers of this size, and a composite modulus would
    only weaken, not break, the bound above).
    """
    while True:
        start = rng.getrandbits(61) | (1 << 61) | 1
        alive = bytearray(b"\x01") * _WINDOW  # alive[i]: start + 2i has no small factor
        for q in _SIEVE:
            first = (-start * pow(2, -1, q)) % q  # start + 2i = 0 (mod q)
            alive[first::q] = bytes(len(range(first, _WINDOW, q)))
        for i in range(_WINDOW):
            if alive[i]:
                n = start + 2 * i
                if _strong_probable_prime(n, 2) and _strong_probable_prime(n, 3):
                    return n


# --- evaluation modulo p -----------------------------------------------------------------


def _random_value(rng: random.Random, p: int, shape: tuple[int, ...]) -> object:
    """A random residue mod p, or (p = 0) a random nonzero 62-bit integer, per entry."""

    def one() -> int:
        if p:
            return rng.randrange(1, p)
        return (rng.getrandbits(POINT_BITS) | 1) * rng.choice((-1, 1))

    if not shape:
        return one()
    m, n = shape
    out = np.empty((m, n), dtype=object)
    for i in range(m):
        for j in range(n):
            out[i, j] = one()
    return out


# p = 0 below means exact rational arithmetic (Fractions) instead of residues mod p.


def _const(v: Fraction, p: int) -> object:
    if not p:
        return v
    if v.denominator % p == 0:
        raise _BadPrime()
    return v.numerator % p * pow(v.denominator, -1, p) % p


def _mod(x: object, p: int) -> object:
    if not p:
        return x
    if isinstance(x, np.ndarray):
        return np.mod(x, p)
    return x % p  # type: ignore[operator]


def _power(x: object, n: int, p: int) -> object:
    if not p:
        if isinstance(x, np.ndarray):
            return np.frompyfunc(lambda v: Fraction(v) ** n, 1, 1)(x)
        return Fraction(x) ** n  # type: ignore[arg-type]  # 0 to a negative power: a pole
    if isinstance(x, np.ndarray):
        if n < 0 and any(v % p == 0 for v in x.flat):
            raise _Pole()
        return np.frompyfunc(lambda v: pow(int(v), n, p), 1, 1)(x)
    if n < 0 and x % p == 0:  # type: ignore[operator]
        raise _Pole()
    return pow(int(x), n, p)  # type: ignore[call-overload]


def _evaluate(e: Expr, env: dict[str, object], p: int) -> object:
    memo: dict[int, object] = {}
    for node in e.walk():
        args = [memo[id(a)] for a in node.args]
        op = node.op
        if op == "num":
            out: object = _const(node.value, p)  # type: ignore[arg-type]
        elif op == "sym":
            out = env[str(node.value)]
        elif op in ("ones", "zeros"):
            m, n = node.shape
            out = np.full((m, n), 1 if op == "ones" else 0, dtype=object)
        elif op == "add":
            out = args[0]
            for x in args[1:]:
                out = _mod(out + x, p)  # type: ignore[operator]
        elif op == "mul":
            out = args[0]
            for x in args[1:]:
                out = _mod(out * x, p)  # type: ignore[operator]
        elif op == "pow":
            out = _power(args[0], int(node.args[1].value), p)  # type: ignore[arg-type]
        elif op == "matmul":
            out = _mod(np.dot(_matrix(args[0]), _matrix(args[1])), p)
            if node.shape == ():
                out = out[0, 0]  # type: ignore[index]
        elif op == "T":
            out = args[0].T if isinstance(args[0], np.ndarray) else args[0]
        elif op == "matrix":
            m, n = node.shape
            out = np.array(args, dtype=object).reshape(m, n)
        elif node.value == "diag":
            v = _matrix(args[0]).reshape(-1)
            out = np.zeros((v.size, v.size), dtype=object)
            for i, x in enumerate(v):
                out[i, i] = x
        else:  # sum, mean
            x = args[0]
            total = _mod(np.sum(x), p) if isinstance(x, np.ndarray) else x
            if node.value == "mean" and isinstance(x, np.ndarray):
                total = Fraction(total, x.size) if not p else total * pow(x.size, -1, p) % p  # type: ignore[arg-type,operator]
            out = total
        memo[id(node)] = out
    return memo[id(e)]


def _matrix(x: object) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    return np.array([[x]], dtype=object)


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.all(_matrix(a) == _matrix(b)))
    return a == b
