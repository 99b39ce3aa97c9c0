"""Families of derivations (Hypothesis): the verdicts hold for every member.

* the same derivation with random declared shapes (and shape spellings) is right;
* a wrong step made by perturbing a right one (a factor, a sign, an added constant) in
  any right file of the corpus is always caught, at its line;
* moving the declarations to the end of a file changes no verdict;
* any spelling of each derivative gives the same verdicts.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlquiz.steps import check_steps
from dlquiz.steps.reader import read

CORPUS = Path(__file__).parent / "derivations"
RIGHT_FILES = sorted(
    p.name
    for p in CORPUS.glob("*.txt")
    if all(s.ok for s in check_steps(p.read_text(encoding="utf-8")).steps)
)
SLOW = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

dims = st.integers(min_value=1, max_value=6)


def matrix(rows: int, cols: int, style: int) -> str:
    """ℝ^{a×b} in one of the spellings a student uses."""
    if cols == 1:
        return [f"ℝ^{{{rows}}}", f"R^{rows}", f"\\mathbb{{R}}^{{{rows}}}"][style % 3]
    return [
        f"ℝ^{{{rows}×{cols}}}",
        f"R^({rows}x{cols})",
        f"\\mathbb{{R}}^{{{rows} \\times {cols}}}",
    ][style % 3]


def ok(text: str) -> bool:
    return all(s.ok for s in check_steps(text).steps)


@SLOW
@given(n=dims, style=st.integers(0, 2))
def test_linear_regression_with_any_declared_size(n: int, style: int) -> None:
    text = (
        f"w, x ∈ {matrix(n, 1, style)}\n"
        "ŷ = wᵀx + b\nL = ½(ŷ − y)²\n"
        "∂L/∂w = ∂L/∂ŷ ∂ŷ/∂w = (ŷ − y)x\n∂L/∂b = ŷ − y\n"
    )
    assert ok(text)
    transposed = check_steps(text.replace("(ŷ − y)x\n", "(ŷ − y)xᵀ\n"))
    if n > 1:  # a 1x1 gradient is its own transpose
        assert transposed.first_error == 4
        assert "transposed" in transposed.steps[-3].feedback


@SLOW
@given(n_in=dims, hidden=dims, n_out=dims, style=st.integers(0, 2))
def test_a_two_layer_network_with_any_declared_sizes(
    n_in: int, hidden: int, n_out: int, style: int
) -> None:
    text = (
        f"W₁ ∈ {matrix(hidden, n_in, style)}, b₁ ∈ {matrix(hidden, 1, style)}\n"
        f"W₂ ∈ {matrix(n_out, hidden, style)}, b₂ ∈ {matrix(n_out, 1, style)}\n"
        f"x ∈ {matrix(n_in, 1, style)}, y ∈ {matrix(n_out, 1, style)}\n"
        "z₁ = W₁x + b₁\nh = σ(z₁)\no = W₂h + b₂\nL = ½‖o − y‖²\n"
        "∂L/∂W₁ = ∂L/∂z₁ xᵀ = ((W₂ᵀ(o − y)) ⊙ σ'(z₁)) xᵀ\n"
        "∂L/∂b₂ = o − y\n"
    )
    assert ok(text)
    wrong = check_steps(text.replace("⊙ σ'(z₁)) xᵀ", ") xᵀ"))
    assert wrong.first_error == 8


@SLOW
@given(classes=st.integers(2, 6), features=dims)
def test_softmax_cross_entropy_with_any_number_of_classes(classes: int, features: int) -> None:
    text = (
        f"W ∈ ℝ^{{{classes}×{features}}}, x ∈ ℝ^{{{features}}}, b ∈ ℝ^{{{classes}}}\n"
        f"y ∈ onehot({classes})\n"
        "o = Wx + b\nŷ = softmax(o)\nL = −yᵀ log(ŷ)\n∂L/∂o = ŷ − y\n∂L/∂W = (ŷ − y)xᵀ\n"
    )
    assert ok(text)


def _step_parts(text: str) -> list[tuple[int, int, str]]:
    """(line index, start, part text) of every part that is a step of the file."""
    report = check_steps(text)
    defining = {s.line for s in report.steps if s.kind == "definition"}
    found = []
    for line in read(text).lines:
        if line.line.kind != "steps":
            continue
        if line.line.continues:
            parts = line.parts
        else:
            parts = line.parts[2:] if line.number in defining else line.parts[1:]
        found += [(line.number - 1, p.start, p.text) for p in parts]
    return found


PERTURBATIONS = ["2({})", "-({})", "({}) + 1", "({})/3", "3/2 ({})"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_perturbed_step_of_a_right_file_is_always_caught(data) -> None:  # type: ignore[no-untyped-def]
    name = data.draw(st.sampled_from(RIGHT_FILES), label="file")
    text = (CORPUS / name).read_text(encoding="utf-8")
    parts = _step_parts(text)
    if not parts:
        return
    index, start, part = data.draw(st.sampled_from(parts), label="step")
    template = data.draw(st.sampled_from(PERTURBATIONS), label="perturbation")
    lines = text.splitlines()
    raw = lines[index]
    lines[index] = raw[:start] + template.format(part) + raw[start + len(part) :]
    report = check_steps("\n".join(lines) + "\n")
    assert report.first_error == index + 1, (name, lines[index])
    on_line = [s.status for s in report.steps if s.line == index + 1]
    assert "wrong" in on_line, (name, lines[index], on_line)


@SLOW
@given(name=st.sampled_from(RIGHT_FILES))
def test_declarations_moved_to_the_end_change_no_verdict(name: str) -> None:
    text = (CORPUS / name).read_text(encoding="utf-8")
    lines = text.splitlines()
    kinds = {line.number: line.line.kind for line in read(text).lines}
    declarations = [raw for i, raw in enumerate(lines, 1) if kinds.get(i) == "declaration"]
    others = [raw for i, raw in enumerate(lines, 1) if kinds.get(i) != "declaration"]
    moved = check_steps("\n".join(others + declarations) + "\n")
    original = check_steps(text)

    def verdicts(report):  # type: ignore[no-untyped-def]
        return [(s.kind, s.status) for s in report.steps if s.kind != "declaration"]

    assert verdicts(moved) == verdicts(original)
    assert [c.final_ok for c in moved.chains] == [c.final_ok for c in original.chains]


LEIBNIZ_DW = ["dL/dw", "∂L/∂w", "\\frac{dL}{dw}", "\\frac{\\partial L}{\\partial w}", "d/dw L"]
LEIBNIZ_DYHAT = [
    "dL/dŷ",
    "∂L/∂ŷ",
    "\\frac{dL}{d\\hat{y}}",
    "\\frac{\\partial L}{\\partial \\hat{y}}",
]
LEIBNIZ_YHAT_DW = [
    "dŷ/dw",
    "∂ŷ/∂w",
    "\\frac{d\\hat{y}}{dw}",
    "\\frac{\\partial \\hat{y}}{\\partial w}",
]


@SLOW
@given(
    a=st.sampled_from(LEIBNIZ_DW),
    b=st.sampled_from(LEIBNIZ_DYHAT),
    c=st.sampled_from(LEIBNIZ_YHAT_DW),
    right=st.booleans(),
)
def test_any_spelling_of_each_derivative_gives_the_same_verdicts(
    a: str, b: str, c: str, right: bool
) -> None:
    end = "(ŷ − y)x" if right else "(ŷ − y)"
    text = f"w, x ∈ ℝ^3\nŷ = wᵀx + b\nL = ½(ŷ − y)²\n{a} = {b} {c} = {end}\n"
    report = check_steps(text)
    assert [s.status for s in report.steps] == ["ok"] * 5 + ["ok" if right else "wrong"]
    assert [c.final_ok for c in report.chains] == [right]
