"""Optimizers: momentum and Adam step by step, and their recursions unrolled.

Momentum is the notes' rule v_t <- beta v_{t-1} + g_t, theta_t <- theta_{t-1} - eta v_t,
which is also PyTorch's ``SGD(momentum=beta)`` (dampening 0). Adam is PyTorch's (and the
notes', corrected): v_t = beta_1 v_{t-1} + (1 - beta_1) g_t, s_t = beta_2 s_{t-1} +
(1 - beta_2) g_t^2, hats divide by 1 - beta^t, and theta_t = theta_{t-1} -
eta vhat_t / (sqrt(shat_t) + eps). The notes write that update as g_t = eta v_t /
(sqrt(shat_t) + eps): v_t should carry its hat and g_t names the gradient, not the update;
every Adam problem uses the correct form and its solution says so.

Numeric keys come from the engine's optimisers and are verified by exact arithmetic
(fractions, or SymPy where Adam takes a square root); unrolled recursions are derived by
SymPy and verified against the engine optimisers' own state at random gradients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import fmt
from dlquiz.core.vars import Namespace

Number = Fraction | int

_ADAM_SLIP = (
    "(The notes write this update as $g_t = eta*v_t/(sqrt(shat_t) + epsilon)$: the first "
    "moment needs its bias-corrected hat, $vhat_t$, and $g_t$ is the gradient, not the update.)"
)


# --- unrolled recursions (expressions) --------------------------------------------------
UNROLL_BETAS: tuple[Fraction | str, ...] = (
    Fraction(1, 10),
    Fraction(1, 5),
    Fraction(1, 4),
    Fraction(3, 10),
    Fraction(2, 5),
    Fraction(1, 2),
    Fraction(3, 5),
    Fraction(7, 10),
    Fraction(3, 4),
    Fraction(4, 5),
    Fraction(9, 10),
    Fraction(19, 20),
    Fraction(99, 100),
    "beta",
)


def _notation(s: sp.Expr, ns: Namespace) -> str:
    """A SymPy result back in the answer notation."""
    from dlquiz.core.printing import to_notation
    from dlquiz.symbolic.bridge import Bridge

    return to_notation(Bridge(ns).from_sympy(s))


def _parse_key(text: str, ns: Namespace):  # type: ignore[no-untyped-def]
    from dlquiz.judge.core import parse_key

    return parse_key(text, ns.copy())


def _sample_points(names: Sequence[str], k: int, rng: np.random.Generator) -> dict:
    return {n: rng.uniform(-2.0, 2.0, size=(k, 1, 1)) for n in names}


@dataclass(frozen=True)
class _Unroll:
    quantity: str
    t: int
    beta: Fraction | str

    @property
    def symbolic(self) -> bool:
        return isinstance(self.beta, str)

    def names(self) -> list[str]:
        if self.quantity in ("v-const", "theta-const"):
            base = ["g"]
        else:
            base = [f"g{k}" for k in range(1, self.t + 1)]
        if self.quantity.startswith("theta"):
            base += ["theta0", "eta"]
        return [*base, "beta"] if self.symbolic else base

    def namespace(self) -> Namespace:
        return Namespace.from_specs(dict.fromkeys(self.names(), ""))


@register
class MomentumUnrolled(Family):
    id = "optimizers/momentum-unrolled"
    topic = "optimizers"
    title = "The momentum velocity unrolled over steps"
    kind = "expression"
    kinds = dims(quantity=("v", "theta", "v-const", "theta-const"))

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"quantity": self.setup(seed).quantity}

    def setup(self, seed: int) -> _Unroll:
        draw = Draw(self.id, seed)
        quantity = draw.choice(["v", "theta", "v-const", "theta-const"])
        t = draw.integer(2, 4) if quantity == "theta" else draw.integer(2, 5)
        return _Unroll(quantity, t, draw.choice(UNROLL_BETAS))

    def derive(self, u: _Unroll, ns: Namespace, *, variant: str = "correct") -> sp.Expr:
        """Run the recursion on SymPy symbols (the key), or a mistaken version of it."""
        from dlquiz.symbolic.bridge import Bridge

        bridge = Bridge(ns)
        beta = (
            bridge.symbol("beta")
            if u.symbolic
            else sp.Rational(u.beta.numerator, u.beta.denominator)
        )  # type: ignore[union-attr]
        const = u.quantity.endswith("const")
        grads = [bridge.symbol("g") if const else bridge.symbol(f"g{k}") for k in range(1, u.t + 1)]
        v: sp.Expr = sp.S.Zero
        total: sp.Expr = sp.S.Zero
        for k, g in enumerate(grads, start=1):
            if variant == "reversed-powers":
                v = sum((beta ** (j - 1) * grads[j - 1] for j in range(1, k + 1)), sp.S.Zero)
            elif variant == "ema-form":
                v = beta * v + (1 - beta) * g
            elif variant == "no-decay":
                v = v + g
            elif variant == "no-momentum":
                v = g
            else:
                v = beta * v + g
            total = total + v
        if variant == "one-too-many":
            v = beta * v + grads[-1]
        if u.quantity.startswith("v"):
            return sp.expand(v)
        theta0, eta = bridge.symbol("theta0"), bridge.symbol("eta")
        if variant == "last-velocity-only":
            return theta0 - eta * sp.expand(v)
        if variant == "sign":
            return theta0 + eta * sp.expand(total)
        return theta0 - eta * sp.expand(total)

    def mistake_variants(self, u: _Unroll) -> list[tuple[str, str]]:
        if u.quantity == "v":
            return [
                (
                    "reversed-powers",
                    "The newest gradient has weight 1 and older ones decay: g_k gets βᵗ⁻ᵏ, "
                    "so g₁ carries the highest power.",
                ),
                (
                    "ema-form",
                    "That is the averaging form with (1 - β) g; the notes' velocity adds the "
                    "whole gradient: v_t = β v + g_t, with v the previous velocity.",
                ),
            ]
        if u.quantity == "v-const":
            return [
                (
                    "no-decay",
                    "The velocity decays: each step multiplies the old velocity by β before "
                    "adding g, so v_t = (1 + β + ... + βᵗ⁻¹) g.",
                ),
                (
                    "one-too-many",
                    "One term too many: with v_0 = 0 the sum has t terms, β⁰ to βᵗ⁻¹.",
                ),
                ("ema-form", "The notes' velocity adds the whole gradient, not (1 - β) g."),
            ]
        return [
            (
                "last-velocity-only",
                "θ moves by η v at every step, so θ_t = θ₀ - η (v₁ + ... + v_t), not θ₀ - η v_t.",
            ),
            (
                "no-momentum",
                "That is plain gradient descent: each step moves by η v_k, where v_k keeps "
                "β times the previous velocity.",
            ),
            ("sign", "Descent subtracts: θ_t = θ - η v_t, with θ the previous value."),
        ]

    def generate(self, seed: int) -> Problem:
        u = self.setup(seed)
        ns = u.namespace()
        key = self.derive(u, ns)
        beta_text = (
            "a momentum coefficient $beta$" if u.symbolic else f"$beta = {fmt(u.beta)}$"  # type: ignore[arg-type]
        )
        const = u.quantity.endswith("const")
        grads = (
            "the same gradient $g$ at every step"
            if const
            else "gradients " + ", ".join(f"$g_{k}$" for k in range(1, u.t + 1)) + " at steps 1 "
            f"to {u.t}"
        )
        target = f"$v_{u.t}$" if u.quantity.startswith("v") else f"$theta_{u.t}$"
        in_terms = ["g"] if const else [f"g_{k}" for k in range(1, u.t + 1)]
        if u.quantity.startswith("theta"):
            in_terms = ["theta_0", "eta", *in_terms]
        if u.symbolic:
            in_terms.append("beta")
        statement = (
            f"Gradient descent with momentum uses the notes' rule $v_t <- beta*v + g_t$ and "
            f"$theta_t <- theta - eta*v_t$ ($v$ and $theta$ on the right are the previous step's "
            f"values), with $v_0 = 0$, {beta_text}, a learning rate $eta$ and {grads}, "
            f"starting at $theta_0$. Write {target} in terms of "
            + ", ".join(f"${n}$" for n in in_terms)
            + " (an exact expression; numbers may stay unsimplified, e.g. 0.9²)."
        )
        steps = []
        for k in range(1, u.t + 1):
            vk = self.derive(_Unroll(u.quantity.replace("theta", "v"), k, u.beta), ns)
            steps.append(f"$v_{k} = {_notation(vk, ns)}$")
        if u.quantity.startswith("theta"):
            tail = (
                f"Each step subtracts $eta$ times its velocity, so $theta_{u.t} = theta_0 - eta*("
                + " + ".join(f"v_{k}" for k in range(1, u.t + 1))
                + f")$, which is ${_notation(key, ns)}$."
            )
        else:
            tail = (
                f"So $v_{u.t} = {_notation(key, ns)}$: the gradient of step k is weighted by "
                f"$beta$ to the power ${u.t} - k$, so older gradients fade geometrically."
            )
        solution = (
            "Unroll the recursion from $v_0 = 0$: "
            + "; ".join(steps)
            + ".\n"
            + tail
            + "\nPyTorch's SGD(momentum=beta) follows the same rule, so its velocity buffer holds "
            "exactly these values."
        )
        mistakes = []
        for tag, feedback in self.mistake_variants(u):
            wrong = self.derive(u, ns, variant=tag)
            if sp.expand(wrong - key) != 0:
                mistakes.append({"tag": tag, "answer": _notation(wrong, ns), "feedback": feedback})
        return self.problem(
            seed,
            statement=statement,
            answer=_notation(key, ns),
            ns=ns,
            hints=[
                "Write out $v_1$, $v_2$, ... one at a time: each is β times the previous "
                "velocity plus the new gradient.",
                "$v_1 = g_1$ because $v_0 = 0$."
                if not const
                else "With a constant gradient the velocity is a geometric sum: "
                "$v_2 = (1 + beta)*g$, and each step adds the next power of β.",
            ],
            solution=solution,
            mistakes=mistakes,
        )

    def verify(self, problem: Problem) -> list[str]:
        """The key against the engine's SGD with momentum fed the same gradients."""
        from dlquiz.core.numeric import evaluate
        from dlquiz.engine import Tensor, optim

        u = self.setup(problem.seed)
        ns = u.namespace()
        key = _parse_key(problem.answer, ns)
        rng = np.random.default_rng(problem.seed)
        points = 4
        env = _sample_points(u.names(), points, rng)
        if u.symbolic:
            env["beta"] = rng.uniform(0.1, 0.95, size=(points, 1, 1))
        if "eta" in env:
            env["eta"] = rng.uniform(0.01, 0.5, size=(points, 1, 1))
        got = evaluate(key, env, points)[:, 0, 0]
        failures = []
        for i in range(points):
            beta = float(env["beta"][i, 0, 0]) if u.symbolic else float(u.beta)  # type: ignore[arg-type]
            eta = float(env["eta"][i, 0, 0]) if "eta" in env else 0.1
            theta0 = float(env["theta0"][i, 0, 0]) if "theta0" in env else 0.0
            p = Tensor(np.array([theta0]), requires_grad=True)
            opt = optim.SGD([p], lr=eta, momentum=beta)
            for k in range(1, u.t + 1):
                name = "g" if u.quantity.endswith("const") else f"g{k}"
                p.grad = np.array([env[name][i, 0, 0]])
                opt.step()
            velocity = opt.velocity[0]
            assert velocity is not None
            engine = float(velocity[0]) if u.quantity.startswith("v") else float(p.data[0])
            if not math.isclose(got[i], engine, rel_tol=1e-8, abs_tol=1e-12):
                failures.append(f"at point {i} the key gives {got[i]}, the engine {engine}")
        return failures


ADAM_UNROLL_B1 = tuple(Fraction(n, 100) for n in (50, 60, 70, 75, 80, 85, 90, 95))
ADAM_UNROLL_B2 = (
    Fraction(9, 10),
    Fraction(95, 100),
    Fraction(98, 100),
    Fraction(99, 100),
    Fraction(999, 1000),
)


@register
class AdamBiasCorrection(Family):
    id = "optimizers/adam-bias-correction"
    topic = "optimizers"
    title = "Adam's moments and their bias-corrected estimates, unrolled"
    kind = "expression"
    kinds = dims(quantity=("vhat", "shat", "v", "s", "vhat-const"))

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"quantity": self.setup(seed)[0]}

    def setup(self, seed: int) -> tuple[str, int, Fraction, Fraction]:
        draw = Draw(self.id, seed)
        quantity = draw.choice(["vhat", "shat", "v", "s", "vhat-const"])
        return (
            quantity,
            draw.integer(2, 4),
            draw.choice(ADAM_UNROLL_B1),
            draw.choice(ADAM_UNROLL_B2),
        )

    @staticmethod
    def names(quantity: str, t: int) -> list[str]:
        return ["g"] if quantity.endswith("const") else [f"g{k}" for k in range(1, t + 1)]

    def derive(
        self, quantity: str, t: int, b1: Fraction, b2: Fraction, ns: Namespace, variant: str = ""
    ) -> sp.Expr:
        """The moment by running Adam's recursion on SymPy symbols (or a mistaken version)."""
        from dlquiz.symbolic.bridge import Bridge

        bridge = Bridge(ns)
        second = quantity.startswith("s")
        beta = sp.Rational((b2 if second else b1).numerator, (b2 if second else b1).denominator)
        if variant == "wrong-beta":
            other = b1 if second else b2
            beta = sp.Rational(other.numerator, other.denominator)
        m: sp.Expr = sp.S.Zero
        for k in range(1, t + 1):
            g = bridge.symbol("g") if quantity.endswith("const") else bridge.symbol(f"g{k}")
            feed = g * g if second and variant != "not-squared" else g
            if variant == "momentum-form":
                m = beta * m + feed
            else:
                m = beta * m + (1 - beta) * feed
        if "hat" in quantity and variant != "no-bias-correction":
            power = t - 1 if variant == "wrong-power" else t
            m = m / (1 - beta**power)
        return sp.factor(sp.expand(m)) if quantity.endswith("const") else sp.expand(m)

    def mistake_tags(self, quantity: str) -> list[tuple[str, str]]:
        common = {
            "no-bias-correction": "The bias correction is missing: divide by 1 - βᵗ (the moments "
            "start at 0, so without it they are too small early on).",
            "wrong-power": "The correction at step t divides by 1 - βᵗ, with the power t of "
            "the current step.",
            "momentum-form": "Adam's moments are averages: each new term carries a factor (1 - β).",
            "not-squared": "The second moment averages the squared gradients g_k².",
            "wrong-beta": "The first moment uses β₁, the second moment β₂.",
        }
        tags = {
            "vhat": ["no-bias-correction", "wrong-power", "momentum-form"],
            "shat": ["no-bias-correction", "not-squared", "wrong-beta"],
            "v": ["momentum-form", "wrong-beta"],
            "s": ["not-squared", "wrong-beta", "momentum-form"],
            "vhat-const": ["no-bias-correction", "wrong-power"],
        }[quantity]
        return [(t, common[t]) for t in tags]

    def generate(self, seed: int) -> Problem:
        quantity, t, b1, b2 = self.setup(seed)
        names = self.names(quantity, t)
        ns = Namespace.from_specs(dict.fromkeys(names, ""))
        key = self.derive(quantity, t, b1, b2, ns)
        symbol = {"vhat": "vhat", "shat": "shat", "v": "v", "s": "s", "vhat-const": "vhat"}
        target = f"${symbol[quantity]}_{t}$"
        const = quantity.endswith("const")
        grads = (
            "receives the same gradient $g$ at every step"
            if const
            else "receives the gradients " + ", ".join(f"$g_{k}$" for k in range(1, t + 1))
        )
        which = {
            "vhat": "the bias-corrected first moment",
            "shat": "the bias-corrected second moment",
            "v": "the first moment (no bias correction)",
            "s": "the second moment (no bias correction)",
            "vhat-const": "the bias-corrected first moment",
        }[quantity]
        statement = (
            f"A scalar parameter trained with Adam ($beta_1 = {fmt(b1)}$, "
            f"$beta_2 = {fmt(b2)}$) {grads}. Its moments start at $v_0 = 0$ and $s_0 = 0$ "
            "and follow $v_t <- beta_1*v + (1 - beta_1)*g_t$, "
            "$s_t <- beta_2*s + (1 - beta_2)*g_t^2$, with the bias-corrected estimates "
            "$vhat_t = v_t/(1 - beta_1^t)$ and $shat_t = s_t/(1 - beta_2^t)$. "
            f"Write {which}, {target}, in terms of "
            + ", ".join(f"${n}$" for n in (["g"] if const else [f"g_{k}" for k in range(1, t + 1)]))
            + " (an exact expression; numbers may stay unsimplified, e.g. 0.1*0.9)."
        )
        beta_used = b2 if quantity.startswith("s") else b1
        beta_name = "beta_2" if quantity.startswith("s") else "beta_1"
        unrolled = (
            self.derive(quantity.replace("hat", "").replace("-const", ""), t, b1, b2, ns)
            if not const
            else None
        )
        explain = (
            f"Unrolling from 0, each gradient enters once with a factor $(1 - {beta_name})$ and "
            f"decays by ${beta_name} = {fmt(beta_used)}$ per later step"
        )
        if const:
            powers = " + ".join(["1", "beta_1"] + [f"beta_1^{k}" for k in range(2, t)])
            explain = (
                f"With a constant gradient, $v_{t} = (1 - beta_1)*({powers})*g$, a geometric "
                f"sum equal to $(1 - beta_1^{t})*g$"
            )
        elif unrolled is not None:
            explain += f": ${symbol[quantity].replace('hat', '')}_{t} = {_notation(unrolled, ns)}$"
        correction = (
            f". Dividing by $1 - {beta_name}^{t} = {fmt(1 - beta_used**t)}$ gives "
            f"${symbol[quantity]}_{t} = {_notation(key, ns)}$: the weights now add up to 1, so "
            "the estimate is no longer biased towards the zero start."
            if "hat" in quantity
            else f". So ${symbol[quantity]}_{t} = {_notation(key, ns)}$; its weights add up to "
            f"only $1 - {beta_name}^{t}$, which is why Adam divides by it."
        )
        solution = explain + correction + "\n" + _ADAM_SLIP
        mistakes = []
        for tag, feedback in self.mistake_tags(quantity):
            wrong = self.derive(quantity, t, b1, b2, ns, variant=tag)
            if sp.expand(wrong - key) != 0:
                mistakes.append({"tag": tag, "answer": _notation(wrong, ns), "feedback": feedback})
        return self.problem(
            seed,
            statement=statement,
            answer=_notation(key, ns),
            ns=ns,
            hints=[
                "Unroll the recursion one step at a time from zero: "
                + (
                    "$s_1 = (1 - beta_2)*g_1^2$."
                    if quantity.startswith("s")
                    else "$v_1 = (1 - beta_1)*g_1$."
                    if not const
                    else "$v_1 = (1 - beta_1)*g$."
                ),
                "The hat divides by $1 - beta^t$ for the current step t."
                if "hat" in quantity
                else "Each older gradient is multiplied by β once more per later step.",
            ],
            solution=solution,
            mistakes=mistakes,
        )

    def verify(self, problem: Problem) -> list[str]:
        """The key against the moments the engine's Adam keeps, fed the same gradients."""
        from dlquiz.core.numeric import evaluate
        from dlquiz.engine import Tensor, optim

        quantity, t, b1, b2 = self.setup(problem.seed)
        names = self.names(quantity, t)
        ns = Namespace.from_specs(dict.fromkeys(names, ""))
        key = _parse_key(problem.answer, ns)
        rng = np.random.default_rng(problem.seed)
        points = 4
        env = _sample_points(names, points, rng)
        got = evaluate(key, env, points)[:, 0, 0]
        failures = []
        for i in range(points):
            p = Tensor(np.array([0.5]), requires_grad=True)
            opt = optim.Adam([p], lr=0.1, betas=(float(b1), float(b2)))
            for k in range(1, t + 1):
                name = "g" if quantity.endswith("const") else f"g{k}"
                p.grad = np.array([env[name][i, 0, 0]])
                opt.step()
            m, v = opt.m[0], opt.v[0]
            assert m is not None and v is not None
            raw = float(v[0]) if quantity.startswith("s") else float(m[0])
            beta = float(b2) if quantity.startswith("s") else float(b1)
            engine = raw / (1.0 - beta**t) if "hat" in quantity else raw
            if not math.isclose(got[i], engine, rel_tol=1e-8, abs_tol=1e-12):
                failures.append(f"at point {i} the key gives {got[i]}, the engine {engine}")
        return failures
