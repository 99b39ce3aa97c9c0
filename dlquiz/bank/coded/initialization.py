"""Initialization: the variance of a layer's output and gradient, and the Xavier sigma.

Under the notes' assumptions (independent zero-mean inputs x ~ N(0, I), weights
w ~ N(0, sigma^2 I) independent of them, nonlinearities ignored) a linear layer gives
Var(o_i) = n_in sigma^2 Var(x) forward and Var(dL/dx_j) = n_out sigma^2 Var(dL/do)
backward; Xavier takes sigma^2 = 2 / (n_in + n_out) to balance the two. Keys are exact
(fractions, or SymPy for the symbolic family); they are verified by Monte Carlo with the
engine (its batched matmul, its autograd, its ``init.xavier_*``) within a stated
statistical tolerance: five standard errors of the estimate, the standard error itself
estimated from the samples (a fixed seed, so a verdict never flickers).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.bank.template.montecarlo import mc_backward, mc_forward
from dlquiz.core.numbers import fmt


def _superscript(n: int) -> str:
    """3 as ³, for a power written in prose."""
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


# --- the variance as a formula ---------------------------------------------------------------


@dataclass(frozen=True)
class _Formula:
    direction: str  # forward, backward or two-layer
    dist: str  # normal (sigma) or uniform (a)
    c: Fraction  # Var(x_j), or Var of the upstream gradient's entries
    var_b: Fraction  # Var(b_i), 0 without a bias


_C = (1, 2, 3, 4, 5, 6, 9, Fraction(1, 2), Fraction(1, 4))
_BIAS = (0, Fraction(1, 4), Fraction(1, 2), 1, 2)


def _namespace(p: _Formula):  # type: ignore[no-untyped-def]
    from dlquiz.core.vars import Namespace

    specs = ["n_in:positive", "n_out:positive"]
    if p.direction == "two-layer":
        specs.append("n_h:positive")
    specs.append("sigma:positive" if p.dist == "normal" else "a:positive")
    return Namespace.from_specs(specs)


@lru_cache(maxsize=64)
def _derive_formula(p: _Formula) -> str:
    """The key by SymPy, in the notation: Var(w) (an integral for the uniform law), then sums.

    For independent zero-mean terms Var(sum_j w_j x_j + b) = sum_j Var(w_j) Var(x_j) + Var(b);
    SymPy sums the n equal terms.
    """
    import sympy as sp

    from dlquiz.core.printing import to_notation
    from dlquiz.symbolic.bridge import Bridge

    bridge = Bridge(_namespace(p))
    w, j = sp.Symbol("w", real=True), sp.Symbol("j", integer=True, positive=True)
    if p.dist == "normal":
        var_w = bridge.symbol("sigma") ** 2
    else:
        a = bridge.symbol("a")
        var_w = sp.integrate(w**2 / (2 * a), (w, -a, a))  # E[w^2] under U(-a, a)
    c = sp.Rational(p.c.numerator, p.c.denominator)
    var_b = sp.Rational(p.var_b.numerator, p.var_b.denominator)
    n_in, n_out = bridge.symbol("n_in"), bridge.symbol("n_out")
    if p.direction == "forward":
        key = sp.summation(var_w * c, (j, 1, n_in)) + var_b
    elif p.direction == "backward":
        key = sp.summation(var_w * c, (j, 1, n_out))  # the bias does not reach dL/dx
    else:
        hidden = sp.summation(var_w * c, (j, 1, n_in)) + var_b
        key = sp.summation(var_w * hidden, (j, 1, bridge.symbol("n_h"))) + var_b
    return to_notation(bridge.from_sympy(sp.expand(key)))


def _variance_text(
    p: _Formula,
    *,
    fans: tuple[str, ...] | None = None,
    var_w: str | None = None,
    c: str | None = None,
    bias: bool | None = None,
) -> str:
    """A variance formula in the notation, built the way a student writes it.

    The defaults give the right formula; each keyword makes one known mistake (a wrong fan,
    sigma for sigma^2, a^2 for a^2/3, Var(x) dropped, the bias dropped or added).
    """
    if fans is None:
        fans = {"forward": ("n_in",), "backward": ("n_out",), "two-layer": ("n_in", "n_h")}[
            p.direction
        ]
    if var_w is None:
        var_w = "sigma^2" if p.dist == "normal" else "a^2/3"
    if c is None:
        c = f"({p.c})"
    if bias is None:
        bias = p.direction != "backward" and p.var_b != 0
    b = f" + {p.var_b}" if bias else ""
    text = c
    for fan in fans:
        text = f"{fan}*({var_w})*({text}){b}"
    return text


@register
class VarianceFormula(Family):
    id = "initialization/variance-formula"
    topic = "initialization"
    title = "Variance of a layer's output or gradient as a formula"
    kind = "expression"
    kinds = dims(
        direction=("forward", "backward", "two-layer"),
        distribution=("normal", "uniform"),
    )

    def question_kind(self, seed: int) -> dict[str, str]:
        p = self.params(seed)
        return {"direction": p.direction, "distribution": p.dist}

    def params(self, seed: int) -> _Formula:
        draw = Draw(self.id, seed)
        return _Formula(
            draw.choice(["forward", "forward", "backward", "two-layer"]),
            draw.choice(["normal", "normal", "uniform"]),
            Fraction(draw.choice(_C)),
            Fraction(draw.choice(_BIAS)),
        )

    def generate(self, seed: int) -> Problem:
        p = self.params(seed)
        ns = _namespace(p)
        key = _derive_formula(p)
        c, vb = fmt(p.c, 6), fmt(p.var_b, 6)
        law = "N(0, $sigma^2$)" if p.dist == "normal" else "the uniform distribution U($-a$, $a$)"
        bias = f"a bias with independent entries of mean 0 and variance {vb}" if p.var_b else ""
        note = "Ignore nonlinearities, as the notes do."
        if p.direction == "forward":
            statement = (
                "A fully connected layer $o = W@x + b$ maps $n_in$ inputs to $n_out$ outputs. "
                f"Its weights are drawn independently from {law}; "
                f"{'it has ' + bias if p.var_b else 'it has no bias'}. The inputs are "
                f"independent of the parameters, with mean 0 and variance {c}. {note} "
                "Give Var(o_i), the variance of one output, as a formula"
            )
        elif p.direction == "backward":
            statement = (
                "A fully connected layer $o = W@x + b$ maps $n_in$ inputs to $n_out$ outputs. "
                f"Its weights are drawn independently from {law}; "
                f"{'it has ' + bias if p.var_b else 'it has no bias'}. During "
                "backpropagation the upstream gradient g = dL/do has independent entries of "
                f"mean 0 and variance {c}, independent of the weights, and ∂L/∂x = Wᵀ g. "
                f"{note} Give the variance of one entry of dL/dx as a formula"
            )
        else:
            statement = (
                "Two fully connected layers map $n_in$ inputs to $n_h$ hidden units and those to "
                f"$n_out$ outputs. Every weight is drawn independently from {law}; "
                f"{'each layer has ' + bias if p.var_b else 'neither layer has a bias'}. The "
                f"inputs are independent of the parameters, with mean 0 and variance {c}. "
                f"{note} Give the variance of one output of the second layer as a formula"
            )
        names = ["$n_in$", "$n_out$"] + (["$n_h$"] if p.direction == "two-layer" else [])
        names.append("$sigma$" if p.dist == "normal" else "$a$")
        statement += f" in {', '.join(names)}."
        raw_w = "sigma" if p.dist == "normal" else "a^2"
        fan = {"forward": "n_in", "backward": "n_out", "two-layer": "n_in"}[p.direction]
        candidates: list[tuple[str, str | None, str]] = [
            (
                "sigma-not-squared" if p.dist == "normal" else "uniform-variance",
                _variance_text(p, var_w=raw_w),
                "A weight's variance is sigma², not sigma."
                if p.dist == "normal"
                else "The variance of U(-a, a) is a²/3 (the integral of w²/(2a) from -a to a), "
                "not a².",
            ),
            (
                "input-variance-ignored",
                _variance_text(p, c="1") if p.c != 1 else None,
                f"Each product w·x has variance Var(w)·Var(x), and the input variance is {c}."
                if p.direction != "backward"
                else f"Each product W_ij g_i has variance Var(W)·Var(g), and Var(g) = {c}.",
            ),
        ]
        if p.direction == "two-layer":
            candidates += [
                (
                    "single-layer",
                    _variance_text(p, fans=("n_in",)),
                    "That is the hidden units' variance; the second layer multiplies it by "
                    "n_h·Var(w) (and adds its bias).",
                ),
                (
                    "wrong-fan",
                    _variance_text(p, fans=("n_in", "n_out")),
                    "The second layer's outputs sum over its n_h inputs, not over n_out.",
                ),
            ]
        else:
            other = "n_out" if p.direction == "forward" else "n_in"
            candidates += [
                (
                    "missing-fan",
                    _variance_text(p, fans=("1",)),
                    f"Each entry sums {fan} independent terms (the layer's "
                    f"{'fan-in' if fan == 'n_in' else 'fan-out'}): their variances add up.",
                ),
                (
                    "wrong-fan",
                    _variance_text(p, fans=(other,)),
                    "Forward, o_i sums over the n_in inputs; backward, entry j of ∂L/∂x, "
                    "Σ_i W_ij g_i, sums over the n_out outputs.",
                ),
            ]
        if p.var_b:
            backward = p.direction == "backward"
            candidates.append(
                (
                    "bias-in-backward" if backward else "bias-ignored",
                    _variance_text(p, bias=backward),
                    "The bias does not depend on x: it contributes nothing to dL/dx."
                    if backward
                    else "The bias is independent of W x, so its variance adds.",
                )
            )
        mistakes = _distinct_formulas(key, candidates, ns)
        var_w_text = (
            "$sigma^2$" if p.dist == "normal" else "$a^2/3$ (the integral of w²/(2a) over (-a, a))"
        )
        plus_b = f", and the bias adds {vb}" if p.var_b else ""
        solution = {
            "forward": (
                f"o_i = Σ_j W_ij x_j + b_i. The $n_in$ products are independent with mean 0 and "
                f"Var(W_ij x_j) = Var(W_ij) Var(x_j), with Var(W_ij) = {var_w_text} and "
                f"Var(x_j) = {c}. Variances of independent terms add{plus_b}."
            ),
            "backward": (
                f"Entry j of ∂L/∂x, Σ_i W_ij g_i, sums $n_out$ independent zero-mean products, "
                "each "
                f"of variance Var(W_ij) Var(g_i), with Var(W_ij) = {var_w_text} and "
                f"Var(g_i) = {c}: backward the sum runs over the outputs (the fan-out)"
                + (", and the bias plays no part in dL/dx." if p.var_b else ".")
            ),
            "two-layer": (
                f"Each hidden unit sums $n_in$ independent products of variance Var(w)·{c}, "
                f"with Var(w) = {var_w_text}{plus_b}. The second layer sums $n_h$ independent "
                "products of a weight and a hidden unit, multiplying that variance by "
                f"$n_h$·Var(w){plus_b.replace(', and the bias adds', ' and adding')}."
            ),
        }[p.direction]
        return self.problem(
            seed,
            statement=statement,
            answer=key,
            ns=ns,
            hints=[
                "For independent zero-mean w and x, Var(w x) = Var(w) Var(x); variances of "
                "independent terms add.",
                "Count the terms: forward a sum over the fan-in, backward over the fan-out.",
            ],
            solution=f"{solution} So the variance is ${key}$.",
            mistakes=mistakes,
        )

    def verify(self, problem: Problem) -> list[str]:
        """The formula at a concrete point against the engine's Monte Carlo."""
        from dlquiz.core.numeric import evaluate
        from dlquiz.notation import parse

        p = self.params(problem.seed)
        ns = _namespace(p)
        key = parse(problem.answer, ns)
        rng = np.random.default_rng(problem.seed)
        n_in, n_out, n_h = (int(v) for v in rng.integers(3, 13, 3))
        scale = float(rng.uniform(0.15, 0.45))
        values = {"n_in": n_in, "n_out": n_out, "n_h": n_h, "sigma": scale, "a": scale}
        env = {k: np.full((1, 1, 1), float(v)) for k, v in values.items() if k in ns}
        value = float(evaluate(key, env, 1)[0, 0, 0])
        var_w = scale**2 if p.dist == "normal" else scale**2 / 3
        c, vb = float(p.c), float(p.var_b)
        seed = problem.seed
        if p.direction == "forward":
            est = mc_forward([n_in, 1], var_w, c, var_b=vb, dist=p.dist, seed=seed)
        elif p.direction == "backward":
            est = mc_backward(n_in, n_out, var_w, c, dist=p.dist, seed=seed)
        else:
            est = mc_forward([n_in, n_h, 1], var_w, c, var_b=vb, dist=p.dist, seed=seed)
        if not est.agrees(value):
            where = f"n_in={n_in}, n_out={n_out}, n_h={n_h}, scale={scale:.3f}"
            return [f"at {where}: {est.describe(value)}"]
        return []


def _distinct_formulas(key: str, candidates, ns) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The mistakes that differ from the key and from each other (exactly, by SymPy)."""
    import sympy as sp

    from dlquiz.bank.render import parse_math
    from dlquiz.core.printing import to_notation
    from dlquiz.symbolic.bridge import Bridge

    bridge = Bridge(ns)
    seen = [bridge.to_sympy(parse_math(key, ns.copy()))]
    out = []
    for tag, text, feedback in candidates:
        if text is None:
            continue
        expr = parse_math(text, ns.copy())
        s = bridge.to_sympy(expr)
        if all(sp.expand(s - t) != 0 for t in seen):
            seen.append(s)
            out.append({"tag": tag, "answer": to_notation(expr), "feedback": feedback})
    return out
