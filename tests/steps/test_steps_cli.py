"""`dlquiz steps` through the command line: the report, JSON, exit codes, help, README."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlquiz.cli import app
from dlquiz.cli.judge_cmds import STEPS_EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CORPUS = Path(__file__).parent / "derivations"
runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


def steps_json(text: str, *args: str) -> tuple[int, dict]:
    r = run("steps", "-", "--json", *args, input=text)
    assert "Traceback" not in r.output, r.output
    return r.exit_code, json.loads(r.stdout)


STEPS = """\
# the squared loss of a scalar linear model
yhat := w*x + b
L := 1/2*(yhat - y)^2

d/dw L
= (yhat - y) * d/dw yhat
= (yhat - y)*x
= 2*(yhat - y)*x
= (w*x + b - y)*x
"""


def test_steps_with_definitions_a_wrong_line_and_the_lines_after_it(tmp_path) -> None:
    f = tmp_path / "derivation.txt"
    f.write_text(STEPS)
    r = run("steps", str(f), "--json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    by_line = {s["line"]: s for s in data["steps"]}
    assert data["first_error"] == 8
    assert [by_line[n]["ok"] for n in (2, 3, 5, 6, 7, 8, 9)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    assert "2 times" in by_line[8]["feedback"]
    assert "1/2 times" in by_line[9]["feedback"]  # still checked against its predecessor
    # ... and it is the derivative again: the line says so, and the chain's end is right
    assert "equals the derivative the chain started from (line 5) again" in by_line[9]["feedback"]
    assert data["chains"] == [{"start": 5, "end": 9, "final_ok": True}]
    assert 1 not in by_line  # comments and blank lines are counted but skipped
    assert 4 not in by_line


def test_steps_all_valid_exits_0(tmp_path) -> None:
    f = tmp_path / "ok.txt"
    f.write_text(STEPS.replace("= 2*(yhat - y)*x\n", ""))
    r = run("steps", str(f))
    assert r.exit_code == 0
    assert r.stdout.count("✓") == 6
    assert "lines 5-8, from d/dw L: final result right" in r.stdout


def test_steps_matrix_gradient_has_the_shape_of_its_variable(tmp_path) -> None:
    f = tmp_path / "m.txt"
    f.write_text("L := 1/2*sum((W@x - y)^2)\nd/dW L\n= (W@x - y)@x.T\n= (W@x - y)@x\n")
    r = run("steps", str(f), "--var", "W:3x2", "--var", "x:2", "--var", "y:3", "--json")
    data = json.loads(r.stdout)
    assert [s["ok"] for s in data["steps"]] == [True, True, True, False]
    assert r.exit_code == 2  # (W@x - y)@x cannot even be built: inner dimensions 1 and 2
    assert "shape error" in data["steps"][-1]["feedback"]
    # the same file with its declarations written in it: no --var needed
    f.write_text("W ∈ ℝ^{3×2}, x ∈ ℝ², y ∈ ℝ³\n" + f.read_text())
    r = run("steps", str(f), "--json")
    assert [s["ok"] for s in json.loads(r.stdout)["steps"]] == [True, True, True, True, False]


def test_steps_unreadable_file_exits_2(tmp_path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert run("steps", str(bad)).exit_code == 2
    assert run("steps", str(tmp_path / "missing.txt")).exit_code == 2
    unreadable_line = tmp_path / "line.txt"
    unreadable_line.write_text("x + 1\n= x +\n")
    r = run("steps", str(unreadable_line), "--json")
    assert r.exit_code == 2
    step = json.loads(r.stdout)["steps"][1]
    assert "cannot read this line" in step["feedback"]
    assert step["status"] == "unreadable"


def test_steps_reads_stdin() -> None:
    r = run("steps", "-", input="x^2\n= x*x\n")
    assert r.exit_code == 0


def test_an_empty_file_and_a_file_of_comments_have_no_steps() -> None:
    for text in ("", "# nothing\n\n% nothing either\n"):
        code, data = steps_json(text)
        assert code == 2
        assert data["steps"][0]["feedback"] == "the file has no steps"


def test_windows_line_endings_and_a_byte_order_mark_read_the_same(tmp_path) -> None:
    f = tmp_path / "crlf.txt"
    f.write_bytes("\ufeffy = 3x\r\n∂y/∂x = 3\r\n".encode())
    r = run("steps", str(f), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["chains"] == [{"start": 2, "end": 2, "final_ok": True}]


# --- the JSON contract ------------------------------------------------------------------


def test_json_keeps_every_field_and_adds_chains() -> None:
    code, data = steps_json(STEPS)
    assert code == 1
    assert set(data) == {"steps", "first_error", "chains"}
    for step in data["steps"]:
        assert {"line", "ok", "feedback"} <= set(step)
        assert step["kind"] in ("declaration", "definition", "start", "step")
        assert step["status"] in ("ok", "wrong", "unreadable", "undecided")
        assert step["ok"] == (step["status"] == "ok")
    for chain in data["chains"]:
        assert set(chain) == {"start", "end", "final_ok"}


def test_a_chain_whose_last_line_cannot_be_read_has_final_ok_null() -> None:
    code, data = steps_json("d/dx x^2\n= 2x\n= 2x +\n")
    assert code == 2
    assert data["chains"] == [{"start": 1, "end": 3, "final_ok": None}]


def test_a_chain_whose_end_is_wrong() -> None:
    code, data = steps_json("d/dx x^3\n= 3x^2\n= 3x\n")
    assert code == 1
    assert data["chains"] == [{"start": 1, "end": 3, "final_ok": False}]


def test_a_chain_ends_where_a_new_expression_starts() -> None:
    code, data = steps_json("d/dx x^2\n= 2x\nd/dy y^3\n= 3y^2\nu = 2\n= 2\n")
    assert code == 0
    assert data["chains"] == [
        {"start": 1, "end": 2, "final_ok": True},
        {"start": 3, "end": 4, "final_ok": True},
    ]


# --- --var and declarations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "var", "fragment"),
    [
        ("w ∈ ℝ^3", "w:2", "'w' is declared 3x1 here and 2x1 by --var"),
        ("w ∈ ℝ^3", "w", "'w' is declared 3x1 here and scalar by --var"),
        ("w ∈ ℝ", "w:function", "'w' is declared a variable here and a function by --var"),
        ("p ∈ (0, 1)", "p:positive", "'p' is declared unit here and positive by --var"),
    ],
)
def test_a_var_that_disagrees_with_a_declaration_is_an_input_error(
    declaration: str, var: str, fragment: str
) -> None:
    code, data = steps_json(f"{declaration}\nd/dp p^2\n= 2p\n", "--var", var)
    assert code == 2
    first = data["steps"][0]
    assert first["status"] == "unreadable"
    assert fragment in first["feedback"]


def test_a_var_that_agrees_with_a_declaration_is_fine() -> None:
    code, _ = steps_json("w ∈ ℝ^3\nd/dw sum(w^2)\n= 2w\n", "--var", "w:3")
    assert code == 0


# --- time limits and the second computation ------------------------------------------------


def test_a_line_that_runs_out_of_time_is_undecided_and_exits_2(monkeypatch) -> None:
    from dlquiz.judge.worker import WorkerTimeout
    from dlquiz.steps import calculus

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise WorkerTimeout("gave up after 2 s")

    monkeypatch.setattr(calculus, "run", slow)
    code, data = steps_json("x^2\n= x*x\nd/dx x^2\n= 2x\n")
    assert code == 2
    statuses = [(s["line"], s["status"]) for s in data["steps"]]
    assert statuses == [(1, "ok"), (2, "ok"), (3, "undecided"), (4, "ok")]
    assert "longer than 2 s" in data["steps"][2]["feedback"]
    # line 4 is not compared with line 2, which belongs to another derivation
    assert "line 3 could not be checked, so this line starts afresh" in data["steps"][3]["feedback"]
    r = run("steps", "-", input="d/dx x^2\n")
    assert r.exit_code == 2
    assert "? line 1" in r.stdout


def test_the_time_limit_is_per_line(monkeypatch) -> None:
    from dlquiz.steps import calculus

    seen: list[float] = []
    real = calculus.run

    def spy(*args, timeout=None, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(timeout)
        return real(*args, timeout=timeout, **kwargs)

    monkeypatch.setattr(calculus, "run", spy)
    code, _ = steps_json("d/dx x^2\n= 2x\nd/dy y^2\n= 2y\n", "--timeout", "3")
    assert code == 0
    assert len(seen) == 2 and all(0 < t <= 3 for t in seen)


def test_a_derivative_that_fails_its_autograd_check_is_undecided_never_a_verdict(
    monkeypatch,
) -> None:
    from dlquiz.core import expr as E
    from dlquiz.steps import calculus

    def wrong(name, e, ns, timeout=None):  # type: ignore[no-untyped-def]
        return E.ZERO  # a symbolic bug: every derivative 0

    monkeypatch.setattr(calculus, "run", wrong)
    code, data = steps_json("d/dx x^2\n= 0\n")
    assert code == 2
    assert data["steps"][0]["status"] == "undecided"
    assert "autograd" in data["steps"][0]["feedback"]


# --- the terminal ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_the_report_fits_an_80_column_terminal(name: str) -> None:
    r = run("steps", str(CORPUS / name))
    for line in r.stdout.splitlines():
        words = line.split(" ")
        assert len(line) <= 80 or max(len(w) for w in words) > 60, line


def test_no_color_is_respected_and_colour_marks_only_the_verdict() -> None:
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "dlquiz", "steps", "-"],
        input="x^2\n= x*x\n= 2x\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 1
    assert "\x1b[" not in r.stdout
    assert r.stderr == ""


# --- help and README ---------------------------------------------------------------------


def test_help_shows_a_complete_example_within_80_columns() -> None:
    r = run("steps", "--help")
    assert r.exit_code == 0
    for line in STEPS_EXAMPLE.splitlines():
        assert line in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    assert "Exit codes" in r.stdout


def test_the_help_example_passes_as_written() -> None:
    code, data = steps_json(STEPS_EXAMPLE)
    assert code == 0
    assert all(s["ok"] for s in data["steps"])
    assert [c["final_ok"] for c in data["chains"]] == [True, True]


def _readme_blocks() -> tuple[str, str]:
    section = README.split("## Derivations: `dlquiz steps`", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    return blocks[0], blocks[1]


def test_the_readme_example_is_the_help_example_and_its_output_is_the_real_one(
    tmp_path,
) -> None:
    example, output = _readme_blocks()
    assert example == STEPS_EXAMPLE
    f = tmp_path / "derivation.txt"
    f.write_text(example, encoding="utf-8")
    r = run("steps", str(f))
    assert r.exit_code == 0
    assert r.stdout == output
