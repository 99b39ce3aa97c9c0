"""Derivations written as on paper (``derivations/*.txt``), each against its expected
verdicts (``derivations/expected.toml``, written by hand), through ``dlquiz steps``.

The files: the notes' own lines verbatim (linear regression, softmax in vector form, the
sigmoid's derivative, backpropagation and its recursion), then plain, Unicode and mixed
files for each topic of the issue, each topic also with a wrong line; the refusal of
undeclared matrix operations; a derivation whose middle is wrong and whose end is right.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlquiz.cli import app

HERE = Path(__file__).parent / "derivations"
EXPECTED = tomllib.loads((HERE / "expected.toml").read_text(encoding="utf-8"))
FILES = sorted(p.name for p in HERE.glob("*.txt"))
TOPICS = (
    "linear_regression",
    "softmax",
    "sigmoid",
    "tanh",
    "two_layer",
    "weight_decay",
    "batch_norm",
    "residual",
)


def run_json(path: Path) -> tuple[int, dict]:
    r = CliRunner().invoke(app, ["steps", str(path), "--json"])
    assert "Traceback" not in r.output, r.output
    return r.exit_code, json.loads(r.stdout)


def test_every_file_has_its_expected_verdicts_and_the_corpus_is_complete() -> None:
    assert sorted(EXPECTED) == FILES
    assert len(FILES) >= 25
    for topic in TOPICS:
        for style in ("plain", "unicode", "mixed", "wrong"):
            assert f"{topic}_{style}.txt" in FILES
    assert sum(name.startswith("notes_") for name in FILES) >= 4


@pytest.mark.parametrize("name", FILES)
def test_derivation_file(name: str) -> None:
    expected = EXPECTED[name]
    code, data = run_json(HERE / name)
    assert code == expected["exit"], json.dumps(data, indent=1, ensure_ascii=False)
    by_line: dict[int, list[str]] = {}
    for step in data["steps"]:
        by_line.setdefault(step["line"], []).append(step["status"])
    wrong = sorted(n for n, s in by_line.items() if "wrong" in s)
    unreadable = sorted(n for n, s in by_line.items() if "unreadable" in s or "undecided" in s)
    assert wrong == expected.get("wrong", []), by_line
    assert unreadable == expected.get("unreadable", []), by_line
    chains = [[c["start"], c["end"], c["final_ok"]] for c in data["chains"]]
    want = [[a, b, None if c == "null" else c] for a, b, c in expected.get("chains", [])]
    assert chains == want
    feedback = " ".join(step["feedback"] for step in data["steps"])
    for message in expected.get("messages", []):
        assert message in feedback
    # the existing fields are all there, and first_error agrees with the steps
    first = next((s["line"] for s in data["steps"] if not s["ok"]), None)
    assert data["first_error"] == first
    assert all({"line", "ok", "feedback"} <= set(s) for s in data["steps"])


@pytest.mark.parametrize("name", [n for n in FILES if EXPECTED[n]["exit"] == 0])
def test_a_right_file_reads_the_same_in_the_terminal(name: str) -> None:
    r = CliRunner().invoke(app, ["steps", str(HERE / name)])
    assert r.exit_code == 0
    assert "✗" not in r.stdout
    assert "final result wrong" not in r.stdout
