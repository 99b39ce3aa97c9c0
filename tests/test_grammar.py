"""Counts agree with their nouns: never "1 sessions" or "has 1 dimensions"."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from dlquiz.bank import families
from dlquiz.cli import app
from dlquiz.core.numbers import count

runner = CliRunner()
NOUNS = (
    "channels|images|units|features|examples|layers|dimensions|inputs|outputs|classes|rows|"
    "columns|entries|values|points|problems|answers|sessions|questions|versions|families|"
    "seeds|sheets|tries|hints|steps|days|minutes|kernels|filters|parameters|weights|windows"
)
ONE_MANY = re.compile(rf"(?<![\d.,/^-])\b1 ({NOUNS})\b")


def test_count() -> None:
    assert count(1, "channel") == "1 channel"
    assert count(0, "channel") == "0 channels"
    assert count(2, "family", "families") == "2 families"


@pytest.mark.parametrize("family_id", sorted(families()))
def test_the_bank_writes_one_thing_in_the_singular(family_id: str) -> None:
    fam = families()[family_id]
    for seed in range(20):
        p = fam.generate(seed)
        texts = [p.statement, p.solution, *p.hints, *p.choices, p.figure]
        texts += [m.get("feedback", "") for m in p.mistakes]
        for text in texts:
            m = ONE_MANY.search(text)
            assert m is None, f"{family_id} seed {seed}: {text[max(0, m.start() - 30) : m.end()]}"


def test_reset_counts_in_the_singular() -> None:
    r = runner.invoke(app, ["practice", "-n", "1", "-s", "1"], input="skip\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["reset", "--yes"])
    assert r.exit_code == 0, r.output
    assert "1 problem, 0 answers and 1 session in" in r.stderr


def test_a_shape_with_one_dimension() -> None:
    r = runner.invoke(app, ["check", "(3, 4)", "-e", "(12)", "--kind", "shape", "--json"])
    assert "the answer has 1 dimension," in r.stdout


def test_generate_and_verify_say_one_question_one_family(tmp_path) -> None:
    r = runner.invoke(app, ["generate", "-n", "1", "-t", "pooling", "-o", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert "Wrote 1 question to" in r.stdout
    r = runner.invoke(app, ["verify", "-f", "pooling/output-size", "--seeds", "1"])
    assert "1 family × 1 seed" in r.stdout
