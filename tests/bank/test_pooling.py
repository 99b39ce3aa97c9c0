"""Pooling families: outputs and gradients against NumPy windows and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from bank_helpers import (
    assert_latex_prose_is_ascii,
    assert_same_seed_same_problem,
    assert_verify_command_passes,
    numbers,
    passing_problems,
)
from numpy.lib.stride_tricks import sliding_window_view

from dlquiz.bank import families, generate
from dlquiz.engine import Tensor
from dlquiz.engine import functional as F

IDS = [
    "pooling/max-pool-output",
    "pooling/avg-pool-output",
    "pooling/max-pool-gradient",
    "pooling/output-size",
    "pooling/avg-pool-gradient",
    "pooling/max-pool-overlap",
]


def windows(X: np.ndarray, k: int, s: int, p: int, fill: float) -> np.ndarray:
    padded = np.pad(X, p, constant_values=fill)
    return sliding_window_view(padded, (k, k))[::s, ::s]


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, range(6), topic="pooling")


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 5)


def test_max_pool_output_against_numpy_windows_and_no_ties() -> None:
    family = families()["pooling/max-pool-output"]
    for seed in range(30):
        pool = family.draw(seed)
        X = np.array(pool.X, dtype=float)
        assert len(np.unique(X)) == X.size  # no ties anywhere
        expected = windows(X, pool.k, pool.s, pool.p, -np.inf).max(axis=(2, 3))
        assert np.array_equal(numbers(family.generate(seed).answer), expected)


def test_avg_pool_output_counts_padded_zeros() -> None:
    family = families()["pooling/avg-pool-output"]
    padded_seen = False
    for seed in range(40):
        pool = family.draw(seed)
        X = np.array(pool.X, dtype=float)
        expected = windows(X, pool.k, pool.s, pool.p, 0.0).mean(axis=(2, 3))
        p = family.generate(seed)
        assert np.allclose(numbers(p.answer), expected, rtol=1e-9)
        if pool.p:
            padded_seen = True
            assert "count_include_pad=True" in p.statement
    assert padded_seen


def test_max_pool_gradient_against_finite_differences() -> None:
    """L = sum(G * maxpool(X)) is linear near X when no window has a tie."""
    family = families()["pooling/max-pool-gradient"]
    for seed in range(15):
        su = family.draw(seed)
        X = np.array(su.pool.X, dtype=float)
        G = np.array(su.G, dtype=float)

        def loss(x: np.ndarray, su=su, G=G) -> float:
            return float(
                (G * windows(x, su.pool.k, su.pool.s, su.pool.p, -np.inf).max(axis=(2, 3))).sum()
            )

        numeric = np.zeros_like(X)
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                e = np.zeros_like(X)
                e[i, j] = 1e-3
                numeric[i, j] = (loss(X + e) - loss(X - e)) / 2e-3
        key = numbers(family.generate(seed).answer)
        assert np.allclose(key, numeric, atol=1e-6)
        assert key.sum() == pytest.approx(G.sum())  # every window's gradient arrives whole


def test_max_pool_gradient_names_the_even_spread() -> None:
    p = generate("pooling/max-pool-gradient", 4)
    spread = next(m for m in p.mistakes if m["tag"] == "spread-evenly")
    assert p.check(spread["answer"]).mistake == "spread-evenly"


def test_output_size_against_the_engine_and_its_default_stride() -> None:
    family = families()["pooling/output-size"]
    defaults = 0
    for seed in range(30):
        su = family.draw_params(seed)
        n, c, h, w, k, p_ = (int(su[v]) for v in ("n", "c", "h", "w", "k", "p"))
        stride = None if su["stride"] == "default" else int(su["given"])
        y = F.avg_pool2d(Tensor(np.zeros((1, 1, h, w))), k, stride=stride, padding=p_)
        p = family.generate(seed)
        assert p.answer == f"({n}, {c}, {y.shape[2]}, {y.shape[3]})"
        if stride is None:
            defaults += 1
            assert "default stride is the kernel size" in p.statement
    assert defaults


def test_latex_prose_is_ascii() -> None:
    assert_latex_prose_is_ascii(IDS)


def test_verify_command_passes_for_the_topic() -> None:
    assert_verify_command_passes("pooling", 3)


def test_avg_pool_gradient_against_finite_differences_and_no_zero_entry() -> None:
    """L = sum(G * avgpool(X)) is linear in X: a unit step of one cell changes L by its
    gradient; padded zeros count in every mean."""
    family = families()["pooling/avg-pool-gradient"]
    for seed in range(20):
        su = family.draw(seed)
        X, G = np.array(su.pool.X, dtype=float), np.array(su.G, dtype=float)
        pool = su.pool

        def loss(x: np.ndarray, pool=pool, G=G) -> float:
            return float((G * windows(x, pool.k, pool.s, pool.p, 0.0).mean(axis=(2, 3))).sum())

        numeric = np.zeros_like(X)
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                e = np.zeros_like(X)
                e[i, j] = 1.0
                numeric[i, j] = loss(X + e) - loss(X)
        key = numbers(family.generate(seed).answer)
        assert np.allclose(key, numeric, atol=1e-9) and (key != 0).all()


def test_max_pool_overlap_adds_the_gradients_of_the_windows_a_cell_wins() -> None:
    """Against finite differences of L = sum(G * maxpool(X)); the asked cell wins two
    windows or more, and its entry is not 0."""
    family = families()["pooling/max-pool-overlap"]
    asks = set()
    for seed in range(20):
        su, ask, (ci, cj) = family.draw(seed)
        pool, X, G = su.pool, np.array(su.pool.X, dtype=float), np.array(su.G, dtype=float)
        assert pool.s < pool.k
        numeric = np.zeros_like(X)
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                e = np.zeros_like(X)
                e[i, j] = 1e-3
                up, down = (
                    (G * windows(x, pool.k, pool.s, pool.p, -np.inf).max(axis=(2, 3))).sum()
                    for x in (X + e, X - e)
                )
                numeric[i, j] = (up - down) / 2e-3
        p = family.generate(seed)
        asks.add(ask)
        key = numbers(p.answer)
        want = numeric if ask == "matrix" else numeric[ci, cj]
        assert np.allclose(key, want, atol=1e-6)
        assert numeric[ci, cj] != 0
        assert p.question_kind["zeros"] == ("the point" if ask == "matrix" else "no")
    assert asks == {"matrix", "cell"}


def test_output_size_check_rejects_a_wrong_shape() -> None:
    """The pool2d_output check is the engine's pooling, not the template's formula."""
    from dataclasses import replace

    family = families()["pooling/output-size"]
    for seed in range(10):
        p = family.generate(seed)
        n, c, ho, wo = numbers_of_shape(p.answer)
        assert family.verify(p) == []
        assert family.verify(replace(p, answer=f"({n}, {c}, {ho + 1}, {wo})")), seed


def numbers_of_shape(text: str) -> list[int]:
    return [int(v) for v in text.strip("()").split(",")]
