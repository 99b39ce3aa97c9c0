"""Pooling in code: max and average pooling outputs and their backward passes.

Conventions as PyTorch's (and the engine's): the stride defaults to the kernel size, a
window that does not fit is dropped (floor), max-pool pads with -infinity (padding never
wins), average pooling counts padded zeros in the mean (count_include_pad=True). Max-pool's
backward sends each window's gradient to the window's maximum, and adds up where windows
overlap; average pooling shares each window's gradient among its k*k cells. Values are
drawn without ties, so the maximum is unambiguous (on a tie PyTorch picks the first maximum
in row-major order).

Numbers come from the engine's max_pool2d/avg_pool2d (and its backward) and are verified
by plain loops. Output sizes are a template (``problems/pooling/output-size.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dlquiz.bank.coded.common import (
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
from dlquiz.core.numbers import array_text, fmt_key


@dataclass(frozen=True)
class _Pool:
    X: tuple[tuple[int, ...], ...]
    k: int
    s: int
    p: int

    @property
    def n(self) -> int:
        return len(self.X)

    @property
    def size(self) -> int:
        return out_size(self.n, self.k, self.s, self.p)

    def windows(self):  # type: ignore[no-untyped-def]
        """(r, q, [(row, col), ...] of the real input cells, count with padding) per output."""
        for r in range(self.size):
            for q in range(self.size):
                cells = [
                    (r * self.s + a - self.p, q * self.s + b - self.p)
                    for a in range(self.k)
                    for b in range(self.k)
                ]
                real = [(i, j) for i, j in cells if 0 <= i < self.n and 0 <= j < self.n]
                yield r, q, real

    def geometry(self) -> str:
        stride = f"stride {self.s}" if self.s != self.k else f"stride {self.s} (the kernel size)"
        pad = "" if self.p == 0 else f", padding {self.p} on each side"
        return f"a {self.k}x{self.k} window, {stride}{pad}"

    def tensor(self):  # type: ignore[no-untyped-def]
        from dlquiz.engine import Tensor

        return Tensor(np.array(self.X, dtype=float)[None, None], requires_grad=True)


def loop_max(pool: _Pool) -> np.ndarray:
    out = np.zeros((pool.size, pool.size))
    for r, q, real in pool.windows():
        out[r, q] = max(pool.X[i][j] for i, j in real)
    return out


def loop_avg(pool: _Pool, *, include_pad: bool = True, divide: bool = True) -> np.ndarray:
    out = np.zeros((pool.size, pool.size))
    for r, q, real in pool.windows():
        total = Fraction(sum(pool.X[i][j] for i, j in real))
        count = pool.k * pool.k if include_pad else len(real)
        out[r, q] = float(total / count) if divide else float(total)
    return out


def _draw_distinct(draw: Draw, n: int) -> tuple[tuple[int, ...], ...]:
    """An n x n matrix of distinct integers (no ties anywhere, so none in a window)."""
    values = draw.sample(range(-9, 31), n * n)
    return tuple(tuple(values[r * n : (r + 1) * n]) for r in range(n))


MAX_CONFIGS = (  # (n, k, stride, padding)
    (4, 2, 2, 0),
    (6, 2, 2, 0),
    (6, 3, 3, 0),
    (5, 2, 2, 0),
    (4, 3, 1, 0),
    (3, 2, 1, 0),
    (4, 2, 1, 0),
    (5, 3, 2, 0),
    (3, 2, 2, 1),
    (5, 3, 2, 1),
)


@register
class MaxPoolOutput(Family):
    id = "pooling/max-pool-output"
    topic = "pooling"
    title = "Max-pooling output of a small matrix"
    kind = "numbers"
    kinds = dims(windows=("overlapping", "disjoint"), padding=("0", "1"))

    def draw(self, seed: int) -> _Pool:
        draw = Draw(self.id, seed)
        n, k, s, p = draw.choice(MAX_CONFIGS)
        return _Pool(_draw_distinct(draw, n), k, s, p)

    def generate(self, seed: int) -> Problem:
        from dlquiz.engine import functional as F

        pool = self.draw(seed)
        out = F.max_pool2d(pool.tensor(), pool.k, stride=pool.s, padding=pool.p).data[0, 0]
        pad_note = (
            " The padding is minus infinity as in PyTorch, so it never wins." if pool.p else ""
        )
        statement = (
            f"Apply max pooling with {pool.geometry()} to $X = {matrix(pool.X)}$ (as in PyTorch, "
            "a window that does not fit entirely is dropped)." + pad_note + " Give the "
            f"{pool.size}x{pool.size} output."
        )
        first = next(iter(pool.windows()))
        solution = (
            f"The output is {pool.size}x{pool.size}: "
            f"floor(({pool.n} + 2x{pool.p} - {pool.k})/{pool.s}) + 1 = {pool.size}. Each "
            f"entry is the largest value in its window; the top-left window holds "
            f"{', '.join(str(pool.X[i][j]) for i, j in first[2])}, so the first entry is "
            f"{fmt_key(float(out[0, 0]))}. The output is ${array_text(out, None, rows=True)}$."
        )
        candidates = [
            (
                "average",
                loop_avg(pool),
                "That is average pooling: max pooling keeps the largest value of each window.",
            ),
            (
                "minimum",
                np.array(
                    [
                        [min(pool.X[i][j] for i, j in real) for _, _, real in row]
                        for row in _rows(pool)
                    ],
                    dtype=float,
                ),
                "Max pooling keeps the largest value of each window, not the smallest.",
            ),
        ]
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(out, None, rows=True),
            hints=[
                "First find the output size, then list the input cells of each window.",
                "Windows with a stride smaller than the kernel overlap; each is pooled on its own."
                if pool.s < pool.k
                else "With the stride equal to the kernel size the windows tile the input.",
            ],
            solution=solution,
            mistakes=keep_distinct(
                out, candidates, text=lambda v: array_text(v, None, rows=True), apart=separated
            ),
        )

    def verify(self, problem: Problem) -> list[str]:
        return mismatch(
            key_numbers(problem.answer), loop_max(self.draw(problem.seed)), "a plain loop"
        )

    def question_kind(self, seed: int) -> dict[str, str]:
        return _window_kind(self.draw(seed))


def _rows(pool: _Pool) -> list[list[tuple[int, int, list[tuple[int, int]]]]]:
    windows = list(pool.windows())
    return [windows[r * pool.size : (r + 1) * pool.size] for r in range(pool.size)]


AVG_CONFIGS = (
    (4, 2, 2, 0),
    (6, 2, 2, 0),
    (6, 3, 3, 0),
    (4, 3, 1, 0),
    (3, 2, 1, 0),
    (4, 2, 1, 0),
    (5, 3, 2, 0),
    (3, 2, 2, 1),
    (4, 3, 2, 1),
    (3, 3, 1, 1),
)


@register
class AvgPoolOutput(Family):
    id = "pooling/avg-pool-output"
    topic = "pooling"
    title = "Average-pooling output of a small matrix"
    kind = "numbers"
    kinds = dims(windows=("overlapping", "disjoint"), padding=("0", "1"))

    def draw(self, seed: int) -> _Pool:
        draw = Draw(self.id, seed)
        n, k, s, p = draw.choice(AVG_CONFIGS)
        X = tuple(tuple(draw.integer(-4, 9) for _ in range(n)) for _ in range(n))
        return _Pool(X, k, s, p)

    def generate(self, seed: int) -> Problem:
        from dlquiz.engine import functional as F

        pool = self.draw(seed)
        out = F.avg_pool2d(pool.tensor(), pool.k, stride=pool.s, padding=pool.p).data[0, 0]
        pad_note = (
            " The padding is zeros, and they count in the mean (PyTorch's default, "
            f"count_include_pad=True): every window divides by {pool.k * pool.k}."
            if pool.p
            else ""
        )
        statement = (
            f"Apply average pooling with {pool.geometry()} to $X = {matrix(pool.X)}$ (as in "
            "PyTorch, a window that does not fit entirely is dropped)." + pad_note + " Give "
            f"the {pool.size}x{pool.size} output, to 3 significant figures."
        )
        first = next(iter(pool.windows()))
        first_values = [f"({v})" if v < 0 else str(v) for v in (pool.X[i][j] for i, j in first[2])]
        first_values += ["0"] * (pool.k * pool.k - len(first_values))
        solution = (
            f"The output is {pool.size}x{pool.size}: "
            f"floor(({pool.n} + 2x{pool.p} - {pool.k})/{pool.s}) + 1 = {pool.size}. Each "
            f"entry is the mean of its {pool.k * pool.k} window cells"
            + (" (padded zeros included)" if pool.p else "")
            + f"; the top-left one is ({' + '.join(first_values)})/{pool.k * pool.k} = "
            f"{fmt_key(float(out[0, 0]))}. The output is ${array_text(out, None, rows=True)}$."
        )
        candidates = [
            (
                "max",
                loop_max(pool),
                "That is max pooling: average pooling takes the mean of each window.",
            ),
            (
                "sum",
                loop_avg(pool, divide=False),
                f"Divide each window's sum by the {pool.k * pool.k} cells of the window.",
            ),
        ]
        if pool.p:
            candidates.append(
                (
                    "exclude-padding",
                    loop_avg(pool, include_pad=False),
                    "With PyTorch's default the padded zeros count: divide by "
                    f"{pool.k * pool.k} even at the border (count_include_pad=True).",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(out, None, rows=True),
            hints=[
                "First find the output size, then list the input cells of each window.",
                f"Each output is a window's sum divided by {pool.k * pool.k}.",
            ],
            solution=solution,
            mistakes=keep_distinct(
                out, candidates, text=lambda v: array_text(v, None, rows=True), apart=separated
            ),
        )

    def verify(self, problem: Problem) -> list[str]:
        return mismatch(
            key_numbers(problem.answer), loop_avg(self.draw(problem.seed)), "exact window means"
        )

    def question_kind(self, seed: int) -> dict[str, str]:
        return _window_kind(self.draw(seed))


# --- where max-pool sends the gradient ---------------------------------------------------
GRAD_CONFIGS = (
    (4, 2, 2, 0),
    (6, 2, 2, 0),
    (6, 3, 3, 0),
    (4, 2, 1, 0),
    (3, 2, 1, 0),
    (4, 3, 1, 0),
    (5, 3, 2, 0),
    (5, 2, 2, 0),
)


@dataclass(frozen=True)
class _GradSetup:
    pool: _Pool
    G: tuple[tuple[int, ...], ...]  # dL/dY, the gradient arriving at the pooled output


def loop_max_grad(su: _GradSetup, *, mode: str = "correct") -> np.ndarray:
    """dL/dX by hand: each window's gradient goes to its maximum (added where windows overlap).

    ``mode`` "spread" shares it evenly over the window (average pooling's rule), "unit"
    sends 1 instead of the arriving gradient, "overwrite" keeps only the last window's.
    """
    pool = su.pool
    dx = np.zeros((pool.n, pool.n))
    for r, q, real in pool.windows():
        g = su.G[r][q]
        if mode == "spread":
            for i, j in real:
                dx[i, j] += g / (pool.k * pool.k)
            continue
        i, j = max(real, key=lambda c: pool.X[c[0]][c[1]])
        if mode == "unit":
            dx[i, j] += 1
        elif mode == "overwrite":
            dx[i, j] = g
        else:
            dx[i, j] += g
    return dx


@register
class MaxPoolGradient(Family):
    id = "pooling/max-pool-gradient"
    topic = "pooling"
    title = "Where max pooling sends the gradient"
    kind = "numbers"
    # Every cell that wins no window gets 0: the routing to each window's argmax is what
    # the question asks, so its zeros are the point (declared as a kind dimension).
    kinds = dims(windows=("overlapping", "disjoint"), padding=("0",), zeros=("the point",))

    def draw(self, seed: int) -> _GradSetup:
        draw = Draw(self.id, seed)
        n, k, s, p = draw.choice(GRAD_CONFIGS)
        pool = _Pool(_draw_distinct(draw, n), k, s, p)
        G = tuple(tuple(draw.nonzero(-3, 5) for _ in range(pool.size)) for _ in range(pool.size))
        if all(g == 1 for row in G for g in row):
            G = ((2, *G[0][1:]), *G[1:])
        return _GradSetup(pool, G)

    def engine_gradient(self, su: _GradSetup) -> np.ndarray:
        from dlquiz.engine import functional as F

        x = su.pool.tensor()
        y = F.max_pool2d(x, su.pool.k, stride=su.pool.s, padding=su.pool.p)
        (y * np.array(su.G, dtype=float)[None, None]).sum().backward()
        assert x.grad is not None
        return x.grad[0, 0]

    def generate(self, seed: int) -> Problem:
        su = self.draw(seed)
        pool = su.pool
        dx = self.engine_gradient(su)
        overlap = pool.s < pool.k
        statement = (
            f"Max pooling with {pool.geometry()} is applied to $X = {matrix(pool.X)}$ "
            f"(no ties in any window), giving a {pool.size}x{pool.size} output $Y$. In the "
            f"backward pass the gradient arriving at the output is $d/dY L = {matrix(su.G)}$. "
            f"Give the gradient $d/dX L$, a {pool.n}x{pool.n} matrix."
        )
        routes = []
        for r, q, real in pool.windows():
            i, j = max(real, key=lambda c: pool.X[c[0]][c[1]])
            routes.append(
                f"window ({r + 1}, {q + 1}): its maximum {pool.X[i][j]} sits at row {i + 1}, "
                f"column {j + 1} and receives {su.G[r][q]}"
            )
        solution = (
            "Max pooling passes each output's gradient back to the one input that won its "
            "window (the maximum); every other cell gets 0. "
            + "; ".join(routes)
            + "."
            + (
                " The windows overlap, so a cell that wins several windows receives the sum "
                "of their gradients."
                if overlap
                else ""
            )
            + f" So $d/dX L = {array_text(dx, None, rows=True)}$. (With ties, PyTorch sends "
            "the gradient to the first maximum in row-major order.)"
        )
        candidates = [
            (
                "spread-evenly",
                loop_max_grad(su, mode="spread"),
                "That is average pooling's rule: max pooling sends the whole gradient to the "
                "window's maximum only.",
            ),
            (
                "unit-gradient",
                loop_max_grad(su, mode="unit"),
                "The maximum receives the gradient arriving at its output, dL/dY, not 1 "
                "(the chain rule multiplies the local derivative 1 by it).",
            ),
        ]
        if overlap:
            candidates.append(
                (
                    "no-accumulate",
                    loop_max_grad(su, mode="overwrite"),
                    "A cell that is the maximum of several overlapping windows receives the "
                    "sum of their gradients.",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(dx, None, rows=True),
            hints=[
                "For each window, find the position of its maximum in $X$.",
                "That position receives the window's entry of $d/dY L$; all other cells 0"
                + ("; add up where windows overlap." if overlap else "."),
            ],
            solution=solution,
            mistakes=keep_distinct(
                dx, candidates, text=lambda v: array_text(v, None, rows=True), apart=separated
            ),
        )

    def verify(self, problem: Problem) -> list[str]:
        return mismatch(
            key_numbers(problem.answer), loop_max_grad(self.draw(problem.seed)), "routing by hand"
        )

    def question_kind(self, seed: int) -> dict[str, str]:
        return {**_window_kind(self.draw(seed).pool), "zeros": "the point"}


def _window_kind(pool: _Pool) -> dict[str, str]:
    """Windows that overlap (stride below the kernel) or tile, and the padding."""
    windows = "overlapping" if pool.s < pool.k else "disjoint"
    return {"windows": windows, "padding": str(pool.p)}


# --- average pooling's backward pass ----------------------------------------------------------
AVG_GRAD_CONFIGS = (  # (n, k, stride, padding): every input cell lies in some window
    (4, 2, 2, 0),
    (6, 2, 2, 0),
    (6, 3, 3, 0),
    (4, 2, 1, 0),
    (3, 2, 1, 0),
    (4, 3, 1, 0),
    (5, 3, 2, 0),
    (3, 2, 2, 1),
    (4, 3, 2, 1),
)


def loop_avg_grad(su: _GradSetup, *, divide: str = "window", overwrite: bool = False):  # type: ignore[no-untyped-def]
    """dL/dX by hand: each window's gradient shared equally by its k*k cells (padding
    included), added where windows overlap. ``divide`` "none" or "real" (the cells inside
    the input) and ``overwrite`` (the last window wins) are the misreadings."""
    pool, dx = su.pool, np.zeros((su.pool.n, su.pool.n), dtype=object)
    for r, q, real in pool.windows():
        share = {"window": pool.k * pool.k, "none": 1, "real": len(real)}[divide]
        for i, j in real:
            g = Fraction(su.G[r][q], share)
            dx[i, j] = g if overwrite else dx[i, j] + g
    return dx.astype(float)


@register
class AvgPoolGradient(Family):
    id = "pooling/avg-pool-gradient"
    topic = "pooling"
    title = "The backward pass of average pooling"
    kind = "numbers"
    kinds = dims(windows=("overlapping", "disjoint"), padding=("0", "1"))

    def draw(self, seed: int) -> _GradSetup:
        draw = Draw(self.id, seed)
        n, k, s, p = draw.choice(AVG_GRAD_CONFIGS)
        while True:  # redrawn until no entry of dL/dX is 0 (overlapping windows may cancel)
            pool = _Pool(_draw_distinct(draw, n), k, s, p)
            G = tuple(
                tuple(draw.nonzero(-3, 6) for _ in range(pool.size)) for _ in range(pool.size)
            )
            su = _GradSetup(pool, G)
            if (loop_avg_grad(su) != 0).all():
                return su

    def generate(self, seed: int) -> Problem:
        from dlquiz.engine import functional as F

        su = self.draw(seed)
        pool, cells = su.pool, su.pool.k * su.pool.k
        x = pool.tensor()
        y = F.avg_pool2d(x, pool.k, stride=pool.s, padding=pool.p)
        (y * np.array(su.G, dtype=float)[None, None]).sum().backward()
        assert x.grad is not None
        dx = x.grad[0, 0]
        pad = (
            f" The padding is zeros and counts in the mean (PyTorch's count_include_pad=True): "
            f"every window divides by {cells}."
            if pool.p
            else ""
        )
        statement = (
            f"Average pooling with {pool.geometry()} is applied to $X = {matrix(pool.X)}$, giving "
            f"a {pool.size}x{pool.size} output $Y$ (each entry the mean of its window).{pad} In "
            f"the backward pass the gradient arriving at the output is $d/dY L = {matrix(su.G)}$. "
            f"Give the gradient $d/dX L$, a {pool.n}x{pool.n} matrix, to 3 significant figures."
        )
        overlap = pool.s < pool.k
        solution = (
            f"Each output is (1/{cells}) times the sum of its window, so each of the window's "
            f"cells receives 1/{cells} of that output's gradient, whatever the values of $X$ "
            f"(average pooling's gradient does not depend on them). For example window (1, 1) "
            f"passes {su.G[0][0]}/{cells} = {fmt_key(su.G[0][0] / cells)} to each of its cells."
            + (
                " The windows overlap: a cell in several windows adds up their shares."
                if overlap
                else ""
            )
            + (" Padded cells receive shares too, but they are not part of $X$." if pool.p else "")
            + f" So $d/dX L = {array_text(dx, None, rows=True)}$."
        )
        candidates = [
            (
                "not-divided",
                loop_avg_grad(su, divide="none"),
                f"Each cell gets 1/{cells} of the window's gradient: the mean divides by {cells}.",
            ),
            (
                "max-rule",
                loop_max_grad(su),
                "That is max pooling's rule: average pooling shares each window's gradient "
                "equally among its cells.",
            ),
        ]
        if overlap:
            candidates.append(
                (
                    "no-accumulate",
                    loop_avg_grad(su, overwrite=True),
                    "A cell in several overlapping windows receives the sum of their shares.",
                )
            )
        if pool.p:
            candidates.append(
                (
                    "exclude-padding",
                    loop_avg_grad(su, divide="real"),
                    f"With count_include_pad=True every window divides by {cells}, padded cells "
                    "included.",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(dx, None, rows=True),
            hints=[
                f"Each output is its window's sum divided by {cells}: what is its derivative "
                "with respect to one cell of the window?",
                "Add up what each window sends to a cell"
                + ("; windows overlap here." if overlap else "."),
            ],
            solution=solution,
            mistakes=keep_distinct(
                dx, candidates, text=lambda v: array_text(v, None, rows=True), apart=separated
            ),
        )

    def verify(self, problem: Problem) -> list[str]:
        exact = loop_avg_grad(self.draw(problem.seed))
        return mismatch(key_numbers(problem.answer), exact, "exact shares by hand")

    def question_kind(self, seed: int) -> dict[str, str]:
        return _window_kind(self.draw(seed).pool)


# --- max pooling's backward pass where windows overlap -----------------------------------------
OVERLAP_CONFIGS = (
    (4, 2, 1, 0),
    (3, 2, 1, 0),
    (4, 3, 1, 0),
    (5, 3, 2, 0),
    (5, 3, 1, 0),
    (5, 2, 1, 0),
)


def _wins(su: _GradSetup) -> dict[tuple[int, int], list[int]]:
    """For each cell that is some window's maximum, the gradients of the windows it wins."""
    out: dict[tuple[int, int], list[int]] = {}
    for r, q, real in su.pool.windows():
        cell = max(real, key=lambda c: su.pool.X[c[0]][c[1]])
        out.setdefault(cell, []).append(su.G[r][q])
    return out


@register
class MaxPoolOverlap(Family):
    id = "pooling/max-pool-overlap"
    topic = "pooling"
    title = "Max pooling's backward pass with overlapping windows"
    kind = "numbers"
    # The whole dL/dX is mostly zeros (cells that win no window): there they are the point.
    kinds = dims(ask=("matrix", "cell"), zeros=("the point", "no"))

    def draw(self, seed: int) -> tuple[_GradSetup, str, tuple[int, int]]:
        """The setup, what is asked, and the cell that wins the most windows."""
        draw = Draw(self.id, seed)
        n, k, s, p = draw.choice(OVERLAP_CONFIGS)
        ask = draw.choice(["matrix", "cell"])
        while True:  # some cell wins two windows or more, and its gradient is not 0
            pool = _Pool(_draw_distinct(draw, n), k, s, p)
            G = tuple(
                tuple(draw.nonzero(-3, 5) for _ in range(pool.size)) for _ in range(pool.size)
            )
            su = _GradSetup(pool, G)
            wins = _wins(su)
            cell = max(wins, key=lambda c: len(wins[c]))
            if len(wins[cell]) >= 2 and sum(wins[cell]) != 0:
                return su, ask, cell

    def generate(self, seed: int) -> Problem:
        from dlquiz.engine import functional as F

        su, ask, (ci, cj) = self.draw(seed)
        pool, wins = su.pool, _wins(su)
        x = pool.tensor()
        y = F.max_pool2d(x, pool.k, stride=pool.s, padding=pool.p)
        (y * np.array(su.G, dtype=float)[None, None]).sum().backward()
        assert x.grad is not None
        dx = x.grad[0, 0]
        value = pool.X[ci][cj]
        question = (
            f"Give the gradient $d/dX L$, a {pool.n}x{pool.n} matrix."
            if ask == "matrix"
            else f"Give the entry of $d/dX L$ at row {ci + 1}, column {cj + 1} (where $X$ is "
            f"{value})."
        )
        statement = (
            f"Max pooling with {pool.geometry()} is applied to $X = {matrix(pool.X)}$ (no ties "
            f"in any window), giving a {pool.size}x{pool.size} output $Y$; the windows overlap, "
            f"since the stride is smaller than the window. In the backward pass the gradient "
            f"arriving at the output is $d/dY L = {matrix(su.G)}$. {question}"
        )
        shares = " + ".join(f"({g})" if g < 0 else str(g) for g in wins[(ci, cj)])
        solution = (
            "Each window sends its gradient to its maximum only. Where windows overlap, one "
            "cell can be the maximum of several of them, and then it receives the sum of their "
            f"gradients: {value} (row {ci + 1}, column {cj + 1}) wins {len(wins[(ci, cj)])} "
            f"windows and receives {shares} = {fmt_key(float(dx[ci, cj]))}."
            + (
                f" Every other cell likewise; cells that win no window get 0: "
                f"$d/dX L = {array_text(dx, None, rows=True)}$."
                if ask == "matrix"
                else ""
            )
        )
        matrix_ask = ask == "matrix"
        key = dx if matrix_ask else np.array(float(dx[ci, cj]))
        feedback = {
            "no-accumulate": "A cell that is the maximum of several overlapping windows "
            "receives the sum of their gradients, not one of them.",
            "unit-gradient": "The maximum receives the gradient arriving at its output, dL/dY, "
            "not 1 per window.",
            "spread-evenly": "That is average pooling's rule: max pooling sends each window's "
            "gradient to its maximum only.",
        }
        modes = {"no-accumulate": "overwrite", "unit-gradient": "unit", "spread-evenly": "spread"}
        candidates = []
        for tag, why in feedback.items():
            full = loop_max_grad(su, mode=modes[tag])
            candidates.append((tag, full if matrix_ask else np.array(full[ci, cj]), why))
        text = _matrix_text if matrix_ask else (lambda v: fmt_key(float(v)))
        return self.problem(
            seed,
            statement=statement,
            answer=text(key),
            kind="numbers" if matrix_ask else "number",
            hints=[
                "For each window, find its maximum; a window sends its whole gradient there.",
                "A cell that wins several overlapping windows adds up their gradients.",
            ],
            solution=solution,
            mistakes=keep_distinct(key, candidates, text=text, apart=separated),
        )

    def verify(self, problem: Problem) -> list[str]:
        su, ask, (ci, cj) = self.draw(problem.seed)
        exact = loop_max_grad(su)
        reference = exact if ask == "matrix" else np.array([[exact[ci, cj]]])
        return mismatch(key_numbers(problem.answer), reference, "routing by hand")

    def question_kind(self, seed: int) -> dict[str, str]:
        ask = self.draw(seed)[1]
        return {"ask": ask, "zeros": "the point" if ask == "matrix" else "no"}


def _matrix_text(v: object) -> str:
    return array_text(v, None, rows=True)
