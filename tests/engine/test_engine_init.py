"""Statistical tests (fixed seeds, stated tolerances): initialisation variances, the notes'
variance argument for a layer's outputs and gradients, and dropout's expectation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dlquiz.engine.functional as F
from dlquiz.engine import Tensor, init


@pytest.mark.parametrize("fn", [init.xavier_normal, init.xavier_uniform])
def test_xavier_variance_is_two_over_fan_sum(fn):
    n_out, n_in = 400, 600
    w = fn((n_out, n_in), rng=0)
    target = 2.0 / (n_in + n_out)
    # 240,000 samples: the variance estimate's relative standard error is about 0.3%
    assert w.var() == pytest.approx(target, rel=0.02)
    assert abs(w.mean()) < 5 * math.sqrt(target / w.size)


def test_xavier_uniform_bound_and_conv_fans():
    w = init.xavier_uniform((8, 4, 3, 3), rng=1)
    bound = math.sqrt(6.0 / (4 * 9 + 8 * 9))
    assert np.abs(w).max() <= bound
    assert init.fans((8, 4, 3, 3)) == (36, 72)
    assert init.fans((5, 3)) == (3, 5)
    with pytest.raises(ValueError, match="two dimensions"):
        init.fans((5,))


def test_kaiming_normal_variance():
    w = init.kaiming_normal((300, 50, 2, 2), rng=2)  # fan_in = 200
    assert w.var() == pytest.approx(2.0 / 200, rel=0.02)
    w = init.kaiming_normal((300, 200), rng=3, mode="fan_out", nonlinearity="relu")
    assert w.var() == pytest.approx(2.0 / 300, rel=0.02)


def test_kaiming_uniform_torch_default_bound():
    w = init.kaiming_uniform((64, 25), rng=4, a=math.sqrt(5.0))
    assert np.abs(w).max() <= 1 / 5
    assert np.abs(w).max() > 0.95 / 5


def test_same_seed_same_weights():
    np.testing.assert_array_equal(init.xavier_normal((3, 4), 7), init.xavier_normal((3, 4), 7))


def test_layer_output_and_gradient_variances_follow_the_notes():
    """Var(o) = n_in sigma^2 Var(x) forward, Var(dL/dx) = n_out sigma^2 Var(dL/do) backward.

    With Xavier's sigma^2 = 2 / (n_in + n_out) neither is 1 unless n_in = n_out: it is the
    compromise between the two. Tolerance 5% (about 5 standard errors with these sizes).
    """
    rng = np.random.default_rng(5)
    n_in, n_out, var_x, var_g = 200, 50, 3.0, 0.5
    sigma2 = 2.0 / (n_in + n_out)
    outs, grads = [], []
    for _ in range(20):  # average over weight draws as well as over inputs
        w = Tensor(init.xavier_normal((n_out, n_in), rng))
        x = Tensor(rng.normal(0.0, math.sqrt(var_x), (500, n_in)), requires_grad=True)
        o = F.linear(x, w)
        o.backward(rng.normal(0.0, math.sqrt(var_g), o.shape))
        outs.append(o.data.ravel())
        grads.append(x.grad.ravel())
    assert np.concatenate(outs).var() == pytest.approx(n_in * sigma2 * var_x, rel=0.05)
    assert np.concatenate(grads).var() == pytest.approx(n_out * sigma2 * var_g, rel=0.05)


def test_dropout_preserves_the_mean():
    """E[h'] = (1 - p) h / (1 - p) = h: the notes' expectation argument, over many draws."""
    p, draws = 0.4, 4000
    h = np.linspace(-2.0, 3.0, 50)
    out = F.dropout(Tensor(np.broadcast_to(h, (draws, 50))), p, rng=11).data
    standard_error = np.abs(h) * math.sqrt(p / (1 - p) / draws)
    z = np.abs(out.mean(axis=0) - h) / np.maximum(standard_error, 1e-300)
    assert z.max() < 5.0  # every unit's mean within 5 standard errors of h
    dropped = (out == 0).mean()
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / out.size)
