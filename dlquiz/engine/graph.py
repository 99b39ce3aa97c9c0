"""The computational graph of a tensor as plain data, for the autograd problems to render.

The notes open with "decomposing a model into atomic operations, making a computational
graph"; :func:`graph` hands that graph to a renderer without exposing Tensors: nodes in
topological order (every input before the operations that use it) and edges from an
operation's inputs to it, in argument order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .tensor import Tensor, postorder


@dataclass(frozen=True)
class Node:
    """One tensor of the graph.

    ``op`` is the operation that made it ("leaf" for inputs, parameters and constants, else
    e.g. "matmul", "add", "relu"); ``name`` is the tensor's optional label (``Tensor(...,
    name="W")``); ``value`` is the number held by a one-element tensor (so a renderer can
    print constants such as the 2 in ``2 * x``), else None. With ``graph(t, data=True)``,
    ``data`` and ``grad`` hold copies of the arrays.
    """

    id: int
    op: str
    shape: tuple[int, ...]
    name: str | None = None
    requires_grad: bool = False
    value: float | None = None
    data: np.ndarray | None = None
    grad: np.ndarray | None = None


@dataclass(frozen=True)
class Graph:
    """Nodes in topological order and (input id, output id) edges; ``root`` is the output.

    An operation that uses the same tensor twice (``x * x``) has two edges from it.
    """

    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)
    root: int = 0

    def inputs_of(self, node_id: int) -> list[int]:
        """Ids of the operation's inputs, in argument order."""
        return [src for src, dst in self.edges if dst == node_id]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (arrays become nested lists)."""

        def plain(v: Any) -> Any:
            return v.tolist() if isinstance(v, np.ndarray) else v

        nodes = [{k: plain(v) for k, v in asdict(n).items()} for n in self.nodes]
        return {"nodes": nodes, "edges": [list(e) for e in self.edges], "root": self.root}


def graph(t: Tensor, data: bool = False) -> Graph:
    """Every tensor that ``t`` was computed from, as a :class:`Graph`.

    The walk is iterative, so deep graphs are fine. Node ids are positions in the
    topological order (0 is a leaf, the last id is ``t``).
    """
    order = postorder(t, lambda node: reversed(node._prev))
    index = {id(node): i for i, node in enumerate(order)}
    nodes = []
    edges = []
    for i, n in enumerate(order):
        value = float(n.data.reshape(())) if n.data.size == 1 else None
        nodes.append(
            Node(
                id=i,
                op=n._op,
                shape=tuple(n.data.shape),
                name=n.name,
                requires_grad=n.requires_grad,
                value=value,
                data=np.array(n.data) if data else None,
                grad=np.array(n.grad) if data and n.grad is not None else None,
            )
        )
        edges.extend((index[id(p)], i) for p in n._prev)
    return Graph(nodes=nodes, edges=edges, root=index[id(t)])
