"""SGD (with momentum) and Adam, with exactly PyTorch's update rules.

Updates are in place on ``p.data``, so tensors that share a parameter see it change.

Weight decay trap: the notes add lambda * ||w||^2 to the loss (gradient 2 lambda w);
``weight_decay=wd`` here adds wd * w to the gradient (PyTorch), i.e. wd = 2 lambda.

Momentum as in the notes, v <- beta v + g, theta <- theta - eta v (PyTorch's form: the
learning rate multiplies the velocity, not the gradient inside it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .tensor import Tensor


class Optimizer:
    """Holds the parameters; ``zero_grad`` sets every ``.grad`` to None (PyTorch's default)."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Tensor):
                raise TypeError(f"parameters must be Tensors, not {type(p).__name__}")

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """theta <- theta - lr * d, where with g = grad + weight_decay * theta:

    - momentum = 0: d = g;
    - otherwise v <- momentum * v + (1 - dampening) * g (v = g at the first step), and
      d = v, or d = g + momentum * v with ``nesterov=True``.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params)
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("lr, momentum and weight_decay must be non-negative")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and zero dampening")
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.dampening = dampening
        self.velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            d = p.grad
            if self.weight_decay:
                d = d + self.weight_decay * p.data
            if self.momentum:
                v = self.velocity[i]
                if v is None:
                    v = np.array(d)
                else:
                    v *= self.momentum
                    v += (1.0 - self.dampening) * d
                self.velocity[i] = v
                d = d + self.momentum * v if self.nesterov else v
            p.data -= self.lr * d


class Adam(Optimizer):
    """PyTorch's Adam: with g = grad + weight_decay * theta and t the step count,

    m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
    theta <- theta - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).

    (The notes' form eta * m_hat / (sqrt(s_hat) + eps) up to where eps sits: PyTorch adds it
    to sqrt(v_hat), as here.)
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        b1, b2 = betas
        if lr < 0 or eps < 0 or weight_decay < 0 or not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError("invalid Adam hyperparameters")
        self.lr = lr
        self.betas = (b1, b2)
        self.eps = eps
        self.weight_decay = weight_decay
        self.m: list[np.ndarray | None] = [None] * len(self.params)
        self.v: list[np.ndarray | None] = [None] * len(self.params)
        self.steps: list[int] = [0] * len(self.params)

    def step(self) -> None:
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.m[i] is None:
                self.m[i] = np.zeros_like(p.data)
                self.v[i] = np.zeros_like(p.data)
            m, v = self.m[i], self.v[i]
            self.steps[i] += 1
            t = self.steps[i]
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * (g * g)
            step_size = self.lr / (1.0 - b1**t)
            denom = np.sqrt(v) / math.sqrt(1.0 - b2**t) + self.eps
            p.data -= step_size * (m / denom)
