"""Autograd families: the notes' decomposition, the drawn graph, and keys checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from bank_helpers import (
    assert_same_seed_same_problem,
    assert_statements_vary,
    numbers,
    passing_problems,
)

from dlquiz.bank import families
from dlquiz.bank.coded.graph_model import Model, figure
from dlquiz.bank.graphs import build_graph
from dlquiz.core.printing import to_notation

FAMILIES = [
    "autograd/operations",
    "autograd/local-gradient",
    "autograd/backward-values",
    "autograd/weight-gradient",
    "autograd/reused-variable",
    "autograd/softmax-cross-entropy",
    "autograd/backward-order",
]
SEEDS = range(6)
NOTES_MODEL = Model(3, (2,), ("relu",), (True, True))


@pytest.mark.parametrize("family_id", FAMILIES)
def test_family_passes_every_check(family_id: str) -> None:
    family = families()[family_id]
    for problem in passing_problems(family_id, SEEDS, topic="autograd"):
        # an addition only passes g through: no listed mistake, the generic diagnosis
        seed = problem.seed
        passes_through = family_id.endswith("local-gradient") and family.draw(seed)[1] == "z_h"
        assert problem.mistakes or passes_through, (family_id, seed)


@pytest.mark.parametrize("family_id", FAMILIES)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 3)
    assert_statements_vary(family_id, range(12), more_than=6)


def test_the_notes_decomposition() -> None:
    names = [(s.name, s.formula) for s in NOTES_MODEL.steps]
    assert names == [
        ("m_h", "W_n@x"),
        ("z_h", "m_h + b_n"),
        ("h", "relu(z_h)"),
        ("m_o", "W_o@h"),
        ("o", "m_o + b_o"),
        ("r", "y - o"),
        ("L", "r^2"),
    ]
    assert to_notation(NOTES_MODEL.loss()) == "(y - (W_o@relu(W_n@x + b_n) + b_o))^2"
    assert [s.name for s in NOTES_MODEL.path("W_n")] == ["m_h", "z_h", "h", "m_o", "o", "r", "L"]


def _engine_count(model: Model) -> tuple[int, int]:
    """(operations with each subtraction counted once, named leaves), from the raw graph."""
    specs = [f"{k}:{v}" if v else k for k, v in model.leaves().items()]
    g = build_graph(to_notation(model.loss()), specs, [])
    negations = [
        n
        for n in g.nodes.values()
        if n.op == "mul" and any(g.nodes[i].label == "-1" for i in n.inputs)
    ]
    ops = sum(1 for n in g.nodes.values() if n.op != "leaf") - len(negations)
    leaves = sum(1 for n in g.nodes.values() if n.op == "leaf" and n.label not in ("-1", "0.5"))
    return ops, leaves


def test_operations_key_counts_the_engine_graph() -> None:
    family = families()["autograd/operations"]
    asks = set()
    for seed in range(40):
        model, ask, _leaf = family.draw(seed)
        problem = family.generate(seed)
        ops, leaves = _engine_count(model)
        if ask == "operations":
            assert int(problem.answer) == ops
        elif ask == "leaves":
            assert int(problem.answer) == leaves
        asks.add(ask)
        assert "Computational graph" in problem.solution
        assert "Computational graph" not in problem.statement  # it would give the count away
    assert asks == {"operations", "leaves", "path"}


def test_figure_is_labelled_with_the_notes_names() -> None:
    text = figure(NOTES_MODEL)
    for label in ("L = r²", "r = y - o", "o = m_o + b_o", "h = ReLU(z_h)", "m_h = W_n x"):
        assert label in text
    assert "grad" not in text and "value" not in text
    with_values = figure(
        NOTES_MODEL,
        at={
            "x": "[1, 0, -1]",
            "W_n": "[1, 1, 1; 0, 1, -1]",
            "b_n": "[0, 1]",
            "W_o": "[[2, 1]]",
            "b_o": "0",
            "y": "1",
        },
    )
    assert "value" in with_values and "grad" not in with_values


def test_local_gradient_accepts_the_textbook_rules() -> None:
    family = families()["autograd/local-gradient"]
    seen = set()
    for seed in range(60):
        model, node, wrt = family.draw(seed)
        problem = family.generate(seed)
        act = model.acts[0]
        prime = {"relu": "step", "sigmoid": "sigmoid'", "tanh": "tanh'"}[act]
        right, wrong, tag = {
            ("m_h", "W_n"): ("g@x.T", "x@g.T", "transposed"),
            ("m_h", "x"): ("W_n.T@g", "(W_n.T@g).T", "transposed"),
            ("h", "z_h"): (f"hadamard(g, {prime}(z_h))", f"{prime}(z_h)", "missing-upstream"),
            ("z_h", "b_n"): ("g", None, None),
            ("m_o", "h"): ("W_o.T*g", "W_o*g", "transposed"),
            ("m_o", "W_o"): ("g*h.T", "g*h", "transposed"),
            ("r", "o"): ("-g", "g", "sign"),
            ("L", "r"): ("2*r", "r", "lost-factor"),
        }[(node, wrt)]
        assert problem.check(right).equivalent, (seed, node, wrt)
        if wrong is not None:
            assert problem.check(wrong).mistake == tag, (seed, node, wrt)
        assert "m_h = W_n x" in problem.figure
        seen.add((node, wrt))
    assert len(seen) == 8


def test_backward_values_match_a_float_chain_rule() -> None:
    family = families()["autograd/backward-values"]
    for seed in range(30):
        p, model, asked = family.draw(seed)
        problem = family.generate(seed)
        W_n, x = np.array(p["W_n"], float), np.array(p["x"], float)
        b_n, W_o = np.array(p["b_n"], float), np.array(p["W_o"], float)
        z = W_n @ x + b_n
        assert (z != 0).all()
        h = np.maximum(z, 0)
        o = W_o @ h + p["b_o"]
        d_o = -(1.0 if model.half else 2.0) * (p["y"] - o)
        d_z = W_o * d_o * (z > 0)
        expected = {
            "o": np.array([d_o]),
            "h": W_o * d_o,
            "z_h": d_z,
            "b_n": d_z,
            "W_n": np.outer(d_z, x),
            "W_o": d_o * h,
            "x": W_n.T @ d_z,
        }[asked]
        got = numbers(problem.answer)
        np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-9)
        assert "value" in problem.figure and "grad" not in problem.figure


def test_weight_gradient_accepts_the_chain_rule_written_out() -> None:
    family = families()["autograd/weight-gradient"]
    seen = set()
    for seed in range(40):
        model, wrt = family.draw(seed)
        problem = family.generate(seed)
        act = model.acts[0]
        prime = {"relu": "step", "sigmoid": "sigmoid'", "tanh": "tanh'"}[act]
        g_o = "-(y - o)" if model.half else "-2*(y - o)"
        delta = f"hadamard(W_o.T*({g_o}), {prime}(z_h))"
        typed = {
            "W_n": f"{delta}@x.T",
            "b_n": delta,
            "x": f"W_n.T@{delta}",
            "W_o": f"({g_o})*h.T",
        }[wrt]
        assert problem.check(typed).equivalent, (seed, wrt, typed)
        if wrt == "W_n":
            assert problem.check(f"x@({delta}).T").mistake == "transposed"
            assert "∂m_h/∂W_n" in problem.solution  # the notes' slip, corrected
        seen.add(wrt)
    assert seen == {"W_n", "b_n", "x", "W_o"}


def _drawn(figure_text: str) -> tuple[list[str], list[str]]:
    """(operation lines, leaf lines) of a drawn graph: an operation's label is ``name = ...``."""
    lines = [line.lstrip("│├└─ ") for line in figure_text.splitlines()[1:]]
    ops = [line for line in lines if " = " in line.split("  (")[0]]
    return ops, [line for line in lines if line not in ops]


def test_the_drawn_graph_has_as_many_operations_as_the_key_counts() -> None:
    """A text defect of issue 13: y - o was drawn as y + (-1)·o, 8 operations for a key of 7."""
    family = families()["autograd/operations"]
    seen = 0
    for seed in range(40):
        model, ask, _leaf = family.draw(seed)
        problem = family.generate(seed)
        ops, leaves = _drawn(problem.solution.split("\n\n", 1)[1])
        assert len(ops) == len(model.steps), (seed, ops)
        assert not any(line.startswith(("-1", "-o")) for line in leaves), (seed, leaves)
        named = [line for line in leaves if not line.startswith("1/2")]
        assert len(named) == len(model.leaves()), (seed, leaves)
        if ask == "operations":
            assert int(problem.answer) == len(ops)
            seen += 1
    assert seen >= 5
    ops, _ = _drawn(figure(NOTES_MODEL))
    assert len(ops) == 7  # the notes' example: m_h, z_h, h, m_o, o, r, L


def test_backward_values_figure_shows_only_the_given_values() -> None:
    """A text defect of issue 13: the figure printed every forward value the student computes."""
    family = families()["autograd/backward-values"]
    for seed in range(20):
        problem = family.generate(seed)
        ops, leaves = _drawn(problem.figure)
        assert ops and not any("value" in line for line in ops), (seed, ops)
        assert all("value" in line for line in leaves), (seed, leaves)
        assert "grad" not in problem.figure


def _reused_in_the_engine(model: str, v: dict[str, float]) -> tuple[float, float, float]:
    """(total, first use, second use) by the engine's backward: the variable once as one
    leaf used twice (the engine accumulates), then as two leaves, one per use."""
    from dlquiz.engine import Tensor

    def run(a: Tensor, b: Tensor) -> Tensor:
        if model == "tied-layers":  # h = a x + b, o = b' h
            return (v["y"] - b * (a * v["x"] + v["b"])) ** 2
        if model == "shared-weight":
            return (v["y"] - a * v["x"]) ** 2 + (v["y2"] - b * v["x2"]) ** 2
        return (v["y"] - ((a * v["w"]).tanh() + b)) ** 2  # skip connection, x used twice

    point = v["xs"] if model == "skip-connection" else v["w"]
    one = Tensor(point, requires_grad=True)
    run(one, one).backward()
    first, second = Tensor(point, requires_grad=True), Tensor(point, requires_grad=True)
    run(first, second).backward()
    return float(one.grad), float(first.grad), float(second.grad)


def test_reused_variable_keys_are_the_engines_accumulated_gradients() -> None:
    family = families()["autograd/reused-variable"]
    kinds = set()
    for seed in range(40):
        texts = family.draw_params(seed)
        kind = family.question_kind(seed)
        values = {k: float(texts[k]) for k in ("w", "x", "x2", "xs", "b", "y", "y2")}
        total, first, second = _reused_in_the_engine(kind["model"], values)
        assert total == pytest.approx(first + second, rel=1e-12)  # accumulation
        want = {"total": total, "first": first, "second": second}[kind["ask"]]
        problem = family.generate(seed)
        assert float(problem.answer) == pytest.approx(want, rel=1e-9), (seed, kind)
        assert want != 0 and first != second
        if kind["ask"] == "total":  # one use's gradient alone is the diagnosed mistake
            assert problem.check(f"{second:.10g}").mistake == "not-accumulated"
        kinds.add((kind["model"], kind["ask"]))
    assert len(kinds) == 9


def test_softmax_cross_entropy_graph_gradients_by_hand_and_by_the_engine() -> None:
    """Each node's gradient against NumPy by hand; dL/do also against F.cross_entropy."""
    import dlquiz.engine.functional as F
    from dlquiz.engine import Tensor

    family = families()["autograd/softmax-cross-entropy"]
    asks = set()
    for seed in range(40):
        texts, ask = family.draw_params(seed), family.question_kind(seed)["ask"]
        o, y = numbers(texts["o"]).reshape(-1), numbers(texts["y"]).reshape(-1)
        c = int(texts["c"]) - 1
        assert y[c] == 1 and y.sum() == 1
        e = np.exp(o)
        s = e.sum()
        want = {
            "o": e / s - y,
            "e": 1 / s - y / e,  # e is used twice: through s and through yhat = e/s
            "s": np.array([1 / s]),
            "yhat_c": np.array([-s / e[c]]),
        }[ask]
        if ask == "o":
            logits = Tensor(o[None], requires_grad=True)
            F.cross_entropy(logits, [c]).backward()
            np.testing.assert_allclose(logits.grad[0], want, rtol=1e-12)
        problem = family.generate(seed)
        np.testing.assert_allclose(numbers(problem.answer).reshape(-1), want, rtol=1e-9)
        assert 0.0 not in numbers(problem.answer)
        asks.add(ask)
    assert asks == {"o", "e", "s", "yhat_c"}


def test_backward_order_options_agree_with_the_engines_backward_pass() -> None:
    """Every option shown, read back (the names after ∂L/∂), against the engine's pass."""
    import re
    from itertools import pairwise

    from dlquiz.bank.template.checks import _notes_backward

    complete, needs = _notes_backward()
    family = families()["autograd/backward-order"]
    asks = set()
    for seed in range(60):
        problem = family.generate(seed)
        ask = problem.question_kind["ask"]
        for letter, text in zip("ABCD", problem.choices, strict=True):
            names = re.findall(r"∂L/∂(\w+)", text)
            right = letter == problem.answer
            if ask == "order":
                possible = all(a in needs[b] for a, b in pairwise(names))
                assert len(names) >= 3 and possible == right, (seed, text)
            elif ask == "needed":
                assert (bool(names) and names[0] in needs["W_n"]) == right, (seed, text)
            else:
                first = min((n for n in complete if n != "L"), key=complete.__getitem__)
                said = names[0] if names else re.findall(r"gradient of (\w+)", text)[:1]
                assert (said in (first, [first])) == right, (seed, text)
        asks.add(ask)
    assert asks == {"first", "needed", "order"}


def test_the_backward_order_check_fails_on_a_wrong_claim() -> None:
    from dlquiz.bank.template.checks import HOOKS

    run = HOOKS["backward_order"].run
    assert run(None, first="r") == []
    assert run(None, first="o") and run(None, first="W_n")
    assert run(None, of="W_n", needs="z_h, r", not_needed="x, W_o") == []
    assert run(None, of="W_n", needs="x")  # a sibling is not needed
    assert run(None, of="W_n", not_needed="h")
    assert run(None, possible="r, o, h, x", impossible="x, m_h, h") == []
    assert run(None, possible="x, m_h, h") and run(None, impossible="r, o, W_o")
    assert run(None, first="q")  # an unknown name is a failure, not a silent pass


def test_verify_rejects_a_tampered_key() -> None:
    import dataclasses

    for family_id, wrong in (("autograd/operations", "99"), ("autograd/backward-values", "7.5")):
        family = families()[family_id]
        problem = family.generate(1)
        assert family.verify(problem) == []
        assert family.verify(dataclasses.replace(problem, answer=wrong)), family_id


def test_each_coded_family_is_at_most_150_lines() -> None:
    """Issue 12: a family in code is at most 150 lines counting the helpers only it uses
    (its section of coded/autograd.py; operations also counts count_operations, the only
    helper of coded/graph_model.py that a single family uses)."""
    import inspect
    import re
    from pathlib import Path

    from dlquiz.bank.coded import autograd, graph_model

    text = Path(autograd.__file__).read_text(encoding="utf-8")
    sections = re.split(r"\n(?=# --- \d\. )", text)[1:]
    assert len(sections) == 4
    extra = len(inspect.getsource(graph_model.count_operations).splitlines())
    for i, section in enumerate(sections):
        lines = len(section.rstrip("\n").splitlines()) + (extra if i == 0 else 0)
        assert lines <= 150, (section.splitlines()[0], lines)
    for cls in (autograd.Operations, autograd.LocalGradient, autograd.BackwardValues,
                autograd.WeightGradient):  # fmt: skip
        methods = [m for m in vars(cls) if m in ("draw", "generate", "verify", "question_kind")]
        assert methods == ["draw", "generate", "verify", "question_kind"], cls
        assert not {"params", "setup", "example"} & set(vars(cls)), cls


def test_latex_prose_of_the_templates_is_ascii() -> None:
    from bank_helpers import assert_latex_prose_is_ascii

    assert_latex_prose_is_ascii(
        ["autograd/reused-variable", "autograd/softmax-cross-entropy", "autograd/backward-order"]
    )
