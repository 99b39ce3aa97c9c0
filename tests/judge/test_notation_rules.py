"""Property tests of the notation rows added or changed in this version: families of
inputs (random juxtaposed runs with postfix operators, random number brackets, every
function with every power, random rounding arithmetic), not hand-picked examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlquiz.core import expr as E
from dlquiz.core.numeric import evaluate
from dlquiz.core.printing import to_latex, to_notation, to_unicode
from dlquiz.core.vars import Namespace
from dlquiz.judge import check
from dlquiz.notation import NotationError, open_brackets, parse
from dlquiz.notation.parser import FUNCTIONS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Names whose concatenations split one way only (no concatenation is itself a name).
RUN_NAMES = {"w": "", "x": "", "δ₂": ":3", "a₁": ":3", "u": ":3", "B": ":3x3", "η": ""}
RUN_NS = Namespace.from_specs([k + v for k, v in RUN_NAMES.items()])
POSTFIX = ["", "^2", "²", "ᵀ", "^T", ".T", "^3", "³"]


def _read(text: str, ns: Namespace) -> E.Expr | str:
    """The tree, or the error message (both spellings must fail the same way)."""
    try:
        return parse(text, ns.copy())
    except NotationError as exc:
        return exc.message


@SETTINGS
@given(
    st.lists(st.sampled_from(sorted(RUN_NAMES)), min_size=2, max_size=4), st.sampled_from(POSTFIX)
)
def test_a_run_of_names_is_split_before_its_postfix(names: list[str], post: str) -> None:
    run = "".join(names) + post
    spaced = " ".join(names) + post
    assert _read(run, RUN_NS) == _read(spaced, RUN_NS), (run, spaced)


@SETTINGS
@given(
    st.lists(st.sampled_from(sorted(RUN_NAMES)), min_size=2, max_size=4), st.sampled_from(POSTFIX)
)
def test_the_postfix_takes_the_last_name_only(names: list[str], post: str) -> None:
    run = "".join(names) + post
    explicit = "*".join(f"({n})" for n in names[:-1]) + f"*({names[-1]}{post})"
    assert _read(run, RUN_NS) == _read(explicit, RUN_NS), (run, explicit)


@SETTINGS
@given(
    st.sampled_from(sorted(RUN_NAMES)),
    st.lists(st.sampled_from(sorted(RUN_NAMES)), min_size=1, max_size=3),
)
def test_a_t_glued_to_the_next_names_is_the_transpose(first: str, rest: list[str]) -> None:
    glued = f"{first}^T{''.join(rest)}"
    spaced = f"{first}^T {''.join(rest)}"  # the rest stays one run, one factor
    assert _read(glued, RUN_NS) == _read(spaced, RUN_NS), (glued, spaced)


@SETTINGS
@given(st.lists(st.sampled_from(["w", "x", "η"]), min_size=2, max_size=4), st.integers(2, 9))
def test_a_run_under_a_division_stays_one_factor(names: list[str], n: int) -> None:
    run = "".join(names)
    assert parse(f"1/{run}^{n}", RUN_NS) == parse(
        f"1/({' '.join(names[:-1])} {names[-1]}^{n})", RUN_NS
    )


ENTRY = st.integers(-999, 999) | st.sampled_from([0.5, -0.25, 2.5e-3, 1e5])


def _literal(v: float) -> str:
    return str(v)


@SETTINGS
@given(
    st.integers(1, 4).flatmap(
        lambda width: st.lists(
            st.lists(ENTRY, min_size=width, max_size=width), min_size=1, max_size=4
        )
    ),
    st.sampled_from([" ", "  ", "\t"]),
    st.booleans(),
)
def test_numbers_separated_by_spaces_are_entries(rows, space: str, newlines: bool) -> None:
    if all(len(r) == 1 for r in rows) and len(rows) == 1:
        return  # one number: nothing separates
    row_sep = "\n" if newlines else "; "
    spaced = "[" + row_sep.join(space.join(_literal(v) for v in r) for r in rows) + "]"
    commas = "[" + "; ".join(", ".join(_literal(v) for v in r) for r in rows) + "]"
    if len(rows) == 1:  # a flat list is a vector, and a vector is a column
        commas = "[" + ", ".join(_literal(v) for v in rows[0]) + "]"
    assert parse(spaced) == parse(commas), (spaced, commas)


@SETTINGS
@given(st.integers(0, 99), st.integers(0, 99), st.sampled_from([" - ", "-", " -", "- "]))
def test_a_minus_between_numbers_is_a_subtraction_unless_it_touches_the_second(
    a: int, b: int, minus: str
) -> None:
    value = parse(f"[{a}{minus}{b}]")
    if minus == " -":
        assert to_notation(value) == f"[{a}, {-b}]"
    else:
        assert value == E.num(a - b)


@SETTINGS
@given(
    st.sampled_from(["2", "1", "0.5", "1e3", "12"]),
    st.sampled_from(["2", "000", "5.5", "3"]),
    st.sampled_from([" ", "  ", "\t"]),
)
def test_two_numbers_side_by_side_outside_brackets_are_an_error(a: str, b: str, gap: str) -> None:
    with pytest.raises(NotationError, match="separate entries with commas"):
        parse(f"{a}{gap}{b}")
    with pytest.raises(NotationError, match="separate entries with commas"):
        parse(f"x + {a}{gap}{b}", Namespace.from_specs(["x"]))


def test_a_line_break_ends_a_row_and_open_brackets_says_a_line_continues() -> None:
    assert open_brackets("1: [1 2") == 1
    assert open_brackets("[[1, 2], [3") == 2
    assert open_brackets("[1 2]") == 0
    assert open_brackets("]") == 0
    assert parse("[1 2\n3 4]").shape == (2, 2)
    assert parse("[1 2\r\n3 4\n]").shape == (2, 2)


POWERED = sorted(
    name for name, meaning in FUNCTIONS.items() if name != "sigma" and meaning not in ("ones",)
)
ONE_ARG = [n for n in POWERED if FUNCTIONS[n] not in ("max", "min", "hadamard", "diag", "softmax")]


@SETTINGS
@given(st.sampled_from(ONE_ARG), st.integers(1, 12), st.sampled_from(["{}^{}", "{}^({})"]))
def test_a_power_of_a_function_is_the_power_of_its_value(f: str, n: int, form: str) -> None:
    ns = Namespace.from_specs(["x"])
    assert parse(form.format(f, n) + "(x)", ns) == parse(f"({f}(x))^{n}", ns)
    assert parse(
        f"\\{f}^{{{n}}}(x)" if f in ("exp", "log", "ln", "tanh") else f"{f}^{n}(x)", ns
    ) == (parse(f"({f}(x))^{n}", ns))


@pytest.mark.parametrize("f", ONE_ARG)
def test_superscript_powers_of_functions(f: str) -> None:
    ns = Namespace.from_specs(["x"])
    assert parse(f"{f}²(x)", ns) == parse(f"{f}(x)^2", ns)
    assert parse(f"{f}³(x)", ns) == parse(f"{f}(x)^3", ns)
    with pytest.raises(NotationError, match="inverse"):
        parse(f"{f}⁻¹(x)", ns)
    with pytest.raises(NotationError, match="inverse"):
        parse(f"{f}^-1(x)", ns)


def test_a_function_power_works_for_a_declared_function_and_with_a_prime() -> None:
    ns = Namespace.from_specs(["phi:function", "z:3"])
    assert parse("phi^2(z)", ns) == parse("phi(z)^2", ns)
    assert parse("tanh^2(z)", ns).shape == (3, 1)


# --- floor, ceil and diag: exact on integers, printed back, lowered everywhere ---------

INT_NS = Namespace.from_specs(["n:integer", "p:integer", "k:integer", "s:integer"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 300), st.integers(0, 6), st.integers(1, 11), st.integers(1, 9)),
        min_size=1,
        max_size=16,
    )
)
def test_the_output_size_formula_is_exact_in_floats(points) -> None:
    e = parse("floor((n + 2*p - k)/s) + 1", INT_NS)
    c = parse("ceil((n + 2*p - k)/s)", INT_NS)
    same = parse("floor(n/s*s) + ceil(s*n/s) - 2*n", INT_NS)  # exactly 0
    env = {
        name: np.array([float(pt[i]) for pt in points]).reshape(-1, 1, 1)
        for i, name in enumerate("npks")
    }
    got = evaluate(e, env, len(points)).ravel()
    up = evaluate(c, env, len(points)).ravel()
    zero = evaluate(same, env, len(points)).ravel()
    for i, (n, p, k, s) in enumerate(points):
        assert got[i] == (n + 2 * p - k) // s + 1
        assert up[i] == -((-(n + 2 * p - k)) // s)
        assert zero[i] == 0


def test_floor_of_one_that_floats_round_down_is_one() -> None:
    ns = Namespace.from_specs(["n", "s"])
    env = {"n": np.full((1, 1, 1), 49.0), "s": np.full((1, 1, 1), 49.0)}
    assert 49.0 * (1 / 49.0) < 1  # the float trap this guards against
    assert evaluate(parse("floor(n*s^-1)", ns), env, 1).item() == 1
    assert evaluate(parse("ceil(n*s^-1)", ns), env, 1).item() == 1


def test_floor_through_sympy_is_exact() -> None:
    import sympy as sp

    from dlquiz.symbolic.bridge import Bridge

    ns = INT_NS.copy()
    bridge = Bridge(ns)
    s = bridge.to_sympy(parse("floor((n + 2*p - k)/s) + 1", ns))
    value = s.subs(
        {
            sp.Symbol(v, integer=True, positive=True): x
            for v, x in zip("npks", (28, 1, 3, 2), strict=True)
        }
    )
    assert value == 14 and value.is_Integer
    assert bridge.to_sympy(parse("floor(n)", ns)) == bridge.symbol("n")  # n is whole
    back = bridge.from_sympy(bridge.to_sympy(parse("floor(n/2) + ceil(n/3)", ns)))
    assert check(to_notation(back), "floor(n/2) + ceil(n/3)", vars=["n:integer"]).equivalent


ROUNDING_TEXTS = [
    "floor(x) + ceil(x/2)",
    "floor(x)^2 - 3*ceil(x - 1/2)",
    "floor(floor(x)/2)",
    "diag(v) - v v^T",
    "diag(softmax(v)) - softmax(v) softmax(v)^T",
    "diag(v)@W - W*floor(x)",
    "diag(v.T)",
    "sum(diag(v))",
]


@pytest.mark.parametrize("text", ROUNDING_TEXTS)
def test_rounding_and_diag_print_back_in_every_style(text: str) -> None:
    ns = Namespace.from_specs(["x", "v:3", "W:3x3"])
    e = parse(text, ns)
    for printer in (to_notation, to_unicode, to_latex):
        printed = printer(e)
        assert check(printed, e, vars=ns).equivalent, (printer.style, printed)
    assert to_notation(parse(to_notation(e), ns)) == to_notation(e)


def test_diag_shapes() -> None:
    ns = Namespace.from_specs(["x", "v:3", "r:1x4"])
    assert parse("diag(v)", ns).shape == (3, 3)
    assert parse("diag(r)", ns).shape == (4, 4)
    assert parse("diag(x)", ns) == parse("x", ns)  # a 1x1 diagonal matrix is its entry
    assert parse("diag(v)@v", ns).shape == (3, 1)


def test_diag_and_floor_evaluate_as_numpy_does() -> None:
    ns = Namespace.from_specs(["v:3"])
    rng = np.random.default_rng(4)
    v = rng.normal(size=(5, 3, 1)) * 3
    d = evaluate(parse("diag(v)", ns), {"v": v}, 5)
    for i in range(5):
        assert np.array_equal(d[i], np.diag(v[i, :, 0]))
    f = evaluate(parse("floor(v) + ceil(v)", ns), {"v": v}, 5)
    assert np.array_equal(f, np.floor(v) + np.ceil(v))


@pytest.mark.parametrize(
    ("expression", "wrt", "specs"),
    [
        ("sum(diag(v)@w)", "v", ["v:3", "w:3"]),
        ("sum(diag(r)@w)", "r", ["r:1x3", "w:3"]),
        ("sum((diag(v) - v@v.T)@w)", "v", ["v:3", "w:3"]),
        ("floor(x)*x^2", "x", ["x"]),
        ("sum(floor(v)*v)", "v", ["v:3"]),
        ("ceil(x) + x", "x", ["x"]),
    ],
)
def test_derivatives_through_floor_ceil_and_diag_agree_with_the_engine(
    expression: str, wrt: str, specs: list[str]
) -> None:
    from dlquiz.core.verification import verify_derivative
    from dlquiz.symbolic.derive import derivative

    ns = Namespace.from_specs(specs)
    e = parse(expression, ns)
    d = derivative(e, wrt, ns)
    assert verify_derivative(e, wrt, d, ns).ok, to_notation(d)


def test_the_softmax_jacobian_can_be_typed_and_checked() -> None:
    ns = ["o:3", "g:3"]
    # J = diag(y) - y yᵀ with y = softmax(o); Jᵀ g is the gradient of g·softmax(o)
    typed = "(diag(softmax(o)) - softmax(o) softmax(o)^T)@g"
    from dlquiz.symbolic.derive import derivative

    space = Namespace.from_specs(ns)
    key = derivative(parse("sum(hadamard(g, softmax(o)))", space), "o", space)
    assert check(typed, key, vars=ns).equivalent


def test_the_gradient_through_diag_reads_as_the_notes_would_write_it() -> None:
    from dlquiz.symbolic.derive import derivative

    ns = Namespace.from_specs(["v:3", "w:3", "r:1x3"])
    assert to_notation(derivative(parse("sum(diag(v)@w)", ns), "v", ns)) == "w"
    assert to_notation(derivative(parse("sum(diag(r)@w)", ns), "r", ns)) == "w.T"
    assert to_notation(derivative(parse("sum(3*diag(v)@w)", ns), "v", ns)) == "3*w"
