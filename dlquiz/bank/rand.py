"""Deterministic draws for problem parameters: the same (family, seed) everywhere, forever.

NumPy only promises its streams within one version and Python only ``random()``'s, so
parameters come from SHA-256 in counter mode: integers by rejection sampling, choices and
shuffles from those. Never Python's ``hash`` (salted per process).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from fractions import Fraction
from typing import TypeVar

T = TypeVar("T")


class Draw:
    """A stream of random choices keyed by text (``Draw("family-id", seed)``)."""

    def __init__(self, *key: object) -> None:
        self._key = "\x1f".join(str(k) for k in key).encode()
        self._counter = 0

    def _bits(self) -> int:
        digest = hashlib.sha256(self._key + b"#" + str(self._counter).encode()).digest()
        self._counter += 1
        return int.from_bytes(digest[:8], "big")

    def integer(self, lo: int, hi: int) -> int:
        """Uniform in [lo, hi], both inclusive."""
        if hi < lo:
            raise ValueError(f"empty range [{lo}, {hi}]")
        span = hi - lo + 1
        limit = (1 << 64) - ((1 << 64) % span)
        while True:
            r = self._bits()
            if r < limit:
                return lo + r % span

    def nonzero(self, lo: int, hi: int) -> int:
        """Uniform in [lo, hi] without 0 (a pre-activation of exactly 0 is ill-posed)."""
        while True:
            v = self.integer(lo, hi)
            if v != 0:
                return v

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def shuffle(self, items: Sequence[T]) -> list[T]:
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.integer(0, i)
            out[i], out[j] = out[j], out[i]
        return out

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        return self.shuffle(items)[:k]

    def fraction(
        self, lo: int, hi: int, denominators: Sequence[int] = (1, 2, 4, 5, 10)
    ) -> Fraction:
        """A small rational p/q with p/q in [lo, hi] and q from ``denominators``."""
        q = self.choice(denominators)
        return Fraction(self.integer(lo * q, hi * q), q)

    def matrix(
        self, rows: int, cols: int, lo: int, hi: int, *, nonzero: bool = False
    ) -> list[list[int]]:
        pick = self.nonzero if nonzero else self.integer
        return [[pick(lo, hi) for _ in range(cols)] for _ in range(rows)]

    def seed(self) -> int:
        """A derived seed for a sub-stream (a problem's variant seed in a set)."""
        return self.integer(0, 2**31 - 1)
