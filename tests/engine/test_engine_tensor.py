"""Tensor core: values, gradients (by gradcheck with a random upstream), broadcasting,
batched matmul, edge conventions and the semantics of backward."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlquiz.engine import Tensor, gradcheck, no_grad
from dlquiz.engine.tensor import _unbroadcast

RNG = np.random.default_rng(1234)


def rand(*shape: int, low: float | None = None) -> np.ndarray:
    a = RNG.standard_normal(shape)
    if low is not None:  # keep away from a singular point (log, sqrt, division)
        a = np.abs(a) + low
    return a


def check(fn, *arrays: np.ndarray) -> None:
    """gradcheck with a random upstream gradient (gradcheck's default for non-scalars)."""
    result = gradcheck(fn, list(arrays), seed=7)
    assert result, result.worst


# --------------------------------------------------------------------- construction
def test_defaults_are_float64_ndarrays():
    t = Tensor([1, 2, 3])
    assert isinstance(t.data, np.ndarray)
    assert t.dtype == np.float64
    assert t.grad is None
    assert not t.requires_grad
    assert t.shape == (3,)
    assert t.ndim == 1
    assert t.size == 3
    assert len(t) == 3
    assert t.is_leaf
    assert t.op == "leaf"
    assert t.parents == ()


def test_scalar_results_are_ndarrays_not_numpy_scalars():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3.0 + x.exp()
    assert type(y.data) is np.ndarray
    y.backward()
    assert type(x.grad) is np.ndarray
    assert x.grad.shape == ()
    assert y.sum().data.shape == ()


def test_item_numpy_detach_and_repr():
    x = Tensor([[1.5]], requires_grad=True, name="W")
    assert x.item() == 1.5
    assert float(x) == 1.5
    assert x.numpy() is x.data
    d = x.detach()
    assert not d.requires_grad
    assert d.data is x.data
    assert d.is_leaf
    r = repr(x)
    assert "1.5" in r
    assert "requires_grad=True" in r
    assert "name='W'" in r
    assert "op='mul'" in repr(x * 2)
    with pytest.raises(ValueError, match="one element"):
        Tensor([1.0, 2.0]).item()


def test_parameters_copy_their_data_and_inputs_share_it():
    arr = np.array([1.0, 2.0])
    assert Tensor(arr).data is arr
    p = Tensor(arr, requires_grad=True)
    p.data -= 1.0
    np.testing.assert_array_equal(arr, [1.0, 2.0])


def test_dtype_can_be_chosen():
    t = Tensor([1, 2], dtype=np.float32, requires_grad=True)
    (t * t).sum().backward()
    assert t.data.dtype == np.float32
    assert t.grad.dtype == np.float32


def test_ndarray_on_the_left_gives_a_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x + np.array([1.0, 1.0])
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# --------------------------------------------------------------------- values
@pytest.mark.parametrize(
    ("fn", "ref"),
    [
        (lambda a, b: a + b, np.add),
        (lambda a, b: a - b, np.subtract),
        (lambda a, b: a * b, np.multiply),
        (lambda a, b: a / b, np.divide),
        (lambda a, b: a @ b.T, lambda a, b: a @ b.T),
    ],
)
def test_binary_values(fn, ref):
    a, b = rand(3, 4), rand(3, 4, low=0.5)
    np.testing.assert_allclose(fn(Tensor(a), Tensor(b)).data, ref(a, b), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("exp", np.exp),
        ("log", np.log),
        ("relu", lambda x: np.maximum(x, 0)),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        ("tanh", np.tanh),
        ("abs", np.abs),
        ("sqrt", np.sqrt),
        ("sign", np.sign),
    ],
)
def test_unary_values(name, ref):
    x = rand(4, 5, low=0.1) if name in ("log", "sqrt") else rand(4, 5)
    np.testing.assert_allclose(getattr(Tensor(x), name)().data, ref(x), rtol=1e-15, atol=0)


def test_scalar_operands_on_both_sides():
    x = Tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose((2 + x).data, [3, 4, 6])
    np.testing.assert_allclose((2 - x).data, [1, 0, -2])
    np.testing.assert_allclose((2 * x).data, [2, 4, 8])
    np.testing.assert_allclose((2 / x).data, [2, 1, 0.5])
    np.testing.assert_allclose((x**2).data, [1, 4, 16])
    np.testing.assert_allclose((2**x).data, [2, 4, 16])
    np.testing.assert_allclose((-x).data, [-1, -2, -4])
    np.testing.assert_allclose(abs(-x).data, [1, 2, 4])


def test_sigmoid_is_stable_for_large_inputs():
    x = Tensor([-1000.0, -40.0, 0.0, 40.0, 1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = x.sigmoid()
        s.sum().backward()
    np.testing.assert_allclose(s.data, [0.0, 1 / (1 + np.exp(40.0)), 0.5, 1 / (1 + np.exp(-40)), 1])
    assert np.all(np.isfinite(x.grad))


def test_pow_rejects_a_tensor_exponent():
    with pytest.raises(TypeError):
        Tensor(2.0) ** Tensor(3.0)


# --------------------------------------------------------------------- gradients
UNARY = {
    "exp": (lambda x: x.exp(), None),
    "log": (lambda x: x.log(), 0.2),
    "relu": (lambda x: x.relu(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "tanh": (lambda x: x.tanh(), None),
    "abs": (lambda x: x.abs(), None),
    "sqrt": (lambda x: x.sqrt(), 0.2),
    "sign": (lambda x: x.sign(), None),
    "neg": (lambda x: -x, None),
    "pow3": (lambda x: x**3, None),
    "pow2": (lambda x: x**2, None),
    "pow-1.5": (lambda x: x**-1.5, 0.3),
    "rpow": (lambda x: 2.5**x, None),
    "reshape": (lambda x: x.reshape(4, 3), None),
    "reshape-1": (lambda x: x.reshape((-1,)), None),
    "T": (lambda x: x.T, None),
    "transpose": (lambda x: x.transpose(0, 1), None),
    "permute": (lambda x: x.reshape(2, 3, 2).permute(2, 0, 1), None),
    "sum": (lambda x: x.sum(), None),
    "sum0": (lambda x: x.sum(axis=0), None),
    "sum1k": (lambda x: x.sum(axis=1, keepdims=True), None),
    "sum-tuple": (lambda x: x.reshape(2, 3, 2).sum(axis=(0, 2)), None),
    "mean": (lambda x: x.mean(), None),
    "mean1": (lambda x: x.mean(axis=-1), None),
    "mean0k": (lambda x: x.mean(axis=0, keepdims=True), None),
    "getitem-int": (lambda x: x[1], None),
    "getitem-slice": (lambda x: x[1:, ::2], None),
    "getitem-neg-step": (lambda x: x[::-1, 1], None),
    "getitem-fancy-repeated": (lambda x: x[[0, 2, 0, 0]], None),
    "getitem-mask": (lambda x: x[x.data > 0], None),
    "getitem-pairs": (lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 2])], None),
    "getitem-none-ellipsis": (lambda x: x[None, ..., 1], None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(name):
    fn, low = UNARY[name]
    check(fn, rand(3, 4, low=low))


BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((4,), (2, 3, 4)),
    ((), (2, 3)),
    ((2, 1, 4), (1, 3, 1)),
]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_with_broadcasting(name, shapes):
    sa, sb = shapes
    check(BINARY[name], rand(*sa), rand(*sb, low=0.5))


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_broadcast_gradients_have_the_input_shapes(shapes):
    sa, sb = shapes.input_shapes
    a, b = Tensor(rand(*sa), requires_grad=True), Tensor(rand(*sb, low=0.5), requires_grad=True)
    out = a * b / b + a
    assert out.shape == shapes.result_shape
    upstream = rand(*out.shape)
    out.backward(upstream)
    assert a.grad.shape == sa
    assert b.grad.shape == sb
    # d/da (a*b/b + a) = 2, d/db = 0: summed over the broadcast axes
    np.testing.assert_allclose(a.grad, 2 * _unbroadcast(upstream, sa), atol=1e-12)
    np.testing.assert_allclose(b.grad, 0 * b.data, atol=1e-12)


def test_unbroadcast_rejects_an_impossible_shape():
    with pytest.raises(AssertionError):
        _unbroadcast(np.ones((3, 4)), (3, 2))
    with pytest.raises(AssertionError):
        _unbroadcast(np.ones(4), (2, 4))


MATMUL_SHAPES = [
    ((3, 4), (4, 2)),
    ((5, 3, 4), (5, 4, 2)),  # batched
    ((5, 3, 4), (4, 2)),  # batch against a matrix
    ((3, 4), (5, 4, 2)),  # matrix against a batch
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dimensions
    ((4,), (4, 2)),  # vector @ matrix
    ((3, 4), (4,)),  # matrix @ vector
    ((4,), (4,)),  # dot product
    ((4,), (5, 4, 2)),
    ((5, 3, 4), (4,)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_values_and_gradients(shapes):
    sa, sb = shapes
    a, b = rand(*sa), rand(*sb)
    out = Tensor(a) @ Tensor(b)
    np.testing.assert_allclose(out.data, np.matmul(a, b), rtol=1e-14)
    check(lambda x, y: x @ y, a, b)


def test_matmul_batch_against_matrix_gradient_by_hand():
    a, b = rand(6, 3, 4), rand(4, 2)
    A, B = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    g = rand(6, 3, 2)
    (A @ B).backward(g)
    np.testing.assert_allclose(B.grad, sum(a[k].T @ g[k] for k in range(6)), rtol=1e-12)
    np.testing.assert_allclose(A.grad, g @ b.T, rtol=1e-12)


def test_matmul_with_constant_operands():
    w = Tensor(rand(4, 2), requires_grad=True)
    x = rand(3, 4)
    (x @ w).sum().backward()
    np.testing.assert_allclose(w.grad, x.T @ np.ones((3, 2)))


# --------------------------------------------------------------------- edge conventions
def test_relu_gradient_at_zero_is_zero():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_abs_and_sign_gradients():
    x = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])
    x.grad = None
    x.sign().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_sqrt_at_zero_has_infinite_gradient():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert x.grad[0] == np.inf
    assert x.grad[1] == 0.25


def test_power_zero_has_zero_gradient_even_at_zero():
    x = Tensor([0.0, 3.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# --------------------------------------------------------------------- backward semantics
def test_tensor_used_twice_accumulates():
    x = Tensor(3.0, requires_grad=True)
    (x * x + x).backward()
    assert x.grad == 7.0  # 2x + 1


def test_diamond_graph():
    x = Tensor(rand(3), requires_grad=True)
    a = x.exp()
    b = a * 2.0
    c = a.sigmoid()
    (b + c).sum().backward()
    s = 1 / (1 + np.exp(-np.exp(x.data)))
    np.testing.assert_allclose(x.grad, np.exp(x.data) * (2 + s * (1 - s)), rtol=1e-13)


def test_leaf_gradients_accumulate_across_calls_and_reset_with_none():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    y.backward()  # leaves accumulate, as in PyTorch
    assert x.grad == 8.0
    x.grad = None
    (x * 5.0).backward()
    assert x.grad == 5.0


def test_intermediate_gradients_are_those_of_the_latest_call():
    x = Tensor(2.0, requires_grad=True)
    h = x * 3.0
    y = h * h
    y.backward()
    y.backward()
    assert h.grad == 12.0  # 2h, not accumulated
    assert x.grad == 72.0  # 36 twice


def test_backward_needs_a_gradient_for_non_scalars():
    x = Tensor(rand(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="gradient of shape"):
        (x * 2).backward(np.ones(4))
    with pytest.raises(RuntimeError, match="does not require"):
        Tensor(1.0).backward()


def test_backward_with_explicit_upstream():
    x = Tensor(rand(3), requires_grad=True)
    g = np.array([1.0, -2.0, 0.5])
    (x * 3.0).backward(g)
    np.testing.assert_allclose(x.grad, 3 * g)
    g[0] = 100.0  # the caller's array is not aliased by the leaf's gradient
    np.testing.assert_allclose(x.grad, [3.0, -6.0, 1.5])
    z = Tensor(rand(3), requires_grad=True)
    z.backward(g)  # backward on a leaf itself
    g[1] = 7.0
    assert z.grad[1] == -2.0


def test_leaf_gradients_own_their_memory():
    x = Tensor(rand(3), requires_grad=True)
    y = Tensor(rand(3), requires_grad=True)
    s = Tensor(rand(2, 3), requires_grad=True)
    (x + y + s.sum(axis=0)).sum().backward()
    x.grad *= 10.0  # in place on one leaf's gradient ...
    np.testing.assert_array_equal(y.grad, np.ones(3))  # ... leaves the other's alone
    s.grad[0, 0] = 5.0  # a broadcast gradient is a writable array of its own
    assert s.grad[1, 0] == 1.0


def test_only_tensors_that_require_grad_get_one():
    x = Tensor(rand(3))
    w = Tensor(rand(3), requires_grad=True)
    (x * w).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, x.data)


def test_no_grad_records_nothing():
    w = Tensor(rand(3), requires_grad=True)
    with no_grad():
        y = w * 2
    assert not y.requires_grad
    assert y.parents == ()
    assert (w * 2).requires_grad


def test_detach_stops_the_gradient():
    x = Tensor(2.0, requires_grad=True)
    (x * x.detach()).backward()
    assert x.grad == 2.0


def test_deep_chain_does_not_hit_the_recursion_limit():
    depth = 10_000
    assert depth > sys.getrecursionlimit()
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(depth):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**depth, rtol=1e-10)
    y = x
    for _ in range(depth):  # a chain mixing several ops
        y = (y + 1.0).tanh()
    y.backward()
    assert np.isfinite(x.grad)
    del y  # freeing a deep graph must not overflow the C stack either


def test_requires_grad_can_be_switched_on_a_leaf():
    x = Tensor(3.0).requires_grad_()
    (x * x).backward()
    assert x.grad == 6.0
    with pytest.raises(RuntimeError):
        (x * 2).requires_grad_(False)


def test_gradcheck_of_a_composite_expression():
    # the notes' autograd example: L = (y - (W_o relu(W_n x + b_n) + b_o))^2
    def loss(wn, bn, wo, bo):
        x = Tensor(np.array([0.5, -1.0, 2.0]))
        h = (wn @ x + bn).relu()
        o = wo @ h + bo
        return ((Tensor(1.5) - o) ** 2).sum()

    check(loss, rand(4, 3), rand(4), rand(1, 4), rand(1))


@settings(max_examples=20, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda n: hnp.arrays(np.float64, (n, 3), elements=st.floats(-3, 3, width=64))
    )
)
def test_softplus_like_expression_gradient(x):
    # log(1 + exp(x)) written with primitives; derivative sigmoid(x)
    t = Tensor(x, requires_grad=True)
    (t.exp() + 1.0).log().sum().backward()
    np.testing.assert_allclose(t.grad, 1 / (1 + np.exp(-x)), rtol=1e-12)
