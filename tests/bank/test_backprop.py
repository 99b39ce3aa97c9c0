"""Backprop families: derived keys, the notes' forms accepted, numbers by finite differences."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from bank_helpers import (
    EXPLAINED,
    assert_finished_texts,
    assert_same_seed_same_problem,
    numbers,
    passing_problems,
    seed_with,
)
from typer.testing import CliRunner

from dlquiz.bank import families, generate
from dlquiz.bank.coded.common import read_numbers
from dlquiz.cli import app

IDS = ["backprop/dl-dw", "backprop/recursion", "backprop/two-layer", "backprop/numeric-delta"]
SEEDS = range(6)


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, SEEDS, topic="backprop", require=EXPLAINED)


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 9)


def test_dl_dw_is_the_notes_outer_product_with_linked_layer_names() -> None:
    family = families()["backprop/dl-dw"]
    for seed in range(30):
        params = family.draw_params(seed)
        m, p = int(params["m"]), int(params["p"])
        assert p == m - 1  # the linked choice: a_{m-1} feeds layer m
        problem = family.generate(seed)
        assert f"W{m}" in problem.vars and f"a{p}" in problem.vars
    seed = seed_with("backprop/dl-dw", 300, m="3", task="W", loss="upstream")
    problem = generate("backprop/dl-dw", seed)
    assert problem.check("delta3@a2.T").equivalent
    assert problem.check("δ_3 a_2^T").equivalent
    assert problem.check("a2@delta3.T").mistake == "transposed"
    seed = seed_with("backprop/dl-dw", 300, m="2", task="a", loss="upstream")
    assert generate("backprop/dl-dw", seed).check("W2.T@delta2").equivalent


@pytest.mark.parametrize(
    ("act", "form"),
    [
        ("sigmoid", "hadamard(W3.T@delta3, sigmoid(z2)*(1 - sigmoid(z2)))"),
        ("tanh", "(W3.T@delta3) ⊙ (1 - tanh(z2)^2)"),
        ("relu", "hadamard(W3.T@delta3, step(z2))"),
        ("phi", "hadamard(W3.T@delta3, phi'(z2))"),
    ],
)
def test_recursion_accepts_the_notes_form(act: str, form: str) -> None:
    seed = seed_with("backprop/recursion", 300, act=act, m="2", depth="1")
    problem = generate("backprop/recursion", seed)
    assert problem.check(form).equivalent, problem.check(form).feedback
    assert problem.check("W3.T@delta3").mistake == "missing-derivative"
    assert problem.check(f"hadamard(W3.T@delta3, {act}(z2))").mistake == (
        "activation-not-derivative"
    )


def test_two_layer_accepts_deltas_written_with_the_definitions() -> None:
    seed = seed_with("backprop/two-layer", 300, wrt="W1", act="sigmoid", scale="1/2")
    problem = generate("backprop/two-layer", seed)
    answer = "hadamard(W2.T@(o - y), sigmoid(z1)*(1 - sigmoid(z1)))@x.T"
    assert problem.check(answer).equivalent
    assert problem.check("hadamard(W2.T@(o - y), h*(1 - h))@x.T").equivalent
    assert problem.check("(W2.T@(o - y))@x.T").mistake == "missing-derivative"
    assert problem.check("x@hadamard(W2.T@(o - y), h*(1 - h)).T").mistake == "transposed"


def test_template_keys_disagreeing_with_autograd_are_caught() -> None:
    """verify() re-derives and compares with the engine: a wrong derivation must fail it."""
    from dlquiz.bank.render import parse_math
    from dlquiz.core.vars import Namespace
    from dlquiz.core.verification import verify_derivative
    from dlquiz.symbolic.derive import derivative

    ns = Namespace.from_specs(["W3:3x2", "delta3:3", "z2:2", "b3:3"])
    target = parse_math("sum(hadamard(delta3, W3@sigmoid(z2) + b3))", ns)
    right = derivative(target, "z2", ns)
    wrong = parse_math("W3.T@delta3", ns)
    assert verify_derivative(target, "z2", right, ns).ok
    assert not verify_derivative(target, "z2", wrong, ns).ok


def test_numeric_delta_matches_finite_differences() -> None:
    """Perturb z_m (for delta) or W_m (for dW) and difference the cost sum(delta ⊙ z_{m+1})."""
    family = families()["backprop/numeric-delta"]
    act = {
        "relu": lambda z: np.maximum(z, 0.0),
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "tanh": np.tanh,
    }
    for seed in range(20):
        texts = family.draw_params(seed)
        W_next = numbers(texts["Wn"])
        delta_next = numbers(texts["dn"]).ravel()
        a_prev = numbers(texts["ap"]).ravel()
        z0 = numbers(texts["z"]).ravel()

        def cost(z: np.ndarray, f=act[texts["act"]], W_next=W_next, d=delta_next) -> float:
            return float(d @ (W_next @ f(z)))

        grad_z = np.array(
            [
                (cost(z0 + 1e-6 * np.eye(len(z0))[j]) - cost(z0 - 1e-6 * np.eye(len(z0))[j])) / 2e-6
                for j in range(len(z0))
            ]
        )
        expected = np.outer(grad_z, a_prev) if texts["ask"] == "dW" else grad_z
        got = read_numbers(family.generate(seed).answer)
        np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-6, atol=1e-6)


def test_numeric_delta_verify_rejects_a_wrong_key() -> None:
    family = families()["backprop/numeric-delta"]
    problem = family.generate(4)
    values = read_numbers(problem.answer).ravel() * 2
    doubled = "[" + ", ".join(repr(float(v)) for v in values) + "]"
    assert family.verify(replace(problem, answer=doubled))


def test_show_and_verify_commands() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["show", "backprop/recursion", "--seed", "1", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data == generate("backprop/recursion", 1).to_json()
    assert "hadamard" in data["answer"]
    r = runner.invoke(app, ["verify", "--topic", "backprop", "--seeds", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert {row["id"] for row in json.loads(r.stdout)["families"]} == set(IDS)


LINKED = """
title = "Linked params"
statement = "Layer {m} computes $z{m} = W{m}@a{p}$. Find $d/dW{m} L$."
hints = ["Outer product."]
[params]
layer = { choice = [{ m = "2", p = "1" }, { m = "3", p = "2" }] }
task = { choice = [{ tail = "@a{p}.T" }] }
[vars]
"W{m}" = "2x3"
"a{p}" = "3"
"delta{m}" = "2"
[definitions]
"z{m}" = "W{m}@a{p}"
L = "sum(hadamard(delta{m}, z{m}))"
[answer]
derive = "L"
wrt = "W{m}"
allow = ["z{m}"]
[[mistakes]]
tag = "transposed"
answer = "(delta{m}{tail}).T"
feedback = "transpose"
"""


def test_templates_link_params_and_name_variables_with_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dlquiz.bank.templates import load_templates

    (tmp_path / "backprop").mkdir()
    (tmp_path / "backprop" / "t.toml").write_text(LINKED, encoding="utf-8")
    family = load_templates(tmp_path)["backprop/t"]
    names = set()
    for seed in range(12):
        m, p = family.draw_params(seed)["m"], family.draw_params(seed)["p"]
        assert int(p) == int(m) - 1
        problem = family.generate(seed)
        names.add(m)
        assert problem.answer == f"delta{m}@a{p}.T"
        assert set(problem.vars) == {f"W{m}", f"a{p}", f"delta{m}", f"z{m}"}
        assert problem.check(f"a{p}@delta{m}.T").mistake == "transposed"
        assert family.verify(problem) == []
    assert names == {"2", "3"}


@pytest.mark.parametrize(
    "bad",
    [
        'layer = { choice = [{ m = "2", p = "1" }, { m = "3" }] }',  # keys differ
        'layer = { choice = [{ m = "2", p = "1" }, "3"] }',  # a table and a string
        'layer = { choice = [{ m = 2, p = "1" }] }',  # not a string value
        "layer = { choice = [] }",
    ],
)
def test_a_broken_choice_of_tables_names_the_param(tmp_path, bad: str) -> None:  # type: ignore[no-untyped-def]
    from dlquiz.bank.family import FamilyError
    from dlquiz.bank.templates import load_templates

    text = LINKED.replace('layer = { choice = [{ m = "2", p = "1" }, { m = "3", p = "2" }] }', bad)
    (tmp_path / "backprop").mkdir()
    (tmp_path / "backprop" / "t.toml").write_text(text, encoding="utf-8")
    with pytest.raises(FamilyError, match=r"backprop/t\.toml: field 'params\.layer'"):
        load_templates(tmp_path)


@pytest.mark.parametrize("tail", ["{tail}", "({tail})"])
def test_params_that_refer_to_each_other_in_a_loop_are_reported(tmp_path, tail: str) -> None:  # type: ignore[no-untyped-def]
    from dlquiz.bank.family import FamilyError
    from dlquiz.bank.templates import load_templates

    text = LINKED.replace('tail = "@a{p}.T"', f'tail = "{tail}"')
    (tmp_path / "backprop").mkdir()
    (tmp_path / "backprop" / "t.toml").write_text(text, encoding="utf-8")
    family = load_templates(tmp_path)["backprop/t"]
    with pytest.raises(FamilyError, match=r"field 'params\.tail': params refer"):
        family.generate(0)


def test_numeric_delta_zeros_only_from_a_declared_dead_relu_unit() -> None:
    for seed in range(120):
        problem = generate("backprop/numeric-delta", seed)
        has_zero = 0.0 in numbers(problem.answer).ravel()
        point = problem.question_kind["zeros"] == "the point"
        assert has_zero == point, (seed, problem.question_kind, problem.answer)
        assert point == (problem.question_kind["activation"] == "relu")


def test_dl_dw_at_the_output_layer_takes_the_loss_and_its_factor() -> None:
    seed = seed_with("backprop/dl-dw", 300, m="2", task="W", loss="squared")
    problem = generate("backprop/dl-dw", seed)
    assert problem.check("2*(z2 - y)@a1.T").equivalent
    assert problem.check("2*(W2@a1 + b2 - y)@a1.T").equivalent
    assert problem.check("(z2 - y)@a1.T").mistake == "lost-factor"
    assert problem.check("2*(y - z2)@a1.T").mistake == "sign"
    seed = seed_with("backprop/dl-dw", 300, m="3", task="a", loss="half-squared")
    problem = generate("backprop/dl-dw", seed)
    assert problem.check("W3.T@(z3 - y)").equivalent
    assert problem.check("2*W3.T@(z3 - y)").mistake == "extra-factor"


@pytest.mark.parametrize("act", ["sigmoid", "relu", "phi"])
def test_recursion_two_layers_down_applies_it_twice(act: str) -> None:
    seed = seed_with("backprop/recursion", 300, act=act, m="3", depth="2")
    problem = generate("backprop/recursion", seed)
    d = {"sigmoid": "sigmoid'", "relu": "step", "phi": "phi'"}[act]
    twice = f"hadamard(W3.T@hadamard(W4.T@delta4, {d}(z3)), {d}(z2))"
    assert problem.check(twice).equivalent, problem.check(twice).feedback
    once = f"W3.T@hadamard(W4.T@delta4, {d}(z3))"
    assert problem.check(once).mistake == "missing-derivative"
    assert "W3" in problem.vars and "z2" in problem.vars and "z3" in problem.definitions


def test_a_stand_in_loss_in_the_steps_is_said_to_be_one() -> None:
    """The chain rule's steps start from sum(delta ⊙ z) when only delta is given: say so."""
    for family_id in ("backprop/dl-dw", "backprop/recursion"):
        for seed in range(40):
            problem = generate(family_id, seed)
            steps = problem.solution.split("Chain rule, step by step:")[1]
            forward = steps.split("backward")[0]
            stand_in = "δ" in forward
            assert stand_in == ("uses a stand-in loss" in problem.solution), (family_id, seed)
            if stand_in:
                assert "not the network's loss" in problem.solution


@pytest.mark.parametrize("family_id", IDS)
def test_no_raw_math_nor_repeated_statements_reach_the_student(family_id: str) -> None:
    """No raw $...$, "take ReLU'(0) = 0" once per text, no "= 1 = 1" repetitions."""
    for seed in range(40):
        assert_finished_texts(generate(family_id, seed))
