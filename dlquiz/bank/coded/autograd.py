"""Autograd: the notes' model decomposed into atomic operations, and its backward pass.

Four families in code: their figure is the drawing of the engine's graph of the model, and
`operations` counts that graph. The model, its decomposition and the labelled engine graph
are the shared machinery of ``coded/graph_model.py``. Keys: counts from the decomposition
(checked against the engine's graph), symbolic gradients derived by SymPy (checked against
the engine's autograd), numeric gradients from the engine's backward pass (checked against
the notes' chain rule in exact rational arithmetic). The other autograd families are
templates (``problems/autograd/``).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from dlquiz.bank.coded.common import distinct_counts, keep_distinct, matrix, vector
from dlquiz.bank.coded.graph_model import (
    ACT_PRIME,
    ACT_TEXT,
    ACTS,
    NOTES_SLIP,
    GraphMismatch,
    Model,
    Step,
    count_operations,
    derivative_failures,
    engine_graph,
    figure,
    match_steps,
    notes_model,
    prose_namespace,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.bank.render import parse_math
from dlquiz.core.expr import Expr, substitute
from dlquiz.core.names import canonical_name
from dlquiz.core.numbers import array_text
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace, VarSpec

# --- 1. how many operations ------------------------------------------------------------------

CONVENTION = (
    "Count as one operation each matrix product, addition, subtraction, activation, square "
    "and multiplication by a constant; the inputs, parameters and the target are leaves, "
    "not operations."
)


@register
class Operations(Family):
    id = "autograd/operations"
    topic = "autograd"
    title = "Decompose a model into atomic operations: count operations, leaves, path length"
    kind = "integer"
    kinds = dims(ask=("operations", "leaves", "path"), layers=("1", "2"))

    def draw(self, seed: int) -> tuple[Model, str, str]:
        draw = Draw(self.id, seed)
        layers = draw.choice([1, 1, 2])
        d = draw.integer(2, 5)
        widths = tuple(draw.integer(2, 5) for _ in range(layers))
        acts = tuple(draw.choice(ACTS) for _ in range(layers))
        biases = tuple(draw.choice([True, True, False]) for _ in range(layers + 1))
        model = Model(d, widths, acts, biases, half=draw.choice([False, False, True]))
        ask = draw.choice(["operations", "operations", "leaves", "path"])
        return model, ask, draw.choice(model.parameters())

    def generate(self, seed: int) -> Problem:
        model, ask, leaf = self.draw(seed)
        path, leaves = model.path(leaf), list(model.leaves())
        key = {"operations": len(model.steps), "leaves": len(leaves), "path": len(path)}[ask]
        question = {
            "operations": "How many atomic operations does the computational graph have?",
            "leaves": "How many leaves (inputs, parameters and the target) does the "
            "computational graph have?",
            "path": f"The backward pass multiplies one local derivative per operation on the "
            f"way from ${leaf}$ up to $L$. How many operations lie on that path (counting "
            f"the one that uses ${leaf}$ and the one that produces $L$)?",
        }[ask]
        explain = {
            "operations": f"that is {len(model.steps)} operations.",
            "leaves": f"the leaves are {', '.join(leaves)}: {len(leaves)} of them.",
            "path": f"from ${leaf}$ the path goes through "
            + ", ".join(f"${s.name}$" for s in path)
            + f": {len(path)} operations, so $d/d{leaf} L$ is a product of {len(path)} local "
            "derivatives.",
        }[ask]
        subs = sum(1 for s in model.steps if s.op == "sub")
        leaf_mistake = {
            "leaves": ("forgot-target", "The target y is a leaf of the loss's graph too."),
            "path": (
                "off-by-one",
                "Count both ends: the operation that uses the parameter "
                "and the one that produces L.",
            ),
        }
        if ask == "operations":
            subs = sum(1 for s in model.steps if s.op == "sub")
            mistakes = [
                (
                    "subtraction-as-two",
                    key + subs,
                    "y - o is one subtraction by the stated "
                    "rule, not a negation (-1)·o and an addition.",
                ),
                (
                    "counted-leaves",
                    key + len(leaves),
                    "Inputs, parameters and the target are leaves, not operations.",
                ),
            ]
        else:
            mistakes = [(leaf_mistake[ask][0], key - 1, leaf_mistake[ask][1])]
        problem = self.problem(
            seed,
            statement=f"A model is trained with {model.equations()}. {CONVENTION} Decompose "
            f"the model into atomic operations, as the notes do for their example. {question}",
            answer=str(key),
            ns=model.namespace(),
            hints=[
                "Name every intermediate result, as the notes do for their example: "
                "m_h = W_n x, z_h = m_h + b_n, h = ReLU(z_h), ...",
                "A subtraction $y - o$ is one operation and so is the square; a missing bias "
                "means one addition fewer.",
            ],
            solution="One operation per line of the decomposition: "
            f"{model.decomposition()}; {explain}",
            mistakes=distinct_counts(key, mistakes),
        )
        # The drawn graph would give the count away: it goes with the solution, not the
        # statement (terminal only; the printed solution keeps the decomposition above).
        problem.solution += "\n\n" + figure(model)
        return problem

    def verify(self, problem: Problem) -> list[str]:
        model, ask, leaf = self.draw(problem.seed)
        try:
            ops, leaves, paths = count_operations(model)
        except GraphMismatch as exc:
            return [f"the engine's graph does not match the decomposition: {exc}"]
        engine = {"operations": ops, "leaves": leaves, "path": paths[leaf]}[ask]
        if int(problem.answer) != engine:
            return [f"the key {problem.answer} differs from the engine graph's count {engine}"]
        return []

    def question_kind(self, seed: int) -> dict[str, str]:
        model, ask, _ = self.draw(seed)
        return {"ask": ask, "layers": str(len(model.widths))}


# --- 2. the backward rule of one node -------------------------------------------------------

# (step name, input asked for) in the notes' one-hidden-layer model
_LOCAL = [
    tuple(c.split("/"))
    for c in "m_h/W_n m_h/W_n m_h/x h/z_h h/z_h z_h/b_n m_o/h m_o/W_o r/o L/r".split()  # noqa: SIM905
]


@register
class LocalGradient(Family):
    id = "autograd/local-gradient"
    topic = "autograd"
    title = "The backward rule of one node: what it passes to its input"
    kind = "expression"
    kinds = dims(node=tuple(dict.fromkeys(f"{n}/{w}" for n, w in _LOCAL)), activation=ACTS)

    def draw(self, seed: int) -> tuple[Model, str, str]:
        draw = Draw(self.id, seed)
        model = notes_model(draw)
        node, wrt = draw.choice(_LOCAL)
        return model, node, wrt

    def generate(self, seed: int) -> Problem:
        model, node, wrt = self.draw(seed)
        ns, _f, key = self.derive(model, node, wrt)
        step, act = model.step(node), model.acts[0]
        g = ns.get("g")
        shape = "a scalar" if g is None or not g.shape else f"a vector shaped like ${node}$"
        prime = (
            f"; write the derivative of {ACT_TEXT[act]}, entry by entry, as ${ACT_PRIME[act]}(z_h)$"
        )
        question = (
            f"The backward pass starts at the loss. Write $d/d{wrt} L$, the gradient that node "
            f"$L = {step.formula}$ sends to its input ${wrt}$."
            if node == "L"
            else f"In the backward pass the gradient $g = d/d{node} L$ ({shape}) has arrived at "
            f"the node ${node} = {step.formula}$. Write the gradient $d/d{wrt} L$ that this "
            f"node passes to its input ${wrt}$, in terms of $g$ and, where needed, the node's "
            f"inputs {' and '.join(f'${a}$' for a in step.args)}{prime if node == 'h' else ''}."
        )
        rule = _rule(step, act) + (" " + NOTES_SLIP if (node, wrt) == ("m_h", "W_n") else "")
        return self.problem(
            seed,
            statement=f"The notes' model {model.equations()} (here with {ACT_TEXT[act]} as the "
            f"activation; {model.shapes_text()}) decomposes into the atomic operations "
            f"{model.decomposition()}. {question}",
            answer=to_notation(key),
            ns=ns,
            hints=[
                "Each node multiplies the gradient arriving at its output by its local "
                "derivative (a vector-Jacobian product); the result has the shape of the input.",
                rule,
            ],
            solution=f"{rule} So the answer is ${to_notation(key)}$.",
            mistakes=self.mistakes(model, step, wrt, ns),
            figure=figure(model),
        )

    def verify(self, problem: Problem) -> list[str]:
        model, node, wrt = self.draw(problem.seed)
        ns, f, key = self.derive(model, node, wrt)
        return derivative_failures(model, f, wrt, key, ns, "the local gradient")

    def question_kind(self, seed: int) -> dict[str, str]:
        model, node, wrt = self.draw(seed)
        return {"node": f"{node}/{wrt}", "activation": model.acts[0]}

    def derive(self, model: Model, node: str, wrt: str) -> tuple[Namespace, Expr, Expr]:
        """(answer namespace, the function differentiated, the key) for one node."""
        from dlquiz.symbolic.derive import derivative

        # Every name of the model is known; the answer is in g and the node's inputs.
        ns = prose_namespace(model)
        f = parse_math(model.step(node).formula, ns.copy())
        if node != "L":
            # L = sum(g ⊙ node): its gradient in the node's output is g, so its gradient in
            # an input is what the node passes back (a vector-Jacobian product).
            ns.declare(VarSpec("g", f.shape))
            scratch = ns.copy()
            scratch.declare(VarSpec("u", f.shape))
            body = "g*u" if f.is_scalar else "sum(hadamard(g, u))"
            f = substitute(parse_math(body, scratch), {"u": f})
        return ns, f, derivative(f, canonical_name(wrt), ns)

    def mistakes(self, model: Model, step: Step, wrt: str, ns: Namespace) -> list[dict[str, str]]:
        A, v = (*step.args, "")[:2]
        rows, cols = (ns.get(canonical_name(A)).shape or (1, 1)) if step.op == "matmul" else (1, 1)
        kind = f"matmul/{'v' if wrt == v else 'A'}" if step.op == "matmul" else step.op
        act = model.acts[0]
        fill = {"A": A, "v": v, "act": act, "prime": f"{ACT_PRIME[act]}(z_h)"}
        return [
            {"tag": tag, "answer": answer.format(**fill), "feedback": feedback.format(**fill)}
            for tag, answer, feedback in _LOCAL_MISTAKES.get("act" if kind in ACTS else kind, [])
            if tag != "missing-transpose" or rows == cols  # A v: as A.T v only when A is square
        ]


# fmt: off
_LOCAL_MISTAKES = {  # the node's operation (and, for a product, the input asked) -> mistakes
    "matmul/A": [("transposed", "{v}@g.T", "∂L/∂{A} has the shape of {A}: the outer product "
                  "g {v}ᵀ, not {v} gᵀ.")],
    "matmul/v": [("transposed", "({A}.T@g).T", "∂L/∂{v} has the shape of {v} (a column): {A}ᵀ g."),
                 ("missing-transpose", "{A}@g", "The gradient goes back through the transpose "
                  "of {A}: {A}ᵀ g.")],
    "act": [("missing-upstream", "{prime}", "That is the local derivative alone: multiply it "
             "entry by entry by the gradient g arriving from above."),
            ("function-for-derivative", "hadamard(g, {act}(z_h))", "Multiply by the "
             "activation's derivative, not by the activation itself.")],
    "sub": [("sign", "g", "o enters y - o with a minus sign: the node passes -g to o.")],
    "square": [("lost-factor", "r", "The square brings down a factor 2: d/dr r² = 2r.")],
}
# fmt: on


def _rule(step: Step, act: str) -> str:
    """The backward rule of the node's operation, for hints and the solution."""
    A, v = (*step.args, "")[:2]
    return {
        "matmul": f"For the matrix product ${step.name} = {A}@{v}$ the upstream gradient goes "
        f"back through the transpose to the vector, $d/d{v} L = {A}.T@g$, and to the matrix as "
        f"an outer product of the shape of ${A}$, $d/d{A} L = g@{v}.T$.",
        "add": "An addition passes the gradient through unchanged to both inputs.",
        "sub": "A subtraction $y - o$ passes $g$ to $y$ and $-g$ to $o$.",
        "square": "The loss node $L = r^2$ is where the backward pass starts ($d/dL L = 1$); "
        "its local derivative is $2*r$.",
    }.get(
        step.op,
        "An elementwise activation multiplies the gradient entry by entry by its derivative "
        f"at its input: $d/dz_h L = hadamard(g, {ACT_PRIME[act]}(z_h))$.",
    )


# --- 3. an intermediate gradient in numbers ---------------------------------------------------

_ASKED = ["o", "h", "z_h", "z_h", "b_n", "W_n", "W_n", "W_o", "x"]
_DEAD_UNIT_ASKS = ("z_h", "b_n", "W_n")  # the dead unit's 0 is the point of these keys
Point = dict[str, Any]  # W_n (n x 2), x, b_n, W_o: int arrays (dtype object); b_o, y; given
# fmt: off
_SHAPE = {"o": "a number", "x": "a 2-vector", "W_n": "a {n}x2 matrix, rows as in $W_n$",
          "W_o": "a 1x{n} row, as $W_o$"}
_LAST_STEP = {"b_n": "$d/db_n L = d/dz_h L$ = {}.", "W_n": "$d/dW_n L = (d/dz_h L)@x.T$ = {}. ",
              "W_o": "$d/dW_o L = (d/do L)*h.T$ = {}.", "x": "$d/dx L = W_n.T@(d/dz_h L)$ = {}."}
_WRONG = {  # tag: (the asks it applies to, feedback); backward_exact computes each
    "sign": (_ASKED, "dL/do = -2(y - o) for L = (y - o)²: the minus comes from o entering "
             "with a minus."),
    "square-factor": (_ASKED, "Check the factor 2 from the square against the loss's constant."),
    "missing-relu-derivative": (("z_h", "b_n", "W_n", "x"), "The ReLU passes the gradient only "
                                "where z_h > 0: multiply by step(z_h)."),
    "transposed": (("W_n",), "∂L/∂W_n = (∂L/∂z_h) xᵀ has the shape of W_n: you have "
                   "x (∂L/∂z_h)ᵀ."),
}
# fmt: on


def backward_exact(p: Point, half: bool, mistake: str = "") -> dict[str, Any]:
    """The notes' chain rule by hand, in exact arithmetic, with the forward values z_h, h
    and o; ``mistake`` (a tag of ``_WRONG``): the chain rule as that mistake computes it."""
    z = p["W_n"] @ p["x"] + p["b_n"]
    h = np.array([max(v, 0) for v in z], dtype=object)
    o = p["W_o"] @ h + p["b_o"]
    c = (Fraction(2) if half else Fraction(1, 2)) if mistake == "square-factor" else 1
    d_o = -2 * (Fraction(1, 2) if half else Fraction(1)) * (p["y"] - o) * c
    d_o *= -1 if mistake == "sign" else 1
    mask = [int(v > 0 or mistake == "missing-relu-derivative") for v in z]
    d_z = p["W_o"] * d_o * np.array(mask, dtype=object)
    col = lambda v: np.asarray(v, dtype=object).reshape(-1, 1)  # noqa: E731
    # fmt: off
    return {"o": col([d_o]), "h": col(p["W_o"] * d_o), "z_h": col(d_z), "b_n": col(d_z),
            "W_n": np.outer(*((p["x"], d_z) if mistake == "transposed" else (d_z, p["x"]))),
            "W_o": (d_o * h).reshape(1, -1), "x": col(p["W_n"].T @ d_z), "forward": (z, h, o)}
    # fmt: on


def _numbers(a: np.ndarray, sig: int | None = None) -> str:
    """A key: a number, a list for a vector (row or column), rows for a matrix."""
    a = np.asarray(a, dtype=float)
    return array_text(a.reshape(-1) if 1 in a.shape else a, sig)


@register
class BackwardValues(Family):
    id = "autograd/backward-values"
    topic = "autograd"
    title = "An intermediate gradient of the backward pass, in numbers"
    kind = "numbers"
    kinds = dims(
        ask=tuple(dict.fromkeys(_ASKED)), loss=("half", "plain"), zeros=("none", "the point")
    )

    def draw(self, seed: int) -> tuple[Point, Model, str]:
        draw = Draw(self.id, seed)
        n, half = draw.choice([2, 2, 3]), draw.choice([False, False, True])
        asked = draw.choice(_ASKED)
        model = Model(2, (n,), ("relu",), (True, True), half=half)
        ints = lambda k, lo, hi, f=draw.integer: np.array([f(lo, hi) for _ in range(k)], object)  # noqa: E731
        while True:
            # fmt: off
            p = {"W_n": np.array([ints(2, -2, 2) for _ in range(n)], dtype=object),
                 "x": ints(2, -2, 2, draw.nonzero), "b_n": ints(n, -1, 1),
                 "W_o": ints(n, -2, 2, draw.nonzero), "b_o": draw.integer(-1, 1),
                 "y": draw.integer(-3, 3)}
            # fmt: on
            exact = backward_exact(p, half)
            z, _h, o = exact["forward"]
            # no pre-activation exactly 0; one unit on and one off, so the mask matters
            # (except for d/dW_o, whose key would then hold the dead unit's 0); no zero key
            units = 0 not in z and any(z > 0) and any(z < 0) == (asked != "W_o")
            informative = asked in _DEAD_UNIT_ASKS or all(exact[asked].flat)
            if units and o != p["y"] and abs(p["y"] - o) <= 8 and informative:
                # fmt: off
                p["given"] = {"W_n": matrix(p["W_n"]), "x": vector(p["x"]),
                              "b_n": vector(p["b_n"]), "W_o": f"[{vector(p['W_o'])}]",
                              "b_o": str(p["b_o"]), "y": str(p["y"])}
                # fmt: on
                return p, model, asked

    def generate(self, seed: int) -> Problem:
        p, model, asked = self.draw(seed)
        n, half, exact = len(p["b_n"]), model.half, backward_exact(p, model.half)
        (z, h, o), values = exact["forward"], p["given"]
        key = self.engine(model, values)[asked]
        show = {k: _numbers(v, 4) for k, v in exact.items() if k != "forward"}
        chain = [
            f"Forward: $z_h$ = {vector(z)}, $h$ = {vector(h)}, $o$ = {o}, "
            f"$r = y - o$ = {p['y'] - o}.",
            f"Backward: $L = {'1/2*' if half else ''}r^2$ gives $d/dr L$ = "
            f"{_numbers(-exact['o'], 4)} and $d/do L = -(d/dr L)$ = {show['o']}.",
            f"$d/dh L = W_o.T*(d/do L)$ = {show['h']}; through the ReLU $d/dz_h L = "
            f"hadamard(d/dh L, step(z_h))$ = {show['z_h']} (units with z_h < 0 pass nothing back).",
        ][: 2 if asked in ("o", "W_o") else 3]
        if asked in _LAST_STEP:
            chain.append(_LAST_STEP[asked].format(show[asked]) + NOTES_SLIP * (asked == "W_n"))
        candidates = [
            (tag, backward_exact(p, half, tag)[asked] if asked in asks else None, feedback)
            for tag, (asks, feedback) in _WRONG.items()
        ]
        given = ", ".join(f"${k} = {v}$" for k, v in values.items())
        return self.problem(
            seed,
            statement=f"The notes' model {model.equations()} is decomposed as "
            f"{model.decomposition()} (ReLU'(0) = 0). At {given}, run the forward pass and "
            f"then the backward pass, and give $d/d{asked} L$ "
            f"({_SHAPE.get(asked, 'a {n}-vector').format(n=n)}), to 3 significant "
            "figures. The graph below shows the given values at its leaves.",
            answer=_numbers(key),
            ns=model.namespace(),
            kind="number" if asked == "o" else "numbers",
            hints=[
                "Forward first: $z_h$, $h$, $o$ and $r = y - o$. Backward from "
                f"$d/dr L$ = {'r' if half else '2*r'}, one node at a time.",
                "Through $m_o = W_o@h$ the gradient becomes $W_o.T*(d/do L)$; through the "
                "ReLU multiply entry by entry by $step(z_h)$.",
            ],
            solution=" ".join(chain),
            mistakes=keep_distinct(key, candidates, text=_numbers),
            figure=figure(model, at=values),
        )

    def verify(self, problem: Problem) -> list[str]:
        p, model, asked = self.draw(problem.seed)
        exact = np.asarray(backward_exact(p, model.half)[asked], dtype=float)
        key = np.asarray(self.engine(model, p["given"])[asked], dtype=float)
        ok = np.allclose(key, exact, rtol=1e-8, atol=1e-12)
        failures = [] if ok else [f"engine gradient {key.tolist()} != chain rule {exact.tolist()}"]
        if _numbers(exact) != problem.answer:
            failures.append(f"the key {problem.answer} is not the chain rule's {_numbers(exact)}")
        return failures

    def question_kind(self, seed: int) -> dict[str, str]:
        _, model, asked = self.draw(seed)
        zeros = "the point" if asked in _DEAD_UNIT_ASKS else "none"
        return {"ask": asked, "loss": "half" if model.half else "plain", "zeros": zeros}

    @staticmethod
    def engine(model: Model, values: dict[str, str]) -> dict[str, np.ndarray]:
        """Every node's gradient by the engine's backward pass through the drawn graph."""
        g = engine_graph(model, values)
        return {name: g.nodes[i].grad for name, i in match_steps(model, g).items()}


# --- 4. dL/dW_n in matrix form -------------------------------------------------------------

_WEIGHT_CHOICES = ["W_n", "W_n", "W_n", "b_n", "b_n", "W_o", "x"]


@register
class WeightGradient(Family):
    id = "autograd/weight-gradient"
    topic = "autograd"
    title = "Gradients of the notes' one-hidden-layer model in matrix form"
    kind = "expression"
    kinds = dims(wrt=tuple(dict.fromkeys(_WEIGHT_CHOICES)), activation=ACTS, loss=("half", "plain"))

    def draw(self, seed: int) -> tuple[Model, str]:
        draw = Draw(self.id, seed)
        model = notes_model(draw, half=draw.choice([False, True]))
        return model, draw.choice(_WEIGHT_CHOICES)

    def generate(self, seed: int) -> Problem:
        model, wrt = self.draw(seed)
        ns, _loss, key = self.derive(model, wrt)
        act = model.acts[0]
        exprs = model.exprs()
        g_o = f"-{'' if model.half else '2*'}(y - o)"
        prime = f"{ACT_PRIME[act]}(z_h)"
        delta = f"hadamard(W_o.T*({g_o}), {prime})"
        forms = {"W_n": f"{delta}@x.T", "b_n": delta, "x": f"W_n.T@{delta}", "W_o": f"({g_o})*h.T"}
        chain = {
            "W_n": "$d/dW_n L = (d/dz_h L)@x.T$ since $m_h = W_n@x$",
            "b_n": "$d/db_n L = d/dz_h L$ since $z_h = m_h + b_n$",
            "x": "$d/dx L = W_n.T@(d/dz_h L)$ since $m_h = W_n@x$",
            "W_o": "$d/dW_o L = (d/do L)*h.T$ since $m_o = W_o@h$",
        }[wrt]
        inner = wrt != "W_o"  # the gradient goes through the activation
        statement = (
            f"For the notes' model {model.equations()} with {ACT_TEXT[act]} as the "
            f"activation ({model.shapes_text()}), find $d/d{wrt} L$ in matrix form. You may "
            f"use $z_h = W_n@x + b_n$, $h$ and $o$ in your answer"
            + (
                f", and write the derivative of the activation entry by entry as ${prime}$"
                if inner
                else ""
            )
            + "."
        )
        solution = (
            f"Backward through the decomposition {model.decomposition()}: "
            f"$d/do L = {g_o}$ (the square brings down a 2"
            f"{' that cancels the 1/2' if model.half else ''}, and $o$ enters $r = y - o$ with "
            "a minus); "
            + (
                f"$d/dh L = W_o.T*(d/do L)$; $d/dz_h L = hadamard(d/dh L, {prime})$; "
                if inner
                else ""
            )
            + f"{chain}. So $d/d{wrt} L = {forms[wrt]}$, which is ${to_notation(key)}$."
            + (" " + NOTES_SLIP if wrt == "W_n" else "")
        )
        mistakes = [
            (
                "sign",
                f"-({forms[wrt]})",
                "Check the sign: dL/do = -2(y - o) because o enters y - o with a minus.",
            ),
            (
                "lost-factor",
                f"1/2*({forms[wrt]})",
                "The square brings down a factor 2: d/dr r² = 2r.",
            ),
        ]
        if inner:
            mistakes += [
                (
                    "missing-activation-derivative",
                    forms[wrt].replace(delta, f"(W_o.T*({g_o}))"),
                    f"The gradient passes through h = {act}(z_h): multiply entry by entry by "
                    f"{prime}.",
                ),
                (
                    "function-for-derivative",
                    forms[wrt].replace(prime, f"{act}(z_h)"),
                    "Multiply by the activation's derivative at z_h, not by the activation itself.",
                ),
            ]
        transposed = {"W_n": f"x@({delta}).T", "x": f"({forms['x']}).T", "W_o": f"({g_o})*h"}
        if wrt in transposed:
            mistakes.append(
                (
                    "transposed",
                    transposed[wrt],
                    f"A gradient has the shape of its variable: ∂L/∂{wrt} is shaped like {wrt}.",
                )
            )
        return self.problem(
            seed,
            statement=statement,
            answer=to_notation(key),
            ns=ns,
            definitions={name: to_notation(exprs[name]) for name in ("z_h", "h", "o")},
            hints=[
                "Go backward one atomic operation at a time: $L = r^2$, $r = y - o$, "
                f"$o = m_o + b_o$, $m_o = W_o@h$, $h = {act}(z_h)$, ...",
                f"The ReLU/sigmoid/tanh node multiplies entry by entry by its derivative; {chain}.",
            ],
            solution=solution,
            mistakes=[{"tag": t, "answer": a, "feedback": f} for t, a, f in mistakes],
            figure=figure(model),
        )

    def verify(self, problem: Problem) -> list[str]:
        model, wrt = self.draw(problem.seed)
        ns, loss, key = self.derive(model, wrt)
        return derivative_failures(model, loss, wrt, key, ns, f"d/d{wrt} L")

    def question_kind(self, seed: int) -> dict[str, str]:
        model, wrt = self.draw(seed)
        return {"wrt": wrt, "activation": model.acts[0], "loss": "half" if model.half else "plain"}

    def derive(self, model: Model, wrt: str) -> tuple[Namespace, Expr, Expr]:
        from dlquiz.symbolic.derive import derivative

        ns, loss = model.namespace(), model.loss()
        return ns, loss, derivative(loss, canonical_name(wrt), ns)
