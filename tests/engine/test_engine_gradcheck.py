"""gradcheck itself: it passes correct gradients, catches wrong ones, and leaves its inputs
as it found them."""

from __future__ import annotations

import numpy as np
import pytest

import dlquiz.engine.functional as F
from dlquiz.engine import GradcheckResult, Tensor, gradcheck
from dlquiz.engine.tensor import _accum, _make


def wrong_square(x: Tensor) -> Tensor:
    """x^2 with a deliberately wrong backward (x instead of 2x)."""

    def backward(g: np.ndarray) -> None:
        _accum(x, g * x.data)

    return _make(x.data**2, (x,), "square", backward)


def averaged_backward(x: Tensor) -> Tensor:
    """2x whose backward averages the upstream gradient: right only for a constant upstream."""

    def backward(g: np.ndarray) -> None:
        _accum(x, 2.0 * np.full_like(g, g.mean()))

    return _make(2.0 * x.data, (x,), "double", backward)


def test_passes_a_correct_gradient():
    result = gradcheck(lambda x, y: (x * y).tanh(), [np.array([0.3, -1.2]), np.array([2.0, 0.5])])
    assert isinstance(result, GradcheckResult)
    assert result
    assert result.ok
    assert result.max_abs_error < 1e-8
    assert len(result.analytic) == len(result.numeric) == 2


def test_catches_a_wrong_gradient():
    result = gradcheck(wrong_square, [np.array([1.0, 2.0, -3.0])], upstream=np.ones(3))
    assert not result
    assert result.max_abs_error == pytest.approx(3.0, rel=1e-6)  # |x - 2x| at x = -3
    assert not gradcheck(wrong_square, [np.array([1.0, 2.0, -3.0])])
    assert "analytic" in result.worst
    with pytest.raises(AssertionError, match="gradcheck failed"):
        gradcheck(wrong_square, [np.array([1.0])], raise_exception=True)


def test_random_upstream_catches_what_an_all_ones_upstream_hides():
    x = np.array([[0.5, -1.0], [2.0, 1.5]])
    assert gradcheck(averaged_backward, [x], upstream=np.ones((2, 2)))  # fooled
    assert not gradcheck(averaged_backward, [x])  # the default random upstream is not


def test_nondifferentiable_points_fail_as_they_should():
    # the Heaviside step's gradient is 0, but a centred difference across 0 is huge
    assert not gradcheck(F.step, [np.array([0.0, 1.0])])
    # at a tie, maximum's gradient goes to the first argument; the centred difference is 1/2
    assert not gradcheck(F.maximum, [np.array([1.0]), np.array([1.0])])
    assert gradcheck(F.maximum, [np.array([1.0]), np.array([0.5])])


def test_inputs_are_restored():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = np.array([5.0, 5.0])
    data = x.data
    gradcheck(lambda t: t**3, [x])
    assert x.data is data
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_only_inputs_that_require_grad_are_checked():
    c = Tensor(np.array([2.0, 3.0]))
    result = gradcheck(lambda x, c: x * c, [np.array([1.0, 1.0]), c])
    assert result
    assert len(result.analytic) == 1
    with pytest.raises(ValueError, match="at least one"):
        gradcheck(lambda c: c * 2, [c])
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [Tensor([1.0], requires_grad=True, dtype=np.float32)])
