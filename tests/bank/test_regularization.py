"""Regularization families: weight decay (symbolic and numeric) and dropout."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from bank_helpers import EXPLAINED, assert_same_seed_same_problem, passing_problems, seed_with
from typer.testing import CliRunner

from dlquiz.bank import families, generate
from dlquiz.bank.coded.common import read_numbers
from dlquiz.cli import app

IDS = [
    "regularization/weight-decay-gradient",
    "regularization/weight-decay-update",
    "regularization/weight-decay-step",
    "regularization/dropout-output",
    "regularization/dropout-expectation",
    "regularization/dropout-test-time",
    "regularization/dropout-rate",
    "regularization/ridge-shrinkage",
]
SEEDS = range(6)


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, SEEDS, topic="regularization", require=EXPLAINED)


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 7)


def test_weight_decay_gradient_is_two_lambda_w_with_the_notes_penalty() -> None:
    seed = seed_with(
        "regularization/weight-decay-gradient", 400, loss="1/2*(w.T@x + b - y)^2", pen="lambda"
    )
    problem = generate("regularization/weight-decay-gradient", seed)
    assert problem.check("(w.T@x + b - y)*x + 2*lambda*w").equivalent
    assert problem.check("(w^T x + b - y) x + 2 λ w").equivalent
    assert problem.check("(w.T@x + b - y)*x + lambda*w").mistake == "penalty-lost-factor"
    assert problem.check("(w.T@x + b - y)*x").mistake == "missing-penalty"


def test_weight_decay_gradient_with_the_half_convention_is_lambda_w() -> None:
    seed = seed_with("regularization/weight-decay-gradient", 400, loss="ell(w.T@x)", pen="lambda/2")
    problem = generate("regularization/weight-decay-gradient", seed)
    assert problem.check("ell'(w.T@x)*x + lambda*w").equivalent
    assert not problem.check("ell'(w.T@x)*x + 2*lambda*w").equivalent  # the notes' factor


def test_weight_decay_update_shrinks_then_steps() -> None:
    seed = seed_with(
        "regularization/weight-decay-update", 400, loss="1/2*(w.T@x - y)^2", pen="lambda"
    )
    problem = generate("regularization/weight-decay-update", seed)
    assert problem.check("(1 - 2*eta*lambda)*w - eta*(w.T@x - y)*x").equivalent
    assert problem.check("w - eta*((w.T@x - y)*x + lambda*w)").mistake == "penalty-lost-factor"
    assert problem.check("w + eta*((w.T@x - y)*x + 2*lambda*w)").mistake == "ascent"


def _step_by_hand(w, g, eta, decay):  # type: ignore[no-untyped-def]
    return [Fraction(wi) - eta * (gi + decay * Fraction(wi)) for wi, gi in zip(w, g, strict=True)]


def _step_draw(family, seed):  # type: ignore[no-untyped-def]
    d = family.draw_params(seed)
    w = [Fraction(v.strip()) for v in d["w"].strip("[]").split(",")]
    g = [int(v) for v in d["g"].strip("[]").split(",")]
    case = family.question_kind(seed)["convention"]
    lam = Fraction(d["lam"])
    decay = {"notes": 2 * lam, "half": lam, "pytorch": lam}[case]
    return case, w, g, Fraction(d["eta"]), decay


def test_weight_decay_step_uses_two_lambda_for_the_notes_and_weight_decay_for_pytorch() -> None:
    family = families()["regularization/weight-decay-step"]
    cases = set()
    for seed in range(40):
        case, w, g, eta, decay = _step_draw(family, seed)
        cases.add(case)
        expected = [float(v) for v in _step_by_hand(w, g, eta, decay)]
        problem = family.generate(seed)
        np.testing.assert_allclose(read_numbers(problem.answer).ravel(), expected, rtol=1e-9)
        change = np.abs(np.array(expected) - np.array([float(v) for v in w]))
        assert (change >= 0.01 * np.abs([float(v) for v in w])).any()  # a visible update
        tags = {m["tag"] for m in problem.mistakes}
        assert "missing-decay" in tags  # forgetting the decay always shows at 3 figures
        assert ("penalty-lost-factor" if case == "notes" else "convention-mixup") in tags
        if seed < 8:
            assert family.verify(problem) == []
            wrong = next(m["answer"] for m in problem.mistakes if m["tag"] == "missing-decay")
            assert family.verify(replace(problem, answer=wrong))
    assert cases == {"notes", "half", "pytorch"}


def test_weight_decay_step_matches_pytorch_when_installed() -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (the `torch` extra)")
    family = families()["regularization/weight-decay-step"]
    for seed in range(20):
        _, w0, g, eta, decay = _step_draw(family, seed)
        w = torch.tensor([float(v) for v in w0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w], lr=float(eta), weight_decay=float(decay))
        w.grad = torch.tensor([float(v) for v in g], dtype=torch.float64)
        opt.step()
        got = read_numbers(family.generate(seed).answer).ravel()
        np.testing.assert_allclose(got, w.detach().numpy(), rtol=1e-9)


def test_dropout_output_follows_the_stated_mask() -> None:
    family = families()["regularization/dropout-output"]
    for seed in range(30):
        d = family.draw(seed)
        problem = family.generate(seed)
        key = read_numbers(problem.answer).ravel()
        kept_units = problem.statement.split("keeps unit")[1].split(" and drops")[0]
        kept = {int(v) - 1 for v in kept_units.strip(" s").split(",")}
        source = d.h if d.ask == "output" else d.upstream
        for i, v in enumerate(source):
            want = float(Fraction(v) / (1 - d.p)) if i in kept else 0.0
            assert key[i] == pytest.approx(want, rel=1e-9, abs=1e-12)
        assert 0 < len(kept) < len(source)


def test_dropout_output_verify_rejects_the_unscaled_answer() -> None:
    family = families()["regularization/dropout-output"]
    problem = family.generate(1)
    unscaled = next(m["answer"] for m in problem.mistakes if m["tag"] == "not-scaled")
    assert family.verify(replace(problem, answer=unscaled))
    assert problem.check(unscaled).mistake == "not-scaled"


def test_dropout_expectation_keys_and_monte_carlo_rejects_wrong_ones() -> None:
    family = families()["regularization/dropout-expectation"]
    asks = set()
    for seed in range(40):
        d = family.draw_params(seed)
        h, p = Fraction(int(d["hn"]), int(d["hd"])), Fraction(d["p"])
        asks.add(d["ask"])
        q = 1 - p
        expected = {
            "mean": h,
            "mean-classic": q * h,
            "variance": h**2 * p / q,
            "kept": h / q,
        }[d["ask"]]
        problem = family.generate(seed)
        assert float(problem.answer) == pytest.approx(float(expected), rel=1e-9)
        if seed < 12:
            assert family.verify(replace(problem, answer=repr(float(expected) * 1.25 + 0.1)))
    assert asks == {"mean", "mean-classic", "variance", "kept"}


def test_dropout_test_time_is_the_identity_for_the_notes_dropout() -> None:
    family = families()["regularization/dropout-test-time"]
    kinds = set()
    for seed in range(40):
        d = family.draw_params(seed)
        kind = family.question_kind(seed)
        kinds.add((kind["variant"], kind["ask"]))
        problem = family.generate(seed)
        right = problem.choices["ABCD".index(problem.answer)]
        if kind["ask"] == "output":
            h, p = Fraction(int(d["hn"]), int(d["hd"])), Fraction(d["p"])
            expected = h if kind["variant"] == "inverted" else (1 - p) * h
            assert float(right.split(":")[0].split(",")[0]) == pytest.approx(
                float(expected), rel=1e-3
            )
        for m in problem.mistakes:
            assert problem.check(m["answer"]).mistake == m["tag"]
        if seed < 6:
            assert family.verify(replace(problem, answer=problem.mistakes[0]["answer"]))
    assert kinds == {(v, a) for v in ("inverted", "classic") for a in ("output", "behaviour")}


def test_dropout_test_time_check_rejects_an_option_pool_with_a_wrong_right_option() -> None:
    """The hook tests the right options' claimed values against the engine's eval mode."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    family = families()["regularization/dropout-test-time"]
    tested = 0
    for seed in range(40):
        built = family.build(seed)
        entries = [dict(e) for e in built.shown.entries]
        valued = [e for e in entries if not e.get("correct") and "value" in e]
        if family.question_kind(seed)["ask"] != "output" or not valued:
            continue
        assert all("value" in e for e in entries if e.get("correct"))
        scope = built.scope
        args = {
            "h": scope.number("h", "h"),
            "p": scope.number("p", "p"),
            "scaling": family.question_kind(seed)["variant"],
        }
        ctx = CheckContext(family.id, seed, "choice", built.problem.answer, scope, entries)
        assert HOOKS["dropout_test_time"].run(ctx, **args) == []
        valued[0]["correct"] = True  # a distractor marked right: the engine disagrees
        assert HOOKS["dropout_test_time"].run(ctx, **args)
        tested += 1
    assert tested >= 5


def test_dropout_rate_keys_by_hand_and_monte_carlo_rejects_a_wrong_one() -> None:
    from bank_helpers import numbers

    family = families()["regularization/dropout-rate"]
    asks = set()
    for seed in range(40):
        d = family.draw_params(seed)
        ask = family.question_kind(seed)["ask"]
        asks.add(ask)
        h, w = numbers(d["h"]).ravel(), numbers(d["w"]).ravel()
        p, p2 = float(Fraction(d["p"])), float(Fraction(d["p2"]))
        s, t = float(w @ h), float(((w * h) ** 2).sum())
        want = {
            "mean-inverted": s,
            "mean-classic": (1 - p) * s,
            "variance": p / (1 - p) * t,
            "variance-ratio": (p2 / (1 - p2)) / (p / (1 - p)),
        }[ask]
        problem = family.generate(seed)
        assert float(problem.answer) == pytest.approx(want, rel=1e-9)
        assert float(problem.answer) != 0.0
        if seed < 10:
            assert family.verify(problem) == []
            assert family.verify(replace(problem, answer=repr(want * 1.2 + 0.1)))
    assert asks == {"mean-inverted", "mean-classic", "variance", "variance-ratio"}


def test_ridge_shrinkage_by_hand_and_verify_rejects_the_half_penalty() -> None:
    from bank_helpers import numbers

    family = families()["regularization/ridge-shrinkage"]
    asks = set()
    for seed in range(40):
        d = family.draw_params(seed)
        ask = family.question_kind(seed)["ask"]
        asks.add(ask)
        x, y = numbers(d["x"]).ravel(), numbers(d["y"]).ravel()
        lam, f = float(Fraction(d["lam"])), float(Fraction(d["f"]))
        sxx, sxy = float(x @ x), float(x @ y)
        want = {
            "solution": sxy / (sxx + lam),
            "shrink": sxx / (sxx + lam),
            "lambda": sxx * (1 / f - 1),
            "prediction": sxy / (sxx + lam) * int(d["x0"]),
        }[ask]
        problem = family.generate(seed)
        assert float(problem.answer) == pytest.approx(want, rel=1e-9)
        if seed < 12:
            assert family.verify(problem) == []
            half = next(m["answer"] for m in problem.mistakes if m["tag"] == "half-penalty")
            assert family.verify(replace(problem, answer=half))
    assert asks == {"solution", "shrink", "lambda", "prediction"}


def test_show_and_verify_commands() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["show", "regularization/weight-decay-step", "--seed", "3", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == generate("regularization/weight-decay-step", 3).to_json()
    r = runner.invoke(app, ["verify", "--topic", "regularization", "--seeds", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert {row["id"] for row in json.loads(r.stdout)["families"]} == set(IDS)


def test_dropout_output_declares_its_zeros_as_the_point() -> None:
    """The mask's zeros are what the question is about: every seed's kind says so."""
    family = families()["regularization/dropout-output"]
    for seed in range(20):
        kind = family.question_kind(seed)
        assert kind["zeros"] == "the point"
        assert 0.0 in read_numbers(family.generate(seed).answer).ravel()
    assert hasattr(family, "draw") and not hasattr(family, "params")


def test_no_statement_cites_a_textbook_or_calls_the_half_penalty_the_notes() -> None:
    """The notes write λ‖w‖²: the λ/2 form is another convention, never "as in the notes"."""
    for family_id in IDS:
        for seed in range(60):
            p = generate(family_id, seed)
            text = " ".join([p.statement, p.solution, *p.hints]).lower()
            assert "textbook" not in text, (family_id, seed)
            half = "λ/2" in p.statement or "λ ‖w‖²/2" in p.statement or "half of" in p.statement
            if half:
                assert "as in the notes" not in p.statement, (family_id, seed, p.statement)


@pytest.mark.parametrize(
    "family_id", ["regularization/weight-decay-gradient", "regularization/weight-decay-update"]
)
def test_the_statement_names_every_variable_the_key_needs(family_id: str) -> None:
    """'In terms of w, x, y, η and λ' while the key needs b in 92 of 200 seeds: no more."""
    import re

    shown = {"w": "w", "x": "x", "y": "y", "b": "b", "eta": "η", "lambda": "λ", "ell": "ell'"}
    for seed in range(200):
        p = generate(family_id, seed)
        needed = set(re.findall(r"[A-Za-z]+", p.answer)) & set(shown)
        listed = re.split(r"[ ,.]+", p.statement.split("in terms of", 1)[1])
        missing = {n for n in needed if shown[n] not in listed}
        assert not missing, (seed, p.answer, p.statement)
