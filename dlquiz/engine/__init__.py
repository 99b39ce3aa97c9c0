"""dlquiz's NumPy reverse-mode autograd engine, with PyTorch's names and semantics.

It verifies answer keys numerically, computes the numbers of numeric problems and shows the
computational graph of a model. NumPy is its only dependency.

>>> from dlquiz.engine import Tensor
>>> x = Tensor([1.0, -2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([ 2., -4.])

Note: ``dlquiz.engine.graph`` and ``dlquiz.engine.gradcheck`` are the *functions* of the
same-named modules; import the classes with ``from dlquiz.engine import Graph,
GradcheckResult``.
"""

from . import functional, init, optim
from .gradcheck import GradcheckResult, gradcheck
from .graph import Graph, Node, graph
from .layers import MLP, BatchNorm, Conv2d, Dropout, Linear, Module, Residual, Sequential
from .tensor import Tensor, is_grad_enabled, no_grad

__all__ = [
    "MLP",
    "BatchNorm",
    "Conv2d",
    "Dropout",
    "GradcheckResult",
    "Graph",
    "Linear",
    "Module",
    "Node",
    "Residual",
    "Sequential",
    "Tensor",
    "functional",
    "gradcheck",
    "graph",
    "init",
    "is_grad_enabled",
    "no_grad",
    "optim",
]
