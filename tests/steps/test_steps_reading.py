"""How a derivation file is read: every rule of the issue, with the cases that break it.

Through the Python API (``check_steps``), so each case costs one small derivation.
"""

from __future__ import annotations

import pytest

from dlquiz.core.expr import SCALAR
from dlquiz.notation import NotationError, parse
from dlquiz.steps import check_steps
from dlquiz.steps.declarations import DeclarationError, read_declaration
from dlquiz.steps.reader import read_name


def statuses(text: str) -> list[tuple[int, str]]:
    return [(s.line, s.status) for s in check_steps(text).steps]


def all_ok(text: str) -> bool:
    report = check_steps(text)
    return all(s.status == "ok" for s in report.steps)


def feedback(text: str) -> str:
    return " | ".join(s.feedback for s in check_steps(text).steps)


# --- declarations ------------------------------------------------------------------------

DECLARATIONS = [
    ("w ∈ ℝ^3", {"w": ((3, 1), None)}),
    ("w, x ∈ ℝ³", {"w": ((3, 1), None), "x": ((3, 1), None)}),
    ("w in R^3", {"w": ((3, 1), None)}),
    ("W ∈ ℝ^{2×3}", {"W": ((2, 3), None)}),
    ("W in R^(2x3)", {"W": ((2, 3), None)}),
    ("W \\in \\mathbb{R}^{2 \\times 3}", {"W": ((2, 3), None)}),
    ("W ∈ ℝ^{2 x 3}", {"W": ((2, 3), None)}),
    ("v ∈ ℝ^{1×3}", {"v": ((1, 3), None)}),
    ("b ∈ ℝ", {"b": (SCALAR, None)}),
    ("x ∈ ℝ^{3 \\times 1}", {"x": ((3, 1), None)}),
    ("η > 0", {"eta": (None, "positive")}),
    ("\\eta > 0", {"eta": (None, "positive")}),
    ("η, λ ≥ 0", {"eta": (None, "positive"), "lambda": (None, "positive")}),
    ("x ≠ 0", {"x": (None, "nonzero")}),
    ("x \\neq 0", {"x": (None, "nonzero")}),
    ("p ∈ (0, 1)", {"p": (None, "unit")}),
    ("0 < p < 1", {"p": (None, "unit")}),
    ("s ∈ (0, ∞)", {"s": (None, "positive")}),
    ("x ∈ ℝ^3_+", {"x": ((3, 1), "positive")}),
    ("n ∈ ℕ", {"n": (SCALAR, "integer")}),
    ("y ∈ onehot(3)", {"y": ((3, 1), "onehot")}),
    ("y \\in \\text{onehot}(4)", {"y": ((4, 1), "onehot")}),
    ("φ: ℝ → ℝ", {"phi": (SCALAR, "function")}),
    ("\\phi_m: \\mathbb{R} \\to \\mathbb{R}", {"phi_m": (SCALAR, "function")}),
    ("f: R -> R", {"f": (SCALAR, "function")}),
    ("W₁ ∈ ℝ^{4×3}", {"W1": ((4, 3), None)}),
    ("\\hat{y} \\in \\mathbb{R}", {"yhat": (SCALAR, None)}),
    ("W_{m+1} ∈ ℝ^{2×4}", {"W_{m+1}": ((2, 4), None)}),
    ("let w ∈ ℝ^3", {"w": ((3, 1), None)}),
    ("w ∈ ℝ^3 and b ∈ ℝ", {"w": ((3, 1), None), "b": (SCALAR, None)}),
    (
        "W ∈ ℝ^{3×4}, x ∈ ℝ⁴, b ∈ ℝ³",
        {"W": ((3, 4), None), "x": ((4, 1), None), "b": ((3, 1), None)},
    ),
]


@pytest.mark.parametrize(("text", "expected"), DECLARATIONS)
def test_declarations_as_written_on_paper(text: str, expected: dict) -> None:
    found = {d.name: (d.shape, d.domain) for d in read_declaration(text, read_name)}
    assert found == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("W ∈ ℝ^{n×d}", "the sizes must be numbers"),
        ("x ∈ {0,1}^3", "not a set dlquiz knows"),
        ("x < 0", "the domains are"),
        ("φ: ℝ^3 → ℝ", "φ: ℝ → ℝ"),
        ("x ∈ ℝ^{65}", "from 1 to 64"),
        ("y ∈ onehot(1)", "2 to 64"),
        ("2 ∈ ℝ", "is not a name"),
        ("exp ∈ ℝ", "reserved"),
    ],
)
def test_declarations_that_cannot_be_read_say_what_to_write(text: str, fragment: str) -> None:
    with pytest.raises(DeclarationError, match=None) as info:
        read_declaration(text, read_name)
    assert fragment in str(info.value)


def test_a_declaration_applies_to_the_whole_file_wherever_it_stands() -> None:
    first = "w, x ∈ ℝ^3\nŷ = wᵀx\nd/dw ŷ = x\n"
    last = "ŷ = wᵀx\nd/dw ŷ = x\nw, x ∈ ℝ^3\n"
    assert all_ok(first) and all_ok(last)


def test_two_declarations_of_one_name_must_agree() -> None:
    text = "x ∈ ℝ^3\nx ∈ ℝ^2\nd/dx sum(x) = ones(3)\n"
    assert (2, "unreadable") in statuses(text)
    assert "'x' is declared 2x1 here and 3x1 on line 1" in feedback(text)
    # a shape and a domain in two lines combine
    assert all_ok("x ∈ ℝ^3\nx > 0\nd/dx sum(log(x)) = x^(-1)\n")


def test_a_line_with_an_index_sum_over_a_set_is_not_a_declaration() -> None:
    text = "\\hat{\\mu}_B = \\frac{1}{|B|} \\sum_{x \\in B} x\n"
    assert "index sums" in feedback(text)


# --- derivatives: every spelling, the operand's reach ----------------------------------------

SPELLINGS = [
    "dL/dw",
    "d L / d w",
    "∂L/∂w",
    "∂ L/∂ w",
    "\\frac{dL}{dw}",
    "\\frac{d L}{d w}",
    "\\dfrac{dL}{dw}",
    "\\frac{\\partial L}{\\partial w}",
    "\\frac{\\mathrm{d}L}{\\mathrm{d}w}",
    "\\frac{∂L}{∂w}",
    "d/dw L",
    "d / dw L",
    "∂/∂w L",
    "∇_w L",
    "∂_w L",
    "\\nabla_w L",
    "\\nabla_{w} L",
    "\\partial_w L",
    "\\frac{d}{dw} L",
    "\\frac{d}{dw}(L)",
    "\\frac{\\partial}{\\partial w} L",
    "\\left(\\frac{dL}{dw}\\right)",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_a_derivative_means_the_same(spelling: str) -> None:
    assert all_ok(f"L = w^2 x\n{spelling} = 2wx\n")
    wrong = check_steps(f"L = w^2 x\n{spelling} = wx\n")
    assert [s.status for s in wrong.steps] == ["ok", "ok", "wrong"]
    assert wrong.chains[0].final_ok is False


@pytest.mark.parametrize(
    ("line", "right"),
    [
        ("d/dw 1/2 (w - y)^2", "w - y"),  # the whole term, not (d/dw 1)/2
        ("d/dw w^2 + w", "2w + w"),  # up to the next top-level +
        ("d/dw w^2 - 3", "2w - 3"),
        ("d/dw (w^2 + w)", "2w + 1"),  # or the closing bracket
        ("x d/dw w^2", "2wx"),
        ("d/dw w^2 x", "2wx"),
        ("d/dx d/dx x^3", "6x"),
        ("\\frac{d}{dw}\\frac{1}{2}(w-y)^2", "w - y"),
        ("d/dw \\frac{1}{2}(w - y)^2", "w - y"),  # plain forms in a LaTeX line
        ("∂/∂w \\frac{1}{2}(w - y)^2", "\\frac{2(w - y)}{2}"),
        ("\\frac{d}{dw} 1/2 (w - y)^2", "w - y"),
        ("\\frac{d}{dz} \\sigma(z)", "\\sigma(z)(1 - \\sigma(z))"),
        ("d/dz (1 + e^{-z})^{-1}", "e^{-z}/(1 + e^{-z})^2"),
    ],
)
def test_the_operand_of_d_dw_runs_to_the_next_plus_or_minus(line: str, right: str) -> None:
    assert all_ok(f"{line} = {right}\n"), feedback(f"{line} = {right}\n")


def test_the_issues_examples_read_as_written() -> None:
    # a file starting with d/dz sigmoid(z): no --var needed
    assert all_ok("d/dz sigmoid(z)\n= sigmoid(z)(1 - sigmoid(z))\n")
    # L = 1/2 (ŷ - y)^2 with ŷ := wᵀx + b, then a checked step from L
    assert all_ok("w, x ∈ ℝ^3\nŷ := wᵀx + b\nL = 1/2 (ŷ - y)^2\n= 1/2 (wᵀx + b - y)^2\n")
    # dL/dw and ∂L/∂b
    assert all_ok("ŷ := w x + b\nL = 1/2 (ŷ - y)^2\ndL/dw = (ŷ - y) x\n∂L/∂b = ŷ - y\n")
    # the transposed gradient no longer passes: refused undeclared, wrong declared
    undeclared = check_steps("ŷ = w x + b\nL = ½(ŷ - y)²\ndL/dw = (ŷ - y) xᵀ\n")
    assert undeclared.unreadable
    declared = check_steps("w, x ∈ ℝ^3\nŷ = wᵀx + b\nL = ½(ŷ - y)²\ndL/dw = (ŷ - y) xᵀ\n")
    assert not declared.unreadable and declared.first_error == 4
    assert "transposed" in declared.steps[-1].feedback


def test_an_unevaluated_derivative_is_a_valid_step() -> None:
    assert all_ok("d/dz (1 + e^{-z})^{-1}\n= -(1 + e^{-z})^{-2} d/dz e^{-z}\n")


def test_a_gradient_has_the_shape_of_its_variable_and_a_jacobian_is_refused() -> None:
    assert all_ok("W ∈ ℝ^{2×3}, x ∈ ℝ^3\nL = sum(Wx)\ndL/dW = ones(2) xᵀ\n")
    text = "W ∈ ℝ^{2×3}, x ∈ ℝ^3\ny = Wx\n∂y/∂x = W\n"
    assert "Jacobian" in feedback(text)
    assert check_steps(text).unreadable


def test_an_elementwise_function_of_the_variables_own_shape_has_an_elementwise_derivative() -> None:
    assert all_ok("z ∈ ℝ^3\na = tanh(z)\nda/dz = 1 - a^2\n")


def test_second_derivatives_are_refused_with_a_reason() -> None:
    assert "second derivatives" in feedback("L = w^3\nd²L/dw² = 6w\n")
    assert "second derivatives" in feedback("L = w^3\n\\frac{d^2 L}{dw^2} = 6w\n")


@pytest.mark.parametrize(
    ("numerator", "derivative"),
    [
        ("sigmoid", "sigmoid(x)(1 - sigmoid(x))"),
        ("σ", "σ(x)(1 - σ(x))"),
        ("tanh", "1 - tanh(x)^2"),
        ("relu", "step(x)"),
        ("\\text{ReLU}", "step(x)"),
        ("exp", "exp(x)"),
        ("log", "1/x"),
    ],
)
def test_a_function_as_numerator_is_its_derivative(numerator: str, derivative: str) -> None:
    line = f"\\frac{{d {numerator}}}{{dx}} = {derivative}\n"
    assert all_ok(line), feedback(line)


def test_a_declared_function_has_a_derivative_written_with_a_prime() -> None:
    assert all_ok("φ: ℝ → ℝ\nz ∈ ℝ^3\na = φ(z)\nda/dz = φ'(z)\ndφ/dz = φ'(z)\n")


# --- names --------------------------------------------------------------------------------


def test_a_run_of_letters_is_split_against_all_the_names_of_the_file() -> None:
    # w and x appear on their own (x in line 2, w as the variable): wx is w·x ...
    assert all_ok("u = wx\nd/dw u = x\n")
    # ... also when the single names come only in later lines
    assert all_ok("u = (wx + b)^2\nv = w + x\n∂u/∂b = 2(wx + b)\n∂u/∂w = 2(wx + b)x\n")
    # ... and without them wx is one name
    assert all_ok("u = wx^2\nd/dwx u = 2wx\n")


def test_reserved_names_are_never_variables() -> None:
    assert all_ok("d/dx e^x = e^x\n")
    assert all_ok("d/dx pi x = pi\n")
    assert "'d' is kept for derivatives" in feedback("y = d x\n")


def test_sigma_applied_is_the_sigmoid_and_bare_sigma_a_variable() -> None:
    assert all_ok("d/dz σ(z) = σ(z)(1 - σ(z))\n")
    assert all_ok("u = σ^2 z\nd/dσ u = 2σz\n")


# --- no silent scalars ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("u = xᵀ y", "x"),
        ("u = x^T y", "x"),
        ("u = W @ x", "W"),
        ("u = a ⊙ b", "a"),
        ("u = hadamard(a, b)", "a"),
        ("u = softmax(o)", "o"),
        ("u = sum(v)", "v"),
        ("u = mean(v)", "v"),
        ("u = diag(v)", "v"),
        ("u = (ŷ - y)^T", "y"),  # through a definition: ŷ's variables are not enough
    ],
)
def test_a_matrix_operation_on_an_undeclared_name_is_refused(line: str, name: str) -> None:
    text = f"ŷ ∈ ℝ^3\n{line}\n"
    report = check_steps(text)
    assert report.unreadable
    message = report.steps[-1].feedback
    assert f"the shape of '{name}', which is not declared" in message
    assert f"{name} ∈ ℝ^3" in message


def test_declared_names_and_the_notes_scalars_pass() -> None:
    assert all_ok("x, y ∈ ℝ^3\nu = xᵀ y\n= yᵀ x\n")
    assert all_ok("x ∈ ℝ^3\nu = (η x)ᵀ\n= η xᵀ\n")  # η is a scalar in the notes
    assert all_ok("x ∈ ℝ^3, s ∈ ℝ\nu = (s x)ᵀ\n= s xᵀ\n")


# --- definitions -----------------------------------------------------------------------------


def test_definitions_with_colon_equals_and_equals() -> None:
    assert all_ok("ŷ := w x + b\nL = (ŷ - y)^2\n= (w x + b - y)^2\n")
    assert all_ok("\\hat{y} = w x + b\nW₁ = 3\nz_{m+1} = 2\nu = ŷ + W_1 + z_{m+1}\n")


def test_a_definition_applies_to_the_lines_after_it() -> None:
    text = "u = v + 1\nv = 2\n"
    assert (2, "unreadable") in statuses(text)
    assert "v is already a variable of this file (line 1 uses it)" in feedback(text)


def test_redefinitions_updates_and_double_definitions_are_input_errors() -> None:
    cases = {
        "w ∈ ℝ^3\nw = w - η ∇_w L\n": "w is on both sides",
        "w = 1\nw := 2\n": "w is already defined on line 1",
        "y = 2x\nx = 3\n": "x is already a variable of this file",
        "w ← w - η g\n": "an update (←) is not a step",
        "w \\leftarrow w - \\eta g\n": "an update (←) is not a step",
        "h ∈ ℝ^3\nh = 2\n": "h is declared as a 3x1 column, but its definition is a scalar",
        "f(x) := 1\nf(x, y) = 2\n": "",
    }
    for text, fragment in cases.items():
        report = check_steps(text)
        assert report.unreadable, text
        assert fragment in feedback(text), (text, feedback(text))


def test_a_name_defined_twice_with_equals_is_a_claim_checked_against_its_definition() -> None:
    assert all_ok("L = x^2\nL = x x\n")
    assert [s for _, s in statuses("L = x^2\nL = 2x\n")] == ["ok", "ok", "wrong"]


def test_a_declared_name_not_yet_used_may_be_defined_with_its_declared_shape() -> None:
    assert all_ok("h ∈ ℝ^3\nW ∈ ℝ^{3×2}, x ∈ ℝ^2\nh = Wx\nu = sum(h)\n= sum(Wx)\n")


def test_function_style_definitions() -> None:
    assert all_ok("f(x) = x^2 + 3x\nf'(x) = 2x + 3\nf(2) = 10\nf'(1) = 5\n")
    assert all_ok("L(w) = 1/2 (wx - y)^2\ndL/dw = (wx - y)x\n")
    assert all_ok(
        "W₁, W₂ ∈ ℝ^{3×3}, x ∈ ℝ^3\nf(x) = W₂ relu(W₁x)\ny = f(x) + x\n"
        "∂L/∂x = ∂L/∂y + W₁ᵀ(step(W₁x) ⊙ (W₂ᵀ ∂L/∂y))\n"
    )
    assert [s for _, s in statuses("f(x) = x^3\nf'(x) = 3x\n")] == ["ok", "ok", "wrong"]


def test_a_chain_rule_factor_holds_the_defined_name_as_a_variable() -> None:
    base = "ŷ = wx + b\nL = (ŷ - y)^2\n"
    assert all_ok(base + "dL/dŷ = 2(ŷ - y)\n")
    assert all_ok(base + "dL/dŷ = 2(wx + b - y)\n")
    assert all_ok(base + "d/dŷ L = 2(ŷ - y)\n")
    assert [s for _, s in statuses(base + "dL/dŷ = 2(ŷ - y)x\n")][-1] == "wrong"
    assert all_ok(base + "dL/dw = dL/dŷ dŷ/dw = 2(ŷ - y)x\n")


# --- a cost the file does not define -----------------------------------------------------------


def test_an_undefined_cost_is_opaque_and_the_same_in_every_line() -> None:
    assert all_ok("z = wx\ndL/dw = dL/dz x\n= x dL/dz\n")
    assert all_ok("z = wx\na = tanh(z)\ndL/dw = dL/da (1 - a^2) x\n")
    assert all_ok("z ∈ ℝ^3\nL = cost function of z\ndL/dz = dL/dz\n")


def test_the_chain_rule_of_an_undefined_cost_goes_through_every_use_of_a_variable() -> None:
    # x feeds both z and the skip connection
    assert all_ok("W ∈ ℝ^{3×3}, x ∈ ℝ^3\nz = Wx\ny = z + x\n∂L/∂x = Wᵀ ∂L/∂y + ∂L/∂y\n")
    wrong = "W ∈ ℝ^{3×3}, x ∈ ℝ^3\nz = Wx\ny = z + x\n∂L/∂x = Wᵀ ∂L/∂y\n"
    assert [s for _, s in statuses(wrong)][-1] == "wrong"
    assert "L is not defined in this file" in feedback(wrong)


def test_a_definition_that_uses_the_cost_is_not_part_of_its_chain() -> None:
    assert all_ok("w ∈ ℝ^3\nJ = L + λ‖w‖²\n∂J/∂w = ∂L/∂w + 2λw\n")


# --- LaTeX on paper ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cases",
    [
        "\\begin{cases} 1 & x > 0 \\\\ 0 & x \\leq 0 \\end{cases}",
        "\\begin{cases} 1 & x > 0 \\\\ 0 & \\text{otherwise} \\end{cases}",
        "\\begin{cases} 0 & x \\leq 0 \\\\ 1 & x > 0 \\end{cases}",
        "\\begin{cases} 0 & x < 0 \\\\ 0 & x = 0 \\\\ 1 & \\text{otherwise} \\end{cases}".replace(
            "\\\\ 0 & x = 0 ", ""
        ),
        "\\begin{cases} 1 & \\text{if } x > 0 \\\\ 0 & \\text{else} \\end{cases}",
    ],
)
def test_cases_are_indicators_with_step_0_equal_to_0(cases: str) -> None:
    assert all_ok(f"\\frac{{d \\text{{ReLU}}}}{{dx}} = {cases}\n"), feedback(
        f"\\frac{{d \\text{{ReLU}}}}{{dx}} = {cases}\n"
    )


def test_cases_with_the_branches_swapped_are_wrong() -> None:
    text = "d/dx relu(x) = \\begin{cases} 0 & x > 0 \\\\ 1 & x \\leq 0 \\end{cases}\n"
    assert [s for _, s in statuses(text)][-1] == "wrong"
    assert "a condition that compares" in feedback(
        "u = \\begin{cases} 0 & \\text{with probability } p \\end{cases}\n"
    )


def test_annotations_and_delimiters_are_read_through() -> None:
    assert all_ok(
        "w, x ∈ ℝ^3\n$$\\hat{y} = w^T \\overset{\\text{input}}{x} + b$$\n$$= x^T w + b$$\n"
    )
    assert all_ok("u = \\underbrace{x + x}_{\\text{twice}}\n&= 2x \\\\\n")
    assert all_ok("u = \\overbrace{x x}^{x^2}\n\\Rightarrow u = x^2.\n")
    assert all_ok(
        "y, \\hat{y} \\in \\mathbb{R}^3\n"
        "L = -\\sum(y \\odot \\log \\hat{y})\n= -\\sum(y \\odot \\log(\\hat{y}))\n"
    )


def test_a_line_of_words_is_refused_not_read_as_a_product() -> None:
    text = "By the chain rule\nd/dx x^2 = 2x\n"
    assert statuses(text)[0] == (1, "unreadable")
    assert "start a comment with #" in feedback(text)
    assert all_ok("u = w x b\nd/dw u = x b\n")  # single letters side by side are math


def test_a_unicode_subscript_letter_says_how_to_write_a_subscript() -> None:
    assert "write subscripts with _" in feedback("zₘ = 2\n")
    assert all_ok("z_m = 2\nW₁ = 3\nu = z_m W_1\n= 6\n")


def test_a_comment_line_is_skipped_in_every_style() -> None:
    assert all_ok("# plain\n% LaTeX\n// C\nd/dx x^2 = 2x\n")


# --- the answer notation does not change -----------------------------------------------------


@pytest.mark.parametrize(
    "answer", ["d/dw (w^2)", "\\frac{d}{dw} w^2", "∂L/∂w", "\\partial_w L", "∇_w L"]
)
def test_derivative_forms_are_still_errors_in_an_answer(answer: str) -> None:
    from dlquiz.core.vars import Namespace

    with pytest.raises(NotationError):
        parse(answer, Namespace.from_specs(["w", "L"]))


def test_an_answer_reads_as_before() -> None:
    from dlquiz.core.vars import Namespace
    from dlquiz.notation.dialect import ANSWERS

    ns = Namespace.from_specs(["w:3", "x:3", "y"])
    for text in ["w^T x - y", "\\frac{1}{2}(w^\\top x - y)^2", "hadamard(w, x)", "wx"]:
        plain = parse(text, ns.copy())
        assert parse(text, ns.copy(), dialect=ANSWERS) == plain
    assert parse("d/dw sum(w^2)", ns.copy(), derivatives=True).op == "deriv"
