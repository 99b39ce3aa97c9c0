"""The notes' model as atomic operations, and the engine's graph of it, labelled and drawn.

The notes' autograd example is h = ReLU(W_n x + b_n), o = W_o h + b_o, L = (y - o)^2,
decomposed as m_h = W_n x, z_h = m_h + b_n, h = ReLU(z_h), m_o = W_o h, o = m_o + b_o,
r = y - o, L = r^2. ``Model`` builds that decomposition (or a variant: another activation,
a second hidden layer, no bias, a 1/2 in the loss) as a list of ``Step``s; ``engine_graph``
lowers the model's loss onto the engine (``dlquiz.bank.graphs.build_graph``) and
``match_steps`` finds each step's node in it, so what ``figure`` draws for the student, and
what ``count_operations`` counts, is the graph the engine really differentiates, labelled
with the notes' names. The engine writes y - o as y + (-1)*o: one step here, two engine
nodes there, drawn and counted as the one step.

Shared by the autograd families (``coded/autograd.py``); it registers no family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlquiz.bank.rand import Draw
from dlquiz.bank.render import parse_math, render
from dlquiz.core.expr import Expr, substitute
from dlquiz.core.names import canonical_name
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace, VarSpec

ACTS = ("relu", "sigmoid", "tanh")
ACT_PRIME = {"relu": "step", "sigmoid": "sigmoid'", "tanh": "tanh'"}
ACT_TEXT = {"relu": "ReLU", "sigmoid": "the sigmoid", "tanh": "tanh"}
NOTES_SLIP = (
    "(The notes write this chain as ∂L/∂o · ∂o/∂m_h · ∂m_h/∂x ...; the last factor must be "
    "∂m_h/∂W_n, the derivative with respect to the weights, not the input.)"
)


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

    def layer_names(self, k: int) -> dict[str, str]:
        """One hidden layer uses the notes' names (W_n, b_n, m_h, z_h, h); more are numbered."""
        if len(self.widths) == 1:
            return {"W": "W_n", "b": "b_n", "m": "m_h", "z": "z_h", "h": "h"}
        return {key: f"{key}_{k + 1}" for key in "Wbmzh"}

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
        out = "m_o" if self.biases[-1] else "o"
        steps.append(Step(out, "matmul", ("W_o", prev), f"W_o@{prev}"))
        if self.biases[-1]:
            steps.append(Step("o", "add", ("m_o", "b_o"), "m_o + b_o"))
        steps.append(Step("r", "sub", ("y", "o"), "y - o"))
        if self.half:
            steps.append(Step("s", "square", ("r",), "r^2"))
            steps.append(Step("L", "half", ("s",), "1/2*s"))
        else:
            steps.append(Step("L", "square", ("r",), "r^2"))
        return steps

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

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
        parts.append(f"$o = W_o@{prev}{' + b_o' if self.biases[-1] else ''}$")
        parts.append(f"$L = {'1/2*' if self.half else ''}(y - o)^2$")
        return ", ".join(parts)

    def decomposition(self) -> str:
        """The steps as ``$m_h = W_n@x$, $z_h = m_h + b_n$, ...``."""
        return ", ".join(f"${s.name} = {s.formula}$" for s in self.steps)

    def shapes_text(self) -> str:
        return ", ".join(
            f"{name} is {spec or 'a scalar'}"
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


def notes_model(draw: Draw, *, half: bool = False) -> Model:
    """The notes' model with drawn sizes and activation."""
    d, n = draw.integer(2, 5), draw.integer(2, 5)
    return Model(d, (n,), (draw.choice(ACTS),), (True, True), half=half)


def prose_namespace(model: Model) -> Namespace:
    """Shapes for the text: the leaves and every named step (m_h, z_h, h, ...)."""
    ns = model.namespace()
    for name, e in model.exprs().items():
        ns.declare(VarSpec(canonical_name(name), e.shape))
    return ns


# --- the engine's graph, labelled with the steps ------------------------------------------


class GraphMismatch(ValueError):
    """The engine's graph does not contain the decomposition (a verification failure)."""


def engine_graph(model: Model, at: dict[str, str] | None = None) -> Any:
    """The engine's graph of the model's loss (``dlquiz.bank.graphs``), with values at ``at``."""
    from dlquiz.bank.graphs import build_graph

    specs = [f"{k}:{v}" if v else k for k, v in model.leaves().items()]
    at_list = [f"{k}={v}" for k, v in (at or {}).items()]
    return build_graph(to_notation(model.loss()), specs, at_list)


def match_steps(model: Model, g: Any) -> dict[str, int]:
    """Step (and leaf) name -> engine node id; ``neg:<name>`` for the engine's -1 * name.

    Raises GraphMismatch when a step has no engine node (so the key is not the engine's).
    """
    names = {canonical_name(v): v for v in model.leaves()}
    ids = {
        names[canonical_name(n.label)]: n.id
        for n in g.nodes.values()
        if n.op == "leaf" and canonical_name(n.label) in names
    }

    def find(op: str, inputs: list[int], ordered: bool = True) -> int:
        for node in g.nodes.values():
            if node.op == op and (
                node.inputs == inputs or (not ordered and sorted(node.inputs) == sorted(inputs))
            ):
                return node.id
        raise GraphMismatch(f"no engine node {op}{tuple(inputs)}")

    def constant(value: str) -> list[int]:
        return [n.id for n in g.nodes.values() if n.op == "leaf" and n.label == value]

    def times(c: str, arg: int) -> int:
        for k in constant(c):
            try:
                return find("mul", [k, arg], ordered=False)
            except GraphMismatch:
                continue
        raise GraphMismatch(f"no engine node for {c} times node {arg}")

    for step in model.steps:
        args = [ids[a] for a in step.args]
        if step.op == "sub":
            ids[f"neg:{step.args[1]}"] = times("-1", args[1])
            ids[step.name] = find("add", [args[0], ids[f"neg:{step.args[1]}"]], ordered=False)
        elif step.op == "half":
            ids[step.name] = times("0.5", args[0])
        else:
            op = {"square": "pow", "add": "add"}.get(step.op, step.op)
            ids[step.name] = find(op, args, ordered=op != "add")
    if ids["L"] != g.root:
        raise GraphMismatch("the loss is not the engine graph's root")
    return ids


def derivative_failures(
    model: Model, f: Expr, wrt: str, key: Expr, ns: Namespace, what: str
) -> list[str]:
    """``verify`` of a symbolic gradient: ``key`` = df/d(wrt) against the engine's autograd
    at random points, and the engine's graph of the model holds the decomposition drawn."""
    from dlquiz.core.verification import verify_derivative

    check = verify_derivative(f, canonical_name(wrt), key, ns)
    failures = []
    if not check.ok:
        failures.append(
            f"{what} disagrees with the engine (max rel. error {check.max_rel_error:.2e})"
        )
    try:
        match_steps(model, engine_graph(model))
    except GraphMismatch as exc:
        failures.append(f"the drawn graph does not match the decomposition: {exc}")
    return failures


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
    ops = sum(1 for n in g.nodes.values() if n.op != "leaf") - len(negations)
    names = {canonical_name(v) for v in model.leaves()}
    leaves = sum(1 for n in g.nodes.values() if n.op == "leaf" and canonical_name(n.label) in names)
    consumer = {i: n.id for n in g.nodes.values() for i in n.inputs}
    paths = {}
    for leaf in model.leaves():
        steps, node = 0, ids[leaf]
        while node != g.root:
            node = consumer[node]
            steps += node not in negations
        paths[leaf] = steps
    return ops, leaves, paths
