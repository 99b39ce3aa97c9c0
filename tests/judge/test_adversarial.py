"""Wrong answers that agree with the key almost everywhere are never accepted.

Generated, not hand-picked: a random expression e defined on all the reals (polynomials
and compositions of exp, sigmoid, tanh and relu that do not overflow for |x| <= 1000),
and a perturbation larger than the tolerance on an interval somewhere inside
|x| <= 1000 — a ramp ``e + relu(x - c)``, a switch to another expression past a
threshold, a narrow bump. The judge must reject every one, and accept the same
expressions rewritten without a perturbation.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlquiz.judge import check

coefficient = st.integers(-3, 3).filter(lambda c: c != 0)


@st.composite
def polynomial(draw: st.DrawFn) -> str:
    """A polynomial of degree at most 3 with small integer coefficients."""
    terms = []
    for power in range(draw(st.integers(0, 3)) + 1):
        c = draw(st.integers(-3, 3))
        if c:
            terms.append(f"({c})*x^{power}")
    return " + ".join(terms) or "x"


@st.composite
def bounded(draw: st.DrawFn) -> str:
    """Something between -1 and 1 whatever x is: sigmoid or tanh of a polynomial."""
    f = draw(st.sampled_from(["sigmoid", "tanh"]))
    inner = draw(polynomial())
    scale = draw(st.sampled_from(["1", "1/10", "1/1000"]))
    return f"{f}(({scale})*({inner}))"


@st.composite
def smooth(draw: st.DrawFn) -> str:
    """e: defined and of moderate size (no overflow) for every |x| <= 1000."""
    parts = draw(
        st.lists(
            st.one_of(
                polynomial(),
                bounded(),
                bounded().map(lambda b: f"exp({b})"),
                polynomial().map(lambda p: f"relu({p})"),
                st.tuples(coefficient, bounded()).map(lambda t: f"({t[0]})*x*{t[1]}"),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return " + ".join(f"({p})" for p in parts)


threshold = st.integers(-999, 999)


@st.composite
def perturbed(draw: st.DrawFn) -> tuple[str, str]:
    """(e, a wrong answer that equals e except on an interval inside |x| <= 1000)."""
    e = draw(smooth())
    c = draw(threshold)
    kind = draw(st.sampled_from(["ramp", "switch", "bump", "left-ramp"]))
    if kind == "ramp":
        wrong = f"{e} + relu(x - ({c}))"
    elif kind == "left-ramp":
        wrong = f"{e} + relu(({c}) - x)"
    elif kind == "switch":
        other = f"{e} + ({draw(coefficient)})"
        wrong = f"({e})*step(({c}) - x) + ({other})*step(x - ({c}))"
    else:
        width = draw(st.sampled_from(["1/1000", "1/100", "1/10", "1", "10"]))
        height = draw(coefficient)
        wrong = f"{e} + ({height})*(step(x - ({c})) - step(x - ({c}) - {width}))"
    return e, wrong


# DLQUIZ_FUZZ_EXAMPLES raises the count for a long run by hand (CI runs the default).
SETTINGS = settings(
    max_examples=int(os.environ.get("DLQUIZ_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(perturbed())
def test_a_perturbation_on_an_interval_is_never_accepted(pair: tuple[str, str]) -> None:
    e, wrong = pair
    verdict = check(wrong, e, vars=["x"])
    assert not verdict.unusable, verdict.feedback
    assert not verdict.equivalent, (wrong, e, verdict.feedback)


@SETTINGS
@given(smooth(), threshold)
def test_the_same_expression_split_at_a_threshold_is_accepted(e: str, c: int) -> None:
    """The control: e*step(c - x) + e*step(x - c) is e everywhere but at x = c itself."""
    right = (
        f"({e})*step(({c}) - x) + ({e})*step(x - ({c}))"
        f" + ({e})*(1 - step(({c}) - x) - step(x - ({c})))"
    )
    verdict = check(right, e, vars=["x"])
    assert verdict.equivalent, (right, e, verdict.feedback)


@SETTINGS
@given(smooth(), threshold, st.sampled_from(["1/1000", "1/10", "3"]))
def test_a_shifted_threshold_is_never_accepted(e: str, c: int, shift: str) -> None:
    positive = f"(({e})^2 + 1)"  # never 0, so the shift shows wherever it lands
    key = f"{positive}*step(x - ({c}))"
    wrong = f"{positive}*step(x - ({c}) - {shift})"
    verdict = check(wrong, key, vars=["x"])
    assert not verdict.equivalent, (wrong, key, verdict.feedback)
