"""The answer notation's binding table: each example string and what it must read as."""

from __future__ import annotations

import re

import pytest

from dlquiz.core.expr import Expr
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace
from dlquiz.notation import NotationError, parse

SCALARS = ["w", "x", "b", "y", "yhat", "a", "c", "d", "eta", "lambda", "n_in", "n_out", "beta1"]
VECTORS = ["z:3", "v:3", "delta:3", "u:2", "o:3"]
MATRICES = ["W:3x2", "A:3x3", "B:3x3"]
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
