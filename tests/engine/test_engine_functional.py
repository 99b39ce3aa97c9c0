"""functional: values against direct loop implementations of the notes' formulas, gradients
by gradcheck (random upstream), and the tie and edge conventions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import dlquiz.engine.functional as F
from dlquiz.engine import Tensor, gradcheck

RNG = np.random.default_rng(99)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def check(fn, *arrays: np.ndarray, **kw) -> None:
    result = gradcheck(fn, list(arrays), seed=3, **kw)
    assert result, result.worst


# --------------------------------------------------------------------- loop references
def conv_loops(x, w, b, stride, padding):
    """The notes' H_ijd = sum_{a,b,c} V_abcd X_{i+a, j+b, c}, pixel by pixel."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    ho, wo = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, o, ho, wo))
    for ni, d, i, j in itertools.product(range(n), range(o), range(ho), range(wo)):
        patch = xp[ni, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
        out[ni, d, i, j] = np.sum(patch * w[d]) + (0.0 if b is None else b[d])
    return out


def pool_loops(x, k, s, p, reduce):
    n, c, h, wd = x.shape
    fill = -np.inf if reduce is np.max else 0.0
    xp = np.full((n, c, h + 2 * p, wd + 2 * p), fill)
    xp[:, :, p : p + h, p : p + wd] = x
    ho, wo = (h + 2 * p - k) // s + 1, (wd + 2 * p - k) // s + 1
    out = np.zeros((n, c, ho, wo))
    for i, j in itertools.product(range(ho), range(wo)):
        out[:, :, i, j] = reduce(xp[:, :, i * s : i * s + k, j * s : j * s + k], axis=(2, 3))
    return out


# --------------------------------------------------------------------- convolution
CONV_CASES = [
    # (x shape, w shape, stride, padding)
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 0),
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1),
    ((2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
    ((1, 2, 8, 8), (3, 2, 2, 2), 2, 0),
    ((1, 2, 9, 7), (2, 2, 3, 3), 3, 2),  # stride 3, windows that leave rows uncovered
    ((1, 2, 5, 5), (2, 2, 3, 3), 1, 3),  # padding larger than kernel - 1
    ((2, 2, 6, 5), (3, 2, 1, 1), 1, 0),  # 1x1 convolution (ResNet projection)
    ((1, 1, 6, 7), (2, 1, 3, 2), (2, 1), (1, 0)),  # rectangular kernel, per-axis settings
    ((1, 2, 5, 5), (2, 2, 5, 5), 1, 0),  # kernel as large as the input
]


@pytest.mark.parametrize(("xs", "ws", "stride", "padding"), CONV_CASES, ids=str)
def test_conv2d_matches_the_notes_formula(xs, ws, stride, padding):
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), stride=stride, padding=padding)
    ref = conv_loops(x, w, b, F._pair(stride), F._pair(padding))
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("xs", "ws", "stride", "padding"), CONV_CASES, ids=str)
def test_conv2d_gradients(xs, ws, stride, padding):
    check(
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding),
        rand(*xs),
        rand(*ws),
        rand(ws[0]),
    )


def test_conv2d_without_bias_and_with_constant_input():
    x = Tensor(rand(1, 2, 5, 5))
    w = Tensor(rand(3, 2, 3, 3), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None
    assert w.grad.shape == (3, 2, 3, 3)


def test_conv2d_small_integer_example():
    # a 3x3 image, a 2x2 kernel: each output is the dot product with a window
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    out = F.conv2d(Tensor(x), Tensor(w))
    np.testing.assert_array_equal(out.data[0, 0], [[0 - 4, 1 - 5], [3 - 7, 4 - 8]])


def test_conv2d_rejects_bad_shapes():
    with pytest.raises(ValueError, match="channels"):
        F.conv2d(Tensor(rand(1, 2, 5, 5)), Tensor(rand(1, 3, 3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        F.conv2d(Tensor(rand(1, 1, 2, 2)), Tensor(rand(1, 1, 3, 3)))


# --------------------------------------------------------------------- pooling
POOL_CASES = [
    # (kernel, stride, padding): non-overlapping, overlapping, padded, uneven coverage
    (2, None, 0),
    (2, 1, 0),
    (3, 1, 1),
    (3, 2, 1),
    (3, 2, 0),
    (2, 3, 1),
]


@pytest.mark.parametrize(("k", "s", "p"), POOL_CASES, ids=str)
def test_pooling_values(k, s, p):
    x = rand(2, 3, 7, 6)
    stride = k if s is None else s
    got = F.max_pool2d(Tensor(x), k, s, p).data
    np.testing.assert_array_equal(got, pool_loops(x, k, stride, p, np.max))
    got = F.avg_pool2d(Tensor(x), k, s, p).data
    np.testing.assert_allclose(got, pool_loops(x, k, stride, p, np.sum) / (k * k), atol=1e-14)


@pytest.mark.parametrize(("k", "s", "p"), POOL_CASES, ids=str)
def test_pooling_gradients(k, s, p):
    x = rand(2, 2, 7, 6)  # distinct values: no ties, so max-pool is differentiable
    check(lambda t: F.max_pool2d(t, k, s, p), x)
    check(lambda t: F.avg_pool2d(t, k, s, p), x)


def test_max_pool_tie_goes_to_the_first_maximum_in_row_major_order():
    x = Tensor(np.array([[[[1.0, 3.0], [3.0, 3.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).backward(np.array([[[[5.0]]]]))
    np.testing.assert_array_equal(x.grad[0, 0], [[0.0, 5.0], [0.0, 0.0]])


def test_max_pool_ties_in_overlapping_windows():
    # all equal: every 2x2 window (stride 1) sends its gradient to its top-left element
    x = Tensor(np.zeros((1, 1, 3, 3)), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_max_pool_overlapping_windows_accumulate():
    # the centre is the maximum of all four 2x2 windows
    x = Tensor(np.array([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]]), True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad[0, 0, 1, 1] == 4.0
    assert x.grad.sum() == 4.0


def test_max_pool_padding_never_wins():
    x = Tensor(-np.ones((1, 1, 2, 2)) * 5, requires_grad=True)
    out = F.max_pool2d(x, 3, stride=1, padding=1)
    np.testing.assert_array_equal(out.data, -5 * np.ones((1, 1, 2, 2)))


def test_avg_pool_counts_padding():
    x = Tensor(np.ones((1, 1, 2, 2)))
    out = F.avg_pool2d(x, 2, stride=1, padding=1)
    # corner windows hold one real 1 and three padded zeros
    np.testing.assert_allclose(
        out.data[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    )


def test_pooling_rejects_padding_over_half_the_kernel():
    with pytest.raises(ValueError, match="half"):
        F.max_pool2d(Tensor(rand(1, 1, 4, 4)), 2, padding=2)


# --------------------------------------------------------------------- batch norm
def bn_reference(x, gamma, beta, eps):
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return gamma.reshape(shape) * (x - mu) / np.sqrt(var + eps) + beta.reshape(shape)


@pytest.mark.parametrize("shape", [(6, 4), (5, 3, 4), (4, 3, 3, 2)], ids=str)
def test_batch_norm_train_values_and_running_statistics(shape):
    x, gamma, beta = rand(*shape) * 2 + 1, rand(shape[1]), rand(shape[1])
    rm, rv = np.zeros(shape[1]), np.ones(shape[1])
    out = F.batch_norm(Tensor(x), Tensor(gamma), Tensor(beta), rm, rv, momentum=0.2, eps=1e-3)
    np.testing.assert_allclose(out.data, bn_reference(x, gamma, beta, 1e-3), rtol=1e-12)
    axes = (0, *range(2, x.ndim))
    n = x.size // shape[1]
    np.testing.assert_allclose(rm, 0.2 * x.mean(axis=axes), rtol=1e-12)
    unbiased = x.var(axis=axes) * n / (n - 1)
    np.testing.assert_allclose(rv, 0.8 + 0.2 * unbiased, rtol=1e-12)


@pytest.mark.parametrize("shape", [(6, 4), (5, 3, 4), (4, 3, 3, 2)], ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_gradients(shape, training):
    c = shape[1]
    rm, rv = rand(c), np.abs(rand(c)) + 0.5

    def bn(x, gamma, beta):
        return F.batch_norm(x, gamma, beta, rm.copy(), rv.copy(), training=training)

    check(bn, rand(*shape), rand(c), rand(c))


def test_batch_norm_without_affine_parameters():
    x = rand(8, 3)
    out = F.batch_norm(Tensor(x))
    np.testing.assert_allclose(out.data.mean(axis=0), 0, atol=1e-12)
    check(lambda t: F.batch_norm(t), x)


def test_batch_norm_eval_uses_running_statistics():
    x = rand(4, 2)
    rm, rv = np.array([1.0, -1.0]), np.array([4.0, 0.25])
    out = F.batch_norm(Tensor(x), None, None, rm, rv, training=False, eps=0.0)
    np.testing.assert_allclose(out.data, (x - rm) / np.sqrt(rv))
    with pytest.raises(ValueError, match="running"):
        F.batch_norm(Tensor(x), training=False)
    with pytest.raises(ValueError, match="more than one"):
        F.batch_norm(Tensor(rand(1, 3)))


# --------------------------------------------------------------------- softmax family
def test_softmax_values_and_stability():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]])
    s = F.softmax(Tensor(x)).data
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(s[0], e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(s[1], [0.5, 0.5, 0.0])
    log_s = F.log_softmax(Tensor(x)).data
    np.testing.assert_allclose(log_s[0], np.log(s[0]), rtol=1e-14)
    np.testing.assert_allclose(log_s[1], [-np.log(2), -np.log(2), -2000 - np.log(2)], rtol=1e-14)
    np.testing.assert_allclose(F.logsumexp(Tensor(x)).data, [np.log(e.sum()), 1000 + np.log(2)])


def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    out = F.logsumexp(Tensor([[-np.inf, -np.inf], [0.0, -np.inf]]), axis=1)
    np.testing.assert_array_equal(out.data, [-np.inf, 0.0])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.softmax(x),
        lambda x: F.softmax(x, axis=0),
        lambda x: F.log_softmax(x),
        lambda x: F.log_softmax(x, axis=1),
        lambda x: F.logsumexp(x),
        lambda x: F.logsumexp(x, axis=0, keepdims=True),
        lambda x: F.logsumexp(x, axis=(0, 2)),
        lambda x: F.logsumexp(x, axis=None),
    ],
)
def test_softmax_family_gradients(fn):
    check(fn, rand(3, 4, 2))


def test_cross_entropy_value_and_the_notes_gradient():
    logits = rand(5, 4)
    y = np.array([0, 3, 1, 1, 2])
    z = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(z, y)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss.item(), -np.log(p[np.arange(5), y]).mean(), rtol=1e-14)
    loss.backward()
    np.testing.assert_allclose(z.grad, (p - np.eye(4)[y]) / 5, rtol=1e-13)  # softmax - y


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradients(reduction):
    y = np.array([2, 0, 1, 2])
    check(lambda z: F.cross_entropy(z, y, reduction=reduction), rand(4, 3) * 3)


def test_cross_entropy_is_stable_and_validates_labels():
    loss = F.cross_entropy(Tensor([[1000.0, 0.0]]), [1])
    assert loss.item() == pytest.approx(1000.0)
    with pytest.raises(ValueError, match="lie in"):
        F.cross_entropy(Tensor(rand(2, 3)), [0, 3])
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(Tensor(rand(2, 3)), [0.5, 1.0])
    with pytest.raises(ValueError, match="labels of shape"):
        F.cross_entropy(Tensor(rand(2, 3)), [0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(reduction):
    p, t = rand(3, 2), rand(3, 2)
    out = F.mse_loss(Tensor(p), Tensor(t), reduction=reduction)
    ref = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]((p - t) ** 2)
    np.testing.assert_allclose(out.data, ref, rtol=1e-14)
    check(lambda a, b: F.mse_loss(a, b, reduction=reduction), p, t)


# --------------------------------------------------------------------- activations etc.
@pytest.mark.parametrize("fn", [F.relu, F.sigmoid, F.tanh])
def test_activation_gradients(fn):
    check(fn, rand(3, 4))


def test_linear_is_x_wt_plus_b():
    x, w, b = rand(5, 3), rand(2, 3), rand(2)
    np.testing.assert_allclose(F.linear(Tensor(x), Tensor(w), Tensor(b)).data, x @ w.T + b)
    check(F.linear, x, w, b)
    check(lambda v, w: F.linear(v, w), rand(3), w)  # a single sample, no bias


@pytest.mark.parametrize("fn", [F.maximum, F.minimum])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1), (1, 3))], ids=str)
def test_maximum_minimum_gradients_without_ties(fn, shapes):
    check(fn, rand(*shapes[0]), rand(*shapes[1]))


def test_maximum_minimum_tie_rule_first_argument():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([2.0, 2.0, 1.0], requires_grad=True)
    out = F.maximum(a, b)
    np.testing.assert_array_equal(out.data, [2.0, 2.0, 3.0])
    out.backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(a.grad, [0.0, 20.0, 30.0])  # tie at index 1 -> a
    np.testing.assert_array_equal(b.grad, [10.0, 0.0, 0.0])
    a.grad = b.grad = None
    out = F.minimum(a, b)
    np.testing.assert_array_equal(out.data, [1.0, 2.0, 1.0])
    out.backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(a.grad, [10.0, 20.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 30.0])


def test_relu_via_maximum_with_a_scalar():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    F.maximum(x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])  # tie at 0 goes to x


def test_step_is_heaviside_with_zero_at_zero_and_zero_gradient():
    x = Tensor([-1.0, 0.0, 0.5], requires_grad=True)
    out = F.step(x)
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_dropout_gradient_uses_the_same_mask():
    x = Tensor(rand(50), requires_grad=True)
    out = F.dropout(x, 0.3, rng=5)
    out.backward(np.ones(50))
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], x.data[kept] / 0.7, rtol=1e-15)
    np.testing.assert_allclose(x.grad, kept / 0.7, rtol=1e-15)
    check(lambda t: F.dropout(t, 0.3, rng=np.random.default_rng(1)), rand(4, 5))


def test_dropout_edge_cases():
    x = Tensor(rand(10))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0, rng=0).data, np.zeros(10))
    with pytest.raises(ValueError, match="probability"):
        F.dropout(x, 1.5)


# --------------------------------------------------------------------- floor, ceil, diag
@pytest.mark.parametrize(("fn", "ref"), [(F.floor, np.floor), (F.ceil, np.ceil)])
def test_floor_and_ceil_values_and_zero_gradient(fn, ref) -> None:
    x = np.array([[-2.0, -1.5, -0.0], [0.5, 1.0, 2.999]])
    t = Tensor(x, requires_grad=True)
    out = fn(t)
    assert np.array_equal(out.data, ref(x))
    (out * 3.0).sum().backward()
    assert np.array_equal(t.grad, np.zeros_like(x))
    assert not fn(Tensor(x)).requires_grad


def test_diag_of_a_vector_and_of_a_matrix() -> None:
    v = rand(4)
    assert np.array_equal(F.diag(Tensor(v)).data, np.diag(v))
    m = rand(3, 5)
    assert np.array_equal(F.diag(Tensor(m)).data, np.diagonal(m))
    check(F.diag, rand(4))
    check(F.diag, rand(3, 5))
    check(F.diag, rand(5, 3))
    with pytest.raises(ValueError, match="1-d or 2-d"):
        F.diag(Tensor(rand(2, 2, 2)))


def test_diag_embed_batches_the_last_axis() -> None:
    v = rand(2, 3, 4)
    out = F.diag_embed(Tensor(v)).data
    assert out.shape == (2, 3, 4, 4)
    for i in range(2):
        for j in range(3):
            assert np.array_equal(out[i, j], np.diag(v[i, j]))
    check(F.diag_embed, rand(2, 4))
