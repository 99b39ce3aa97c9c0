"""The answer notation's binding table: each example string and what it must read as."""

from __future__ import annotations

import re

import pytest

from dlquiz.core.expr import Expr
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace
from dlquiz.notation import NotationError, parse

SCALARS = [
    "w",
    "x",
    "b",
    "y",
    "yhat",
    "a",
    "c",
    "d",
    "eta",
    "lambda",
    "n_in",
    "n_out",
    "beta1",
    "sigma",
    "L",
]
VECTORS = ["z:3", "v:3", "delta:3", "u:2", "o:3"]
MATRICES = ["W:3x2", "A:3x3", "B:3x3", "W_{m+1}:3x2", "delta_{m-1}:3"]
NS = Namespace.from_specs(SCALARS + VECTORS + MATRICES + ["phi:function"])

# (typed text, how it reads, written back in the canonical notation)
READINGS = [
    ("3", "3"),
    ("-0.25", "-1/4"),
    ("2.5e-3", "0.0025"),
    ("1/10", "0.1"),
    ("2x", "2*x"),
    ("2(x+1)", "2*(x + 1)"),
    ("(a+b)(c-d)", "(a + b)*(c - d)"),
    ("1/2x", "x/2"),
    ("x^2", "x^2"),
    ("x**2", "x^2"),
    ("-x^2", "-x^2"),
    ("2^3^2", "512"),
    ("wx", "w*x"),
    ("wx + b", "w*x + b"),
    ("η", "eta"),
    ("λ w", "lambda*w"),
    ("ŷ - y", "yhat - y"),
    ("y_hat - y", "yhat - y"),
    ("n_in + n_out", "n_in + n_out"),
    ("β₁", "beta1"),
    ("ReLU(x)", "relu(x)"),
    ("Sigmoid(x)", "sigmoid(x)"),
    ("σ(x)", "sigmoid(x)"),
    ("sigma(x)", "sigmoid(x)"),
    ("relu'(x)", "step(x)"),
    ("sigmoid'(x)", "sigmoid'(x)"),
    ("ln(x)", "log(x)"),
    ("sqrt(x)", "sqrt(x)"),
    ("√x", "sqrt(x)"),
    ("e^x", "exp(x)"),
    ("W*u", "W@u"),
    ("W u", "W@u"),
    ("delta*u^T", "delta@u.T"),
    ("delta u.T", "delta@u.T"),
    ("z*(1-z)", "hadamard(z, 1 - z)"),
    ("sigmoid(z)*(1-sigmoid(z))", "hadamard(sigmoid(z), 1 - sigmoid(z))"),
    ("A*B", "A@B"),
    ("A ⊙ B", "hadamard(A, B)"),
    ("hadamard(A, B)", "hadamard(A, B)"),
    ("1/(1+exp(-z))", "1/(1 + exp(-z))"),
    ("z^2", "z^2"),
    ("W.T", "W.T"),
    ("W^T", "W.T"),
    ("Wᵀ", "W.T"),
    ("v.T@z", "v.T@z"),
    ("softmax(o)", "softmax(o)"),
    ("sum(z)", "sum(z)"),
    ("phi'(z)", "phi'(z)"),
    ("|x|", "abs(x)"),
    ("||z||", "norm(z)"),
    ("[1, 2; 3, 4]", "[1, 2; 3, 4]"),
    ("[[1, 2], [3, 4]]", "[1, 2; 3, 4]"),
    ("[1, 2, 3]", "[1, 2, 3]"),
    ("[1; 2; 3]", "[1, 2, 3]"),
    ("\\frac{1}{1+e^{-x}}", "1/(1 + exp(-x))"),
    ("\\sqrt{\\frac{2}{n_{in}+n_{out}}}", "sqrt(2/(n_in + n_out))"),
    ("\\eta (w x + b - y) x", "eta*(w*x + b - y)*x"),
    ("\\sigma(x)(1-\\sigma(x))", "sigmoid(x)*(1 - sigmoid(x))"),
    ("\\hat{y}", "yhat"),
    ("W^\\top z", "W.T@z"),
    ("\\lambda \\|v\\|^2", "lambda*norm(v)^2"),
    # juxtaposition before postfix (changed): the transpose or power takes the last name
    ("wx^2", "w*x^2"),
    ("wx²", "w*x^2"),
    ("-wx^2", "-w*x^2"),
    ("1/wx", "1/(w*x)"),
    ("deltav^T", "delta@v.T"),
    ("δvᵀ", "delta@v.T"),
    ("zz^T v", "z@z.T@v"),
    ("zzᵀv", "z@z.T@v"),
    ("v^Tz + b", "v.T@z + b"),
    ("z^TAz", "z.T@(A@z)"),
    ("u^Tu", "u.T@u"),
    # function powers (new)
    ("tanh^2(x)", "tanh(x)^2"),
    ("tanh²(x)", "tanh(x)^2"),
    ("\\tanh^2(x)", "tanh(x)^2"),
    ("\\tanh^{2}(x)", "tanh(x)^2"),
    ("sigmoid^2(x)", "sigmoid(x)^2"),
    ("log^3(x)", "log(x)^3"),
    ("phi^2(z)", "phi(z)^2"),
    ("σ²(n_in + n_out)", "sigma^2*(n_in + n_out)"),
    # numbers in brackets (changed)
    ("[1 2 3]", "[1, 2, 3]"),
    ("[28 28; 29 28]", "[28, 28; 29, 28]"),
    ("[1 -2]", "[1, -2]"),
    ("[-1 -2]", "[-1, -2]"),
    ("[1 - 2]", "-1"),
    ("[1-2]", "-1"),
    ("[1 2\n3 4]", "[1, 2; 3, 4]"),
    ("[1 2;\n3 4]", "[1, 2; 3, 4]"),
    ("[2 x, y]", "[2*x, y]"),
    ("2(3)", "6"),
    ("x¹⁰", "x^10"),
    ("x⁻²", "1/x^2"),
    # floor, ceil, diag (new)
    ("floor((n_in + 2*a - b)/c) + 1", "floor((n_in + 2*a - b)/c) + 1"),
    ("⌊x⌋", "floor(x)"),
    ("\\lfloor x \\rfloor", "floor(x)"),
    ("\\left\\lceil x \\right\\rceil", "ceil(x)"),
    ("ceiling(x)", "ceil(x)"),
    ("diag(z) - z z^T", "diag(z) - z@z.T"),
    ("\\operatorname{diag}(z)", "diag(z)"),
    # LaTeX index subscripts and calligraphic letters (new)
    ("W_{m+1}", "W_{m+1}"),
    ("W_{m + 1}", "W_{m+1}"),
    ("\\delta_{m-1}", "delta_{m-1}"),
    ("\\mathcal{L}", "L"),
    ("x^10", "x^10"),
    ("\\frac{1}{x}^{2} + x^-1", "1/x^2 + 1/x"),
]


@pytest.mark.parametrize(("text", "reads_as"), READINGS)
def test_reading(text: str, reads_as: str) -> None:
    assert to_notation(parse(text, NS)) == reads_as


def test_the_table_is_the_size_the_issue_asks() -> None:
    assert len(READINGS) >= 40


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("eta", "η"),
        ("lambda", "λ"),
        ("epsilon", "ε"),
        ("yhat", "\\hat{y}"),
        ("beta1", "beta_1"),
        ("RELU(x)", "relu(x)"),
        ("x.T", "x^T"),
        ("σ(x)", "\\sigma(x)"),
    ],
)
def test_spellings_of_the_same_thing(a: str, b: str) -> None:
    ns = Namespace.from_specs(["eta", "lambda", "epsilon", "yhat", "beta1", "x"])
    assert parse(a, ns) == parse(b, ns)


def test_bare_sigma_is_a_symbol_and_applied_sigma_is_the_sigmoid() -> None:
    ns = Namespace.from_specs(["sigma", "z"])
    assert parse("sigma", ns).op == "sym"
    assert parse("sigma(z)", ns).value == "sigmoid"
    assert parse("sigma^2", ns).op == "pow"


def test_lambda_is_a_symbol_not_python() -> None:
    e = parse("lambda*w", Namespace.from_specs(["lambda", "w"]))
    assert e.free_symbols() == {"lambda", "w"}


def test_a_t_glued_to_a_name_is_a_transpose_only_when_the_rest_is_known() -> None:
    ns = Namespace.from_specs(["v:3", "z:3", "Tz:3"])
    with pytest.raises(NotationError, match="exponent must be a scalar"):
        parse("v^Tz", ns)  # Tz is declared: it is that name, a vector exponent
    with pytest.raises(NotationError, match="unknown name 'Tq'"):
        parse("v^Tq", Namespace.from_specs(["v:3"]))
    # a scalar base with a declared T: a power, as x^T is (the exponent the run T y)
    assert to_notation(parse("x^Ty", Namespace.from_specs(["x", "y", "T"]))) == "x^(T*y)"


def test_t_is_a_power_only_for_a_scalar_base_when_T_is_known() -> None:
    assert to_notation(parse("x^T", Namespace.from_specs(["x", "T"]))) == "x^T"
    assert to_notation(parse("z^T", Namespace.from_specs(["z:3", "T"]))) == "z.T"
    assert to_notation(parse("x^T", Namespace.from_specs(["x"]))) == "x"


def test_e_is_eulers_number_unless_declared() -> None:
    assert parse("e^x", Namespace.from_specs(["x"])).value == "exp"
    assert parse("e*x", Namespace.from_specs(["e", "x"])).free_symbols() == {"e", "x"}


def test_shapes_are_tracked() -> None:
    assert parse("W.T@z", NS).shape == (2, 1)
    assert parse("delta@u.T", NS).shape == (3, 2)
    assert parse("v.T@z", NS).shape == ()  # a 1x1 result is a scalar
    assert parse("z + 1", NS).shape == (3, 1)  # scalars broadcast


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yaht", "unknown name 'yaht'"),
        ("2 + foo(x)", "unknown function 'foo'"),
        ("x'", "' is not a transpose"),
        ("(x + 1", "expected ')'"),
        ("x +", "the input ends too early"),
        ("", "empty input"),
        ("x $ 2", "unexpected character '$'"),
        ("softmax(o)_i", "unexpected character '_'"),
        ("W*z", "shape error"),
        ("z + u", "shape error"),
        ("9**9**9**9", "exponent too large"),
        ("1e400", "number too large"),
        ("1" * 60, "number too long"),
        ("(" * 100 + "x" + ")" * 100, "too deeply nested"),
        ("x" * 5000, "input too long"),
        ("x\x00", "unexpected character U+0000"),
        ("exp x", "needs its argument in parentheses"),
        ("\\sum_i x", "unsupported LaTeX command"),
    ],
)
def test_unreadable_input_gets_a_reason(text: str, message: str) -> None:
    with pytest.raises(NotationError, match=re.escape(message)):
        parse(text, NS)


def test_errors_name_the_column() -> None:
    with pytest.raises(NotationError) as info:
        parse("2 + foo(x)", NS)
    assert info.value.column == 5
    assert str(info.value).endswith("at column 5")


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(NotationError, match="known names: y, yhat"):
        parse("yaht - y", Namespace.from_specs(["yhat", "y"]))


def test_keys_print_back_to_what_parses_to_them() -> None:
    for text, _ in READINGS:
        e = parse(text, NS)
        assert isinstance(e, Expr)
        assert to_notation(parse(to_notation(e), NS)) == to_notation(e)


# --- the rows added or changed in this version: what must be an error -----------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 3", "separate entries with commas; no thousands separators"),
        ("1 000", "separate entries with commas; no thousands separators"),
        ("x^2 3", "separate entries with commas"),
        ("\\frac{1}{2} + 1\\,000", "no thousands separators"),
        ("[1 2 x]", "separate entries with commas"),
        ("0.6265.3", "malformed number '0.6265.3'"),
        ("1.2.3", "malformed number '1.2.3'"),
        ("[1 2 0.5.5]", "malformed number '0.5.5'"),
        ("tanh^-1(x)", "would be the inverse function"),
        ("tanh⁻¹(x)", "would be the inverse function"),
        ("\\tanh^{-1}(x)", "would be the inverse function"),
        ("tanh^0(x)", "a power of a function must be a positive whole number"),
        ("tanh^1.5(x)", "a power of a function must be a positive whole number"),
        ("tanh^2 x", "needs its argument in parentheses"),
        ("d/dw (w^2)", "d/dw is a derivative, not an answer"),
        ("d/dx(x)", "dlquiz derive"),
        ("2*d/dx x", "dlquiz steps"),
        ("\\frac{d}{dx}(x^2)", "d/dx is a derivative"),
        ("\\frac{d}{d x} x", "d/dx is a derivative"),
        ("\\frac{\\partial}{\\partial x} x", "is a derivative"),
        ("1e30^11", "number too large"),
        ("(1e30)^11*x", "number too large"),
        ("-1e30^11", "number too large"),
        ("1e30*" * 10 + "1e30", "number too large"),
        ("[1 2; 3]", "the rows of a matrix must have the same length"),
        ("diag(W)", "diag takes a vector"),
        ("floor(x", "expected ')'"),
        ("⌊x", "a closing '⌋'"),
        ("⌊x⌉", "a closing '⌋'"),
        ("\\lfloor x \\rceil", "a closing '⌋'"),
        ("W_{m*1}", "a subscript must follow a name"),
        ("\\frac{" * 60 + "x" + "}" * 60, "too deeply nested"),
    ],
)
def test_new_rows_reject(text: str, message: str) -> None:
    with pytest.raises(NotationError, match=re.escape(message)):
        parse(text, NS)


def test_d_over_d_reads_as_a_derivative_in_derivation_files() -> None:
    e = parse("d/dx (x^2)", NS, derivatives=True)
    assert e.op == "deriv"


def test_d_over_dw_is_refused_even_when_d_and_w_are_names() -> None:
    ns = Namespace.from_specs(["d", "w"])
    with pytest.raises(NotationError, match="is a derivative"):
        parse("d/dw (w^2)", ns)
    assert to_notation(parse("d/(d*w)", ns)) == "d/(d*w)"  # a real quotient, written as one


def test_the_number_after_a_space_and_a_sign_is_an_entry_only_in_a_number_bracket() -> None:
    assert to_notation(parse("x -2", NS)) == "x - 2"
    assert to_notation(parse("[x -2]", NS)) == "x - 2"
    assert to_notation(parse("[1 -2, 3]", NS)) == "[-1, 3]"  # commas: an expression list


def test_a_line_break_in_a_comma_list_is_only_space() -> None:
    assert parse("[1, 2,\n 3, 4]", NS).shape == (4, 1)


def test_index_subscripts_are_names_that_print_back() -> None:
    from dlquiz.core.printing import to_latex, to_unicode

    e = parse("W_{m+1}.T@delta_{m-1}", NS)
    assert e.free_symbols() == {"W_{m+1}", "delta_{m-1}"}
    assert to_latex(e) == "W_{m+1}^{\\top} \\delta_{m-1}"
    assert to_unicode(e) == "W_{m+1}ᵀ δ_{m-1}"
    for printed in (to_notation(e), to_latex(e), to_unicode(e)):
        assert parse(printed, NS) == e


def test_index_subscripts_are_declared_like_any_name() -> None:
    from dlquiz.core.vars import VarSpecError, parse_var

    assert parse_var("W_{m + 1}:3x2").name == "W_{m+1}"
    assert parse_var("δ_{m-1}:3").name == "delta_{m-1}"
    assert parse_var("W_{1}").name == "W1"
    assert parse_var("n_{in}").name == "n_in"
    with pytest.raises(VarSpecError):
        parse_var("W_{m*1}")
    with pytest.raises(VarSpecError):
        parse_var("W_{m+1")


def test_bare_sigma_squared_stays_the_symbol_and_declared_sigma_too() -> None:
    ns = Namespace.from_specs(["sigma", "n_in", "n_out"])
    e = parse("σ²(n_in + n_out)", ns)
    assert e.free_symbols() == {"sigma", "n_in", "n_out"}
    assert "sigmoid" not in to_notation(e)
    assert to_notation(parse("sigma^2(n_in)", ns)) == "sigma^2*n_in"


# --- the table: one source for the README and `dlquiz notation` ------------------------


def test_the_readme_table_is_the_table_module() -> None:
    from pathlib import Path

    from dlquiz.notation.table import markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown() in readme
    assert "*(changed)*" in markdown() and "*(new)*" in markdown()


def test_every_table_row_names_its_rule_once() -> None:
    from dlquiz.notation.table import ROWS

    rules = [r.rule for r in ROWS]
    assert len(rules) == len(set(rules))
    assert all(r.mark in ("", "new", "changed") for r in ROWS)
