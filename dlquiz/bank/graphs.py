"""Computational graphs drawn in the terminal: the notes' "decomposing a model into atomic
operations", for any expression, with forward values and backward gradients at a point.

The expression is lowered to the NumPy engine (``dlquiz.core.autodiff``), so the graph shown is
the graph the engine really differentiates; ``dlquiz.engine.graph`` returns it as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlquiz.core.numbers import fmt


class GraphError(ValueError):
    """An expression or value that cannot be drawn."""


@dataclass
class GraphNode:
    id: int
    op: str
    shape: tuple[int, ...]
    label: str
    value: np.ndarray | None = None
    grad: np.ndarray | None = None
    inputs: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "op": self.op,
            "shape": list(self.shape),
            "label": self.label,
            "value": None if self.value is None else self.value.tolist(),
            "grad": None if self.grad is None else self.grad.tolist(),
            "inputs": self.inputs,
        }


@dataclass
class ComputationGraph:
    nodes: dict[int, GraphNode]
    root: int
    with_values: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "nodes": [n.to_json() for n in self.nodes.values()],
            "edges": [[i, n.id] for n in self.nodes.values() for i in n.inputs],
        }

    def operations(self) -> list[GraphNode]:
        """The non-leaf nodes, inputs before the operations that use them."""
        return [n for n in self.nodes.values() if n.op != "leaf"]


def _parse_value(text: str) -> np.ndarray:
    from dlquiz.core.numeric import evaluate
    from dlquiz.notation import NotationError, parse

    try:
        e = parse(text)
    except NotationError as exc:
        raise GraphError(f"value '{text}' cannot be read: {exc}") from None
    return evaluate(e, {}, 1)[0]


def build_graph(expr: str, var_specs: list[str], at: list[str]) -> ComputationGraph:
    from dlquiz.core.autodiff import lower
    from dlquiz.core.vars import Namespace, VarSpecError
    from dlquiz.engine import Tensor
    from dlquiz.engine import graph as engine_graph
    from dlquiz.judge.core import UnusableKey, parse_key

    try:
        ns = Namespace.from_specs(var_specs)
        e = parse_key(expr, ns)
    except (UnusableKey, VarSpecError) as exc:
        raise GraphError(str(exc).replace("the expected answer", "the expression")) from None
    if any(n.op == "deriv" for n in e.walk()):
        raise GraphError("a graph is drawn for a model, not for a derivative")
    values: dict[str, np.ndarray] = {}
    for item in at:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in ns:
            raise GraphError(f"--at '{item}': expected NAME=VALUE for a name of the expression")
        value = _parse_value(text)
        spec = ns.vars[name]
        want = spec.shape or (1, 1)
        if value.shape != want:
            if value.size == want[0] * want[1] and 1 in value.shape and 1 in want:
                value = value.reshape(want)
            else:
                got = "x".join(map(str, value.shape))
                raise GraphError(f"{name} is declared {want[0]}x{want[1]}, the value is {got}")
        values[name] = value
    names = sorted(e.free_symbols())
    missing = [n for n in names if n not in values]
    if values and missing:
        raise GraphError(f"give a value for every variable; missing: {', '.join(missing)}")
    rng = np.random.default_rng(0)
    leaves = {}
    for n in names:
        shape = ns.vars[n].shape or (1, 1)
        data = values.get(n, rng.standard_normal(shape))[None]
        leaves[n] = Tensor(data, requires_grad=True, name=n)
    with np.errstate(all="ignore"):
        try:
            out = lower(e, leaves, 1)
        except ValueError as exc:
            raise GraphError(str(exc)) from None
        scalar = out.data.size == 1
        if values and scalar:
            out.backward()
    g = engine_graph(out, data=True)
    nodes: dict[int, GraphNode] = {}
    for node in g.nodes:
        label = node.name or (
            fmt(node.value) if node.value is not None and node.op == "leaf" else node.op
        )
        nodes[node.id] = GraphNode(
            node.id,
            node.op,
            tuple(node.shape[1:]) if len(node.shape) == 3 else tuple(node.shape),
            label,
            _squeeze(node.data) if values else None,
            _squeeze(node.grad) if values and scalar else None,
            g.inputs_of(node.id),
        )
    return ComputationGraph(nodes, g.root, bool(values))


def _squeeze(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.asarray(a)
    return a.reshape(a.shape[1:]) if a.ndim == 3 and a.shape[0] == 1 else a


def _show(a: np.ndarray) -> str:
    if a.size == 1:
        return fmt(float(a.reshape(-1)[0]))
    rows = a.reshape(a.shape[-2], a.shape[-1]) if a.ndim >= 2 else a.reshape(-1, 1)
    return "[" + "; ".join(", ".join(fmt(float(v)) for v in row) for row in rows) + "]"


def _shape(shape: tuple[int, ...]) -> str:
    if not shape or all(d == 1 for d in shape):
        return "scalar"
    return "x".join(str(d) for d in shape)


def render_tree(g: ComputationGraph) -> str:
    """The graph as a tree from the output down to the inputs (shared nodes marked)."""
    lines: list[str] = []
    seen: set[int] = set()

    def describe(node: GraphNode) -> str:
        text = (
            f"{node.label}  ({_shape(node.shape)})"
            if node.op != "leaf" or node.label != _show_value(node)
            else node.label
        )
        if g.with_values and node.value is not None:
            text += f"  value {_show(node.value)}"
        if node.grad is not None:
            text += f"  grad {_show(node.grad)}"
        return text

    stack: list[tuple[int, str, str, bool]] = [(g.root, "", "", True)]
    while stack:
        nid, prefix, child_prefix, _ = stack.pop()
        node = g.nodes[nid]
        repeat = nid in seen and node.op != "leaf"
        lines.append(prefix + describe(node) + ("  (shown above)" if repeat else ""))
        if repeat:
            continue
        seen.add(nid)
        inputs = node.inputs
        for i in reversed(range(len(inputs))):
            last = i == len(inputs) - 1
            stack.append(
                (
                    inputs[i],
                    child_prefix + ("└── " if last else "├── "),
                    child_prefix + ("    " if last else "│   "),
                    last,
                )
            )
    return "\n".join(lines)


def _show_value(node: GraphNode) -> str:
    return _show(node.value) if node.value is not None else ""
