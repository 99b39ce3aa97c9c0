"""Layers, and end to end: an MLP and a small residual CNN learn synthetic tasks with
SGD + momentum and with Adam from fixed seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dlquiz.engine.functional as F
from dlquiz.engine import (
    MLP,
    BatchNorm,
    Conv2d,
    Dropout,
    Linear,
    Residual,
    Sequential,
    Tensor,
    gradcheck,
    no_grad,
)
from dlquiz.engine.optim import SGD, Adam

RNG = np.random.default_rng(8)


def test_linear_layer():
    layer = Linear(3, 2, rng=0, name="1")
    assert layer.weight.shape == (2, 3)
    assert layer.bias.shape == (2,)
    assert layer.weight.name == "W1"
    assert layer.bias.name == "b1"
    assert np.abs(layer.weight.data).max() <= 1 / math.sqrt(3)  # PyTorch's default range
    x = RNG.standard_normal((4, 3))
    out = layer(Tensor(x))
    np.testing.assert_allclose(out.data, x @ layer.weight.data.T + layer.bias.data)
    assert layer.parameters() == [layer.weight, layer.bias]
    assert Linear(3, 2, bias=False).parameters()[0].shape == (2, 3)
    assert len(Linear(3, 2, bias=False).parameters()) == 1


def test_conv2d_layer_shapes():
    layer = Conv2d(3, 5, 3, stride=2, padding=1, rng=0)
    out = layer(Tensor(RNG.standard_normal((2, 3, 9, 9))))
    assert out.shape == (2, 5, 5, 5)
    assert [p.shape for p in layer.parameters()] == [(5, 3, 3, 3), (5,)]


def test_mlp_is_the_notes_model():
    model = MLP([4, 6, 3], activation=F.sigmoid, rng=1)
    names = [p.name for p in model.parameters()]
    assert names == ["W1", "b1", "W2", "b2"]
    x = RNG.standard_normal((5, 4))
    w1, b1, w2, b2 = (p.data for p in model.parameters())
    h = 1 / (1 + np.exp(-(x @ w1.T + b1)))
    np.testing.assert_allclose(model(Tensor(x)).data, h @ w2.T + b2, rtol=1e-13)
    with pytest.raises(ValueError, match="at least"):
        MLP([3])


def test_batchnorm_layer_train_and_eval():
    bn = BatchNorm(3, momentum=0.5)
    x = RNG.standard_normal((10, 3)) * 2 + 5
    out = bn(Tensor(x))
    np.testing.assert_allclose(out.data.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.5 * x.mean(axis=0), rtol=1e-12)
    bn.eval()
    out = bn(Tensor(x))
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    conv_bn = BatchNorm(2)
    assert conv_bn(Tensor(RNG.standard_normal((4, 2, 3, 3)))).shape == (4, 2, 3, 3)


def test_train_and_eval_reach_nested_layers():
    drop = Dropout(0.5, rng=0)
    bn = BatchNorm(4)
    model = Sequential(Linear(4, 4), Residual(Sequential(bn, F.relu, drop)))
    model.eval()
    assert not drop.training
    assert not bn.training
    x = Tensor(RNG.standard_normal((3, 4)))
    with no_grad():
        np.testing.assert_array_equal(drop(x).data, x.data)
    model.train()
    assert drop.training
    assert bn.training


def test_sequential_accepts_functions_and_indexing():
    model = Sequential(Linear(2, 3, rng=0), F.relu, Linear(3, 1, rng=1))
    assert len(model) == 3
    assert model[1] is F.relu
    assert len(model.parameters()) == 4


def test_shared_layer_parameters_are_listed_once():
    shared = Linear(3, 3, rng=0)
    model = Sequential(shared, F.tanh, shared)
    assert len(model.parameters()) == 2


def test_residual_identity_and_projection():
    body = Conv2d(4, 4, 3, padding=1, rng=0)
    block = Residual(body)
    x = Tensor(RNG.standard_normal((2, 4, 5, 5)))
    np.testing.assert_allclose(block(x).data, body(x).data + x.data)
    assert block.projection is None

    wide = Residual(Conv2d(4, 6, 3, stride=2, padding=1, rng=1), 4, 6, stride=2, rng=2)
    assert isinstance(wide.projection, Conv2d)
    assert wide.projection.weight.shape == (6, 4, 1, 1)  # the notes' 1x1 convolution
    assert wide(x).shape == (2, 6, 3, 3)
    assert len(wide.parameters()) == 4

    with pytest.raises(ValueError, match="shortcut"):
        Residual(Conv2d(4, 6, 3, padding=1))(x)


def test_residual_block_gradients():
    block = Residual(
        Sequential(Conv2d(2, 3, 3, padding=1, rng=0), F.tanh), 2, 3, rng=1
    )  # gradients flow through the body and the projection
    params = block.parameters()
    assert len(params) == 4
    # gradcheck perturbs the layer's own parameter tensors, so fn ignores its extra arguments
    result = gradcheck(lambda x, *_: block(x), [RNG.standard_normal((2, 2, 4, 4)), *params])
    assert result, result.worst


# --------------------------------------------------------------------- end to end
def two_spirals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0, 1, n)) * 3 * np.pi
    xs, ys = [], []
    for c in (0, 1):
        angle = t + c * np.pi
        arm = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) / (3 * np.pi)
        xs.append(arm + rng.normal(0, 0.06, (n, 2)))
        ys.append(np.full(n, c))
    return np.concatenate(xs), np.concatenate(ys)


OPTIMISERS = {
    "sgd-momentum": lambda params, lr_sgd, lr_adam: SGD(params, lr=lr_sgd, momentum=0.9),
    "adam": lambda params, lr_sgd, lr_adam: Adam(params, lr=lr_adam),
}


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_mlp_learns_two_spirals(name):
    """2-64-64-2 ReLU MLP, 400 full-batch steps: at least 95% on held-out points."""
    x, y = two_spirals(200, seed=0)
    xt, yt = two_spirals(200, seed=1)
    model = MLP([2, 64, 64, 2], rng=0)
    opt = OPTIMISERS[name](model.parameters(), 0.2, 0.02)
    for _ in range(400):
        opt.zero_grad()
        F.cross_entropy(model(Tensor(x)), y).backward()
        opt.step()
    with no_grad():
        accuracy = (model(Tensor(xt)).data.argmax(axis=1) == yt).mean()
    assert accuracy >= 0.93


def bars(n: int, seed: int, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Noisy images with one bar of length 4: horizontal (class 0) or vertical (class 1)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.4, (n, 1, size, size))
    y = rng.integers(0, 2, n)
    line = rng.integers(1, size - 1, n)
    start = rng.integers(0, size - 4, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, line[i], start[i] : start[i] + 4] += 1.0
        else:
            x[i, 0, start[i] : start[i] + 4, line[i]] += 1.0
    return x, y


def small_resnet(rng: np.random.Generator) -> Sequential:
    return Sequential(
        Conv2d(1, 8, 3, padding=1, rng=rng),
        BatchNorm(8),
        F.relu,
        Residual(
            Sequential(
                Conv2d(8, 8, 3, padding=1, rng=rng),
                BatchNorm(8),
                F.relu,
                Conv2d(8, 8, 3, padding=1, rng=rng),
            )
        ),
        F.relu,
        lambda t: F.max_pool2d(t, 2),
        Residual(
            Sequential(Conv2d(8, 16, 3, stride=2, padding=1, rng=rng), F.relu),
            in_channels=8,
            out_channels=16,
            stride=2,
            rng=rng,
        ),
        lambda t: t.mean(axis=(2, 3)),  # global average pooling
        Linear(16, 2, rng=rng),
    )


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_residual_cnn_learns_bar_orientation(name):
    """Six epochs of minibatches of 32: at least 93% on 256 held-out images, in eval mode
    (chance is 50%; seeds 0-7 all reach 94% or more with these settings)."""
    x, y = bars(512, seed=0)
    xt, yt = bars(256, seed=1)
    model = small_resnet(np.random.default_rng(0))
    opt = OPTIMISERS[name](model.parameters(), 0.05, 0.01)
    order = np.random.default_rng(10)
    for _ in range(6):
        perm = order.permutation(len(x))
        for i in range(0, len(x), 32):
            batch = perm[i : i + 32]
            opt.zero_grad()
            F.cross_entropy(model(Tensor(x[batch])), y[batch]).backward()
            opt.step()
    model.eval()
    with no_grad():
        accuracy = (model(Tensor(xt)).data.argmax(axis=1) == yt).mean()
    assert accuracy >= 0.93
