"""Operations of the course notes beyond the Tensor methods, with PyTorch's semantics.

Fused operations (softmax, cross-entropy, convolution, pooling, batch norm) compute their
backward from saved intermediates rather than through a chain of elementary ops: it is
faster, numerically stable, and the graph shows one node per idea of the notes.

Edge conventions (exam problems use small integers, so ties and zeros are common):

- ``relu'(0) = 0`` (the notes' definition, also PyTorch's).
- ``maximum(a, b)`` / ``minimum(a, b)``: on a tie the whole gradient goes to the *first*
  argument ``a``. (PyTorch splits a tie half and half; a problem with ties must say which.)
- ``step(x)``: Heaviside with ``step(0) = 0``; its gradient is 0 everywhere.
- ``floor(x)``, ``ceil(x)``: gradient 0 everywhere (PyTorch's, also at the jumps).
- ``diag(v)``: PyTorch's ``torch.diag`` (a 1-d vector to its diagonal matrix, a 2-d matrix
  to its diagonal); ``diag_embed(v)``: ``torch.diag_embed``, the last axis to a diagonal
  matrix (batched vectors, as the expression engine holds them).
- ``max_pool2d``: the gradient of a window goes to its *first* maximum in row-major order
  (PyTorch's rule); padding is -inf, so it never wins.
- ``avg_pool2d`` counts padded zeros in the average (``count_include_pad=True``).
- ``batch_norm``: normalises with the biased batch variance, ``eps`` inside the square root
  (PyTorch; the notes write sigma + eps), and updates the running variance with the unbiased
  one. ``dropout`` is inverted: kept units are scaled by 1/(1-p).
- ``mse_loss`` is the mean of squares, without the notes' 1/2 of linear regression.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .tensor import Tensor, _accum, _const, _make, _wants_grad

Axis = int | tuple[int, ...] | None


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _const(x)


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(v, int | np.integer):
        return int(v), int(v)
    a, b = v
    return int(a), int(b)


# --------------------------------------------------------------------- activations
def relu(x: Tensor) -> Tensor:
    """max(x, 0) with relu'(0) = 0."""
    return _t(x).relu()


def sigmoid(x: Tensor) -> Tensor:
    return _t(x).sigmoid()


def tanh(x: Tensor) -> Tensor:
    return _t(x).tanh()


def step(x: Tensor) -> Tensor:
    """Heaviside step: 1 where x > 0, else 0 (so step(0) = 0); its gradient is 0."""
    a = _t(x)
    data = (a.data > 0).astype(a.data.dtype)
    if not _wants_grad(a):
        return _make(data, (a,), "step", None)

    def backward(g: np.ndarray) -> None:
        _accum(a, np.zeros_like(a.data))

    return _make(data, (a,), "step", backward)


def _piecewise_constant(x: Tensor, data: np.ndarray, op: str) -> Tensor:
    """An operation that is constant between its jumps: its gradient is 0 everywhere."""
    a = _t(x)
    if not _wants_grad(a):
        return _make(data, (a,), op, None)

    def backward(g: np.ndarray) -> None:
        _accum(a, np.zeros_like(a.data))

    return _make(data, (a,), op, backward)


def floor(x: Tensor) -> Tensor:
    """The largest whole number <= x, entry by entry (torch.floor); its gradient is 0."""
    a = _t(x)
    return _piecewise_constant(a, np.floor(a.data), "floor")


def ceil(x: Tensor) -> Tensor:
    """The smallest whole number >= x, entry by entry (torch.ceil); its gradient is 0."""
    a = _t(x)
    return _piecewise_constant(a, np.ceil(a.data), "ceil")


def diag(x: Tensor) -> Tensor:
    """torch.diag: a vector (1-d) to its diagonal matrix, a matrix (2-d) to its diagonal."""
    a = _t(x)
    if a.data.ndim == 1:
        data = np.diag(a.data)
    elif a.data.ndim == 2:
        data = np.diagonal(a.data).copy()
    else:
        raise ValueError(f"diag takes a 1-d or 2-d tensor, not {a.data.ndim}-d")
    if not _wants_grad(a):
        return _make(data, (a,), "diag", None)

    def backward(g: np.ndarray) -> None:
        if a.data.ndim == 1:
            _accum(a, np.diagonal(g).copy())
        else:
            full = np.zeros_like(a.data)
            k = min(a.data.shape)
            full[np.arange(k), np.arange(k)] = g
            _accum(a, full)

    return _make(data, (a,), "diag", backward)


def diag_embed(x: Tensor) -> Tensor:
    """torch.diag_embed: the last axis (n entries) becomes an n x n diagonal matrix."""
    a = _t(x)
    n = a.data.shape[-1]
    idx = np.arange(n)
    data = np.zeros((*a.data.shape, n), dtype=a.data.dtype)
    data[..., idx, idx] = a.data
    if not _wants_grad(a):
        return _make(data, (a,), "diag_embed", None)

    def backward(g: np.ndarray) -> None:
        _accum(a, g[..., idx, idx])

    return _make(data, (a,), "diag_embed", backward)


def _select(a: Tensor, b: Tensor, take_a: np.ndarray, data: np.ndarray, op: str) -> Tensor:
    if not _wants_grad(a, b):
        return _make(data, (a, b), op, None)

    def backward(g: np.ndarray) -> None:
        if a.requires_grad:
            _accum(a, np.where(take_a, g, 0.0))
        if b.requires_grad:
            _accum(b, np.where(take_a, 0.0, g))

    return _make(data, (a, b), op, backward)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max with broadcasting; on a tie the gradient goes to ``a`` (first)."""
    a, b = _t(a), _t(b)
    take_a = a.data >= b.data
    return _select(a, b, take_a, np.where(take_a, a.data, b.data), "maximum")


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min with broadcasting; on a tie the gradient goes to ``a`` (first)."""
    a, b = _t(a), _t(b)
    take_a = a.data <= b.data
    return _select(a, b, take_a, np.where(take_a, a.data, b.data), "minimum")


# --------------------------------------------------------------------- softmax family
def _stable_max(x: np.ndarray, axis: Axis) -> np.ndarray:
    """Row maxima for the log-sum-exp shift; a row of -inf shifts by 0 instead of NaN."""
    m = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x_i) / sum_k exp(x_k) along ``axis``, shifted by the maximum for stability."""
    a = _t(x)
    e = np.exp(a.data - _stable_max(a.data, axis))
    s = e / e.sum(axis=axis, keepdims=True)
    if not _wants_grad(a):
        return _make(s, (a,), "softmax", None)

    def backward(g: np.ndarray) -> None:
        _accum(a, s * (g - (g * s).sum(axis=axis, keepdims=True)))

    return _make(s, (a,), "softmax", backward)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x_i - logsumexp(x) along ``axis``."""
    a = _t(x)
    z = a.data - _stable_max(a.data, axis)
    out = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    if not _wants_grad(a):
        return _make(out, (a,), "log_softmax", None)

    def backward(g: np.ndarray) -> None:
        _accum(a, g - np.exp(out) * g.sum(axis=axis, keepdims=True))

    return _make(out, (a,), "log_softmax", backward)


def logsumexp(x: Tensor, axis: Axis = -1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) along ``axis`` (an int, a tuple, or None for all), stably."""
    a = _t(x)
    if isinstance(axis, list):
        axis = tuple(axis)
    m = _stable_max(a.data, axis)
    with np.errstate(divide="ignore"):  # a row of -inf has logsumexp -inf
        kept = m + np.log(np.exp(a.data - m).sum(axis=axis, keepdims=True))
    out = kept if keepdims else _squeeze(kept, axis, a.data.ndim)
    if not _wants_grad(a):
        return _make(out, (a,), "logsumexp", None)

    def backward(g: np.ndarray) -> None:
        gk = g if keepdims else g.reshape(kept.shape)
        _accum(a, gk * np.exp(a.data - kept))

    return _make(out, (a,), "logsumexp", backward)


def _squeeze(a: np.ndarray, axis: Axis, ndim: int) -> np.ndarray:
    if axis is None:
        return a.reshape(())
    axes = (axis,) if isinstance(axis, int | np.integer) else axis
    return a.squeeze(tuple(ax % ndim for ax in axes))


# --------------------------------------------------------------------- losses
def _labels(labels: Any) -> np.ndarray:
    y = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.intp)
        else:
            raise TypeError("cross_entropy needs integer class labels")
    return y


def cross_entropy(logits: Tensor, labels: Any, reduction: str = "mean") -> Tensor:
    """-log softmax(logits)[label] for logits (N, C) and integer labels (N,).

    ``reduction`` is "mean" (over the batch, the default), "sum" or "none". The gradient
    with respect to the logits is (softmax - one_hot) / N, as in the notes.
    """
    z = _t(logits)
    if z.data.ndim != 2:
        raise ValueError(f"cross_entropy needs logits of shape (N, C), not {z.shape}")
    y = _labels(labels)
    n, c = z.data.shape
    if y.shape != (n,):
        raise ValueError(f"labels of shape {y.shape} for logits of shape {z.shape}")
    if n and (y.min() < 0 or y.max() >= c):
        raise ValueError(f"labels must lie in [0, {c})")
    rows = np.arange(n)
    shifted = z.data - _stable_max(z.data, 1)
    e = np.exp(shifted)
    sums = e.sum(axis=1)
    losses = np.log(sums) - shifted[rows, y]
    if reduction == "mean":
        data = np.asarray(losses.mean())
    elif reduction == "sum":
        data = np.asarray(losses.sum())
    elif reduction == "none":
        data = losses
    else:
        raise ValueError(f"unknown reduction {reduction!r}")
    if not _wants_grad(z):
        return _make(data, (z,), "cross_entropy", None)

    def backward(g: np.ndarray) -> None:
        d = e / sums[:, None]
        d[rows, y] -= 1.0
        if reduction == "mean":
            d *= g / n
        elif reduction == "sum":
            d *= g
        else:
            d *= g[:, None]
        _accum(z, d)

    return _make(data, (z,), "cross_entropy", backward)


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """(pred - target)^2 averaged ("mean"), summed ("sum") or elementwise ("none")."""
    sq = (_t(pred) - target) ** 2
    if reduction == "mean":
        return sq.mean()
    if reduction == "sum":
        return sq.sum()
    if reduction == "none":
        return sq
    raise ValueError(f"unknown reduction {reduction!r}")


# --------------------------------------------------------------------- layers as functions
def linear(x: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    """x @ W.T + b, with W of shape (out, in) as in PyTorch (the notes' W x + b, batched)."""
    out = _t(x) @ W.T
    return out if b is None else out + b


def dropout(x: Tensor, p: float = 0.5, training: bool = True, rng: Any = None) -> Tensor:
    """Inverted dropout: zero each unit with probability p, scale the rest by 1/(1-p).

    So E[dropout(x)] = x. ``rng`` is a numpy Generator or a seed; outside training, or with
    p = 0, it returns ``x`` itself.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must lie in [0, 1], not {p}")
    a = _t(x)
    if not training or p == 0.0:
        return a
    rng = np.random.default_rng(rng)
    if p == 1.0:
        scale = np.zeros_like(a.data)
    else:
        scale = (rng.random(a.data.shape) >= p) * (1.0 / (1.0 - p))
    data = a.data * scale
    if not _wants_grad(a):
        return _make(data, (a,), "dropout", None)

    def backward(g: np.ndarray) -> None:
        _accum(a, g * scale)

    return _make(data, (a,), "dropout", backward)


def batch_norm(
    x: Tensor,
    gamma: Tensor | None = None,
    beta: Tensor | None = None,
    running_mean: Any = None,
    running_var: Any = None,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of x (N, C) or (N, C, ...) per channel C, as PyTorch.

    Training normalises with the batch mean and *biased* variance,
    gamma * (x - mean) / sqrt(var + eps) + beta, and updates ``running_mean`` and
    ``running_var`` (ndarrays or Tensors, modified in place) as
    (1 - momentum) * running + momentum * batch, using the *unbiased* batch variance.
    Evaluation normalises with the running statistics.
    """
    a = _t(x)
    xd = a.data
    if xd.ndim < 2:
        raise ValueError(f"batch_norm needs input of shape (N, C, ...), not {a.shape}")
    c = xd.shape[1]
    axes = (0, *range(2, xd.ndim))
    bshape = (1, c) + (1,) * (xd.ndim - 2)
    rm = running_mean.data if isinstance(running_mean, Tensor) else running_mean
    rv = running_var.data if isinstance(running_var, Tensor) else running_var
    if training:
        n = xd.size // c
        if n <= 1:
            raise ValueError("batch_norm in training needs more than one value per channel")
        mean = xd.mean(axis=axes)
        xc = xd - mean.reshape(bshape)
        var = (xc * xc).mean(axis=axes)
        if rm is not None:
            rm *= 1.0 - momentum
            rm += momentum * mean
        if rv is not None:
            rv *= 1.0 - momentum
            rv += momentum * var * (n / (n - 1))
    else:
        if rm is None or rv is None:
            raise ValueError("batch_norm in evaluation needs running_mean and running_var")
        n = xd.size // c
        xc = xd - np.asarray(rm).reshape(bshape)
        var = np.asarray(rv)
    invstd = 1.0 / np.sqrt(var + eps)
    xhat = xc * invstd.reshape(bshape)
    out = xhat
    if gamma is not None:
        out = out * gamma.data.reshape(bshape)
    if beta is not None:
        out = out + beta.data.reshape(bshape)
    if out is xhat:
        out = xhat.copy()
    parents = tuple(t for t in (a, gamma, beta) if t is not None)
    if not _wants_grad(*parents):
        return _make(out, parents, "batch_norm", None)

    def backward(g: np.ndarray) -> None:
        if beta is not None and beta.requires_grad:
            _accum(beta, g.sum(axis=axes))
        if gamma is not None and gamma.requires_grad:
            _accum(gamma, (g * xhat).sum(axis=axes))
        if a.requires_grad:
            dxhat = g if gamma is None else g * gamma.data.reshape(bshape)
            if training:
                s1 = dxhat.sum(axis=axes, keepdims=True)
                s2 = (dxhat * xhat).sum(axis=axes, keepdims=True)
                dx = (dxhat - s1 / n - xhat * (s2 / n)) * invstd.reshape(bshape)
            else:
                dx = dxhat * invstd.reshape(bshape)
            _accum(a, dx)

    return _make(out, parents, "batch_norm", backward)


# --------------------------------------------------------------------- convolution
def _pad2d(x: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes; negative amounts crop instead (used by the input gradient)."""
    if ph == 0 and pw == 0:
        return x
    if ph < 0 or pw < 0:
        x = x[..., max(-ph, 0) : x.shape[-2] - max(-ph, 0), max(-pw, 0) : x.shape[-1] - max(-pw, 0)]
        ph, pw = max(ph, 0), max(pw, 0)
        if ph == 0 and pw == 0:
            return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _im2col(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """Windows of a padded (N, C, Hp, Wp) array as columns (N, C*kh*kw, Ho*Wo).

    Channel-major columns keep the copy contiguous in the output pixels, which is the
    cheapest layout for the sliding-window view to be materialised in.
    """
    n, c = xp.shape[:2]
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    ho, wo = win.shape[2:4]
    cols = np.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3))
    return cols.reshape(n, c * kh * kw, ho * wo)


def _out_size(size: int, k: int, s: int, p: int) -> int:
    out = (size + 2 * p - k) // s + 1
    if out <= 0:
        raise ValueError(f"kernel {k} with padding {p} does not fit an input of size {size}")
    return out


def conv2d(
    x: Tensor,
    w: Tensor,
    b: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """2-d cross-correlation (no kernel flip), NCHW, weights (out, in, kh, kw), as PyTorch.

    H[n, d, i, j] = sum_{c, a, b} V[d, c, a, b] X[n, c, i*s + a - p, j*s + b - p] (+ bias),
    the notes' H_ijd with offsets counted from the window's corner.

    Forward: im2col (a sliding-window view copied once) and one batched GEMM. Backward: the
    weight gradient reuses those columns; the input gradient is, for stride 1, the same
    sliding-window GEMM on the padded output gradient with the flipped kernel, and for larger
    strides a GEMM followed by a loop over the kh*kw window offsets (never over pixels).
    """
    xt, wt = _t(x), _t(w)
    xd, wd = xt.data, wt.data
    if xd.ndim != 4 or wd.ndim != 4:
        raise ValueError(
            f"conv2d needs x (N, C, H, W) and w (O, C, kh, kw), got {xd.shape}, {wd.shape}"
        )
    n, c, h, wi = xd.shape
    o, c2, kh, kw = wd.shape
    if c != c2:
        raise ValueError(f"input has {c} channels but the weights expect {c2}")
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    ho, wo = _out_size(h, kh, sh, ph), _out_size(wi, kw, sw, pw)
    cols = _im2col(_pad2d(xd, ph, pw), kh, kw, sh, sw)
    w2 = wd.reshape(o, c * kh * kw)
    out = np.matmul(w2, cols).reshape(n, o, ho, wo)
    parents: tuple[Tensor, ...] = (xt, wt)
    if b is not None:
        bt = _t(b)
        out += bt.data.reshape(1, o, 1, 1)
        parents = (xt, wt, bt)
    if not _wants_grad(*parents):
        return _make(out, parents, "conv2d", None)

    def backward(g: np.ndarray) -> None:
        g3 = g.reshape(n, o, ho * wo)
        if len(parents) == 3 and parents[2].requires_grad:
            _accum(parents[2], g.sum(axis=(0, 2, 3)))
        if wt.requires_grad:
            gw = np.matmul(g3, cols.transpose(0, 2, 1)).sum(axis=0)
            _accum(wt, gw.reshape(wd.shape))
        if xt.requires_grad:
            if sh == 1 and sw == 1:
                gcols = _im2col(_pad2d(g, kh - 1 - ph, kw - 1 - pw), kh, kw, 1, 1)
                wf = wd[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(c, o * kh * kw)
                dx = np.matmul(wf, gcols).reshape(n, c, h, wi)
            else:
                dcols = np.matmul(w2.T, g3).reshape(n, c, kh, kw, ho, wo)
                dxp = np.zeros((n, c, h + 2 * ph, wi + 2 * pw), dtype=xd.dtype)
                for i in range(kh):
                    for j in range(kw):
                        dxp[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += dcols[:, :, i, j]
                dx = dxp[:, :, ph : ph + h, pw : pw + wi]
            _accum(xt, dx)

    return _make(out, parents, "conv2d", backward)


# --------------------------------------------------------------------- pooling
def _pool_geometry(x: np.ndarray, kernel_size: Any, stride: Any, padding: Any):
    if x.ndim != 4:
        raise ValueError(f"pooling needs input of shape (N, C, H, W), not {x.shape}")
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None else stride)
    ph, pw = _pair(padding)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError("padding must be at most half the kernel size (PyTorch's rule)")
    ho, wo = _out_size(x.shape[2], kh, sh, ph), _out_size(x.shape[3], kw, sw, pw)
    return kh, kw, sh, sw, ph, pw, ho, wo


def _window(xp: np.ndarray, i: int, j: int, sh: int, sw: int, ho: int, wo: int) -> np.ndarray:
    """The input elements at offset (i, j) of every window: one strided view."""
    return xp[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]


def max_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """Max over each window (stride defaults to the kernel size), as PyTorch.

    Forward: a running ``np.maximum`` over the kh*kw window offsets (one strided view each).
    Backward: the offsets are visited again in row-major order, and each window's gradient
    goes to the first offset whose value equals the maximum, so a tie goes to the first
    maximum in row-major order (PyTorch's rule). Padding is -inf and never wins.
    """
    a = _t(x)
    kh, kw, sh, sw, ph, pw, ho, wo = _pool_geometry(a.data, kernel_size, stride, padding)
    xp = _pad2d(a.data, ph, pw, value=-np.inf)
    out = _window(xp, 0, 0, sh, sw, ho, wo).copy()
    for k in range(1, kh * kw):
        np.maximum(out, _window(xp, k // kw, k % kw, sh, sw, ho, wo), out=out)
    if not _wants_grad(a):
        return _make(out, (a,), "max_pool2d", None)

    def backward(g: np.ndarray) -> None:
        dxp = np.zeros(xp.shape, dtype=g.dtype)
        pending = np.ones(out.shape, dtype=bool)  # windows whose maximum is not yet found
        hit = np.empty(out.shape, dtype=bool)
        for k in range(kh * kw):
            i, j = k // kw, k % kw
            np.equal(_window(xp, i, j, sh, sw, ho, wo), out, out=hit)
            hit &= pending
            pending ^= hit
            _window(dxp, i, j, sh, sw, ho, wo)[...] += g * hit
        _accum(a, dxp[:, :, ph : ph + a.data.shape[2], pw : pw + a.data.shape[3]])

    return _make(out, (a,), "max_pool2d", backward)


def avg_pool2d(
    x: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """Mean over each window, padded zeros included in the count, as PyTorch's default."""
    a = _t(x)
    kh, kw, sh, sw, ph, pw, ho, wo = _pool_geometry(a.data, kernel_size, stride, padding)
    xp = _pad2d(a.data, ph, pw)
    out = _window(xp, 0, 0, sh, sw, ho, wo).copy()
    for k in range(1, kh * kw):
        out += _window(xp, k // kw, k % kw, sh, sw, ho, wo)
    out /= kh * kw
    if not _wants_grad(a):
        return _make(out, (a,), "avg_pool2d", None)

    def backward(g: np.ndarray) -> None:
        dxp = np.zeros(xp.shape, dtype=g.dtype)
        gk = g / (kh * kw)
        for k in range(kh * kw):
            _window(dxp, k // kw, k % kw, sh, sw, ho, wo)[...] += gk
        _accum(a, dxp[:, :, ph : ph + a.data.shape[2], pw : pw + a.data.shape[3]])

    return _make(out, (a,), "avg_pool2d", backward)
