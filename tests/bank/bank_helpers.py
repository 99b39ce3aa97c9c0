"""Checks every topic's tests make of its families (imported by name: tests/bank is on sys.path).

Each topic file asks the same of its families: every seed passes the bank's own checks, a
seed always gives the same problem, the topic's ``dlquiz verify`` passes, the LaTeX prose
compiles without Unicode. One copy of each check lives here; the topic files call it with
their families, seeds and extra demands, and keep their own topic-specific tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
from typer.testing import CliRunner, Result

from dlquiz.bank import families, generate
from dlquiz.bank.problem import Problem
from dlquiz.bank.verify import check_problem
from dlquiz.cli import app

EXPLAINED = ("mistakes", "hints", "solution")  # what a family with worked solutions must fill


def numbers(text: str) -> np.ndarray:
    """A key's numbers as rows (``[1, 2; 3, 4]``, ``[1, 2]``, ``5``), read without the package."""
    return np.array([[float(v) for v in row.split(",")] for row in text.strip("[]").split(";")])


def passing_problems(
    family_id: str, seeds: Iterable[int], *, topic: str, require: Sequence[str] = ()
) -> list[Problem]:
    """Each seed's problem, after asserting it passes ``check_problem`` (what verify runs).

    The family must belong to ``topic``; every field named in ``require`` (``mistakes``,
    ``hints``, ``solution``) must be non-empty. The problems are returned for extra checks.
    """
    family = families()[family_id]
    assert family.topic == topic
    problems = []
    for seed in seeds:
        problem = family.generate(seed)
        assert check_problem(family, problem) == [], (family_id, seed)
        for name in require:
            assert getattr(problem, name), (family_id, seed, name)
        problems.append(problem)
    return problems


def assert_same_seed_same_problem(family_id: str, seed: int) -> None:
    assert generate(family_id, seed).to_json() == generate(family_id, seed).to_json()


def assert_statements_vary(family_id: str, seeds: Iterable[int], *, more_than: int) -> None:
    """The seeds give more than ``more_than`` distinct statements."""
    assert len({generate(family_id, s).statement for s in seeds}) > more_than


def assert_verify_command_passes(topic: str, seeds: int, *options: str) -> Result:
    """``dlquiz verify --topic TOPIC --seeds N`` exits 0; its result for further checks."""
    r = CliRunner().invoke(app, ["verify", "--topic", topic, "--seeds", str(seeds), *options])
    assert r.exit_code == 0, r.output
    return r


def assert_latex_prose_is_ascii(family_ids: Iterable[str], *, choices: bool = False) -> None:
    """Greek letters belong in math: the LaTeX prose (and options) compile without Unicode."""
    for family_id in family_ids:
        for seed in range(10):
            p = generate(family_id, seed)
            texts = (p.statement_latex, p.solution_latex, *(p.choices if choices else ()))
            for text in texts:
                prose = re.sub(r"(?<!\\)\$.*?(?<!\\)\$", "", text, flags=re.S)
                assert prose.isascii(), (family_id, seed, prose)


def shuffled_choice_problems(family_id: str) -> list[Problem]:
    """30 seeds of a four-option question: every wrong option tagged, the key letter moves."""
    family = families()[family_id]
    keys = set()
    problems = []
    for seed in range(30):
        p = family.generate(seed)
        keys.add(p.answer)
        assert sorted(m["answer"] for m in p.mistakes) == sorted(set("ABCD") - {p.answer})
        problems.append(p)
    assert len(keys) >= 3  # the right letter moves
    return problems


def seed_with(family_id: str, tries: int, **wanted: str) -> int:
    """The first seed (below ``tries``) of a template family that draws these parameters."""
    family = families()[family_id]
    for seed in range(tries):
        params = family.draw_params(seed)
        if all(params.get(k) == v for k, v in wanted.items()):
            return seed
    raise AssertionError(f"no seed of {family_id} draws {wanted}")


PLACEHOLDER = re.compile(r"\{(=|[A-Za-z_][\w ]*\})")
REPEATED = re.compile(r"= *([^\s,.;()]+) *= *\1(?![\w'(])")


def student_texts(problem) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every text a student sees in the terminal, with the judge's reply to each mistake."""
    texts = {"statement": problem.statement, "solution": problem.solution, "title": problem.title}
    texts |= {f"hint {i}": h for i, h in enumerate(problem.hints)}
    texts |= {f"option {i}": c for i, c in enumerate(problem.choices or [])}
    for m in problem.mistakes:
        texts[f"feedback {m['tag']}"] = m["feedback"]
        texts[f"verdict {m['tag']}"] = problem.check(m["answer"]).feedback
    return texts


def assert_finished_texts(problem) -> None:  # type: ignore[no-untyped-def]
    """No raw `$`, no unfilled `{name}`, ReLU'(0) stated at most once, no "= 1 = 1"."""
    for where, text in student_texts(problem).items():
        assert "$" not in text, (problem.seed, where, text)
        assert not PLACEHOLDER.search(text), (problem.seed, where, text)
        assert text.count("ReLU'(0)") + text.count("ReLU(0)") <= 1, (problem.seed, where, text)
        assert not REPEATED.search(text), (problem.seed, where, text)


def chain_params(drawn: dict[str, str], depth: int) -> tuple[list[float], list[float], float]:
    """The weights v_m, biases c_m and input x0 of a scalar-chain template's draw."""
    from fractions import Fraction

    ws = [float(Fraction(drawn[f"v{m}"])) for m in range(1, depth + 1)]
    bs = [float(Fraction(drawn[f"c{m}"])) for m in range(1, depth + 1)]
    return ws, bs, float(Fraction(drawn["x0"]))


def chain_gradient(
    act: str, x: float, ws: list[float], bs: list[float], residual: bool = False
) -> float:
    """d a_L / d a_0 of a_m = act(w_m a_(m-1) + b_m) (+ a_(m-1) for residual blocks), by a
    loop of the notes' factors (ReLU'(0) = 0), written apart from the templates."""
    grad, a = 1.0, x
    for w, b in zip(ws, bs, strict=True):
        z = w * a + b
        s = 1 / (1 + np.exp(-z))
        slope = (1.0 if z > 0 else 0.0) if act == "relu" else s * (1 - s)
        grad *= (1.0 if residual else 0.0) + w * slope
        a = (max(0.0, z) if act == "relu" else s) + (a if residual else 0.0)
    return float(grad)
