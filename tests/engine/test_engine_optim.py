"""Optimisers against their update rules computed by hand (torch comparisons live in
test_engine_torch.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dlquiz.engine import Tensor
from dlquiz.engine.optim import SGD, Adam


def quadratic_grad(p: Tensor, target: np.ndarray) -> np.ndarray:
    """Set p.grad for L = 0.5 ||p - target||^2 (gradient p - target) via the engine."""
    p.grad = None
    (((p - target) ** 2).sum() * 0.5).backward()
    return p.grad


def test_plain_sgd_step():
    p = Tensor([1.0, -2.0], requires_grad=True)
    g = quadratic_grad(p, np.array([0.0, 0.0]))
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, np.array([1.0, -2.0]) - 0.1 * g)


def test_momentum_is_the_notes_rule():
    # v_t = beta v_{t-1} + g_t, theta_t = theta_{t-1} - eta v_t
    p = Tensor([3.0], requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9)
    theta, v = 3.0, 0.0
    for _ in range(4):
        quadratic_grad(p, np.zeros(1))
        g = theta
        v = 0.9 * v + g
        theta -= 0.1 * v
        opt.step()
        assert p.data[0] == pytest.approx(theta, rel=1e-14)


def test_weight_decay_equals_half_of_it_as_a_squared_penalty():
    # the convention trap: weight_decay = wd  <=>  loss + (wd / 2) ||w||^2
    wd, target = 0.2, np.array([1.0, 2.0])
    a = Tensor([0.5, -0.5], requires_grad=True)
    b = Tensor([0.5, -0.5], requires_grad=True)
    opt_a = SGD([a], lr=0.1, weight_decay=wd)
    opt_b = SGD([b], lr=0.1)
    for _ in range(3):
        quadratic_grad(a, target)
        opt_a.step()
        b.grad = None
        (((b - target) ** 2).sum() * 0.5 + (b * b).sum() * (wd / 2)).backward()
        opt_b.step()
    np.testing.assert_allclose(a.data, b.data, rtol=1e-14)


def test_adam_first_step_moves_each_coordinate_by_about_lr():
    # after one step m_hat = g and v_hat = g^2, so the update is lr * g / (|g| + eps)
    p = Tensor([1.0, -3.0, 0.001], requires_grad=True)
    g = quadratic_grad(p, np.zeros(3)).copy()
    Adam([p], lr=0.01, eps=1e-8).step()
    np.testing.assert_allclose(p.data, [1.0, -3.0, 0.001] - 0.01 * g / (np.abs(g) + 1e-8))


def test_adam_bias_correction_over_two_steps():
    p = Tensor([2.0], requires_grad=True)
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    theta, m, v = 2.0, 0.0, 0.0
    for t in (1, 2):
        quadratic_grad(p, np.zeros(1))
        g = theta
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        theta -= 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        opt.step()
        assert p.data[0] == pytest.approx(theta, rel=1e-13)


def test_zero_grad_and_parameters_without_gradient():
    p = Tensor([1.0], requires_grad=True)
    q = Tensor([1.0], requires_grad=True)
    opt = SGD([p, q], lr=1.0, momentum=0.5)
    quadratic_grad(p, np.zeros(1))
    opt.step()  # q has no gradient: untouched, as in PyTorch
    assert q.data[0] == 1.0
    assert p.data[0] == 0.0
    opt.zero_grad()
    assert p.grad is None
    assert q.grad is None


def test_updates_are_in_place():
    p = Tensor([1.0, 2.0], requires_grad=True)
    view = p.data
    quadratic_grad(p, np.zeros(2))
    Adam([p]).step()
    assert p.data is view


def test_invalid_arguments():
    p = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Adam"):
        Adam([p], betas=(1.0, 0.9))
    with pytest.raises(TypeError, match="Tensors"):
        SGD([np.zeros(2)], lr=0.1)
