"""Stress: deep LaTeX, big powers and long chains of definitions end in a verdict or a
one-line reason, never another exception (RecursionError, OverflowError, MemoryError...).

Hypothesis draws the depth, the exponent and the chain length over the ranges fuzzing
found tracebacks in; few examples each, so the file runs in seconds in CI.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlquiz.core.numeric import EvaluationError
from dlquiz.judge import UnusableKey, check
from dlquiz.notation import NotationError, parse
from dlquiz.notation.lexer import MAX_LENGTH

STRESS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (opening, closing) of every construct that nests
NESTERS = [
    ("{", "}"),
    ("\\sqrt{", "}"),
    ("x^{", "}"),
    ("\\frac{1}{", "}"),
    ("\\frac{", "}{2}"),
    ("\\mathrm{", "}"),
    ("\\left(", "\\right)"),
    ("\\left|", "\\right|"),
    ("\\lfloor ", " \\rfloor"),
    ("(", ")"),
    ("[", "]"),
    ("|", "|"),
    ("⌈", "⌉"),
    ("sqrt(", ")"),
    ("-", ""),
    ("x^", ""),
    ("e^{-", "}"),
    ("tanh^2(", ")"),
]


def _verdict_or_reason(answer: str) -> None:
    # (NumPy's RuntimeWarnings are kept off stderr by the command line, which
    # tests/judge/test_hostile.py checks in a real process.)
    try:
        parse(answer)
    except NotationError as exc:
        assert "\n" not in str(exc)
    verdict = check(answer, "x")
    assert verdict.feedback
    try:
        check("x", answer)
    except UnusableKey as exc:
        assert str(exc)


@STRESS
@given(st.sampled_from(NESTERS), st.integers(1, 1200), st.sampled_from(["x", "1", "x_{m+1}"]))
def test_deep_nesting_ends_in_a_verdict_or_a_reason(nester, depth: int, core: str) -> None:
    opening, closing = nester
    text = (opening * depth + core + closing * depth)[: MAX_LENGTH + 10]
    _verdict_or_reason(text)


@STRESS
@given(
    st.sampled_from(["1e30", "-1e30", "10", "2", "1.5", "1e-30", "0", "x", "(x+1)", "tanh(x)"]),
    st.integers(-3000, 3000),
    st.sampled_from(["{}^{}", "{}**{}", "{}^{{{}}}", "({})^({})", "tanh^{1}({0})"]),
)
def test_big_powers_end_in_a_verdict_or_a_reason(base: str, exponent: int, form: str) -> None:
    _verdict_or_reason(form.format(base, exponent))


@STRESS
@given(st.integers(1, 16), st.sampled_from(["1e30", "2", "x"]))
def test_towers_of_powers_end_in_a_verdict_or_a_reason(height: int, base: str) -> None:
    _verdict_or_reason("^".join([base] * height))
    _verdict_or_reason("*".join([base] * (height * 4)))


CHAINS = ["{0}+{0}", "{0}*{0}", "{0}-{0}", "{0}^2+1", "sigmoid({0})", "({0})@({0})", "-{0}"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 400), st.sampled_from(CHAINS), st.booleans())
def test_long_chains_of_definitions_end_in_a_verdict_or_a_reason(
    length: int, form: str, use_all: bool
) -> None:
    definitions = {}
    for i in range(length):
        previous = "x" if i == 0 else f"a{i - 1}"
        definitions[f"a{i}"] = form.format(previous)
    answer = "+".join(list(definitions)[-50:]) if use_all else f"a{length - 1}"
    try:
        verdict = check(answer, "x", definitions=definitions)
    except UnusableKey as exc:
        assert "too large" in str(exc) or "too deeply nested" in str(exc)
        return
    assert verdict.feedback


@STRESS
@given(st.integers(1, 1300), st.sampled_from([" ", "\n", "  "]))
def test_long_number_brackets_end_in_a_verdict_or_a_reason(count: int, gap: str) -> None:
    _verdict_or_reason("[" + gap.join(["-1"] * count) + "]")


def test_a_deepening_chain_is_refused_by_the_depth_bound() -> None:
    from dlquiz.core import expr as E

    a = E.sym("x")
    for i in range(300):
        try:
            a = E.substitute(E.add(E.power(E.sym("t"), E.num(2)), E.ONE), {"t": a})
        except EvaluationError as exc:
            assert "too deeply nested" in str(exc)
            assert E.tree_depth(a) > E.MAX_SUBSTITUTED_DEPTH - 3
            return
        assert E.tree_depth(a) == 2 * i + 3
    raise AssertionError("the deepening chain was never refused")


def test_a_doubling_chain_is_refused_by_the_substitution_bound() -> None:
    from dlquiz.core import expr as E

    a = E.add(E.sym("x"), E.sym("x"))
    mapping = {}
    for i in range(30):
        mapping[f"a{i}"] = a
        try:
            a = E.substitute(E.add(E.sym(f"a{i}"), E.sym(f"a{i}")), mapping)
        except EvaluationError as exc:
            assert "too large" in str(exc)
            assert i >= 15  # 2^16 terms are fine, and nothing near 2^30 is ever built
            return
    raise AssertionError("the doubling chain was never refused")
