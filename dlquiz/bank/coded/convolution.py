"""Convolution in code: output entries and maps, receptive fields, the gradients of H_ijd.

Two conventions meet here and every problem names the one it uses. The notes write
H_ijd = sum_{a,b=-Delta..Delta} sum_c V_abcd X_{i+a, j+b, c}: offsets centred on the
output position, channels last. PyTorch (and the engine) index the kernel from its corner,
0..k-1, in NCHW layout. Both are cross-correlations (no kernel flip). Padding is per side
(PyTorch's ``padding=p``) or in total (both sides together), as each problem states.

Sizes, shapes and counts are templates (``problems/convolution/``). Here output values and
gradients come from the engine's ``conv2d`` (and its backward) and are verified by plain
loops of the notes' formula; receptive fields by the support of an engine gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dlquiz.bank.coded.common import (
    distinct_counts,
    keep_distinct,
    key_numbers,
    matrix,
    mismatch,
    out_size,
    separated,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import array_text, count, fmt_key


def _entry_or_map(values: object) -> str:
    """A mistake's answer: one output entry as a number, an output map as rows."""
    v = np.asarray(values, dtype=float)
    return array_text(v, None, rows=True) if v.ndim == 2 else fmt_key(float(v))


# --- one output entry by the notes' formula -------------------------------------------
@dataclass(frozen=True)
class _EntrySetup:
    X: tuple[tuple[tuple[int, ...], ...], ...]  # X[c][i][j], rows and columns from 0
    V: tuple[tuple[tuple[int, ...], ...], ...]  # V[c][a + 1][b + 1], offsets a, b in -1..1
    i: int  # 1-based output row
    j: int  # 1-based output column


def notes_entry(X, V, i: int, j: int, *, flip: bool = False, swap: bool = False) -> int:  # type: ignore[no-untyped-def]
    """H_ij for d = 1 by the notes' formula: a plain loop, zero outside the grid.

    ``flip`` computes a true convolution (V at -a, -b) and ``swap`` exchanges the offsets'
    roles (V_ba): the two ways students misread the formula.
    """
    n = len(X[0])
    total = 0
    for c in range(len(X)):
        for a in (-1, 0, 1):
            for b in (-1, 0, 1):
                r, q = i - 1 + a, j - 1 + b
                if 0 <= r < n and 0 <= q < n:
                    aa, bb = (-a, -b) if flip else (a, b)
                    if swap:
                        aa, bb = bb, aa
                    total += V[c][aa + 1][bb + 1] * X[c][r][q]
    return total


@register
class ConvOutputEntry(Family):
    id = "convolution/output-entry"
    topic = "convolution"
    title = "One output entry by the notes' convolution formula"
    kind = "number"
    kinds = dims(channels=("1", "2"))

    def draw(self, seed: int) -> _EntrySetup:
        draw = Draw(self.id, seed)
        n = draw.choice([4, 5])
        channels = draw.choice([1, 2])
        while True:
            X = tuple(
                tuple(tuple(draw.integer(-2, 4) for _ in range(n)) for _ in range(n))
                for _ in range(channels)
            )
            V = tuple(
                tuple(tuple(draw.integer(-2, 2) for _ in range(3)) for _ in range(3))
                for _ in range(channels)
            )
            i, j = draw.integer(1, n), draw.integer(1, n)
            su = _EntrySetup(X, V, i, j)
            if notes_entry(X, V, i, j) != 0:  # a zero entry makes a dull, guessable answer
                return su

    def engine_entry(self, su: _EntrySetup) -> float:
        """The entry from the engine's conv2d: NCHW, kernel index = offset + Delta, padding 1."""
        from dlquiz.engine import Tensor
        from dlquiz.engine import functional as F

        x = Tensor(np.array(su.X, dtype=float)[None])  # (1, C, n, n)
        v = Tensor(np.array(su.V, dtype=float)[None])  # (1, C, 3, 3): V[d, c, a + 1, b + 1]
        return float(F.conv2d(x, v, padding=1).data[0, 0, su.i - 1, su.j - 1])

    def generate(self, seed: int) -> Problem:
        su = self.draw(seed)
        key = self.engine_entry(su)
        channels = len(su.X)
        xs = "; ".join(
            f"channel $c = {c + 1}$: $X = {matrix(su.X[c])}$"
            if channels > 1
            else f"$X = {matrix(su.X[c])}$"
            for c in range(channels)
        )
        vs = "; ".join(
            (f"for $c = {c + 1}$: " if channels > 1 else "") + f"$V = {matrix(su.V[c])}$"
            for c in range(channels)
        )
        statement = (
            "The notes' convolution computes $H_ijd$ as the sum over offsets $a$ and $b$ from "
            "$-Delta$ to $Delta$ and over input channels $c$ of $V_abcd$ times $X$ at row "
            "$i + a$, column $j + b$, channel $c$ (channels last; offsets centred on the "
            f"output position). Here $Delta = 1$, the input has {channels} "
            f"channel{'s' if channels > 1 else ''} of size {len(su.X[0])}x{len(su.X[0])}: "
            f"{xs}; and the kernel of output channel $d = 1$ is, with rows for $a = -1$, 0 and "
            f"1 (top to bottom) and columns for $b = -1$, 0 and 1 (left to right): {vs}. "
            "Rows and columns are numbered from 1 and $X$ is 0 "
            f"outside the grid (zero padding). Compute $H_ijd$ for $i = {su.i}$, $j = {su.j}$, "
            "$d = 1$."
        )
        terms = []
        for c in range(channels):
            for a in (-1, 0, 1):
                for b in (-1, 0, 1):
                    r, q = su.i - 1 + a, su.j - 1 + b
                    n = len(su.X[0])
                    if 0 <= r < n and 0 <= q < n and su.V[c][a + 1][b + 1] != 0:
                        terms.append(f"({su.V[c][a + 1][b + 1]})({su.X[c][r][q]})")
        solution = (
            f"Centre the kernel on row {su.i}, column {su.j}: the kernel entry at offset "
            f"$a$, $b$ multiplies $X$ at row {su.i} + a, column {su.j} + b"
            + (", in every channel" if channels > 1 else "")
            + ". Entries outside the grid are 0. Adding the products (zero weights and "
            f"positions outside the grid left out): {' + '.join(terms)} = {fmt_key(key)}. "
            "No kernel flip: this is a cross-correlation, like PyTorch's conv2d (which "
            "indexes the kernel from its corner, 0..k-1, and would use padding=1 here)."
        )
        flipped = notes_entry(su.X, su.V, su.i, su.j, flip=True)
        swapped = notes_entry(su.X, su.V, su.i, su.j, swap=True)
        candidates: list[tuple[str, np.ndarray, str]] = [
            (
                "flipped-kernel",
                np.array(flipped),
                "That is a true (flipped) convolution: the notes' formula multiplies "
                "V_abcd by X at i + a, j + b, without flipping the kernel.",
            ),
            (
                "transposed-kernel",
                np.array(swapped),
                "The row offset a indexes the kernel's rows and the column offset b its "
                "columns: V_abcd pairs with X at row i + a, column j + b.",
            ),
        ]
        if channels > 1:
            candidates.append(
                (
                    "one-channel",
                    np.array(notes_entry(su.X[:1], su.V[:1], su.i, su.j)),
                    "The sum runs over the input channels c too: add channel 2's products.",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=fmt_key(key),
            hints=[
                "Lay the 3x3 kernel over the 3x3 patch of $X$ centred on the output position "
                "and add the products entry by entry.",
                "Positions outside $X$ contribute 0"
                + ("; add up both channels." if channels > 1 else "."),
            ],
            solution=solution,
            mistakes=keep_distinct(np.array(key), candidates, text=_entry_or_map, apart=separated),
        )

    def verify(self, problem: Problem) -> list[str]:
        su = self.draw(problem.seed)
        loop = notes_entry(su.X, su.V, su.i, su.j)
        key = float(key_numbers(problem.answer)[0, 0])
        if abs(key - loop) > 1e-8 * max(1.0, abs(loop)):
            return [f"the key {key} differs from the notes' formula looped by hand: {loop}"]
        return []

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"channels": str(len(self.draw(seed).X))}


# --- the whole output map (PyTorch's convention) -----------------------------------------
Grid = Sequence[Sequence[int]]


@dataclass(frozen=True)
class _MapSetup:
    X: tuple[tuple[int, ...], ...]
    K: tuple[tuple[int, ...], ...]
    bias: int
    stride: int
    pad: int


def loop_conv(
    X: Grid, K: Grid, bias: int, stride: int, pad: int, *, flip: bool = False
) -> np.ndarray:
    """PyTorch's conv2d for one channel, as a plain loop (the reference for the engine)."""
    n, k = len(X), len(K)
    size = out_size(n, k, stride, pad)
    out = np.zeros((size, size))
    for r in range(size):
        for q in range(size):
            total = bias
            for a in range(k):
                for b in range(k):
                    x_r, x_q = r * stride + a - pad, q * stride + b - pad
                    if 0 <= x_r < n and 0 <= x_q < n:
                        w = K[k - 1 - a][k - 1 - b] if flip else K[a][b]
                        total += w * X[x_r][x_q]
            out[r, q] = total
    return out


@register
class ConvOutputMap(Family):
    id = "convolution/output-map"
    topic = "convolution"
    title = "The whole output map of a small convolution"
    kind = "numbers"
    kinds = dims(stride=("1", "2"), padding=("0", "1"))

    CONFIGS = ((3, 2, 1, 0), (4, 2, 1, 0), (4, 3, 1, 0), (5, 3, 1, 0), (5, 2, 1, 0), (4, 2, 2, 0))
    CONFIGS += ((5, 3, 2, 0), (3, 3, 1, 1), (4, 3, 1, 1), (5, 3, 2, 1))  # (n, k, stride, pad)

    def draw(self, seed: int) -> _MapSetup:
        draw = Draw(self.id, seed)
        n, k, stride, pad = draw.choice(self.CONFIGS)
        while True:  # redrawn until no output entry is 0 (a zero is a guessable, dull entry)
            X = tuple(tuple(draw.integer(-2, 3) for _ in range(n)) for _ in range(n))
            K = tuple(tuple(draw.integer(-1, 2) for _ in range(k)) for _ in range(k))
            flipped = tuple(tuple(row[::-1]) for row in K[::-1])
            su = _MapSetup(X, K, draw.integer(-2, 2), stride, pad)
            if flipped != K and (loop_conv(X, K, su.bias, stride, pad) != 0).all():
                return su

    def engine_map(self, su: _MapSetup) -> np.ndarray:
        from dlquiz.engine import Tensor
        from dlquiz.engine import functional as F

        x = Tensor(np.array(su.X, dtype=float)[None, None])
        w = Tensor(np.array(su.K, dtype=float)[None, None])
        b = Tensor(np.array([float(su.bias)]))
        return F.conv2d(x, w, b, stride=su.stride, padding=su.pad).data[0, 0]

    def generate(self, seed: int) -> Problem:
        su = self.draw(seed)
        out = self.engine_map(su)
        n, k = len(su.X), len(su.K)
        size = out.shape[0]
        pad_text = (
            "no padding"
            if su.pad == 0
            else f"zero padding {su.pad} on each side (PyTorch's padding={su.pad})"
        )
        statement = (
            f"A convolutional layer with one input and one output channel, the {k}x{k} "
            f"kernel $K = {matrix(su.K)}$, bias $b = {su.bias}$, stride {su.stride} and "
            f"{pad_text} is applied to the {n}x{n} input $X = {matrix(su.X)}$. As in PyTorch, the "
            "kernel is not flipped: the output at row r, column q is b plus the sum of "
            f"$K$ times the {k}x{k} window of the {'padded ' if su.pad else ''}input whose "
            "top-left corner is at "
            + ("row r, column q" if su.stride == 1 else f"row {su.stride}r, column {su.stride}q")
            + " (counting from 0). Compute the whole "
            f"{size}x{size} output map."
        )
        solution = (
            f"The output is {size}x{size}: floor(({n} + 2x{su.pad} - {k})/{su.stride}) + 1 = "
            f"{size}. Slide the kernel over the "
            + ("padded " if su.pad else "")
            + f"input with stride {su.stride}, multiply entry by entry, add up and add the bias "
            f"{su.bias}. For example the top-left entry is {su.bias} + "
            f"{' + '.join(_corner_products(su))} = {fmt_key(float(out[0, 0]))}. "
            f"The map is ${array_text(out, None, rows=True)}$."
        )
        candidates: list[tuple[str, np.ndarray, str]] = [
            (
                "flipped-kernel",
                loop_conv(su.X, su.K, su.bias, su.stride, su.pad, flip=True),
                "You flipped the kernel (a true convolution); deep-learning convolutions are "
                "cross-correlations and use the kernel as given.",
            ),
        ]
        if su.bias:
            candidates.append(("forgot-bias", out - su.bias, f"Add the bias {su.bias} everywhere."))
        if su.pad:
            candidates.append(
                (
                    "padding-ignored",
                    _centre_crop(loop_conv(su.X, su.K, su.bias, su.stride, 0), size),
                    "The input is padded with zeros first; the border windows overlap the padding.",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(out, None, rows=True),
            hints=[
                "First find the output size, then compute one entry per window position.",
                "Each entry is the sum of the kernel times the window, plus the bias.",
            ],
            solution=solution,
            mistakes=keep_distinct(out, candidates, text=_entry_or_map, apart=separated),
        )

    def verify(self, problem: Problem) -> list[str]:
        su = self.draw(problem.seed)
        loop = loop_conv(su.X, su.K, su.bias, su.stride, su.pad)
        return mismatch(key_numbers(problem.answer), loop, "the plain loop")

    def question_kind(self, seed: int) -> dict[str, str]:
        su = self.draw(seed)
        return {"stride": str(su.stride), "padding": str(su.pad)}


def _corner_products(su: _MapSetup) -> list[str]:
    """The products of the top-left output entry, for the worked solution."""
    n, k = len(su.X), len(su.K)
    out = []
    for a in range(k):
        for b in range(k):
            r, q = a - su.pad, b - su.pad
            x = su.X[r][q] if 0 <= r < n and 0 <= q < n else 0
            out.append(f"({su.K[a][b]})({x})")
    return out


def _centre_crop(a: np.ndarray, size: int) -> np.ndarray:
    """An unpadded map padded (or cropped) to ``size`` so a mistake has the right shape."""
    out = np.zeros((size, size))
    m = min(size, a.shape[0])
    out[:m, :m] = a[:m, :m]
    return out


# --- receptive field --------------------------------------------------------------------
Layer = tuple[str, int, int]  # (kind, kernel, stride)


def receptive_field(layers: Sequence[Layer], *, own_stride: bool = False) -> int:
    """1 + sum_l (k_l - 1) * (product of the strides of the layers before l)."""
    r, jump = 1, 1
    for _, k, s in layers:
        if own_stride:
            jump *= s
        r += (k - 1) * jump
        if not own_stride:
            jump *= s
    return r


@register
class ReceptiveField(Family):
    id = "convolution/receptive-field"
    topic = "convolution"
    title = "Receptive field of stacked convolution and pooling layers"
    kind = "integer"
    kinds = dims(layers=("2", "3", "4"), pooling=("yes", "no"))

    def draw(self, seed: int) -> list[Layer]:
        draw = Draw(self.id, seed)
        count = draw.integer(2, 4)
        layers: list[Layer] = []
        for _ in range(count):
            if layers and draw.integer(1, 4) == 1:
                layers.append(("pool", 2, 2))
            else:
                layers.append(("conv", draw.choice([1, 3, 3, 3, 5, 7]), draw.choice([1, 1, 2])))
        if all(k == 1 for _, k, _ in layers):
            layers[0] = ("conv", 3, layers[0][2])
        return layers

    @staticmethod
    def describe(layer: Layer) -> str:
        kind, k, s = layer
        if kind == "pool":
            return "a 2x2 max-pool with stride 2"
        return f"a {k}x{k} convolution with stride {s}"

    def generate(self, seed: int) -> Problem:
        layers = self.draw(seed)
        key = receptive_field(layers)
        listed = ", then ".join(self.describe(lay) for lay in layers)
        statement = (
            f"A network applies {listed}, to a one-channel image. How many input pixels wide "
            "is the receptive field of one unit of the last layer (the side of the square of "
            "input pixels it depends on)? Padding does not change the answer."
        )
        lines, r, jump = [], 1, 1
        for idx, (_, k, s) in enumerate(layers, start=1):
            grow = (k - 1) * jump
            lines.append(
                f"layer {idx} ({k}x{k}, stride {s}) adds ({k} - 1) x {jump} = {grow}, so {r + grow}"
            )
            r += grow
            jump *= s
        solution = (
            "Start from 1 pixel and walk from the first layer up: each layer widens the field "
            "by (k - 1) times the product of the strides of the layers before it. "
            + "; ".join(lines)
            + f". The receptive field is {key} pixels wide."
        )
        candidates = [
            (
                "ignore-stride",
                1 + sum(k - 1 for _, k, _ in layers),
                "Strides multiply the growth: after a stride-2 layer, each later kernel step "
                "spans 2 input pixels.",
            ),
            (
                "sum-kernels",
                sum(k for _, k, _ in layers),
                "Stacking adds k - 1 per layer (times the strides before it), starting from 1.",
            ),
            (
                "own-stride",
                receptive_field(layers, own_stride=True),
                "A layer's own stride does not widen its own window: multiply by the strides "
                "of the layers before it only.",
            ),
        ]
        return self.problem(
            seed,
            statement=statement,
            answer=str(key),
            hints=[
                "One layer with a k x k kernel sees k pixels; each further layer adds k - 1 "
                "of its own inputs.",
                "One step of a layer that comes after layers with strides $s_1$ and $s_2$ "
                "spans $s_1*s_2$ input pixels.",
            ],
            solution=solution,
            mistakes=distinct_counts(key, candidates),
        )

    def verify(self, problem: Problem) -> list[str]:
        """The support of one output unit's gradient on the input, with the engine."""
        from dlquiz.engine import Tensor
        from dlquiz.engine import functional as F

        layers = self.draw(problem.seed)
        size = receptive_field(layers) + 8
        x = Tensor(np.zeros((1, 1, size, size)), requires_grad=True)
        h = x
        for kind, k, s in layers:
            if kind == "pool":  # the geometry of a window; avg routes to all of it
                h = F.avg_pool2d(h, k, stride=s)
            else:
                h = F.conv2d(h, Tensor(np.ones((1, 1, k, k))), stride=s)
        h[0, 0, 0, 0].backward()
        assert x.grad is not None
        rows = np.nonzero(np.abs(x.grad[0, 0]).sum(axis=1) > 0)[0]
        cols = np.nonzero(np.abs(x.grad[0, 0]).sum(axis=0) > 0)[0]
        engine = {int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)}
        if engine != {int(problem.answer)}:
            return [f"the key {problem.answer} but the engine's gradient spans {engine}"]
        return []

    def question_kind(self, seed: int) -> dict[str, str]:
        layers = self.draw(seed)
        pooled = any(kind == "pool" for kind, _, _ in layers)
        return {"layers": str(len(layers)), "pooling": "yes" if pooled else "no"}


# --- the gradients of the notes' convolution, 5x5 kernels, two output channels --------------
@dataclass(frozen=True)
class _GradSetup:
    X: np.ndarray  # X[i, j, c], 0-based rows and columns
    V: np.ndarray  # V[a + 2, b + 2, c, d]: offsets a, b in -2..2 (Delta = 2)
    G: np.ndarray  # dL/dH[i, j, d]
    ask: str  # "dV" (an entry V_abcd) or "dX" (an entry X_pqc)
    at: tuple[int, int, int, int]  # dV: (a, b, c, d); dX: (p, q, c, unused), 1-based


def grad_terms(su: _GradSetup, *, flip: bool = True, channels: str = "all", unit: bool = False):  # type: ignore[no-untyped-def]
    """(G, factor) products of dL/dV_abcd = sum_ij G_ijd X_{i+a,j+b,c} or dL/dX_pqc =
    sum_abd G_{p-a,q-b,d} V_abcd, by plain loops; the flags make the misreadings (offsets'
    sign, one output channel or all of them, G taken as 1)."""
    n, sign, G = su.X.shape[0], (1 if flip else -1), np.ones_like(su.G) if unit else su.G
    if su.ask == "dV":
        a, b, c, d = su.at
        ds = range(G.shape[2]) if channels == "sum" else [d - 1]
        return [
            (G[i, j, dd], su.X[i + sign * a, j + sign * b, c - 1])
            for dd in ds
            for i in range(n)
            for j in range(n)
            if 0 <= i + sign * a < n and 0 <= j + sign * b < n
        ]
    p, q, c, _ = su.at
    ds = [0] if channels == "first" else range(G.shape[2])
    return [
        (G[p - 1 - sign * a, q - 1 - sign * b, d], su.V[a + 2, b + 2, c - 1, d])
        for d in ds
        for a in range(-2, 3)
        for b in range(-2, 3)
        if 0 <= p - 1 - sign * a < n and 0 <= q - 1 - sign * b < n
    ]


def grad_loops(su: _GradSetup, **how: object) -> float:  # the sum of the products
    return float(sum(g * v for g, v in grad_terms(su, **how)))  # type: ignore[arg-type]


_GRAD_TEXT = {  # per question kind: the prose, and the output-channel mistake
    "dV": {
        "target": "$d/dV_abcd L$ for $a = {a}$, $b = {b}$, $c = {c}$, $d = {d}$",
        "rule": "$d/dV_abcd L$ = sum over $i$, $j$ of $G_ijd$ times $X$ at row $i + a$, column "
        "$j + b$, channel $c$: channel {d} of $G$ against channel {c} of $X$ shifted by ({a}, "
        "{b}) (positions outside the grid drop out)",
        "flip": "H_ijd uses X at row i + a, column j + b, so G_ijd pairs with X there.",
        "tag": "summed-output-channels",
        "why": "V_abcd touches only output channel d = {d}: use that channel of G.",
        "hint": "L depends on $V_abcd$ through each $H_ijd$ it",
        "coefficient": "In $H_ijd$ the coefficient of $V_abcd$ is $X$ at ($i + a$, $j + b$, $c$).",
    },
    "dX": {  # (a, b, c) hold (p, q, c)
        "target": "the gradient with respect to the input entry $X_pqc$, $d/dX_pqc L$, for row "
        "$p = {a}$, column $q = {b}$, $c = {c}$",
        "rule": "$X_pqc$ feeds $H_ijd$ wherever $p = i + a$ and $q = j + b$, so $d/dX_pqc L$ = "
        "sum over $a$, $b$ and both output channels $d$ of $G$ at row $p - a$, column $q - b$, "
        "channel $d$, times $V_abcd$ (the kernel turned by 180 degrees)",
        "flip": "X_pqc meets V_abcd in H_ijd at i = p - a, j = q - b (the kernel turned by "
        "180 degrees).",
        "tag": "one-output-channel",
        "why": "X_pqc feeds both output channels: add the products of d = 2 too.",
        "hint": "L depends on $X_pqc$ through each $H_ijd$ it",
        "coefficient": "$X_pqc$ appears in $H_ijd$ with the coefficient $V_abcd$ for "
        "$a = p - i$, $b = q - j$, and every $d$.",
    },
}


@register
class ConvGradient(Family):
    id = "convolution/gradient"
    topic = "convolution"
    title = "Gradients of the notes' convolution: one entry of the kernel's or the input's gradient"
    kind = "number"
    kinds = dims(ask=("dV", "dX"), channels=("1", "2"))

    def draw(self, seed: int) -> _GradSetup:
        draw = Draw(self.id, seed)
        ask, C, n, D = draw.choice(["dV", "dX"]), draw.choice([1, 2]), 3, 2

        def grid(shape: tuple[int, ...], lo: int, hi: int) -> np.ndarray:
            return np.array([draw.integer(lo, hi) for _ in range(np.prod(shape))]).reshape(shape)

        while True:
            X, V, G = grid((n, n, C), -2, 3), grid((5, 5, C, D), -2, 2), grid((n, n, D), -1, 2)
            spots = [-2, -1, -1, 0, 0, 1, 1, 2] if ask == "dV" else [1, 2, 3]  # offsets, rows
            at = (draw.choice(spots), draw.choice(spots), draw.integer(1, C), draw.integer(1, D))
            su = _GradSetup(X, V, G, ask, at)
            if grad_loops(su) != 0:
                return su

    def engine_gradient(self, su: _GradSetup) -> float:  # NCHW, kernel index offset + 2
        from dlquiz.engine import Tensor
        from dlquiz.engine import functional as F

        x = Tensor(su.X.transpose(2, 0, 1)[None].astype(float), requires_grad=True)
        w = Tensor(su.V.transpose(3, 2, 0, 1).astype(float), requires_grad=True)  # (D, C, 5, 5)
        h = F.conv2d(x, w, padding=2)  # (1, D, n, n)
        (h * su.G.transpose(2, 0, 1)[None].astype(float)).sum().backward()
        assert x.grad is not None and w.grad is not None
        a, b, c, d = su.at
        return float(
            w.grad[d - 1, c - 1, a + 2, b + 2] if su.ask == "dV" else x.grad[0, c - 1, a - 1, b - 1]
        )

    def generate(self, seed: int) -> Problem:
        su = self.draw(seed)
        key, C = self.engine_gradient(su), su.X.shape[2]
        a, b, c, d = su.at
        t = {k: v.format(a=a, b=b, c=c, d=d) for k, v in _GRAD_TEXT[su.ask].items()}
        xs = "; ".join(f"$X_ij{c + 1} = {matrix(su.X[:, :, c])}$" for c in range(C))
        vs = "; ".join(
            f"$V_ab{c + 1}{d + 1} = {matrix(su.V[:, :, c, d])}$" for c in range(C) for d in range(2)
        )
        gs = "; ".join(f"$G_ij{d + 1} = {matrix(su.G[:, :, d])}$" for d in range(2))
        statement = (
            "The notes' convolution computes $H_ijd$ = sum over $a$, $b$ from $-Delta$ to "
            "$Delta$ and over input channels $c$ of $V_abcd$ times $X$ at row $i + a$, column "
            "$j + b$, channel $c$ (channels last, offsets centred; $X$ is 0 outside the grid, "
            "so $H$ is 3x3 like $X$). Here $Delta = 2$ (5x5 kernels), the input has "
            f"{count(C, 'channel')} and the layer {count(2, 'output channel')}. With rows for "
            f"$a$ = -2..2 (top to bottom) and columns for $b$ = -2..2, the kernels (the two last "
            f"indices are $c$ and $d$: $V_ab12$ is input channel 1, output channel 2) are {vs}. "
            f"The input: {xs} "
            "(rows and columns numbered from 1). In the backward pass the gradient arriving "
            f"at the output is $G_ijd$ = $d/dH_ijd L$: {gs}. Compute {t['target']}."
        )
        products = " + ".join(f"({g})({v})" for g, v in grad_terms(su) if g and v)
        solution = (
            f"{t['rule']}. The products with both factors nonzero: {products} = {fmt_key(key)}. "
            "(PyTorch's conv2d computes the same with kernel index = offset + 2, padding 2.)"
        )
        candidates = [
            ("flipped-offset", grad_loops(su, flip=False), f"Mind the offsets' sign: {t['flip']}"),
            ("upstream-ignored", grad_loops(su, unit=True), "Multiply by G_ijd, not by 1."),
            (t["tag"], grad_loops(su, channels="sum" if su.ask == "dV" else "first"), t["why"]),
        ]
        return self.problem(
            seed,
            statement=statement,
            answer=fmt_key(key),
            hints=[f"{t['hint']} appears in: add $G_ijd$ times its coefficient.", t["coefficient"]],
            solution=solution,
            mistakes=keep_distinct(np.array(key), candidates, text=_entry_or_map, apart=separated),
        )

    def verify(self, problem: Problem) -> list[str]:
        loop = np.array([[grad_loops(self.draw(problem.seed))]])
        return mismatch(key_numbers(problem.answer), loop, "the notes' formula differentiated")

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"ask": (su := self.draw(seed)).ask, "channels": str(su.X.shape[2])}
