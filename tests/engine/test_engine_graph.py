"""graph(t): the computational graph as plain data, in topological order."""

from __future__ import annotations

import json

import numpy as np

import dlquiz.engine.functional as F
from dlquiz.engine import Graph, Tensor, graph


def notes_example():
    """The notes' autograd example: m_h = W_n x, z_h = m_h + b_n, h = ReLU(z_h),
    o = W_o h + b_o, L = (y - o)^2."""
    x = Tensor([1.0, -2.0], name="x")
    wn = Tensor([[1.0, 0.5], [-1.0, 2.0]], requires_grad=True, name="W_n")
    bn = Tensor([0.5, 0.25], requires_grad=True, name="b_n")
    wo = Tensor([[2.0, -1.0]], requires_grad=True, name="W_o")
    bo = Tensor([0.1], requires_grad=True, name="b_o")
    y = Tensor([1.0], name="y")
    h = (wn @ x + bn).relu()
    o = wo @ h + bo
    return ((y - o) ** 2).sum()


def test_nodes_and_edges_of_the_notes_example():
    g = graph(notes_example())
    assert isinstance(g, Graph)
    ops = [n.op for n in g.nodes]
    assert ops.count("matmul") == 2
    assert ops.count("add") == 2
    assert ops[-3:] == ["sub", "pow", "sum"]
    assert "relu" in ops
    names = {n.name for n in g.nodes if n.op == "leaf" and n.name}
    assert names == {"x", "W_n", "b_n", "W_o", "b_o", "y"}
    by_id = {n.id: n for n in g.nodes}
    assert g.root == g.nodes[-1].id
    assert by_id[g.root].shape == ()
    # inputs in argument order: the first matmul's inputs are W_n then x
    first_matmul = next(n for n in g.nodes if n.op == "matmul")
    assert [by_id[i].name for i in g.inputs_of(first_matmul.id)] == ["W_n", "x"]
    # the constant exponent 2 appears as a leaf with its value
    pow_node = next(n for n in g.nodes if n.op == "pow")
    assert [by_id[i].op for i in g.inputs_of(pow_node.id)] == ["sub"]


def test_topological_order_and_ids():
    g = graph(notes_example())
    assert [n.id for n in g.nodes] == list(range(len(g.nodes)))
    for src, dst in g.edges:
        assert src < dst  # every input comes before the operation that uses it
    consumed = {src for src, _ in g.edges}
    assert all(n.id in consumed for n in g.nodes if n.id != g.root)


def test_a_tensor_used_twice_has_two_edges_and_constants_have_values():
    x = Tensor(3.0, requires_grad=True, name="x")
    y = x * x + 2.0
    g = graph(y)
    mul = next(n for n in g.nodes if n.op == "mul")
    x_id = next(n.id for n in g.nodes if n.name == "x")
    assert g.inputs_of(mul.id) == [x_id, x_id]
    const = [n for n in g.nodes if n.op == "leaf" and n.name is None]
    assert [c.value for c in const] == [2.0]
    assert g.nodes[-1].value == 11.0


def test_fused_operations_are_single_nodes():
    x = Tensor(np.ones((1, 1, 4, 4)), name="X")
    w = Tensor(np.ones((2, 1, 3, 3)), requires_grad=True, name="V")
    out = F.max_pool2d(F.conv2d(x, w, padding=1), 2)
    loss = F.cross_entropy(out.reshape(1, -1), [3])
    assert [n.op for n in graph(loss).nodes] == [
        "leaf",
        "leaf",
        "conv2d",
        "max_pool2d",
        "reshape",
        "cross_entropy",
    ]
    assert graph(loss).nodes[2].shape == (1, 2, 4, 4)


def test_data_and_grads_on_request_and_json_form():
    loss = notes_example()
    loss.backward()
    plain = graph(loss)
    assert all(n.data is None and n.grad is None for n in plain.nodes)
    rich = graph(loss, data=True)
    wn = next(n for n in rich.nodes if n.name == "W_n")
    np.testing.assert_array_equal(wn.data, [[1.0, 0.5], [-1.0, 2.0]])
    assert wn.grad.shape == (2, 2)
    text = json.dumps(rich.to_dict())
    back = json.loads(text)
    assert back["root"] == rich.root
    assert len(back["nodes"]) == len(rich.nodes)
    assert back["nodes"][0]["shape"] == list(rich.nodes[0].shape)


def test_graph_of_a_leaf_and_of_a_deep_chain():
    leaf = Tensor([1.0, 2.0], name="a")
    g = graph(leaf)
    assert len(g.nodes) == 1
    assert g.edges == []
    assert g.nodes[0].name == "a"
    y = leaf
    for _ in range(10_000):
        y = y + 1.0
    g = graph(y)
    assert len(g.nodes) == 1 + 2 * 10_000
    assert len(g.edges) == 2 * 10_000
