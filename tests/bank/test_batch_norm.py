"""Batch-norm families: statistics and outputs against NumPy, both epsilon conventions."""

from __future__ import annotations

import re

import numpy as np
import pytest
from bank_helpers import (
    assert_latex_prose_is_ascii,
    assert_same_seed_same_problem,
    assert_verify_command_passes,
    numbers,
    passing_problems,
    shuffled_choice_problems,
)

from dlquiz.bank import families, generate

IDS = [
    "batch-norm/statistics",
    "batch-norm/output-notes",
    "batch-norm/output-pytorch",
    "batch-norm/parameters",
    "batch-norm/test-time",
    "batch-norm/running-average",
    "batch-norm/conv-statistics",
    "batch-norm/backward",
]


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, range(6), topic="batch-norm")


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 9)


def test_statistics_against_numpy_with_the_biased_variance() -> None:
    family = families()["batch-norm/statistics"]
    asked = set()
    for seed in range(40):
        p = family.draw_params(seed)
        x = numbers(p["x"]).reshape(int(p["B"]), int(p["nf"]))
        mean, var = x.mean(axis=0), x.var(axis=0, ddof=0)
        expected = {
            "stats": np.vstack([mean, var]),
            "std": np.sqrt(var),
            "xhat": (x - mean) / np.sqrt(var),
        }[p["ask"]]
        asked.add(p["ask"])
        key = numbers(family.generate(seed).answer)
        assert np.allclose(key.reshape(expected.shape), expected, rtol=1e-9)
    assert asked == {"stats", "std", "xhat"}


class _Setup:
    """A template's draw as numbers: the batch x (one example per row), gamma, beta, eps."""

    def __init__(self, family_id: str, seed: int) -> None:
        p = families()[family_id].draw_params(seed)
        b, nf = int(p["B"]), int(p["nf"])
        self.x = numbers(p["x"]).reshape(b, nf)
        self.gamma = numbers(p["gamma"]).reshape(-1)
        self.beta = numbers(p["beta"]).reshape(-1)
        self.eps = float(p["eps"])


def _by_hand(su: _Setup, convention: str) -> np.ndarray:
    mu, var = su.x.mean(axis=0), su.x.var(axis=0)
    denom = np.sqrt(var) + su.eps if convention == "notes" else np.sqrt(var + su.eps)
    return su.gamma * (su.x - mu) / denom + su.beta


@pytest.mark.parametrize(
    ("family_id", "convention"), [("output-notes", "notes"), ("output-pytorch", "pytorch")]
)
def test_output_against_numpy_in_its_own_convention(family_id: str, convention: str) -> None:
    family = families()[f"batch-norm/{family_id}"]
    for seed in range(20):
        su = _Setup(family.id, seed)
        key = numbers(family.generate(seed).answer).reshape(su.x.shape)
        assert np.allclose(key, _by_hand(su, convention), rtol=1e-9)


def test_the_conventions_differ_for_a_large_epsilon_and_not_for_a_small_one() -> None:
    family = families()["batch-norm/output-pytorch"]
    large = small = 0
    for seed in range(60):
        su = _Setup(family.id, seed)
        p = family.generate(seed)
        tags = {m["tag"] for m in p.mistakes}
        notes = _by_hand(su, "notes")
        if float(su.eps) >= 0.1:
            large += 1
            assert "notes-convention" in tags
            wrong = next(m for m in p.mistakes if m["tag"] == "notes-convention")
            assert np.allclose(numbers(wrong["answer"]).ravel(), notes.ravel(), rtol=1e-8)
            assert p.check(wrong["answer"]).mistake == "notes-convention"
        elif float(su.eps) < 1e-3:
            small += 1
            assert "notes-convention" not in tags  # indistinguishable at 3 figures:
            key = numbers(p.answer).reshape(notes.shape)
            assert np.allclose(notes, key, rtol=5e-3, atol=1e-6)
    assert large and small


def test_the_notes_statement_names_its_convention() -> None:
    p = generate("batch-norm/output-notes", 3)
    assert "ε is added to the standard deviation" in p.statement
    assert r"\sigma_{\text{B}} + \epsilon" in p.statement_latex
    q = generate("batch-norm/output-pytorch", 3)
    assert "inside the square root" in q.statement
    assert r"\sqrt{\sigma_{\text{B}}^{2} + \epsilon}" in q.statement_latex


def test_parameters_by_hand() -> None:
    family = families()["batch-norm/parameters"]
    seen = set()
    for seed in range(30):
        p = family.draw_params(seed)
        expected = (2 if p["ask"] == "learnable" else 4) * int(p["width"])
        assert int(family.generate(seed).answer) == expected
        seen.add((p["layer"], p["ask"]))
    assert len(seen) == 4


def _test_time_pool() -> dict[str, tuple[set[str], set[str]]]:
    """The template's option texts, right and wrong, per question kind."""
    import tomllib
    from pathlib import Path

    import dlquiz

    path = Path(dlquiz.__file__).resolve().parents[1] / "problems/batch-norm/test-time.toml"
    pool: dict[str, tuple[set[str], set[str]]] = {}
    for o in tomllib.loads(path.read_text(encoding="utf-8"))["options"]:
        right, wrong = pool.setdefault(o["when"]["question"], (set(), set()))
        (right if o.get("correct") else wrong).add(o["text"])
    return pool


def test_test_time_choices_are_shuffled_and_every_wrong_option_is_tagged() -> None:
    pool = _test_time_pool()
    for p in shuffled_choice_problems("batch-norm/test-time"):
        assert len(p.choices) == 4 and len(set(p.choices)) == 4
        right, _ = pool[p.question_kind["question"]]
        shown = p.choices["ABCD".index(p.answer)]
        assert any(shown.startswith(t.split("{")[0]) for t in right), shown


def test_test_time_hints_fit_the_question_and_never_state_a_right_option() -> None:
    """Issue 13: hint 2 stated the answer ("Only gamma and beta receive gradients")."""
    pool = _test_time_pool()
    words = re.compile(r"[a-z]+")
    for seed in range(60):
        p = generate("batch-norm/test-time", seed)
        right, _ = pool[p.question_kind["question"]]
        assert len(p.hints) >= 2
        for hint in p.hints:
            h = set(words.findall(hint.lower()))
            for text in right:
                t = set(words.findall(text.lower())) - {"the", "and", "a", "of", "is"}
                assert not t <= h, (seed, hint, text)  # no right statement inside a hint
            assert "gamma" not in hint.lower() and "γ" not in hint, (seed, hint)


def test_latex_prose_and_choices_are_ascii() -> None:
    assert_latex_prose_is_ascii(IDS, choices=True)


def test_verify_command_passes_for_the_topic() -> None:
    assert_verify_command_passes("batch-norm", 3)


def test_running_average_by_hand_with_pytorchs_convention() -> None:
    """momentum 0.1 weighs the new statistic; the running variance is the unbiased one."""
    family = families()["batch-norm/running-average"]
    seen = set()
    for seed in range(40):
        p = family.draw_params(seed)
        b, nf = int(p["B"]), int(p["nf"])
        x = numbers(p["x"]).reshape(b, nf)
        fresh = p["start"] == "fresh"
        m0 = np.zeros(nf) if fresh else numbers(p["rm"]).reshape(-1)
        v0 = np.ones(nf) if fresh else numbers(p["rv"]).reshape(-1)
        expected = (
            0.9 * m0 + 0.1 * x.mean(axis=0)
            if p["ask"] == "mean"
            else 0.9 * v0 + 0.1 * x.var(axis=0, ddof=1)
        )
        problem = family.generate(seed)
        assert np.allclose(numbers(problem.answer).reshape(-1), expected, rtol=1e-9)
        assert "momentum 0.1" in problem.statement and "unbiased" in problem.statement
        assert "beyond the notes" in problem.statement
        seen.add((p["ask"], p["start"]))
    assert len(seen) == 4


def test_conv_statistics_by_hand_over_n_h_and_w() -> None:
    family = families()["batch-norm/conv-statistics"]
    asked = set()
    for seed in range(40):
        p = family.draw_params(seed)
        h, w = int(p["h"]), int(p["w"])
        maps = [numbers(p[k]).reshape(h, w) for k in ("P", "Q", "R", "S")]
        batch = np.array(maps).reshape(2, 2, h, w)  # (N, C, H, W): P, Q of image 1
        mean, var = batch.mean(axis=(0, 2, 3)), batch.var(axis=(0, 2, 3))
        expected = {"mean": mean, "variance": var, "std": np.sqrt(var)}[p["ask"]]
        asked.add(p["ask"])
        problem = family.generate(seed)
        assert np.allclose(numbers(problem.answer).reshape(-1), expected, rtol=1e-9)
        assert "over N, H and W" in problem.statement
    assert asked == {"mean", "variance", "std"}


def test_backward_against_central_differences_of_the_notes_forward() -> None:
    family = families()["batch-norm/backward"]
    asked = set()

    def loss(x: np.ndarray, gamma: float, beta: float, eps: float, dy: np.ndarray) -> float:
        y = gamma * (x - x.mean()) / (x.std() + eps) + beta  # the notes: sigma_B + eps
        return float(dy @ y)

    for seed in range(30):
        p = family.draw_params(seed)
        x, dy = numbers(p["x0"]).reshape(-1), numbers(p["dy"]).reshape(-1)
        gamma, beta, eps = float(numbers(p["g0"]).flat[0]), float(p["b0"]), float(p["eps"])
        h = 1e-6
        if p["wrt"] == "x":
            expected = np.array(
                [
                    (
                        loss(x + h * np.eye(x.size)[i], gamma, beta, eps, dy)
                        - loss(x - h * np.eye(x.size)[i], gamma, beta, eps, dy)
                    )
                    / (2 * h)
                    for i in range(x.size)
                ]
            )
        elif p["wrt"] == "gamma":
            expected = np.array(
                [(loss(x, gamma + h, beta, eps, dy) - loss(x, gamma - h, beta, eps, dy)) / (2 * h)]
            )
        else:
            expected = np.array(
                [(loss(x, gamma, beta + h, eps, dy) - loss(x, gamma, beta - h, eps, dy)) / (2 * h)]
            )
        asked.add(p["wrt"])
        key = numbers(family.generate(seed).answer).reshape(-1)
        assert np.allclose(key, expected, rtol=1e-5, atol=1e-6), (seed, key, expected)
    assert asked == {"gamma", "beta", "x"}


@pytest.mark.parametrize("family_id", ["batch-norm/output-notes", "batch-norm/output-pytorch"])
def test_epsilon_is_realistic_or_the_statement_says_why_it_is_large(family_id: str) -> None:
    """Issue 13: epsilon of 1/2 and 1/4 without a word; PyTorch's default is 1e-5."""
    seen = set()
    for seed in range(100):
        eps = float(families()[family_id].draw_params(seed)["eps"])
        statement = generate(family_id, seed).statement
        assert eps <= 0.1, (seed, eps)
        if eps > 1e-3:
            assert "much larger than the usual 1e-5" in statement, (seed, statement)
        else:
            assert "much larger" not in statement
        seen.add(eps)
    assert min(seen) <= 1e-5 and max(seen) == 0.1  # both kinds of draw occur


def test_the_batch_norm_hooks_pass_a_key_by_hand_and_catch_a_wrong_one() -> None:
    """x = [1, 3; 5, 7] (two examples, two features): means [3, 5], biased variances
    [4, 4], unbiased [8, 8]; from a fresh layer the running mean is [0.3, 0.5] and the
    running variance 0.9 + 0.1*8 = 1.7. With dy = [1, 0] on feature 1 (gamma 2, beta 0,
    the notes' eps = 0): xhat = [-1, 1], so dL/dgamma = -1 and dL/dbeta = 1."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    def ctx(key: list[float], kind: str = "numbers") -> CheckContext:
        return CheckContext("t", 0, kind, np.array(key), None)  # type: ignore[arg-type]

    stats = HOOKS["batch_norm_statistics"].run
    x = [np.array([[1.0, 3.0], [5.0, 7.0]])]
    cases = {
        "mean": [3, 5],
        "variance": [4, 4],
        "std": [2, 2],
        "unbiased": [8, 8],
        "stats": [3, 5, 4, 4],
        "running_mean": [0.3, 0.5],
        "running_var": [1.7, 1.7],
        "xhat": [-1, -1, 1, 1],
    }
    for returns, key in cases.items():
        assert stats(ctx(key), x=x, n=2, c=2, returns=returns) == [], returns
        wrong = [v * 1.01 + 0.01 for v in key]
        assert stats(ctx(wrong), x=x, n=2, c=2, returns=returns), returns
    maps = [
        np.array([[1.0, 3.0]]),
        np.array([[0.0, 2.0]]),
        np.array([[5.0, 7.0]]),
        np.zeros((1, 2)),
    ]
    assert stats(ctx([4, 0.5]), x=maps, n=2, c=2, returns="mean") == []  # over N and W
    assert stats(ctx([2, 1]), x=maps, n=2, c=2, returns="mean")  # image 1 alone
    back = HOOKS["batch_norm_backward"].run
    args = {
        "x": np.array([[1.0], [5.0]]),
        "gamma": np.array(2.0),
        "beta": np.array(0.0),
        "eps": np.array(0.0),
        "dy": np.array([[1.0], [0.0]]),
        "convention": "notes",
    }
    assert back(ctx([-1.0]), wrt="gamma", **args) == []
    assert back(ctx([1.0]), wrt="beta", **args) == []
    assert back(ctx([1.0]), wrt="gamma", **args)
    params = HOOKS["batch_norm_parameters"].run
    assert params(ctx(64, "integer"), width=32, layer="conv", count="learnable", size=4) == []
    assert params(ctx(128, "integer"), width=32, layer="conv", count="stored", size=4) == []
    assert params(ctx(128, "integer"), width=32, layer="dense", count="learnable", size=4)


def test_the_running_average_update_moves_the_statistic_by_at_least_one_percent() -> None:
    family = families()["batch-norm/running-average"]
    for seed in range(50):
        p = family.draw_params(seed)
        nf = int(p["nf"])
        if p["start"] == "fresh":
            before = np.zeros(nf) if p["ask"] == "mean" else np.ones(nf)
        else:
            before = numbers(p["rm" if p["ask"] == "mean" else "rv"]).reshape(-1)
        after = numbers(family.generate(seed).answer).reshape(-1)
        assert np.linalg.norm(after - before) >= 0.01 * np.linalg.norm(before), seed
        assert np.linalg.norm(after - before) > 0, seed
