"""Values and gradients against PyTorch (float64, to 1e-10) for every operation, and both
optimisers over several steps. Skipped, with the reason shown, when torch is missing."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch",
    reason="torch is not installed: the PyTorch comparison tests need "
    "`pip install torch==2.13.0` (the project's `torch` extra)",
)
import torch.nn.functional as TF  # noqa: E402

import dlquiz.engine.functional as F  # noqa: E402
from dlquiz.engine import MLP, Tensor, init  # noqa: E402
from dlquiz.engine.optim import SGD, Adam  # noqa: E402

TOL = {"rtol": 1e-10, "atol": 1e-10}
RNG = np.random.default_rng(2024)


def rand(*shape: int, positive: bool = False) -> np.ndarray:
    a = RNG.standard_normal(shape)
    return np.abs(a) + 0.1 if positive else a


def compare(ours_fn, torch_fn, *arrays: np.ndarray, grad: bool = True) -> None:
    """Same inputs, same random upstream gradient; values and every input's gradient."""
    ours = [Tensor(a, requires_grad=grad) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=grad) for a in arrays]
    o = ours_fn(*ours)
    t = torch_fn(*theirs)
    assert o.shape == tuple(t.shape)
    np.testing.assert_allclose(o.data, t.detach().numpy(), **TOL)
    if not grad:
        return
    upstream = RNG.standard_normal(o.shape)
    o.backward(upstream)
    t.backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs, strict=True):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        np.testing.assert_allclose(got, expected, **TOL)


# --------------------------------------------------------------------- Tensor operations
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "maximum": (F.maximum, torch.maximum),
    "minimum": (F.minimum, torch.minimum),
}


@pytest.mark.parametrize(
    "shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 2))], ids=str
)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops(name, shapes):
    ours, theirs = BINARY[name]
    compare(ours, theirs, rand(*shapes[0]), rand(*shapes[1], positive=name == "div"))


UNARY = {
    "neg": (lambda x: -x, lambda x: -x, False),
    "exp": (lambda x: x.exp(), torch.exp, False),
    "log": (lambda x: x.log(), torch.log, True),
    "relu": (lambda x: x.relu(), torch.relu, False),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid, False),
    "tanh": (lambda x: x.tanh(), torch.tanh, False),
    "abs": (lambda x: x.abs(), torch.abs, False),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, True),
    "sign": (lambda x: x.sign(), torch.sign, False),
    "pow3": (lambda x: x**3, lambda x: x**3, False),
    "pow-0.5": (lambda x: x**-0.5, lambda x: x**-0.5, True),
    "rpow": (lambda x: 1.7**x, lambda x: torch.pow(1.7, x), False),
    "reshape": (lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6), False),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1), False),
    "transpose": (lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2), False),
    "T": (lambda x: x.reshape(6, 4).T, lambda x: x.reshape(6, 4).T, False),
    "sum": (lambda x: x.sum(), torch.sum, False),
    "sum-axis": (lambda x: x.sum(axis=1), lambda x: x.sum(dim=1), False),
    "sum-tuple-keep": (
        lambda x: x.sum(axis=(0, 2), keepdims=True),
        lambda x: x.sum(dim=(0, 2), keepdim=True),
        False,
    ),
    "mean": (lambda x: x.mean(), torch.mean, False),
    "mean-axis": (lambda x: x.mean(axis=-1), lambda x: x.mean(dim=-1), False),
    "getitem-basic": (lambda x: x[1, :, ::2], lambda x: x[1, :, ::2], False),
    "getitem-advanced": (lambda x: x[[0, 1, 0]], lambda x: x[[0, 1, 0]], False),
    "softmax": (lambda x: F.softmax(x, axis=1), lambda x: torch.softmax(x, dim=1), False),
    "log_softmax": (F.log_softmax, lambda x: torch.log_softmax(x, dim=-1), False),
    "logsumexp": (lambda x: F.logsumexp(x, axis=2), lambda x: torch.logsumexp(x, dim=2), False),
    "logsumexp-tuple": (
        lambda x: F.logsumexp(x, axis=(0, 1), keepdims=True),
        lambda x: torch.logsumexp(x, dim=(0, 1), keepdim=True),
        False,
    ),
    "F.relu": (F.relu, TF.relu, False),
    "F.sigmoid": (F.sigmoid, torch.sigmoid, False),
    "F.tanh": (F.tanh, torch.tanh, False),
    "floor": (F.floor, torch.floor, False),
    "ceil": (F.ceil, torch.ceil, False),
    "diag_embed": (F.diag_embed, torch.diag_embed, False),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops(name):
    ours, theirs, positive = UNARY[name]
    compare(ours, theirs, rand(2, 3, 4, positive=positive))


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 5)),
        ((6, 3, 4), (6, 4, 5)),
        ((6, 3, 4), (4, 5)),
        ((3, 4), (6, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
    ],
    ids=str,
)
def test_matmul(shapes):
    compare(lambda a, b: a @ b, torch.matmul, rand(*shapes[0]), rand(*shapes[1]))


@pytest.mark.parametrize("shape", [(4,), (3, 5), (5, 3), (4, 4)], ids=str)
def test_diag_matches_torch(shape):
    compare(F.diag, torch.diag, rand(*shape))


def test_floor_and_ceil_at_whole_numbers_match_torch():
    x = np.array([-2.0, -1.5, -0.0, 0.0, 0.5, 1.0, 2.999, 3.0])
    compare(F.floor, torch.floor, x)
    compare(F.ceil, torch.ceil, x)


def test_step_values_match_heaviside():
    x = np.array([-1.5, 0.0, 2.0, -0.0])
    out = F.step(Tensor(x)).data
    np.testing.assert_array_equal(
        out, torch.heaviside(torch.tensor(x), torch.tensor(0.0, dtype=torch.float64))
    )


def test_edge_conventions_shared_with_torch():
    x = np.array([-2.0, 0.0, 0.0, 3.0])
    compare(lambda t: t.relu(), torch.relu, x)  # relu'(0) = 0
    compare(lambda t: t.abs(), torch.abs, x)  # |x|'(0) = 0
    compare(lambda t: t**0, lambda t: t**0, x)  # d/dx x^0 = 0, even at 0


def test_maximum_tie_rule_differs_from_torch_on_purpose():
    # torch splits a tie's gradient half and half; the engine gives it all to the first
    # argument (documented in functional). Away from ties they agree (test_binary_ops).
    a = Tensor([2.0], requires_grad=True)
    b = Tensor([2.0], requires_grad=True)
    F.maximum(a, b).sum().backward()
    ta = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    assert (a.grad[0], b.grad[0]) == (1.0, 0.0)
    assert (ta.grad.item(), tb.grad.item()) == (0.5, 0.5)


# --------------------------------------------------------------------- losses and layers
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(reduction):
    y = RNG.integers(0, 5, size=7)
    compare(
        lambda z: F.cross_entropy(z, y, reduction=reduction),
        lambda z: TF.cross_entropy(z, torch.tensor(y), reduction=reduction),
        rand(7, 5) * 4,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    compare(
        lambda p, t: F.mse_loss(p, t, reduction=reduction),
        lambda p, t: TF.mse_loss(p, t, reduction=reduction),
        rand(4, 3),
        rand(4, 3),
    )


def test_linear():
    compare(F.linear, TF.linear, rand(5, 3), rand(4, 3), rand(4))
    compare(F.linear, TF.linear, rand(2, 5, 3), rand(4, 3), rand(4))
    compare(lambda x, w: F.linear(x, w), lambda x, w: TF.linear(x, w), rand(3), rand(4, 3))


@pytest.mark.parametrize(
    ("xs", "ws", "stride", "padding"),
    [
        ((2, 3, 9, 8), (4, 3, 3, 3), 1, 0),
        ((2, 3, 9, 8), (4, 3, 3, 3), 1, 1),
        ((2, 3, 9, 8), (4, 3, 3, 3), 2, 1),
        ((2, 3, 9, 8), (4, 3, 3, 3), 3, 2),
        ((2, 3, 9, 8), (4, 3, 5, 5), 2, 2),
        ((2, 3, 9, 8), (4, 3, 3, 3), 1, 3),
        ((2, 3, 9, 8), (4, 3, 1, 1), 2, 0),
        ((1, 2, 7, 9), (3, 2, 2, 3), (1, 2), (1, 0)),
    ],
    ids=str,
)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_conv2d(xs, ws, stride, padding, bias):
    arrays = [rand(*xs), rand(*ws)] + ([rand(ws[0])] if bias else [])
    compare(
        lambda *t: F.conv2d(*t, stride=stride, padding=padding),
        lambda *t: TF.conv2d(*t, stride=stride, padding=padding),
        *arrays,
    )


POOLS = [(2, None, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1), (3, 2, 0), (2, 3, 1), ((2, 3), (1, 2), 0)]


@pytest.mark.parametrize(("k", "s", "p"), POOLS, ids=str)
def test_pooling(k, s, p):
    x = rand(2, 3, 8, 7)
    compare(lambda t: F.max_pool2d(t, k, s, p), lambda t: TF.max_pool2d(t, k, s, p), x)
    compare(lambda t: F.avg_pool2d(t, k, s, p), lambda t: TF.avg_pool2d(t, k, s, p), x)


@pytest.mark.parametrize(("k", "s", "p"), POOLS, ids=str)
def test_max_pool_ties_like_torch(k, s, p):
    x = RNG.integers(-2, 3, size=(2, 3, 8, 7)).astype(np.float64)  # many ties
    compare(lambda t: F.max_pool2d(t, k, s, p), lambda t: TF.max_pool2d(t, k, s, p), x)


@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5), (4, 3, 5, 4)], ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm(shape, training):
    c = shape[1]
    rm0, rv0 = rand(c), rand(c, positive=True)
    rm, rv = rm0.copy(), rv0.copy()
    trm, trv = torch.tensor(rm0), torch.tensor(rv0)
    compare(
        lambda x, g, b: F.batch_norm(x, g, b, rm, rv, training=training, momentum=0.3),
        lambda x, g, b: TF.batch_norm(x, trm, trv, g, b, training=training, momentum=0.3),
        rand(*shape) * 3 + 1,
        rand(c),
        rand(c),
    )
    np.testing.assert_allclose(rm, trm.numpy(), **TOL)  # running mean ...
    np.testing.assert_allclose(rv, trv.numpy(), **TOL)  # ... and unbiased running variance


def test_dropout_scales_kept_units_like_torch():
    x = rand(2000, positive=True)
    ours = F.dropout(Tensor(x), 0.25, rng=0).data
    theirs = TF.dropout(torch.tensor(x), 0.25).numpy()
    for out in (ours, theirs):
        kept = out != 0
        np.testing.assert_allclose(out[kept], x[kept] / 0.75, **TOL)
        assert abs(kept.mean() - 0.75) < 0.04  # both keep about 1 - p of the units


def test_fans_like_torch():
    for shape in [(5, 3), (4, 3, 3, 3), (8, 2, 5, 1), (2, 7, 3)]:
        expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        assert init.fans(shape) == tuple(expected)
    for name, param in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("sigmoid", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-15
        )


# --------------------------------------------------------------------- optimisers
OPTIMISERS = {
    "sgd": (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd-momentum": (
        lambda p: SGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "sgd-nesterov-wd": (
        lambda p: SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    ),
    "sgd-dampening": (
        lambda p: SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
    ),
    "adam": (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam-wd-betas": (
        lambda p: Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
    ),
}


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_optimisers_follow_torch_over_several_steps(name):
    make_ours, make_theirs = OPTIMISERS[name]
    model = MLP([3, 5, 4], rng=0)
    ours = model.parameters()
    theirs = [torch.tensor(p.data, requires_grad=True) for p in ours]
    x, y = rand(16, 3), RNG.integers(0, 4, size=16)
    tx, ty = torch.tensor(x), torch.tensor(y)
    opt, topt = make_ours(ours), make_theirs(theirs)
    for _ in range(6):
        opt.zero_grad()
        F.cross_entropy(model(Tensor(x)), y).backward()
        opt.step()
        topt.zero_grad()
        w1, b1, w2, b2 = theirs
        TF.cross_entropy(TF.linear(torch.relu(TF.linear(tx, w1, b1)), w2, b2), ty).backward()
        topt.step()
        for p, tp in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), **TOL)
