"""Whatever a derivation file contains, the checker answers: no traceback, no warning.

Random lines built from the pieces derivations are made of (Hypothesis), and hand-made
hostile files: deep nesting, many derivatives on one line, long files, odd bytes.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlquiz.steps import check_steps
from dlquiz.steps.report import OK, UNDECIDED, UNREADABLE, WRONG

PIECES = [
    "d/dw",
    "d/dx",
    "dL/dw",
    "∂L/∂w",
    "∂/∂x",
    "∇_w",
    "∂_w",
    "\\frac{d}{dx}",
    "\\frac{dL}{dw}",
    "\\frac{\\partial L}{\\partial w}",
    "\\partial",
    "\\nabla",
    "d",
    "∂",
    "∇",
    "½",
    "∑",
    "x",
    "w",
    "L",
    "ŷ",
    "\\hat{y}",
    "W₁",
    "z_{m+1}",
    "σ",
    "φ",
    "1",
    "2",
    "0.5",
    "+",
    "-",
    "−",
    "*",
    "/",
    "^",
    "^T",
    "ᵀ",
    "⊙",
    "@",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "|",
    ",",
    ";",
    "=",
    ":=",
    "∈",
    "ℝ^3",
    "R^(2x3)",
    "\\in",
    "\\mathbb{R}^{2 \\times 3}",
    ">",
    "0",
    ":",
    "→",
    "onehot(3)",
    "sigmoid(",
    "softmax(",
    "sum(",
    "exp(",
    "\\log",
    "\\sum_i",
    "\\begin{cases}",
    "\\end{cases}",
    "&",
    "\\\\",
    "\\underbrace{",
    "}_{",
    "\\overset{",
    "\\text{",
    "'",
    "f(x)",
    "f'(x)",
    "#",
    "%",
    "$$",
    "⇒",
    "←",
    " ",
    " ",
    " ",
]
line = st.lists(st.sampled_from(PIECES), min_size=0, max_size=12).map("".join)
files = st.lists(line, min_size=1, max_size=6).map("\n".join)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=files)
def test_random_files_get_a_verdict_for_every_line_never_an_exception(text: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_steps(text, timeout=5)
    assert report.steps
    for step in report.steps:
        assert step.status in (OK, WRONG, UNREADABLE, UNDECIDED)
        assert step.ok == (step.status == OK)
        assert "Traceback" not in step.feedback
    for chain in report.chains:
        assert chain.start <= chain.end


def test_many_derivatives_on_one_line_are_bounded_by_the_time_limit() -> None:
    line = "L = w^2\n" + " + ".join(["dL/dw"] * 400) + " = 800w\n"
    report = check_steps(line, timeout=5)
    assert report.steps[-1].status in (OK, UNDECIDED)


def test_deeply_nested_derivatives_are_refused_not_a_recursion_error() -> None:
    text = "\\frac{d}{dx}" * 60 + "x\n"
    report = check_steps(text)
    assert report.unreadable
    assert "nested" in report.steps[0].feedback or "deep" in report.steps[0].feedback


def test_a_long_file_is_cut_at_the_line_limit() -> None:
    report = check_steps("x\n" * 600)
    assert report.unreadable
    assert "too many lines" in report.steps[-1].feedback


def test_hostile_files_through_the_command_leave_stderr_empty(tmp_path) -> None:
    cases = {
        "nul.txt": b"x\x00y\n",
        "latin1.txt": "ŷ = w\n".encode("latin-1", errors="replace") + b"\xe9\n",
        "deep.txt": ("(" * 200 + "x" + ")" * 200 + "\n").encode(),
        "braces.txt": b"\\frac{dL}{dw = }\n",
        "overflow.txt": b"d/dx exp(exp(exp(x)))^1000000 = 0\n",
    }
    for name, data in cases.items():
        f = tmp_path / name
        f.write_bytes(data)
        r = subprocess.run(
            [sys.executable, "-m", "dlquiz", "steps", str(f)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode in (1, 2), (name, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout, name
        assert "Warning" not in r.stderr, (name, r.stderr)
