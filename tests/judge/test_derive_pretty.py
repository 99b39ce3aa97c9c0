"""`derive` pretty-prints the notes' step, never SymPy's Heaviside θ(x, 0)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dlquiz.cli import app

runner = CliRunner()


def _pretty(expr: str, wrt: str) -> str:
    r = runner.invoke(app, ["derive", expr, "--wrt", wrt])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("notation: "))
    return "\n".join(lines[1:end])


@pytest.mark.parametrize(
    ("expr", "shown"),
    [
        ("relu(x)", "step(x)"),
        ("relu(2*x)*x", "step(2⋅x)"),
        ("step(x)*x", "step(x)"),
        ("relu(x)*sigmoid(x)", "step(x)"),
    ],
)
def test_the_step_is_printed_as_step(expr: str, shown: str) -> None:
    text = _pretty(expr, "x")
    assert shown in text
    assert "θ" not in text and "Heaviside" not in text


def test_a_name_theta_is_still_theta() -> None:
    text = _pretty("relu(theta*x)", "x")
    assert "step(θ⋅x)" in text
