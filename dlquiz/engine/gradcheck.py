"""Check an operation's analytic gradient against centred finite differences.

A backward formula is the easiest place for a sign or a transpose to slip; comparing it
with (f(x + eps) - f(x - eps)) / (2 eps) in float64 catches that. A non-scalar output is
contracted with a fixed random upstream gradient R, i.e. the check is on sum(f(x) * R):
an all-ones upstream would hide errors that cancel in a plain sum (a transpose, a swapped
pair of entries).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tensor import Tensor, no_grad


@dataclass
class GradcheckResult:
    """Outcome of :func:`gradcheck`; truthy exactly when ``ok``.

    ``max_abs_error`` and ``max_rel_error`` are over all checked elements
    (relative error = |analytic - numeric| / max(|numeric|, 1e-12)); ``worst`` says where
    the largest violation of the tolerance is; ``analytic`` and ``numeric`` hold the
    gradients per checked input.
    """

    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst: str = ""
    analytic: list[np.ndarray] = field(default_factory=list, repr=False)
    numeric: list[np.ndarray] = field(default_factory=list, repr=False)

    def __bool__(self) -> bool:
        return self.ok


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    upstream: np.ndarray | None = None,
    seed: int = 0,
    raise_exception: bool = False,
) -> GradcheckResult:
    """Compare ``fn``'s backward with centred differences for every input that requires grad.

    ``fn(*inputs)`` must return a Tensor and be deterministic (seed any dropout inside it).
    Arrays or numbers among ``inputs`` are wrapped as float64 tensors that require a
    gradient. The upstream gradient is ``upstream`` if given, 1 for a one-element output,
    else standard normal from ``seed``. An element passes when
    |analytic - numeric| <= atol + rtol * |numeric|. Returns a :class:`GradcheckResult`;
    with ``raise_exception=True`` a failure raises AssertionError instead.
    """
    tensors = [x if isinstance(x, Tensor) else Tensor(x, requires_grad=True) for x in inputs]
    checked = [t for t in tensors if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one input that requires a gradient")
    for t in checked:
        if t.data.dtype != np.float64:
            raise TypeError("gradcheck needs float64 inputs (finite differences in float32 fail)")
    saved_grads = [t.grad for t in checked]
    saved_data = [t.data for t in checked]
    try:
        for t in checked:
            t.data = np.array(t.data)  # private, contiguous and writable for perturbation
            t.grad = None
        out = fn(*tensors)
        if upstream is not None:
            r = np.asarray(upstream, dtype=np.float64)
        elif out.data.size == 1:
            r = np.ones_like(out.data)
        else:
            r = np.random.default_rng(seed).standard_normal(out.data.shape)
        out.backward(r)
        analytic = [np.zeros_like(t.data) if t.grad is None else np.array(t.grad) for t in checked]

        def objective() -> float:
            with no_grad():
                return float(np.sum(fn(*tensors).data * r))

        numeric = []
        for t in checked:
            flat = t.data.reshape(-1)
            num = np.empty_like(flat)
            for i in range(flat.size):
                orig = flat[i]
                flat[i] = orig + eps
                plus = objective()
                flat[i] = orig - eps
                minus = objective()
                flat[i] = orig
                num[i] = (plus - minus) / (2.0 * eps)
            numeric.append(num.reshape(t.data.shape))
    finally:
        for t, d, g in zip(checked, saved_data, saved_grads, strict=True):
            t.data = d
            t.grad = g

    ok = True
    max_abs = max_rel = 0.0
    worst, worst_excess = "", -np.inf
    for k, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        if a.size == 0:
            continue
        err = np.abs(a - n)
        max_abs = max(max_abs, float(err.max()))
        max_rel = max(max_rel, float((err / np.maximum(np.abs(n), 1e-12)).max()))
        excess = err - (atol + rtol * np.abs(n))
        i = int(np.argmax(excess))
        if excess.flat[i] > 0 or not np.all(np.isfinite(a)):
            ok = False
        if excess.flat[i] > worst_excess:
            worst_excess = float(excess.flat[i])
            where = np.unravel_index(i, a.shape)
            worst = (
                f"input {k} at {tuple(int(v) for v in where)}: analytic {a.flat[i]:.6g}, "
                f"numeric {n.flat[i]:.6g}"
            )
    result = GradcheckResult(ok, max_abs, max_rel, worst, analytic, numeric)
    if raise_exception and not ok:
        raise AssertionError(f"gradcheck failed: {worst} (max abs error {max_abs:.3g})")
    return result
