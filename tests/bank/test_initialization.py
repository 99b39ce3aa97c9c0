"""Initialization families: formulas, Monte Carlo checks that can fail, and the concept question."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from bank_helpers import EXPLAINED, assert_same_seed_same_problem, passing_problems
from typer.testing import CliRunner

from dlquiz.bank import families, generate
from dlquiz.bank.template.montecarlo import mc_backward, mc_forward
from dlquiz.cli import app

IDS = [
    "initialization/output-variance",
    "initialization/variance-formula",
    "initialization/xavier",
    "initialization/why-xavier",
    "initialization/conv-fans",
    "initialization/he-init",
    "initialization/symmetry",
]
SEEDS = range(6)


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, SEEDS, topic="initialization", require=EXPLAINED)


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 3)


def test_monte_carlo_estimates_the_notes_formulas_and_has_power() -> None:
    """n_in sigma^2 Var(x) forward, n_out sigma^2 Var(g) backward; 1.3x off is rejected."""
    forward = mc_forward([50, 1], 0.02, 2.0, seed=1)
    assert forward.agrees(50 * 0.02 * 2.0)
    assert not forward.agrees(1.3 * 50 * 0.02 * 2.0)
    backward = mc_backward(7, 40, 0.05, 0.5, seed=2)
    assert backward.agrees(40 * 0.05 * 0.5)
    assert not backward.agrees(7 * 0.05 * 0.5)  # the fan-in is the wrong count backward
    stacked = mc_forward([8, 8, 8], 1 / 4, 1.0, seed=3)
    assert stacked.agrees(4.0) and not stacked.agrees(2.0)
    uniform = mc_forward([30, 1], 0.01, 1.0, dist="uniform", seed=4)
    assert uniform.agrees(0.3)


def test_output_variance_key_is_the_formula_and_a_wrong_key_fails_verify() -> None:
    family = families()["initialization/output-variance"]
    cases = set()
    for seed in range(40):
        d = family.draw_params(seed)
        kind = family.question_kind(seed)
        case = kind["case"]
        cases.add(case)
        n_in = int(d["nb"] if case == "backward" else d["n"] if case == "stack" else d["n_in"])
        n_out = int(d["n"] if case == "stack" else d["n_out"])
        fan = n_out if case == "backward" else n_in
        if kind["given"] == "sigma":
            var_w = float(Fraction(d["sigma"])) ** 2
        elif case == "stack":
            var_w = {"1/n": 1 / fan, "2/n": 2 / fan, "1/(2*n)": 1 / (2 * fan), "1/4": 0.25}[
                d["ssel"]
            ]
        else:
            var_w = {"1/fan": 1 / fan, "2/fan": 2 / fan, "1/100": 0.01, "1/50": 0.02}.get(
                d["vsel"], 0.1
            )
        var_x = float(Fraction(d["var_x"]))
        problem = family.generate(seed)
        key = float(problem.answer)
        if case == "forward":
            assert key == pytest.approx(n_in * var_w * var_x)
        elif case == "backward":
            assert key == pytest.approx(n_out * var_w * var_x)
        elif case == "stack":
            assert key == pytest.approx((n_in * var_w) ** int(d["depth"]) * var_x)
        else:
            assert key == pytest.approx(1 / math.sqrt(n_in))
        if seed < 10:
            assert family.verify(problem) == []
            assert family.verify(replace(problem, answer=repr(key * 1.5)))
    assert cases == {"forward", "backward", "stack", "preserve"}


def test_variance_formula_accepts_equivalent_forms_and_names_mistakes() -> None:
    from dlquiz.bank.template.checks import HOOKS, CheckContext
    from dlquiz.notation import parse

    family = families()["initialization/variance-formula"]
    for seed in range(200):
        d = family.draw_params(seed)
        kind = family.question_kind(seed)
        plain = (kind["direction"], kind["distribution"], d["vb"], d["c"])
        if plain == ("forward", "normal", "0", "2"):
            problem = family.generate(seed)
            assert problem.check("2*n_in*sigma^2").equivalent
            assert problem.check("n_in σ² · 2").equivalent
            assert problem.check("2*n_in*sigma").mistake == "sigma-not-squared"
            assert problem.check("2*n_out*sigma^2").mistake == "wrong-fan"
            assert problem.check("n_in*sigma^2").mistake == "input-variance-ignored"
            assert family.verify(problem) == []
            built = family.build(seed)  # the Monte Carlo check rejects a wrong formula
            wrong = parse("3*n_in*sigma^2", built.scope.ns.copy())
            ctx = CheckContext(family.id, seed, "expression", wrong, built.scope)
            args = {
                "direction": "forward",
                "distribution": "normal",
                "c": np.array([[2.0]]),
                "var_b": np.array([[0.0]]),
            }
            assert HOOKS["variance_formula"].run(ctx, **args)
            return
    pytest.fail("no seed drew the plain forward case")


def test_variance_formula_uniform_law_has_variance_a_squared_over_three() -> None:
    family = families()["initialization/variance-formula"]
    for seed in range(200):
        d = family.draw_params(seed)
        kind = family.question_kind(seed)
        if (kind["direction"], kind["distribution"]) == ("backward", "uniform"):
            problem = family.generate(seed)
            c = d["c"]
            assert problem.check(f"n_out*a^2/3*({c})").equivalent
            assert problem.check(f"n_out*a^2*({c})").mistake == "uniform-variance"
            return
    pytest.fail("no seed drew the uniform backward case")


def test_xavier_key_is_the_glorot_formula_and_verify_uses_the_engines_init() -> None:
    family = families()["initialization/xavier"]
    for seed in range(30):
        d = family.draw_params(seed)
        n_in, n_out, ask = int(d["n_in"]), int(d["n_out"]), d["ask"]
        expected = {
            "sigma": math.sqrt(2 / (n_in + n_out)),
            "sigma2": 2 / (n_in + n_out),
            "bound": math.sqrt(6 / (n_in + n_out)),
        }[ask]
        problem = family.generate(seed)
        assert float(problem.answer) == pytest.approx(expected, rel=1e-9)
        if seed < 8:
            assert family.verify(replace(problem, answer=repr(expected * 1.2)))


def test_xavier_by_hand() -> None:
    """n_in = 784, n_out = 256: sigma = sqrt(2/1040) = 0.04385."""
    family = families()["initialization/xavier"]
    for seed in range(5000):
        d = family.draw_params(seed)
        if (d["n_in"], d["n_out"], d["ask"]) == ("784", "256", "sigma"):
            assert float(generate("initialization/xavier", seed).answer) == pytest.approx(
                0.0438529, rel=1e-5
            )
            return
    pytest.fail("no seed drew n_in = 784, n_out = 256, sigma")


def test_why_xavier_has_one_right_option_and_labels_every_wrong_one() -> None:
    family = families()["initialization/why-xavier"]
    kinds = set()
    for seed in range(30):
        kinds.add(family.question_kind(seed)["question"])
        problem = family.generate(seed)
        assert len(problem.choices) == 4
        assert len(problem.mistakes) == 3
        assert problem.check(problem.answer).equivalent
        for m in problem.mistakes:
            assert problem.check(m["answer"]).mistake == m["tag"]
        if seed < 4:
            wrong = next(m["answer"] for m in problem.mistakes)
            assert family.verify(replace(problem, answer=wrong))
    assert kinds == {"why", "backward-factor", "unit-sigma", "equal-fans"}


def test_backward_factor_option_is_fan_out_over_fan_in() -> None:
    """The right options claim n_out/n_in; the Monte Carlo hook rejects a pool that lies."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    family = families()["initialization/why-xavier"]
    for seed in range(100):
        if family.question_kind(seed)["question"] != "backward-factor":
            continue
        built = family.build(seed)
        d = family.draw_params(seed)
        n_in, n_out = int(d["n_in"]), int(d["m"])
        entries = [dict(e) for e in built.shown.entries]
        for e in entries:
            claim = float(built.scope.number(e["value"], "value").flat[0])
            assert (claim == pytest.approx(n_out / n_in)) == bool(e.get("correct"))
        args = {
            "n_in": n_in,
            "n_out": n_out,
            "var_w": built.scope.number("1/n_in", "v"),
            "var_in": built.scope.number("1", "v"),
            "direction": "backward",
            "compare": "options",
        }
        ctx = CheckContext(family.id, seed, "choice", built.problem.answer, built.scope, entries)
        assert HOOKS["linear_variance"].run(ctx, **args) == []
        wrong = next(e for e in entries if not e.get("correct"))
        wrong["correct"] = True
        assert HOOKS["linear_variance"].run(ctx, **args)
        return
    pytest.fail("no backward-factor question")


def test_why_xavier_hints_fit_the_question_kind() -> None:
    """Hint 2 said 'which product equals 1' also for sigma = 1, where neither does."""
    family = families()["initialization/why-xavier"]
    for seed in range(60):
        kind = family.question_kind(seed)["question"]
        hints = " ".join(family.generate(seed).hints)
        if kind == "unit-sigma":
            assert "σ = 1" in hints and "equals 1" not in hints, hints
        assert len(family.generate(seed).hints) == 2


def test_conv_fans_are_channels_times_the_kernel_area_and_verify_counts_them() -> None:
    family = families()["initialization/conv-fans"]
    asked = set()
    for seed in range(30):
        d = family.draw_params(seed)
        ask = family.question_kind(seed)["ask"]
        asked.add(ask)
        channels = int(d["c_in"] if ask == "fan-in" else d["c_out"])
        problem = family.generate(seed)
        assert int(problem.answer) == channels * int(d["k"]) ** 2
        if seed < 8:
            assert family.verify(problem) == []
            assert family.verify(replace(problem, answer=str(int(problem.answer) + 1)))
    assert asked == {"fan-in", "fan-out"}


def test_he_init_is_two_over_the_fan_in_and_verify_rejects_xavier() -> None:
    family = families()["initialization/he-init"]
    kinds = set()
    for seed in range(40):
        d = family.draw_params(seed)
        kind = family.question_kind(seed)
        kinds.add((kind["ask"], kind["layer"]))
        if kind["layer"] == "dense":
            fan_in = int(d["n"])
        else:
            k2 = int(d["k"]) ** 2
            fan_in = int(d["c_in"]) * k2
        want = {
            "sigma2": 2 / fan_in,
            "sigma": math.sqrt(2 / fan_in),
            "bound": math.sqrt(6 / fan_in),
        }[kind["ask"]]
        problem = family.generate(seed)
        assert float(problem.answer) == pytest.approx(want, rel=1e-9)
        assert "beyond the notes" in problem.statement
        if seed < 8:
            assert family.verify(problem) == []
            xavier = next(m["answer"] for m in problem.mistakes if m["tag"] == "xavier")
            assert family.verify(replace(problem, answer=xavier))
    assert len(kinds) == 6


def test_symmetry_check_holds_the_engine_facts_and_fails_for_a_false_claim() -> None:
    from dlquiz.bank.template.checks import HOOKS, CheckContext, train_mlp

    family = families()["initialization/symmetry"]
    kinds = set()
    for seed in range(20):
        kind = family.question_kind(seed)["init"]
        kinds.add(kind)
        problem = family.generate(seed)
        assert family.verify(problem) == []
        assert "beyond the notes" in problem.statement
        assert len(problem.hints) == 2
    assert kinds == {"zero", "constant"}
    built = family.build(0)
    run = HOOKS["symmetric_init"].run
    ctx = CheckContext(family.id, 0, "choice", "A", built.scope)
    for c in (0.0, 0.5, 2.0):
        assert run(ctx, c=np.array([[c]]), activation="relu", d=3, n_h=4) == []
    # the criterion can tell: one hidden unit's weights nudged by 1e-3 end up different
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    start = [np.full(s, 0.5) for s in [(4, 3), (4,), (1, 4), (1,)]]
    w1 = train_mlp(start, x, y, "tanh")[0]
    assert np.allclose(w1, w1[:1]) and not np.allclose(w1, 0.5)
    start[0][1, 0] += 1e-3
    w1 = train_mlp(start, x, y, "tanh")[0]
    assert not np.allclose(w1, w1[:1], rtol=0, atol=1e-6)


def test_show_and_verify_commands() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["show", "initialization/xavier", "--seed", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == generate("initialization/xavier", 2).to_json()
    r = runner.invoke(app, ["verify", "--topic", "initialization", "--seeds", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert {row["id"] for row in json.loads(r.stdout)["families"]} == set(IDS)


def test_xavier_hints_fit_the_question_kind() -> None:
    """The uniform's variance a²/3 is a hint for the bound only, not for sigma questions."""
    family = families()["initialization/xavier"]
    asks = set()
    for seed in range(60):
        ask = family.question_kind(seed)["ask"]
        asks.add(ask)
        hints = " ".join(generate("initialization/xavier", seed).hints)
        assert ("a²/3" in hints) == (ask == "bound"), (seed, ask, hints)
    assert asks == {"sigma", "sigma2", "bound"}
