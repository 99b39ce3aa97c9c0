"""`check`, `derive` and `steps` through the command line (Typer's runner)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dlquiz.cli import app

runner = CliRunner()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=input)


def test_check_equivalent_exits_0() -> None:
    r = run("check", "sigmoid(z)*(1-sigmoid(z))", "--expected", "exp(-z)/(1+exp(-z))^2")
    assert r.exit_code == 0
    assert "equivalent" in r.stdout


def test_check_wrong_exits_1_with_the_diagnosis() -> None:
    r = run("check", "2*(w*x-y)*x", "-e", "(w*x-y)*x")
    assert r.exit_code == 1
    assert "2 times" in r.stdout


def test_check_unknown_name_exits_2_with_a_one_line_reason() -> None:
    r = run("check", "yaht - y", "-e", "yhat - y")
    assert r.exit_code == 2
    assert "unknown name 'yaht'" in r.stderr
    assert "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1


def test_check_unusable_expected_exits_2() -> None:
    r = run("check", "x", "-e", "x +")
    assert r.exit_code == 2
    assert "expected answer cannot be read" in r.stderr


def test_check_bad_var_exits_2() -> None:
    r = run("check", "x", "-e", "x", "--var", "x:banana")
    assert r.exit_code == 2
    assert "banana" in r.stderr


def test_check_shapes_and_json() -> None:
    r = run("check", "--json", "x.T", "-e", "x", "--var", "x:3")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["equivalent"] is False
    assert data["mistake"] == "transposed"
    assert "your answer is 1x3, the answer is 3x1" in data["feedback"]


def test_check_json_for_unreadable_input() -> None:
    r = run("check", "--json", "foo(", "-e", "x")
    assert r.exit_code == 2
    assert "error" in json.loads(r.stdout)


def test_check_matrix_products_as_students_write_them() -> None:
    args = ["--var", "W:3x2", "--var", "x:2", "--var", "delta:3", "--var", "a:2"]
    assert run("check", "W*x", "-e", "W@x", *args).exit_code == 0
    assert run("check", "delta*a^T", "-e", "delta@a.T", *args).exit_code == 0


def test_check_tolerance_and_definitions() -> None:
    assert run("check", "0.7", "-e", "1/(1+exp(-1))", "--tol", "0.05").exit_code == 0
    assert run("check", "0.7", "-e", "1/(1+exp(-1))").exit_code == 1
    assert run("check", "(yhat-y)*x", "-e", "(w*x+b-y)*x", "-d", "yhat:=w*x+b").exit_code == 0
    assert run("check", "x", "-e", "x", "-d", "nonsense").exit_code == 2


def test_check_latex_answer() -> None:
    r = run("check", r"\sqrt{\frac{2}{n_{in}+n_{out}}}", "-e", "sqrt(2/(n_in+n_out))")
    assert r.exit_code == 0


def test_derive_scalar_json_feeds_back_into_check() -> None:
    r = run("derive", "1/2*(w*x + b - y)^2", "--wrt", "w", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["verified"] is True
    assert data["max_rel_error"] < 1e-8
    assert run("check", data["derivative"], "-e", "(w*x + b - y)*x").exit_code == 0
    assert "\\left" in data["latex"] or "x" in data["latex"]


def test_derive_matrix_form_of_the_notes_backprop() -> None:
    # L as a function of W_m through z_m = W_m a_prev + b_m, with upstream gradient delta:
    # dL/dW_m = delta_m a_{m-1}^T
    r = run(
        "derive",
        "sum(hadamard(delta, W@a + b))",
        "--wrt",
        "W",
        "--var",
        "W:3x2",
        "--var",
        "a:2",
        "--var",
        "b:3",
        "--var",
        "delta:3",
        "--json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["derivative"] == "delta@a.T"
    assert data["verified"] is True


def test_derive_the_recursion_with_its_hadamard_product() -> None:
    # delta_1 = (W_2^T delta_2) ⊙ sigma'(z_1)
    r = run(
        "derive",
        "sum(hadamard(delta2, W2@sigmoid(z1) + b2))",
        "--wrt",
        "z1",
        "--var",
        "W2:2x3",
        "--var",
        "z1:3",
        "--var",
        "b2:2",
        "--var",
        "delta2:2",
        "--json",
    )
    data = json.loads(r.stdout)
    assert data["verified"] is True
    assert data["derivative"].startswith("hadamard(W2.T@delta2")
    expected = "hadamard(W2.T@delta2, sigmoid'(z1))"
    shapes = ["--var", "W2:2x3", "--var", "z1:3", "--var", "delta2:2"]
    assert run("check", data["derivative"], "-e", expected, *shapes).exit_code == 0


def test_derive_softmax_cross_entropy_gives_the_notes_formula() -> None:
    r = run(
        "derive",
        "-sum(hadamard(y, log(softmax(o))))",
        "--wrt",
        "o",
        "--var",
        "o:3",
        "--var",
        "y:3:onehot",
        "--json",
    )
    assert json.loads(r.stdout)["derivative"] == "softmax(o) - y"


def test_derive_steps_writes_the_chain_rule() -> None:
    r = run("derive", "1/2*(w*x + b - y)^2", "--wrt", "w", "--steps")
    assert r.exit_code == 0
    assert "forward:" in r.stdout
    assert "backward (chain rule):" in r.stdout
    assert "∂L/∂w" in r.stdout


def test_derive_rejects_what_it_cannot_do() -> None:
    assert run("derive", "W@x", "--wrt", "x", "--var", "W:3x2", "--var", "x:2").exit_code == 2
    assert run("derive", "x^2", "--wrt", "q").exit_code == 2
    assert run("derive", "x +", "--wrt", "x").exit_code == 2


def test_python_dash_m_runs_the_cli() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "dlquiz", "check", "x+x", "-e", "2x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0
    assert "equivalent" in r.stdout


def test_help_imports_neither_sympy_nor_numpy() -> None:
    code = (
        "import sys\n"
        "from dlquiz.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('heavy', [m for m in ('sympy', 'numpy') if m in sys.modules])"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "heavy []" in r.stdout, r.stdout + r.stderr


def test_no_color_is_respected() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "dlquiz", "check", "2*x", "-e", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NO_COLOR": "1", "PATH": "", "FORCE_COLOR": "1"},
    )
    assert "\x1b[" not in r.stdout


# --- input validation and bounds (issue 9: each of these was a traceback) -------------


def _one_line_error(r, fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert fragment in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_constant_beyond_the_float_range_is_an_unreadable_answer() -> None:
    _one_line_error(run("check", "1e30^11", "-e", "x"), "number too large")
    _one_line_error(run("check", "x", "-e", "1e30^11*x"), "number too large")
    _one_line_error(run("derive", "1e30^11*x", "--wrt", "x"), "number too large")
    r = run("steps", "-", "--json", input="x\n= 1e30^11*x\n")
    assert r.exit_code == 2
    assert "number too large" in json.loads(r.stdout)["steps"][1]["feedback"]


def test_the_derivative_of_an_expression_free_of_the_variable_is_zero() -> None:
    r = run("derive", "y", "--wrt", "x", "--var", "x", "--var", "y", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["derivative"] == "0"
    assert data["verified"] is True
    r = run("derive", "sum(v)", "--wrt", "W", "--var", "v:3", "--var", "W:3x2", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["verified"] is True


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e9", "61", "0", "-1", "-0.5"])
@pytest.mark.parametrize("command", ["derive", "steps"])
def test_a_timeout_outside_its_range_is_a_clear_error(command: str, value: str) -> None:
    args = ["x", "--wrt", "x"] if command == "derive" else ["-"]
    r = run(command, *args, "--timeout", value, input="x\n")
    _one_line_error(r, "--timeout must be more than 0 and at most 60 seconds")
    r = run(command, *args, "--timeout", value, "--json", input="x\n")
    assert r.exit_code == 2
    assert "--timeout" in json.loads(r.stdout)["error"]


@pytest.mark.parametrize("value", ["0.5", "60"])
def test_a_timeout_within_its_range_is_taken(value: str) -> None:
    assert run("derive", "x^2", "--wrt", "x", "--timeout", value).exit_code == 0
    assert run("steps", "-", "--timeout", value, input="x^2\n= x*x\n").exit_code == 0


@pytest.mark.parametrize("name", ["1a", "a b", "x+y", "", "a:b", "_x", "W_{m*1}"])
def test_define_names_are_checked_like_var_names(name: str) -> None:
    r = run("check", "x", "-e", "x", "--define", f"{name}:=x")
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


def test_define_names_meet_the_answer_in_one_spelling() -> None:
    r = run("check", "yhat - y", "-e", "ŷ - y", "--define", "ŷ:=w*x", "--var", "w", "--var", "x")
    assert r.exit_code == 0, r.output
    r = run("check", "W_{m+1}*x", "-e", "2*x", "--define", "W_{m + 1}:=2")
    assert r.exit_code == 0, r.output


def test_a_chain_of_doubling_definitions_is_refused_with_a_reason() -> None:
    defines = []
    for i in range(22):
        previous = "x" if i == 0 else f"a{i - 1}"
        defines += ["--define", f"a{i}:={previous}+{previous}"]
    r = run("check", "a21", "-e", "x", *defines)
    _one_line_error(r, "too large after substituting the definitions")
    short = defines[: 2 * 11]  # a0 .. a10: 2048 x, well within the limit
    assert run("check", "2048*x", "-e", "a10", *short).exit_code == 0


def test_a_chain_of_deepening_definitions_is_refused_with_a_reason(tmp_path) -> None:
    defines = []
    for i in range(600):
        previous = "x" if i == 0 else f"a{i - 1}"
        defines += ["--define", f"a{i}:={previous}^2+1"]
    _one_line_error(run("check", "a599", "-e", "x", *defines), "too deeply nested")
    lines = ["a0 := x^2 + 1"] + [f"a{i} := a{i - 1}^2 + 1" for i in range(1, 450)]
    f = tmp_path / "deep.txt"
    f.write_text("\n".join([*lines, "a449", "= a449"]) + "\n")
    r = run("steps", str(f), "--json")
    assert r.exit_code == 2, r.output
    assert "too deeply nested" in r.stdout


def test_a_derivative_typed_as_an_answer_points_to_derive_and_steps() -> None:
    r = run("check", "d/dw (w^2)", "-e", "2*w")
    _one_line_error(r, "dlquiz derive")
    assert "dlquiz steps" in r.stderr
    r = run("check", "d/dw (w^2)", "-e", "2*w", "--var", "d")
    _one_line_error(r, "is a derivative")
    _one_line_error(run("check", "\\frac{d}{dw} w^2", "-e", "2*w"), "is a derivative")


def test_numbers_in_brackets_and_side_by_side_through_check() -> None:
    assert run("check", "[28 28; 29 28]", "-e", "[28, 28; 29, 28]").exit_code == 0
    assert run("check", "[1 -2]", "-e", "[1, -2]").exit_code == 0
    _one_line_error(run("check", "1 000", "-e", "1000"), "no thousands separators")
    _one_line_error(run("check", "0.6265.3", "-e", "0.6265"), "malformed number")


def test_no_runtime_warning_reaches_stderr(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import warnings

    import numpy as np

    import dlquiz.judge as judge

    real = judge.check

    def noisy(*args, **kwargs):  # type: ignore[no-untyped-def]
        np.float64(1.0) / np.float64(0.0)  # divide by zero: NumPy's RuntimeWarning
        np.log(np.array([-1.0]))  # invalid value
        return real(*args, **kwargs)

    monkeypatch.setattr(judge, "check", noisy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = run("check", "x", "-e", "x")
    assert r.exit_code == 0
    assert "Warning" not in r.stderr
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


# --- dlquiz notation -------------------------------------------------------------------


def test_notation_prints_the_table_from_the_one_source() -> None:
    from dlquiz.notation.table import ROWS, terminal

    r = run("notation")
    assert r.exit_code == 0
    assert r.stdout.rstrip("\n") == terminal(80)
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = set(r.stdout.split())
    for row in ROWS:  # wrapped at spaces only: every word of every cell is whole
        for cell in (row.rule, row.typed, row.reads):
            assert set(cell.split()) <= words, cell
    assert sum(line.endswith(("(changed)", "(new)")) for line in lines) == sum(
        1 for row in ROWS if row.mark
    )


def test_notation_json_lists_every_row() -> None:
    from dlquiz.notation.table import ROWS

    r = run("notation", "--json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert [d["rule"] for d in data] == [row.rule for row in ROWS]
    assert set(data[0]) == {"rule", "you_type", "reads_as", "mark"}


def test_index_subscript_names_are_declared_and_typed() -> None:
    r = run("check", "W_{m+1}x", "-e", "W_{m + 1}@x", "--var", "W_{m+1}:3x2", "--var", "x:2")
    assert r.exit_code == 0, r.output
    r = run(
        "check", "\\delta_{m-1} a^T", "-e", "delta_{m-1}@a.T", "--var", "δ_{m-1}:3", "--var", "a:2"
    )
    assert r.exit_code == 0, r.output
    _one_line_error(run("check", "x", "-e", "x", "--var", "W_{m*1}:3x2"), "not a variable name")
