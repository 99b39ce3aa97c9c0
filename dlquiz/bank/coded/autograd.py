"""Autograd: the notes' model decomposed into atomic operations, and its backward pass.

The notes' example is h = ReLU(W_n x + b_n), o = W_o h + b_o, L = (y - o)^2, decomposed as
m_h = W_n x, z_h = m_h + b_n, h = ReLU(z_h), m_o = W_o h, o = m_o + b_o, r = y - o, L = r^2.
Every family here builds that decomposition (or a variant: another activation, a second
hidden layer, no bias, a 1/2 in the loss) as a list of steps, lowers the model onto the
engine through ``dlquiz.bank.graphs.build_graph`` and matches the engine's graph node by node
against the steps, so the graph drawn for the student is the graph the engine really
differentiates, labelled with the notes' names. The engine writes y - o as y + (-1)*o:
a subtraction is one step here and two engine nodes there, drawn as the one step.

Keys: counts from the decomposition (checked against the engine's graph), symbolic
gradients derived by SymPy / symbolic backprop (checked against the engine's autograd),
numeric gradients from the engine's backward pass (checked against the notes' chain rule
in exact rational arithmetic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from dlquiz.bank.coded.common import distinguishable, keep_distinct, matrix, vector
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.bank.render import parse_math, render
from dlquiz.core.expr import Expr, substitute
from dlquiz.core.names import canonical_name
from dlquiz.core.numbers import array_text
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace, VarSpec

ACTS = ("relu", "sigmoid", "tanh")
ACT_PRIME = {"relu": "step", "sigmoid": "sigmoid'", "tanh": "tanh'"}
ACT_TEXT = {"relu": "ReLU", "sigmoid": "the sigmoid", "tanh": "tanh"}
CONVENTION = (
    "Count as one operation each matrix product, addition, subtraction, activation, square "
    "and multiplication by a constant; the inputs, parameters and the target are leaves, "
    "not operations."
)
NOTES_SLIP = (
    "(The notes write this chain as ∂L/∂o · ∂o/∂m_h · ∂m_h/∂x ...; the last factor must be "
    "∂m_h/∂W_n, the derivative with respect to the weights, not the input.)"
)


# --- the model as a list of atomic steps -------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One atomic operation: ``name = formula`` with ``op`` applied to ``args``."""

    name: str
    op: str  # matmul, add, sub, relu, sigmoid, tanh, square, half
    args: tuple[str, ...]
    formula: str  # in the notation, using the names of leaves and earlier steps


@dataclass(frozen=True)
class Model:
    """An MLP with scalar output o and loss L = c*(y - o)^2, in the notes' names."""

    d: int  # input size
    widths: tuple[int, ...]  # hidden layer widths
    acts: tuple[str, ...]  # one per hidden layer
    biases: tuple[bool, ...]  # one per hidden layer, then the output layer
    half: bool = False  # L = 1/2*(y - o)^2 instead of the notes' (y - o)^2
    steps: list[Step] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", self._steps())

    # names: one hidden layer uses the notes' (W_n, b_n, m_h, z_h, h), more are numbered
    def layer_names(self, k: int) -> dict[str, str]:
        if len(self.widths) == 1:
            return {"W": "W_n", "b": "b_n", "m": "m_h", "z": "z_h", "h": "h"}
        i = k + 1
        return {"W": f"W_{i}", "b": f"b_{i}", "m": f"m_{i}", "z": f"z_{i}", "h": f"h_{i}"}

    def _steps(self) -> list[Step]:
        steps: list[Step] = []
        prev = "x"
        for k, act in enumerate(self.acts):
            n = self.layer_names(k)
            steps.append(Step(n["m"], "matmul", (n["W"], prev), f"{n['W']}@{prev}"))
            pre = n["m"]
            if self.biases[k]:
                steps.append(Step(n["z"], "add", (n["m"], n["b"]), f"{n['m']} + {n['b']}"))
                pre = n["z"]
            steps.append(Step(n["h"], act, (pre,), f"{act}({pre})"))
            prev = n["h"]
        if self.biases[-1]:
            steps.append(Step("m_o", "matmul", ("W_o", prev), f"W_o@{prev}"))
            steps.append(Step("o", "add", ("m_o", "b_o"), "m_o + b_o"))
        else:
            steps.append(Step("o", "matmul", ("W_o", prev), f"W_o@{prev}"))
        steps.append(Step("r", "sub", ("y", "o"), "y - o"))
        if self.half:
            steps.append(Step("s", "square", ("r",), "r^2"))
            steps.append(Step("L", "half", ("s",), "1/2*s"))
        else:
            steps.append(Step("L", "square", ("r",), "r^2"))
        return steps

    def leaves(self) -> dict[str, str]:
        """Leaf name -> shape spec (``""`` for a scalar), inputs first."""
        out = {"x": str(self.d)}
        prev = self.d
        for k, width in enumerate(self.widths):
            n = self.layer_names(k)
            out[n["W"]] = f"{width}x{prev}"
            if self.biases[k]:
                out[n["b"]] = str(width)
            prev = width
        out["W_o"] = f"1x{prev}"
        if self.biases[-1]:
            out["b_o"] = ""
        out["y"] = ""
        return out

    def parameters(self) -> list[str]:
        return [v for v in self.leaves() if v not in ("x", "y")]

    def namespace(self) -> Namespace:
        return Namespace.from_specs(self.leaves())

    def exprs(self) -> dict[str, Expr]:
        """Every step as an expression of the leaves (the definitions substituted)."""
        ns = self.namespace()
        defs: dict[str, Expr] = {}
        for step in self.steps:
            e = substitute(parse_math(step.formula, ns), defs)
            defs[canonical_name(step.name)] = e
            ns.declare(VarSpec(canonical_name(step.name), e.shape))
        return defs

    def loss(self) -> Expr:
        return self.exprs()["L"]

    def equations(self) -> str:
        """The model as the notes write it, e.g. ``h = relu(W_n@x + b_n)``, ``o = ...``."""
        parts = []
        prev = "x"
        for k, act in enumerate(self.acts):
            n = self.layer_names(k)
            bias = f" + {n['b']}" if self.biases[k] else ""
            parts.append(f"${n['h']} = {act}({n['W']}@{prev}{bias})$")
            prev = n["h"]
        bias = " + b_o" if self.biases[-1] else ""
        parts.append(f"$o = W_o@{prev}{bias}$")
        parts.append(f"$L = {'1/2*' if self.half else ''}(y - o)^2$")
        return ", ".join(parts)

    def decomposition(self) -> str:
        """The steps as ``$m_h = W_n@x$, $z_h = m_h + b_n$, ...``."""
        return ", ".join(f"${s.name} = {s.formula}$" for s in self.steps)

    def shapes_text(self) -> str:
        return ", ".join(
            f"{name} is {spec if spec else 'a scalar'}"
            if "x" in spec or not spec
            else f"{name} is a {spec}-vector"
            for name, spec in self.leaves().items()
        )

    def path(self, leaf: str) -> list[Step]:
        """The steps from ``leaf`` to L: the local derivatives dL/d(leaf) multiplies."""
        out = []
        current = leaf
        for step in self.steps:
            if current in step.args:
                out.append(step)
                current = step.name
        return out


def prose_namespace(model: Model) -> Namespace:
    """Shapes for the text: the leaves and every named step (m_h, z_h, h, ...)."""
    ns = model.namespace()
    for name, e in model.exprs().items():
        ns.declare(VarSpec(canonical_name(name), e.shape))
    return ns


# --- the engine's graph, labelled with the steps ------------------------------------------


class GraphMismatch(ValueError):
    """The engine's graph does not contain the decomposition (a verification failure)."""


def engine_graph(model: Model, at: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The engine's graph of the model's loss (``dlquiz.bank.graphs``), with values at ``at``."""
    from dlquiz.bank.graphs import build_graph

    specs = [f"{k}:{v}" if v else k for k, v in model.leaves().items()]
    at_list = [f"{k}={v}" for k, v in (at or {}).items()]
    return build_graph(to_notation(model.loss()), specs, at_list)


def match_steps(model: Model, g) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Step (and leaf) name -> engine node id; ``neg:<name>`` for the engine's -1 * name.

    Raises GraphMismatch when a step has no engine node (so the key is not the engine's).
    """
    names = {canonical_name(v): v for v in model.leaves()}
    ids: dict[str, int] = {}
    for node in g.nodes.values():
        if node.op == "leaf" and canonical_name(node.label) in names:
            ids[names[canonical_name(node.label)]] = node.id

    def constant(node_id: int, value: str) -> bool:
        node = g.nodes[node_id]
        return node.op == "leaf" and node.label == value

    def find(op: str, inputs: list[int], *, ordered: bool = True) -> int:
        for node in g.nodes.values():
            if node.op != op:
                continue
            if node.inputs == inputs or (not ordered and sorted(node.inputs) == sorted(inputs)):
                return node.id
        raise GraphMismatch(f"no engine node {op}{tuple(inputs)}")

    for step in model.steps:
        args = [ids[a] for a in step.args]
        if step.op == "matmul":
            ids[step.name] = find("matmul", args)
        elif step.op == "add":
            ids[step.name] = find("add", args, ordered=False)
        elif step.op in ACTS:
            ids[step.name] = find(step.op, args)
        elif step.op == "square":
            ids[step.name] = find("pow", args)
        elif step.op == "half":
            halves = [n.id for n in g.nodes.values() if n.op == "leaf" and n.label == "0.5"]
            ids[step.name] = next(
                (find("mul", [h, args[0]], ordered=False) for h in halves if h is not None),
                -1,
            )
            if ids[step.name] < 0:
                raise GraphMismatch("no engine node for the 1/2")
        elif step.op == "sub":
            minus = [n.id for n in g.nodes.values() if constant(n.id, "-1")]
            neg = next(
                (
                    n.id
                    for n in g.nodes.values()
                    if n.op == "mul"
                    and len(n.inputs) == 2
                    and args[1] in n.inputs
                    and any(m in n.inputs for m in minus)
                ),
                None,
            )
            if neg is None:
                raise GraphMismatch(f"no engine node for -{step.args[1]}")
            ids[f"neg:{step.args[1]}"] = neg
            ids[step.name] = find("add", [args[0], neg], ordered=False)
        else:  # pragma: no cover - steps only use the ops above
            raise GraphMismatch(f"unknown step {step.op}")
    if ids["L"] != g.root:
        raise GraphMismatch("the loss is not the engine graph's root")
    return ids


def figure(model: Model, *, at: dict[str, str] | None = None, grads: bool = False) -> str:
    """The labelled tree: ``z_h = m_h + b_n  (3x1)``, one node per step of the decomposition.

    The engine's y + (-1)*o is drawn as the one step r = y - o (so the drawing has as many
    operations as the key counts). With ``at`` only the leaves show their values: the
    forward values of the operations are for the student to compute. Grads if asked.
    """
    from dlquiz.bank.graphs import render_tree

    g = engine_graph(model, at)
    ids = match_steps(model, g)
    ns = prose_namespace(model)
    for leaf in model.leaves():
        g.nodes[ids[leaf]].label = render(f"${leaf}$", ns.copy(), "unicode")
    for step in model.steps:
        node = g.nodes[ids[step.name]]
        node.label = render(f"${step.name} = {step.formula}$", ns.copy(), "unicode")
        if step.op == "sub":
            node.inputs = [ids[a] for a in step.args]
        node.value = None
    for node in g.nodes.values():
        if node.op == "leaf" and node.label == "0.5":
            node.label = "1/2 (a constant)"
    if not grads:
        for node in g.nodes.values():
            node.grad = None
    legend = (
        "Computational graph (the engine's, output at the top; each operation above its inputs):"
    )
    return legend + "\n" + render_tree(g)


def count_operations(model: Model) -> tuple[int, int, dict[str, int]]:
    """From the engine's graph: (operations with y - o as one, leaves, path lengths)."""
    g = engine_graph(model)
    ids = match_steps(model, g)
    negations = {v for k, v in ids.items() if k.startswith("neg:")}
    operations = [n for n in g.nodes.values() if n.op != "leaf"]
    ops = len(operations) - len(negations)
    names = {canonical_name(v) for v in model.leaves()}
    leaves = sum(1 for n in g.nodes.values() if n.op == "leaf" and canonical_name(n.label) in names)
    consumers: dict[int, int] = {}
    for n in g.nodes.values():
        for i in n.inputs:
            consumers[i] = n.id
    paths = {}
    for leaf in model.leaves():
        steps, node = 0, ids[leaf]
        while node != g.root:
            node = consumers[node]
            steps += node not in negations
        paths[leaf] = steps
    return ops, leaves, paths


# --- shared helpers -------------------------------------------------------------------------


def _matrix(rows: Sequence[Sequence[object]]) -> str:
    """``[1, 2; 3, 4]``; a single row as ``[[1, 2]]`` (``[1, 2]`` would be a column)."""
    if len(rows) == 1:
        return "[[" + ", ".join(str(v) for v in rows[0]) + "]]"
    return matrix(rows)


def _numbers(a: np.ndarray, sig: int | None = None) -> str:
    """A key in the notation: a number, a list for a vector (row or column), rows for a
    matrix; ``sig`` significant figures (None: the key's)."""
    a = np.asarray(a, dtype=float)
    return array_text(a.reshape(-1) if 1 in a.shape else a, sig)


def _shown(a: np.ndarray) -> str:
    return _numbers(a, 4)


def _distinguishable(a: np.ndarray, b: np.ndarray) -> bool:
    """``distinguishable``, and a matrix and its transpose: the judge tells them apart by shape."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == b.size and a.shape != b.shape and not (1 in a.shape and 1 in b.shape):
        return True
    return distinguishable(a, b)


# --- 1. how many operations ------------------------------------------------------------------


@register
class Operations(Family):
    id = "autograd/operations"
    topic = "autograd"
    title = "Decompose a model into atomic operations: count operations, leaves, path length"
    kind = "integer"
    kinds = dims(ask=("operations", "leaves", "path"), layers=("1", "2"))

    def question_kind(self, seed: int) -> dict[str, str]:
        model, ask, _ = self.params(seed)
        return {"ask": ask, "layers": str(len(model.widths))}

    def params(self, seed: int) -> tuple[Model, str, str]:
        draw = Draw(self.id, seed)
        layers = draw.choice([1, 1, 2])
        d = draw.integer(2, 5)
        widths = tuple(draw.integer(2, 5) for _ in range(layers))
        acts = tuple(draw.choice(ACTS) for _ in range(layers))
        biases = tuple(draw.choice([True, True, False]) for _ in range(layers + 1))
        model = Model(d, widths, acts, biases, half=draw.choice([False, False, True]))
        ask = draw.choice(["operations", "operations", "leaves", "path"])
        leaf = draw.choice(model.parameters())
        return model, ask, leaf

    def key(self, model: Model, ask: str, leaf: str) -> int:
        if ask == "operations":
            return len(model.steps)
        if ask == "leaves":
            return len(model.leaves())
        return len(model.path(leaf))

    def generate(self, seed: int) -> Problem:
        model, ask, leaf = self.params(seed)
        key = self.key(model, ask, leaf)
        question = {
            "operations": "How many atomic operations does the computational graph have?",
            "leaves": "How many leaves (inputs, parameters and the target) does the "
            "computational graph have?",
            "path": f"The backward pass multiplies one local derivative per operation on the "
            f"way from ${leaf}$ up to $L$. How many operations lie on that path (counting "
            f"the one that uses ${leaf}$ and the one that produces $L$)?",
        }[ask]
        statement = (
            f"A model is trained with {model.equations()}. {CONVENTION} Decompose the model "
            f"into atomic operations, as the notes do for their example. {question}"
        )
        steps = model.decomposition()
        path = model.path(leaf)
        explain = {
            "operations": f"that is {len(model.steps)} operations.",
            "leaves": f"the leaves are {', '.join(model.leaves())}: {len(model.leaves())} of them.",
            "path": f"from ${leaf}$ the path goes through "
            + ", ".join(f"${s.name}$" for s in path)
            + f": {len(path)} operations, so $d/d{leaf} L$ is a product of {len(path)} local "
            "derivatives.",
        }[ask]
        ns = model.namespace()
        solution = f"One operation per line of the decomposition: {steps}; {explain}"
        problem = self.problem(
            seed,
            statement=statement,
            answer=str(key),
            ns=ns,
            hints=[
                "Name every intermediate result, as the notes do for their example: "
                "m_h = W_n x, z_h = m_h + b_n, h = ReLU(z_h), ...",
                "A subtraction $y - o$ is one operation and so is the square; a missing bias "
                "means one addition fewer.",
            ],
            solution=solution,
            mistakes=self.mistakes(model, ask, key),
        )
        # The drawn graph would give the count away: it goes with the solution, not the
        # statement (terminal only; the printed solution keeps the decomposition above).
        problem.solution += "\n\n" + figure(model)
        return problem

    def mistakes(self, model: Model, ask: str, key: int) -> list[dict[str, str]]:
        out = []
        if ask == "operations":
            subs = sum(1 for s in model.steps if s.op == "sub")
            out.append(
                {
                    "tag": "subtraction-as-two",
                    "answer": str(key + subs),
                    "feedback": "y - o is one subtraction by the stated rule, not a "
                    "negation (-1)·o and an addition.",
                }
            )
            out.append(
                {
                    "tag": "counted-leaves",
                    "answer": str(key + len(model.leaves())),
                    "feedback": "Inputs, parameters and the target are leaves, not operations.",
                }
            )
        elif ask == "leaves":
            out.append(
                {
                    "tag": "forgot-target",
                    "answer": str(key - 1),
                    "feedback": "The target y is a leaf of the loss's graph too.",
                }
            )
        else:
            out.append(
                {
                    "tag": "off-by-one",
                    "answer": str(key - 1),
                    "feedback": "Count both ends: the operation that uses the parameter and "
                    "the one that produces L.",
                }
            )
        return [m for m in out if m["answer"] != str(key) and int(m["answer"]) > 0]

    def verify(self, problem: Problem) -> list[str]:
        model, ask, leaf = self.params(problem.seed)
        try:
            ops, leaves, paths = count_operations(model)
        except GraphMismatch as exc:
            return [f"the engine's graph does not match the decomposition: {exc}"]
        engine = {"operations": ops, "leaves": leaves, "path": paths[leaf]}[ask]
        if int(problem.answer) != engine:
            return [f"the key {problem.answer} differs from the engine graph's count {engine}"]
        return []


# --- 2. the backward rule of one node -------------------------------------------------------

# (step name, input asked for); the notes' one-hidden-layer model
_LOCAL_CHOICES = [
    ("m_h", "W_n"),
    ("m_h", "W_n"),
    ("m_h", "x"),
    ("h", "z_h"),
    ("h", "z_h"),
    ("z_h", "b_n"),
    ("m_o", "h"),
    ("m_o", "W_o"),
    ("r", "o"),
    ("L", "r"),
]


def notes_model(draw: Draw, *, half: bool = False) -> Model:
    """The notes' model with drawn sizes and activation."""
    d, n = draw.integer(2, 5), draw.integer(2, 5)
    return Model(d, (n,), (draw.choice(ACTS),), (True, True), half=half)


@register
class LocalGradient(Family):
    id = "autograd/local-gradient"
    topic = "autograd"
    title = "The backward rule of one node: what it passes to its input"
    kind = "expression"
    kinds = dims(
        node=tuple(dict.fromkeys(f"{n}/{w}" for n, w in _LOCAL_CHOICES)),
        activation=ACTS,
    )

    def question_kind(self, seed: int) -> dict[str, str]:
        model, node, wrt = self.params(seed)
        return {"node": f"{node}/{wrt}", "activation": model.acts[0]}

    def params(self, seed: int) -> tuple[Model, str, str]:
        draw = Draw(self.id, seed)
        model = notes_model(draw)
        node, wrt = draw.choice(_LOCAL_CHOICES)
        return model, node, wrt

    def setup(self, model: Model, node: str, wrt: str) -> tuple[Namespace, Expr, Expr]:
        """(answer namespace, the function differentiated, the key) for one node."""
        from dlquiz.symbolic.derive import derivative

        step = next(s for s in model.steps if s.name == node)
        # Every name of the model is known (the statement uses them all); the answer is in
        # terms of g and the node's inputs.
        ns = prose_namespace(model)
        local = parse_math(step.formula, ns.copy())
        if node == "L":
            f = local
        else:
            # L = sum(g ⊙ node): its gradient in the node's output is g, so its gradient in
            # an input is what the node passes back (a vector-Jacobian product).
            ns.declare(VarSpec("g", local.shape))
            body = "g*u" if local.is_scalar else "sum(hadamard(g, u))"
            f = substitute(parse_math(body, _with(ns, "u", local.shape)), {"u": local})
        return ns, f, derivative(f, canonical_name(wrt), ns)

    def generate(self, seed: int) -> Problem:
        model, node, wrt = self.params(seed)
        ns, _f, key = self.setup(model, node, wrt)
        step = next(s for s in model.steps if s.name == node)
        act = model.acts[0]
        inputs = " and ".join(f"${a}$" for a in step.args)
        shape = (
            "a scalar"
            if ns.get("g") is None or not ns.get("g").shape
            else (f"a vector shaped like ${node}$")
        )
        if node == "L":
            question = (
                f"The backward pass starts at the loss. Write $d/d{wrt} L$, the gradient "
                f"that node $L = {step.formula}$ sends to its input ${wrt}$."
            )
        else:
            question = (
                f"In the backward pass the gradient $g = d/d{node} L$ ({shape}) has arrived "
                f"at the node ${node} = {step.formula}$. Write the gradient $d/d{wrt} L$ that "
                f"this node passes to its input ${wrt}$, in terms of $g$ and, where needed, "
                f"the node's inputs {inputs}"
                + (
                    f"; write the derivative of {ACT_TEXT[act]}, entry by entry, as "
                    f"${ACT_PRIME[act]}(z_h)$"
                    if node == "h"
                    else ""
                )
                + "."
            )
        statement = (
            f"The notes' model {model.equations()} (here with {ACT_TEXT[act]} as the "
            f"activation; {model.shapes_text()}) decomposes into the atomic operations "
            f"{model.decomposition()}. {question}"
        )
        rule = self.rule(step, act)
        if node == "m_h" and wrt == "W_n":
            rule += " " + NOTES_SLIP
        problem = self.problem(
            seed,
            statement=statement,
            answer=to_notation(key),
            ns=ns,
            hints=[
                "Each node multiplies the gradient arriving at its output by its local "
                "derivative (a vector-Jacobian product); the result has the shape of the input.",
                rule,
            ],
            solution=f"{rule} So the answer is ${to_notation(key)}$.",
            mistakes=self.mistakes(model, node, wrt, ns),
            figure=figure(model),
        )
        return problem

    @staticmethod
    def rule(step: Step, act: str) -> str:
        """The backward rule of the node's operation, for hints and the solution."""
        if step.op == "matmul":
            A, v = step.args
            return (
                f"For the matrix product ${step.name} = {A}@{v}$ the upstream gradient goes "
                f"back through the transpose to the vector, $d/d{v} L = {A}.T@g$, and to the "
                f"matrix as an outer product of the shape of ${A}$, $d/d{A} L = g@{v}.T$."
            )
        if step.op == "add":
            return "An addition passes the gradient through unchanged to both inputs."
        if step.op == "sub":
            return "A subtraction $y - o$ passes $g$ to $y$ and $-g$ to $o$."
        if step.op == "square":
            return (
                "The loss node $L = r^2$ is where the backward pass starts ($d/dL L = 1$); "
                "its local derivative is $2*r$."
            )
        return (
            "An elementwise activation multiplies the gradient entry by entry by its "
            f"derivative at its input: $d/dz_h L = hadamard(g, {ACT_PRIME[act]}(z_h))$."
        )

    def mistakes(self, model: Model, node: str, wrt: str, ns: Namespace) -> list[dict[str, str]]:
        act = model.acts[0]
        out: list[dict[str, str]] = []
        step = next(s for s in model.steps if s.name == node)
        if step.op == "matmul":
            A, v = step.args
            square = (ns.get(canonical_name(A)).shape or (1, 1))[0] == (
                ns.get(canonical_name(A)).shape or (1, 1)
            )[1]
            if wrt == v:
                out.append(
                    {
                        "tag": "transposed",
                        "answer": f"({A}.T@g).T",
                        "feedback": f"∂L/∂{v} has the shape of {v} (a column): {A}ᵀ g.",
                    }
                )
                if square:
                    out.append(
                        {
                            "tag": "missing-transpose",
                            "answer": f"{A}@g",
                            "feedback": "The gradient goes back through the transpose of "
                            f"{A}: {A}ᵀ g.",
                        }
                    )
            else:
                out.append(
                    {
                        "tag": "transposed",
                        "answer": f"{v}@g.T",
                        "feedback": f"∂L/∂{A} has the shape of {A}: the outer product g "
                        f"{v}ᵀ, not {v} gᵀ.",
                    }
                )
        elif step.op in ACTS:
            prime = f"{ACT_PRIME[act]}(z_h)"
            out += [
                {
                    "tag": "missing-upstream",
                    "answer": prime,
                    "feedback": "That is the local derivative alone: multiply it entry by "
                    "entry by the gradient g arriving from above.",
                },
                {
                    "tag": "function-for-derivative",
                    "answer": f"hadamard(g, {act}(z_h))",
                    "feedback": "Multiply by the activation's derivative, not by the "
                    "activation itself.",
                },
            ]
        elif step.op == "sub":
            out.append(
                {
                    "tag": "sign",
                    "answer": "g",
                    "feedback": "o enters y - o with a minus sign: the node passes -g to o.",
                }
            )
        elif step.op == "square":
            out.append(
                {
                    "tag": "lost-factor",
                    "answer": "r",
                    "feedback": "The square brings down a factor 2: d/dr r² = 2r.",
                }
            )
        return out

    def verify(self, problem: Problem) -> list[str]:
        from dlquiz.core.verification import verify_derivative

        model, node, wrt = self.params(problem.seed)
        ns, f, key = self.setup(model, node, wrt)
        check = verify_derivative(f, canonical_name(wrt), key, ns)
        failures = []
        if not check.ok:
            failures.append(
                f"the local gradient disagrees with the engine (max rel. error "
                f"{check.max_rel_error:.2e})"
            )
        try:
            match_steps(model, engine_graph(model))
        except GraphMismatch as exc:
            failures.append(f"the drawn graph does not match the decomposition: {exc}")
        return failures


def _with(ns: Namespace, name: str, shape: tuple[int, ...]) -> Namespace:
    out = ns.copy()
    out.declare(VarSpec(name, shape))
    return out


# --- 3. an intermediate gradient in numbers ---------------------------------------------------


@dataclass(frozen=True)
class _Point:
    W_n: tuple[tuple[int, ...], ...]
    x: tuple[int, ...]
    b_n: tuple[int, ...]
    W_o: tuple[int, ...]
    b_o: int
    y: int

    def z(self) -> list[int]:
        return [
            sum(w * xi for w, xi in zip(row, self.x, strict=True)) + b
            for row, b in zip(self.W_n, self.b_n, strict=True)
        ]

    def values(self) -> dict[str, str]:
        return {
            "W_n": _matrix(self.W_n),
            "x": vector(self.x),
            "b_n": vector(self.b_n),
            "W_o": _matrix([self.W_o]),
            "b_o": str(self.b_o),
            "y": str(self.y),
        }


_ASKED = ["o", "h", "z_h", "z_h", "b_n", "W_n", "W_n", "W_o", "x"]
_DEAD_UNIT_ASKS = ("z_h", "b_n", "W_n")


def backward_exact(
    p: _Point,
    half: bool,
    *,
    sign: int = 1,
    factor: Fraction = Fraction(1),
    mask: bool = True,
) -> dict[str, np.ndarray]:
    """The notes' chain rule by hand, in exact arithmetic (options make the mistakes)."""
    c = Fraction(1, 2) if half else Fraction(1)
    z = [Fraction(v) for v in p.z()]
    h = [max(v, Fraction(0)) for v in z]
    o = sum(w * hi for w, hi in zip(p.W_o, h, strict=True)) + p.b_o
    d_o = -2 * c * (p.y - o) * sign * factor  # L = c (y - o)^2
    d_h = [w * d_o for w in p.W_o]
    d_z = [g * (1 if (v > 0 or not mask) else 0) for g, v in zip(d_h, z, strict=True)]
    d_W_n = [[g * xi for xi in p.x] for g in d_z]
    d_x = [sum(p.W_n[j][k] * d_z[j] for j in range(len(z))) for k in range(len(p.x))]
    d_W_o = [d_o * hi for hi in h]

    def arr(v: object) -> np.ndarray:
        return np.array(v, dtype=object)

    return {
        "o": arr([[d_o]]),
        "h": arr([[v] for v in d_h]),
        "z_h": arr([[v] for v in d_z]),
        "b_n": arr([[v] for v in d_z]),
        "W_n": arr(d_W_n),
        "W_o": arr([d_W_o]),
        "x": arr([[v] for v in d_x]),
    }


@register
class BackwardValues(Family):
    id = "autograd/backward-values"
    topic = "autograd"
    title = "An intermediate gradient of the backward pass, in numbers"
    kind = "numbers"
    # The dead unit's 0 is the point of d/dz_h, d/db_n and d/dW_n (the ReLU passes nothing
    # back through it); every other key is drawn without a zero entry.
    kinds = dims(
        ask=tuple(dict.fromkeys(_ASKED)), loss=("half", "plain"), zeros=("none", "the point")
    )

    def question_kind(self, seed: int) -> dict[str, str]:
        _, half, asked = self.params(seed)
        zeros = "the point" if asked in _DEAD_UNIT_ASKS else "none"
        return {"ask": asked, "loss": "half" if half else "plain", "zeros": zeros}

    def params(self, seed: int) -> tuple[_Point, bool, str]:
        draw = Draw(self.id, seed)
        n = draw.choice([2, 2, 3])
        half = draw.choice([False, False, True])
        asked = draw.choice(_ASKED)
        while True:
            W_n = tuple(tuple(draw.integer(-2, 2) for _ in range(2)) for _ in range(n))
            x = tuple(draw.nonzero(-2, 2) for _ in range(2))
            b_n = tuple(draw.integer(-1, 1) for _ in range(n))
            W_o = tuple(draw.nonzero(-2, 2) for _ in range(n))
            p = _Point(W_n, x, b_n, W_o, draw.integer(-1, 1), draw.integer(-3, 3))
            z = p.z()
            # no pre-activation exactly 0; one unit on and one off, so the mask matters
            # (except for d/dW_o, whose key would then hold the dead unit's 0)
            dead = any(v < 0 for v in z)
            if 0 in z or not any(v > 0 for v in z) or dead != (asked != "W_o"):
                continue
            h = [max(v, 0) for v in z]
            o = sum(w * hi for w, hi in zip(W_o, h, strict=True)) + p.b_o
            if o == p.y or abs(p.y - o) > 8:
                continue
            key = backward_exact(p, half)[asked]
            if asked in _DEAD_UNIT_ASKS or all(v != 0 for v in key.reshape(-1)):
                return p, half, asked

    @staticmethod
    def engine(p: _Point, half: bool) -> dict[str, np.ndarray]:
        """Every gradient by the engine's backward pass (intermediates keep their .grad)."""
        from dlquiz.engine import Tensor

        def t(v: object) -> Tensor:
            return Tensor(np.array(v, dtype=float), requires_grad=True)

        W_n, x = t(p.W_n), t([[v] for v in p.x])
        b_n, W_o = t([[v] for v in p.b_n]), t([p.W_o])
        b_o, y = t([[p.b_o]]), t([[p.y]])
        m_h = W_n @ x
        z_h = m_h + b_n
        h = z_h.relu()
        o = W_o @ h + b_o
        r = y - o
        loss = r**2 * (0.5 if half else 1.0)
        loss.backward()
        return {
            "o": o.grad,
            "h": h.grad,
            "z_h": z_h.grad,
            "b_n": b_n.grad,
            "W_n": W_n.grad,
            "W_o": W_o.grad,
            "x": x.grad,
        }

    def generate(self, seed: int) -> Problem:
        p, half, asked = self.params(seed)
        n = len(p.W_n)
        model = Model(2, (n,), ("relu",), (True, True), half=half)
        grads = self.engine(p, half)
        key = grads[asked]
        values = p.values()
        given = ", ".join(f"${k} = {v}$" for k, v in values.items())
        shape = {
            "o": "a number",
            "h": f"a {n}-vector",
            "z_h": f"a {n}-vector",
            "b_n": f"a {n}-vector",
            "W_n": f"a {n}x2 matrix, rows as in $W_n$",
            "W_o": f"a 1x{n} row, as $W_o$",
            "x": "a 2-vector",
        }[asked]
        statement = (
            f"The notes' model {model.equations()} is decomposed as {model.decomposition()} "
            f"(ReLU'(0) = 0). At {given}, run the forward pass and then the backward pass, "
            f"and give $d/d{asked} L$ ({shape}), to 3 significant figures. The graph below "
            "shows the given values at its leaves."
        )
        exact = backward_exact(p, half)
        z = p.z()
        h = [max(v, 0) for v in z]
        o = sum(w * hi for w, hi in zip(p.W_o, h, strict=True)) + p.b_o
        c = "1/2*" if half else ""
        chain = [
            f"Forward: $z_h$ = {vector(z)}, $h$ = {vector(h)}, $o$ = {o}, $r = y - o$ = {p.y - o}.",
            f"Backward: $L = {c}r^2$ gives $d/dr L$ = {_shown(exact['o'] * -1)} and "
            f"$d/do L = -(d/dr L)$ = {_shown(exact['o'])}.",
            f"$d/dh L = W_o.T*(d/do L)$ = {_shown(exact['h'])}; through the ReLU "
            f"$d/dz_h L = hadamard(d/dh L, step(z_h))$ = {_shown(exact['z_h'])} (units with "
            "z_h < 0 pass nothing back).",
        ]
        if asked == "b_n":
            chain.append(f"$d/db_n L = d/dz_h L$ = {_shown(exact['b_n'])}.")
        elif asked == "W_n":
            chain.append(f"$d/dW_n L = (d/dz_h L)@x.T$ = {_shown(exact['W_n'])}. " + NOTES_SLIP)
        elif asked == "W_o":
            chain.append(f"$d/dW_o L = (d/do L)*h.T$ = {_shown(exact['W_o'])}.")
        elif asked == "x":
            chain.append(f"$d/dx L = W_n.T@(d/dz_h L)$ = {_shown(exact['x'])}.")
        needed = {"o": 2, "h": 3, "z_h": 3, "W_o": 2}.get(asked, 4)
        if asked == "W_o":
            chain = [*chain[:2], chain[-1]]
        solution = " ".join(chain[:needed] if asked != "W_o" else chain)
        candidates = [
            (
                "sign",
                backward_exact(p, half, sign=-1)[asked],
                "dL/do = -2(y - o) for L = (y - o)²: the minus comes from o entering with a minus.",
            ),
            (
                "square-factor",
                backward_exact(p, half, factor=Fraction(2) if half else Fraction(1, 2))[asked],
                "Check the factor 2 from the square against the loss's constant.",
            ),
        ]
        if asked in ("z_h", "b_n", "W_n", "x"):
            candidates.append(
                (
                    "missing-relu-derivative",
                    backward_exact(p, half, mask=False)[asked],
                    "The ReLU passes the gradient only where z_h > 0: multiply by step(z_h).",
                )
            )
        if asked == "W_n":
            candidates.append(
                (
                    "transposed",
                    exact["W_n"].T,
                    "∂L/∂W_n = (∂L/∂z_h) xᵀ has the shape of W_n: you have x (∂L/∂z_h)ᵀ.",
                )
            )
        mistakes = keep_distinct(key, candidates, text=_numbers, apart=_distinguishable)
        return self.problem(
            seed,
            statement=statement,
            answer=_numbers(key),
            ns=model.namespace(),
            kind="number" if asked == "o" else "numbers",
            hints=[
                "Forward first: $z_h$, $h$, $o$ and $r = y - o$. Backward from "
                f"$d/dr L$ = {'r' if half else '2*r'}, one node at a time.",
                "Through $m_o = W_o@h$ the gradient becomes $W_o.T*(d/do L)$; through the "
                "ReLU multiply entry by entry by $step(z_h)$.",
            ],
            solution=solution,
            mistakes=mistakes,
            figure=figure(model, at=values),
        )

    def verify(self, problem: Problem) -> list[str]:
        p, half, asked = self.params(problem.seed)
        exact = np.asarray(backward_exact(p, half)[asked], dtype=float)
        key = np.asarray(self.engine(p, half)[asked], dtype=float)
        failures = []
        if not np.allclose(key, exact, rtol=1e-8, atol=1e-12):
            failures.append(
                f"engine gradient {key.tolist()} differs from the chain rule {exact.tolist()}"
            )
        shown = problem.answer
        if _numbers(exact) != shown:
            failures.append(f"the key {shown} is not the chain rule's {_numbers(exact)}")
        return failures


# --- 4. dL/dW_n in matrix form -------------------------------------------------------------

_WEIGHT_CHOICES = ["W_n", "W_n", "W_n", "b_n", "b_n", "W_o", "x"]


@register
class WeightGradient(Family):
    id = "autograd/weight-gradient"
    topic = "autograd"
    title = "Gradients of the notes' one-hidden-layer model in matrix form"
    kind = "expression"
    kinds = dims(
        wrt=tuple(dict.fromkeys(_WEIGHT_CHOICES)),
        activation=ACTS,
        loss=("half", "plain"),
    )

    def question_kind(self, seed: int) -> dict[str, str]:
        model, wrt = self.params(seed)
        return {"wrt": wrt, "activation": model.acts[0], "loss": "half" if model.half else "plain"}

    def params(self, seed: int) -> tuple[Model, str]:
        draw = Draw(self.id, seed)
        model = notes_model(draw, half=draw.choice([False, True]))
        return model, draw.choice(_WEIGHT_CHOICES)

    def derive(self, model: Model, wrt: str) -> tuple[Namespace, Expr, Expr]:
        from dlquiz.symbolic.derive import derivative

        ns = model.namespace()
        loss = model.loss()
        return ns, loss, derivative(loss, canonical_name(wrt), ns)

    def generate(self, seed: int) -> Problem:
        model, wrt = self.params(seed)
        ns, _loss, key = self.derive(model, wrt)
        act = model.acts[0]
        exprs = model.exprs()
        definitions = {name: to_notation(exprs[name]) for name in ("z_h", "h", "o")}
        two = "" if model.half else "2*"
        g_o = f"-{two}(y - o)"
        prime = f"{ACT_PRIME[act]}(z_h)"
        delta = f"hadamard(W_o.T*({g_o}), {prime})"
        forms = {
            "W_n": f"{delta}@x.T",
            "b_n": delta,
            "x": f"W_n.T@{delta}",
            "W_o": f"({g_o})*h.T",
        }
        statement = (
            f"For the notes' model {model.equations()} with {ACT_TEXT[act]} as the "
            f"activation ({model.shapes_text()}), find $d/d{wrt} L$ in matrix form. You may "
            f"use $z_h = W_n@x + b_n$, $h$ and $o$ in your answer"
            + (
                f", and write the derivative of the activation entry by entry as ${prime}$"
                if wrt != "W_o"
                else ""
            )
            + "."
        )
        cancel = " that cancels the 1/2" if model.half else ""
        chain = {
            "W_n": "$d/dW_n L = (d/dz_h L)@x.T$ since $m_h = W_n@x$",
            "b_n": "$d/db_n L = d/dz_h L$ since $z_h = m_h + b_n$",
            "x": "$d/dx L = W_n.T@(d/dz_h L)$ since $m_h = W_n@x$",
            "W_o": "$d/dW_o L = (d/do L)*h.T$ since $m_o = W_o@h$",
        }[wrt]
        solution = (
            f"Backward through the decomposition {model.decomposition()}: "
            f"$d/do L = {g_o}$ (the square brings down a 2{cancel}, "
            "and $o$ enters $r = y - o$ with a minus); "
            + (
                f"$d/dh L = W_o.T*(d/do L)$; $d/dz_h L = hadamard(d/dh L, {prime})$; "
                if wrt != "W_o"
                else ""
            )
            + f"{chain}. So $d/d{wrt} L = {forms[wrt]}$, which is ${to_notation(key)}$."
            + (" " + NOTES_SLIP if wrt == "W_n" else "")
        )
        mistakes = [
            {
                "tag": "sign",
                "answer": f"-({forms[wrt]})",
                "feedback": "Check the sign: dL/do = -2(y - o) because o enters y - o with "
                "a minus.",
            },
            {
                "tag": "lost-factor",
                "answer": f"1/2*({forms[wrt]})",
                "feedback": "The square brings down a factor 2: d/dr r² = 2r.",
            },
        ]
        if wrt != "W_o":
            no_act = forms[wrt].replace(delta, f"(W_o.T*({g_o}))")
            mistakes += [
                {
                    "tag": "missing-activation-derivative",
                    "answer": no_act,
                    "feedback": f"The gradient passes through h = {act}(z_h): multiply "
                    f"entry by entry by {prime}.",
                },
                {
                    "tag": "function-for-derivative",
                    "answer": forms[wrt].replace(prime, f"{act}(z_h)"),
                    "feedback": "Multiply by the activation's derivative at z_h, not by the "
                    "activation itself.",
                },
            ]
        if wrt in ("W_n", "x", "W_o"):
            wrong = {
                "W_n": f"x@({delta}).T",
                "x": f"({forms['x']}).T",
                "W_o": f"({g_o})*h",
            }[wrt]
            mistakes.append(
                {
                    "tag": "transposed",
                    "answer": wrong,
                    "feedback": f"A gradient has the shape of its variable: ∂L/∂{wrt} is "
                    f"shaped like {wrt}.",
                }
            )
        return self.problem(
            seed,
            statement=statement,
            answer=to_notation(key),
            ns=ns,
            definitions=definitions,
            hints=[
                "Go backward one atomic operation at a time: $L = r^2$, $r = y - o$, "
                f"$o = m_o + b_o$, $m_o = W_o@h$, $h = {act}(z_h)$, ...",
                f"The ReLU/sigmoid/tanh node multiplies entry by entry by its derivative; {chain}.",
            ],
            solution=solution,
            mistakes=mistakes,
            figure=figure(model),
        )

    def verify(self, problem: Problem) -> list[str]:
        from dlquiz.core.verification import verify_derivative

        model, wrt = self.params(problem.seed)
        ns, loss, key = self.derive(model, wrt)
        failures = []
        check = verify_derivative(loss, canonical_name(wrt), key, ns)
        if not check.ok:
            failures.append(
                f"d/d{wrt} L disagrees with the engine (max rel. error {check.max_rel_error:.2e})"
            )
        try:
            match_steps(model, engine_graph(model))
        except GraphMismatch as exc:
            failures.append(f"the drawn graph does not match the decomposition: {exc}")
        return failures
