"""Small layers for the notes' models: each holds its parameters and calls ``functional``.

``Module.parameters()`` finds every parameter in the attributes (and in nested modules,
lists and tuples) in definition order, so an optimiser can be built from any model.
``train()`` / ``eval()`` switch batch norm and dropout between their two behaviours.
Default initialisations are PyTorch's (weights and biases uniform in +-1/sqrt(fan_in)).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import functional as F
from . import init
from .tensor import Tensor


class Module:
    """Base class: ``__call__`` runs ``forward``; ``parameters()`` lists the tensors to train."""

    training: bool = True

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, x: Any) -> Tensor:
        return self.forward(x)

    def _children(self) -> Iterator[Any]:
        for value in vars(self).values():
            if isinstance(value, list | tuple):
                yield from value
            else:
                yield value

    def parameters(self) -> list[Tensor]:
        """Every Tensor attribute that requires a gradient, each once, in definition order."""
        found: list[Tensor] = []
        seen: set[int] = set()
        for child in self._children():
            params = (
                [child]
                if isinstance(child, Tensor) and child.requires_grad
                else child.parameters()
                if isinstance(child, Module)
                else []
            )
            for p in params:
                if id(p) not in seen:
                    seen.add(id(p))
                    found.append(p)
        return found

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        self.training = mode
        for child in self._children():
            if isinstance(child, Module):
                child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)


def _uniform_bias(n: int, fan_in: int, rng: np.random.Generator) -> np.ndarray:
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return rng.uniform(-bound, bound, size=n)


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rng: Any = None,
        name: str = "",
    ) -> None:
        rng = np.random.default_rng(rng)
        shape = (out_features, in_features)
        w = init.kaiming_uniform(shape, rng, a=math.sqrt(5.0))
        self.weight = Tensor(w, requires_grad=True, name=f"W{name}")
        self.bias = (
            Tensor(
                _uniform_bias(out_features, in_features, rng), requires_grad=True, name=f"b{name}"
            )
            if bias
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)


class Conv2d(Module):
    """2-d convolution (cross-correlation), NCHW, weights (out, in, kh, kw)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        rng: Any = None,
        name: str = "",
    ) -> None:
        rng = np.random.default_rng(rng)
        kh, kw = F._pair(kernel_size)
        shape = (out_channels, in_channels, kh, kw)
        w = init.kaiming_uniform(shape, rng, a=math.sqrt(5.0))
        self.weight = Tensor(w, requires_grad=True, name=f"V{name}")
        fan_in = in_channels * kh * kw
        self.bias = (
            Tensor(_uniform_bias(out_channels, fan_in, rng), requires_grad=True, name=f"b{name}")
            if bias
            else None
        )
        self.stride = stride
        self.padding = padding

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)


class BatchNorm(Module):
    """Batch norm over channel axis 1 of (N, C) or (N, C, H, W) inputs, with running
    statistics (mean 0, variance 1 at the start) used in ``eval()`` mode."""

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, name: str = ""
    ) -> None:
        self.gamma = Tensor(np.ones(num_features), requires_grad=True, name=f"gamma{name}")
        self.beta = Tensor(np.zeros(num_features), requires_grad=True, name=f"beta{name}")
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.eps = eps
        self.momentum = momentum

    def forward(self, x: Tensor) -> Tensor:
        return F.batch_norm(
            x,
            self.gamma,
            self.beta,
            self.running_mean,
            self.running_var,
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
        )


class Dropout(Module):
    """Inverted dropout while training, the identity in ``eval()`` mode."""

    def __init__(self, p: float = 0.5, rng: Any = None) -> None:
        self.p = p
        self.rng = np.random.default_rng(rng)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, training=self.training, rng=self.rng)


class Sequential(Module):
    """Apply layers in order; a layer is a Module or any function of one Tensor (F.relu)."""

    def __init__(self, *layers: Module | Callable[[Tensor], Tensor]) -> None:
        self.layers = list(layers)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module | Callable[[Tensor], Tensor]:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


class MLP(Module):
    """The notes' MLP: h = phi(W_1 x + b_1), ..., o = W_L h + b_L (no activation at the end).

    ``sizes`` = (n_in, hidden..., n_out); parameters are named W1, b1, W2, b2, ...
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: Callable[[Tensor], Tensor] = F.relu,
        rng: Any = None,
    ) -> None:
        if len(sizes) < 2:
            raise ValueError("an MLP needs at least input and output sizes")
        rng = np.random.default_rng(rng)
        self.layers = [
            Linear(a, b, rng=rng, name=str(i + 1))
            for i, (a, b) in enumerate(itertools.pairwise(sizes))
        ]
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)


class Residual(Module):
    """f(x) + x: the identity shortcut of a ResNet block.

    When ``f`` changes the shape, the shortcut must be projected: pass ``in_channels`` and
    ``out_channels`` (and the body's ``stride``) and a 1x1 convolution with that stride is
    made when they differ (as in the notes), or pass any ``projection`` module yourself.
    """

    def __init__(
        self,
        body: Module | Callable[[Tensor], Tensor],
        in_channels: int | None = None,
        out_channels: int | None = None,
        stride: int = 1,
        projection: Module | Callable[[Tensor], Tensor] | None = None,
        rng: Any = None,
    ) -> None:
        self.body = body
        needs = (
            in_channels is not None
            and out_channels is not None
            and (in_channels != out_channels or stride != 1)
        )
        if projection is None and needs:
            projection = Conv2d(in_channels, out_channels, 1, stride=stride, rng=rng, name="_proj")
        self.projection = projection

    def forward(self, x: Tensor) -> Tensor:
        fx = self.body(x)
        shortcut = x if self.projection is None else self.projection(x)
        if fx.shape != shortcut.shape:
            raise ValueError(
                f"residual body gives shape {fx.shape} but the shortcut {shortcut.shape}; "
                "give in_channels/out_channels/stride or a projection"
            )
        return fx + shortcut
