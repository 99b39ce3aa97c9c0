"""The Tensor: an ndarray that remembers the operation that made it.

Each operation computes its value with NumPy and, when a gradient is wanted, attaches a
closure that maps the output's gradient to its inputs' gradients (micrograd's design,
vectorised). ``backward`` walks the graph in an iterative topological order, so a chain of
any depth never meets Python's recursion limit.

Conventions that exam problems depend on (see also ``functional``):

- float64 by default; ``.data`` is an ndarray, ``.grad`` an ndarray or None.
- ReLU'(0) = 0, |x|'(0) = 0, sign' = 0 everywhere (as PyTorch).
- Broadcasting follows NumPy; every gradient is reduced back to its input's shape in one
  place, :func:`_unbroadcast`, which also checks the shape.
- Gradients of leaves accumulate across ``backward`` calls (clear them with ``t.grad = None``
  or an optimiser's ``zero_grad``); gradients of intermediate tensors are those of the latest
  ``backward`` call, kept for display.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

Backward = Callable[[np.ndarray], None]

_grad_enabled = True


@contextmanager
def no_grad() -> Iterator[None]:
    """Record no graph inside the block (evaluation, optimiser updates), as torch.no_grad."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph."""
    return _grad_enabled


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes NumPy broadcasting added or stretched, back to ``shape``.

    This is the one place where broadcast gradients are reduced; a gradient that cannot be
    reduced to its input's shape is a bug in an operation's backward, so it raises.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra < 0:
        raise AssertionError(f"gradient of shape {g.shape} for an input of shape {shape}")
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if extra:
        g = g.reshape(g.shape[extra:])
    if g.shape != shape:
        raise AssertionError(f"gradient of shape {g.shape} for an input of shape {shape}")
    return g


def _accum(t: Tensor, g: np.ndarray) -> None:
    """Add ``g`` into ``t.grad`` (a tensor used twice receives both contributions).

    Never in place: ``g`` may be shared with another tensor's gradient (``add`` passes its
    gradient through), so accumulation always makes a new array.
    """
    if type(g) is not np.ndarray:  # ufuncs on 0-d arrays return NumPy scalars
        g = np.asarray(g)
    if g.shape != t.data.shape:
        g = _unbroadcast(g, t.data.shape)
    if t.grad is None:
        t.grad = g
    else:
        t.grad = t.grad + g


def _make(data: np.ndarray, parents: tuple[Tensor, ...], op: str, backward: Backward | None):
    """Build an operation's output without the checks of ``Tensor.__init__`` (hot path)."""
    t = object.__new__(Tensor)
    t.data = data if type(data) is np.ndarray else np.asarray(data)
    t.grad = None
    t.name = None
    t._op = op
    if _grad_enabled:
        t._prev = parents
        t._backward = backward
        t.requires_grad = backward is not None
    else:
        t._prev = ()
        t._backward = None
        t.requires_grad = False
    return t


def _wants_grad(*ts: Tensor) -> bool:
    if not _grad_enabled:
        return False
    for t in ts:  # noqa: SIM110 - a plain loop is cheaper than any() on this hot path
        if t.requires_grad:
            return True
    return False


def _const(x: Any, like: np.ndarray | None = None) -> Tensor:
    """Wrap a Python number or array operand as a constant leaf (shown in the graph)."""
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if like is not None and like.dtype.kind == "f" else np.float64
    t = object.__new__(Tensor)
    t.data = np.asarray(x, dtype=dtype)
    t.grad = None
    t.name = None
    t._op = "leaf"
    t._prev = ()
    t._backward = None
    t.requires_grad = False
    return t


def postorder(root: Tensor, inputs: Callable[[Tensor], Iterable[Tensor]]) -> list[Tensor]:
    """``root`` and what it was computed from through ``inputs``, every input before its users.

    An iterative depth-first search (deep graphs are fine); the last input given to the
    stack is visited first. Backward and :func:`dlquiz.engine.graph.graph` both walk this way.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for p in inputs(node):
            if id(p) not in visited:
                stack.append((p, False))
    return order


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that need a gradient, inputs before outputs."""
    return postorder(root, lambda node: [p for p in node._prev if p.requires_grad])


def _owner(a: np.ndarray) -> int:
    return id(a.base) if a.base is not None else id(a)


def _give_leaves_their_own_grads(order: list[Tensor], seed: np.ndarray | None) -> None:
    """Copy a leaf's gradient only if it shares memory with another leaf's or the seed.

    Gradients pass through ``add``, ``reshape``, ... without copies; this keeps those
    copies off the hot path yet lets a user modify one ``leaf.grad`` in place without
    changing another's or the caller's upstream array. (Intermediate tensors' gradients are
    kept for display only and may share memory with a leaf's.)
    """
    claimed: set[int] = set() if seed is None else {_owner(seed)}
    for n in order:
        g = n.grad
        if n._backward is None and g is not None:
            k = _owner(g)
            if k in claimed or not g.flags.writeable:
                n.grad = np.array(g)
            else:
                claimed.add(k)


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, name=None, dtype=None)``: ``data`` is converted to a
    float64 ndarray (or ``dtype``). A tensor that requires a gradient is a parameter that
    optimisers update in place, so its data is copied from the caller's array; other tensors
    share the caller's float64 array (no copy on the hot path). ``name`` labels the tensor
    in :func:`dlquiz.engine.graph`.
    """

    __slots__ = (
        "__weakref__",
        "_backward",
        "_op",
        "_prev",
        "data",
        "grad",
        "name",
        "requires_grad",
    )
    # NumPy's binary operators return NotImplemented, so ndarray * Tensor reaches __rmul__.
    __array_ufunc__ = None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        dtype = np.float64 if dtype is None else dtype
        if requires_grad:
            self.data = np.array(data, dtype=dtype)
        else:
            self.data = np.asarray(data, dtype=dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._op = "leaf"
        self._prev: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None

    # ----------------------------------------------------------------- plain properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def op(self) -> str:
        """Name of the operation that made this tensor ("leaf" for inputs and constants)."""
        return self._op

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The operation's inputs, in argument order (empty for leaves)."""
        return self._prev

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = ""
        if self.requires_grad:
            extras += ", requires_grad=True"
        if self._op != "leaf":
            extras += f", op={self._op!r}"
        if self.name is not None:
            extras += f", name={self.name!r}"
        return f"Tensor({body}{extras})"

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, not shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied, like torch's ``.numpy()``)."""
        return self.data

    def detach(self) -> Tensor:
        """A new leaf that shares the data and records no history."""
        return _const(self.data, self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError("requires_grad can only be changed on a leaf tensor")
        self.requires_grad = bool(requires_grad)
        return self

    # ----------------------------------------------------------------- backward
    def backward(self, gradient: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf that requires a gradient.

        ``gradient`` is the upstream gradient (same shape as ``self``); it defaults to 1 for
        a one-element tensor, as in PyTorch.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require a gradient")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a one-element tensor, "
                    f"not shape {self.shape}"
                )
            seed = np.ones_like(self.data)
        else:
            seed = gradient.data if isinstance(gradient, Tensor) else gradient
            seed = np.asarray(seed, dtype=self.data.dtype)
            if seed.shape != self.data.shape:
                raise ValueError(f"gradient of shape {seed.shape} for a tensor of {self.shape}")
        order = _topological_order(self)
        for node in order:
            if node._backward is not None:
                node.grad = None
        _accum(self, seed)
        for node in reversed(order):
            if node._backward is not None and node.grad is not None:
                node._backward(node.grad)
        _give_leaves_their_own_grads(order, None if gradient is None else seed)

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        a = self
        b = other if isinstance(other, Tensor) else _const(other, a.data)
        data = a.data + b.data
        if not _wants_grad(a, b):
            return _make(data, (a, b), "add", None)

        def backward(g: np.ndarray) -> None:
            if a.requires_grad:
                _accum(a, g)
            if b.requires_grad:
                _accum(b, g)

        return _make(data, (a, b), "add", backward)

    def __radd__(self, other: Any) -> Tensor:
        return _const(other, self.data) + self

    def __sub__(self, other: Any) -> Tensor:
        a = self
        b = other if isinstance(other, Tensor) else _const(other, a.data)
        data = a.data - b.data
        if not _wants_grad(a, b):
            return _make(data, (a, b), "sub", None)

        def backward(g: np.ndarray) -> None:
            if a.requires_grad:
                _accum(a, g)
            if b.requires_grad:
                _accum(b, -g)

        return _make(data, (a, b), "sub", backward)

    def __rsub__(self, other: Any) -> Tensor:
        return _const(other, self.data) - self

    def __mul__(self, other: Any) -> Tensor:
        a = self
        b = other if isinstance(other, Tensor) else _const(other, a.data)
        data = a.data * b.data
        if not _wants_grad(a, b):
            return _make(data, (a, b), "mul", None)

        def backward(g: np.ndarray) -> None:
            if a.requires_grad:
                _accum(a, g * b.data)
            if b.requires_grad:
                _accum(b, g * a.data)

        return _make(data, (a, b), "mul", backward)

    def __rmul__(self, other: Any) -> Tensor:
        return _const(other, self.data) * self

    def __truediv__(self, other: Any) -> Tensor:
        a = self
        b = other if isinstance(other, Tensor) else _const(other, a.data)
        data = a.data / b.data
        if not _wants_grad(a, b):
            return _make(data, (a, b), "div", None)

        def backward(g: np.ndarray) -> None:
            if a.requires_grad:
                _accum(a, g / b.data)
            if b.requires_grad:
                _accum(b, -g * a.data / (b.data * b.data))

        return _make(data, (a, b), "div", backward)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _const(other, self.data) / self

    def __neg__(self) -> Tensor:
        a = self
        data = -a.data
        if not _wants_grad(a):
            return _make(data, (a,), "neg", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, -g)

        return _make(data, (a,), "neg", backward)

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent: float) -> Tensor:
        """``x ** p`` for a constant exponent p; d/dx = p x^(p-1), and 0 when p == 0."""
        if isinstance(exponent, Tensor) or np.ndim(exponent) != 0:
            raise TypeError("Tensor ** needs a scalar (Python or NumPy number) exponent")
        a = self
        p = float(exponent)
        data = a.data**p
        if not _wants_grad(a):
            return _make(data, (a,), "pow", None)

        def backward(g: np.ndarray) -> None:
            if p == 0.0:
                _accum(a, np.zeros_like(g))
            elif p == 2.0:
                _accum(a, g * (2.0 * a.data))
            else:
                _accum(a, g * (p * a.data ** (p - 1.0)))

        out = _make(data, (a,), "pow", backward)
        return out

    def __rpow__(self, base: Any) -> Tensor:
        """``c ** x`` for a constant base c > 0; d/dx = c^x log c."""
        if np.ndim(base) != 0:
            raise TypeError("only a scalar base is supported in scalar ** Tensor")
        a = self
        c = float(base)
        data = c**a.data
        if not _wants_grad(a):
            return _make(data, (a,), "rpow", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g * data * np.log(c))

        return _make(data, (a,), "rpow", backward)

    def __matmul__(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules: leading batch dimensions broadcast, and a 1-d
        operand is a vector (promoted, then the added axis is dropped)."""
        a = self
        b = other if isinstance(other, Tensor) else _const(other, a.data)
        data = np.matmul(a.data, b.data)
        if not _wants_grad(a, b):
            return _make(data, (a, b), "matmul", None)

        def backward(g: np.ndarray) -> None:
            ad, bd = a.data, b.data
            if ad.ndim == 1 and bd.ndim == 1:  # dot product
                if a.requires_grad:
                    _accum(a, g * bd)
                if b.requires_grad:
                    _accum(b, g * ad)
                return
            if ad.ndim == 1:
                ad = ad[None, :]
                g = np.expand_dims(g, -2)
            if bd.ndim == 1:
                bd = bd[:, None]
                g = np.expand_dims(g, -1)
            if a.requires_grad:
                ga = np.matmul(g, np.swapaxes(bd, -1, -2))
                _accum(a, _unbroadcast(ga, ad.shape).reshape(a.data.shape))
            if b.requires_grad:
                if bd.ndim == 2 and ad.ndim > 2:
                    # (..., m, n) @ (n, p): one GEMM over all batch rows, no batched sum.
                    gb = ad.reshape(-1, ad.shape[-1]).T @ g.reshape(-1, g.shape[-1])
                else:
                    gb = np.matmul(np.swapaxes(ad, -1, -2), g)
                _accum(b, _unbroadcast(gb, bd.shape).reshape(b.data.shape))

        return _make(data, (a, b), "matmul", backward)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _const(other, self.data) @ self

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        """``reshape(2, 3)`` or ``reshape((2, 3))``; -1 infers one dimension."""
        if len(shape) == 1 and isinstance(shape[0], tuple | list):
            shape = tuple(shape[0])
        a = self
        data = a.data.reshape(shape)
        if not _wants_grad(a):
            return _make(data, (a,), "reshape", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g.reshape(a.data.shape))

        return _make(data, (a,), "reshape", backward)

    def permute(self, *axes: int) -> Tensor:
        """Reorder the axes (torch's ``permute``, NumPy's ``transpose(axes)``)."""
        if len(axes) == 1 and isinstance(axes[0], tuple | list):
            axes = tuple(axes[0])
        a = self
        perm = tuple(ax % a.data.ndim for ax in axes) if axes else None
        data = a.data.transpose(perm)
        if not _wants_grad(a):
            return _make(data, (a,), "transpose", None)
        inverse = tuple(np.argsort(perm)) if perm is not None else None

        def backward(g: np.ndarray) -> None:
            _accum(a, g.transpose(inverse))

        return _make(data, (a,), "transpose", backward)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes (torch's ``transpose(dim0, dim1)``)."""
        perm = list(range(self.data.ndim))
        perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
        return self.permute(*perm)

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-d tensors)."""
        return self.permute()

    def __getitem__(self, index: Any) -> Tensor:
        """Basic and advanced NumPy indexing; repeated indices accumulate their gradients."""
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        a = self
        data = a.data[index]
        if not _wants_grad(a):
            return _make(data, (a,), "getitem", None)
        advanced = _is_advanced(index)

        def backward(g: np.ndarray) -> None:
            full = np.zeros_like(a.data)
            if advanced:
                np.add.at(full, index, g)
            else:
                full[index] = g
            _accum(a, full)

        return _make(data, (a,), "getitem", backward)

    # ----------------------------------------------------------------- reductions
    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        a = self
        axis = _norm_axis(axis)
        data = a.data.sum(axis=axis, keepdims=keepdims)
        if not _wants_grad(a):
            return _make(data, (a,), "sum", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, np.broadcast_to(_keep(g, a.data.ndim, axis, keepdims), a.data.shape))

        return _make(data, (a,), "sum", backward)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        a = self
        axis = _norm_axis(axis)
        data = a.data.mean(axis=axis, keepdims=keepdims)
        if not _wants_grad(a):
            return _make(data, (a,), "mean", None)
        count = a.data.size // max(data.size, 1) if a.data.size else 0

        def backward(g: np.ndarray) -> None:
            g = _keep(g, a.data.ndim, axis, keepdims) / count
            _accum(a, np.broadcast_to(g, a.data.shape))

        return _make(data, (a,), "mean", backward)

    # ----------------------------------------------------------------- elementwise
    def exp(self) -> Tensor:
        a = self
        data = np.exp(a.data)
        if not _wants_grad(a):
            return _make(data, (a,), "exp", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g * data)

        return _make(data, (a,), "exp", backward)

    def log(self) -> Tensor:
        a = self
        data = np.log(a.data)
        if not _wants_grad(a):
            return _make(data, (a,), "log", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g / a.data)

        return _make(data, (a,), "log", backward)

    def relu(self) -> Tensor:
        """max(x, 0); the gradient at 0 is 0, as in the notes and PyTorch."""
        a = self
        data = np.maximum(a.data, 0.0)
        if not _wants_grad(a):
            return _make(data, (a,), "relu", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g * (a.data > 0))

        return _make(data, (a,), "relu", backward)

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-x)), computed without overflow for either sign of x."""
        a = self
        x = a.data
        e = np.exp(-np.abs(x))
        data = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        if not _wants_grad(a):
            return _make(data, (a,), "sigmoid", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g * data * (1.0 - data))

        return _make(data, (a,), "sigmoid", backward)

    def tanh(self) -> Tensor:
        a = self
        data = np.tanh(a.data)
        if not _wants_grad(a):
            return _make(data, (a,), "tanh", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g * (1.0 - data * data))

        return _make(data, (a,), "tanh", backward)

    def abs(self) -> Tensor:
        """|x|; the gradient is sign(x), so 0 at x = 0 (as PyTorch)."""
        a = self
        data = np.abs(a.data)
        if not _wants_grad(a):
            return _make(data, (a,), "abs", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g * np.sign(a.data))

        return _make(data, (a,), "abs", backward)

    def __abs__(self) -> Tensor:
        return self.abs()

    def sqrt(self) -> Tensor:
        """sqrt(x); the gradient 1/(2 sqrt(x)) is inf at 0 (as PyTorch)."""
        a = self
        data = np.sqrt(a.data)
        if not _wants_grad(a):
            return _make(data, (a,), "sqrt", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, g / (2.0 * data))

        return _make(data, (a,), "sqrt", backward)

    def sign(self) -> Tensor:
        """-1, 0 or 1; piecewise constant, so its gradient is 0 everywhere (as PyTorch)."""
        a = self
        data = np.sign(a.data)
        if not _wants_grad(a):
            return _make(data, (a,), "sign", None)

        def backward(g: np.ndarray) -> None:
            _accum(a, np.zeros_like(a.data))

        return _make(data, (a,), "sign", backward)


def _is_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, list | np.ndarray) for i in items)


def _norm_axis(axis: int | Sequence[int] | None) -> int | tuple[int, ...] | None:
    if axis is None or isinstance(axis, int | np.integer):
        return axis
    return tuple(axis)


def _keep(g: np.ndarray, ndim: int, axis: int | tuple[int, ...] | None, keepdims: bool):
    """Reinsert the reduced axes as length-1 axes so ``g`` broadcasts against the input."""
    if keepdims or ndim == 0:
        return g
    if axis is None:
        return g.reshape((1,) * ndim)
    axes = (axis,) if isinstance(axis, int | np.integer) else axis
    return np.expand_dims(g, tuple(ax % ndim for ax in axes))
