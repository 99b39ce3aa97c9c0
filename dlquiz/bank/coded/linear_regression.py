"""Linear regression in code: the batch gradient in matrix form and numeric SGD steps.

The symbolic single-example derivations are data (``problems/linear-regression/*.toml``);
these two need code: the batch family's known mistakes depend on the drawn convention
(averaged or summed over the batch), and the SGD family's numbers come from the engine's
optimiser and are checked against exact rational arithmetic of the notes' update rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dlquiz.bank.coded.common import keep_distinct, vector
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import fmt, fmt_key


def _a(n: int) -> str:
    """The article before a spelled number: "an 8-vector", "a 5-vector"."""
    return f"an {n}" if str(n).startswith("8") or n in (11, 18) else f"a {n}"


# --- the batch gradient ----------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    w0: tuple[int, ...]
    b0: int
    examples: tuple[tuple[tuple[int, ...], int], ...]
    eta: Fraction
    half: bool


def _sgd_exact(
    run: _Run,
    *,
    sign: int = 1,
    factor: Fraction = Fraction(1),
    update_bias: bool = True,
    steps: int | None = None,
    stale: bool = False,
) -> list[Fraction]:
    """The notes' update w <- w - eta*dL/dw in exact arithmetic; the options make mistakes.

    ``factor`` multiplies dL/dyhat (a lost or extra 2), ``sign`` = -1 climbs the gradient,
    ``stale`` evaluates every gradient at the starting parameters.
    """
    c = Fraction(1, 2) if run.half else Fraction(1)
    w = [Fraction(v) for v in run.w0]
    b = Fraction(run.b0)
    w_start, b_start = list(w), b
    for x, y in run.examples[: steps if steps is not None else len(run.examples)]:
        at_w, at_b = (w_start, b_start) if stale else (w, b)
        yhat = sum(wi * xi for wi, xi in zip(at_w, x, strict=True)) + at_b
        dyhat = 2 * c * (yhat - y) * factor
        w = [wi - sign * run.eta * dyhat * xi for wi, xi in zip(w, x, strict=True)]
        if update_bias:
            b = b - sign * run.eta * dyhat
    return [*w, b]


def _sgd_engine(run: _Run) -> list[float]:
    """The same steps on the engine: autograd for the gradient, ``optim.SGD`` for the step."""
    from dlquiz.engine import Tensor
    from dlquiz.engine.optim import SGD

    w = Tensor(np.array(run.w0, dtype=float), requires_grad=True)
    b = Tensor(np.array(float(run.b0)), requires_grad=True)
    opt = SGD([w, b], lr=float(run.eta))
    c = 0.5 if run.half else 1.0
    for x, y in run.examples:
        opt.zero_grad()
        yhat = (w * Tensor(np.array(x, dtype=float))).sum() + b
        loss = ((yhat - float(y)) ** 2) * c
        loss.backward()
        opt.step()
    return [*(float(v) for v in w.data), float(b.data)]


@register
class SgdSteps(Family):
    id = "linear-regression/sgd-steps"
    topic = "linear-regression"
    title = "One or two SGD steps of linear regression, in numbers"
    kind = "numbers"
    kinds = dims(steps=("1", "2"), loss=("half", "plain"))

    def question_kind(self, seed: int) -> dict[str, str]:
        run = self.run(seed)
        return {"steps": str(len(run.examples)), "loss": "half" if run.half else "plain"}

    def run(self, seed: int) -> _Run:
        draw = Draw(self.id, seed)
        d = draw.choice([1, 2, 2, 3])
        eta = draw.choice([Fraction(1, 10), Fraction(1, 20), Fraction(1, 5), Fraction(1, 4)])
        half = draw.choice([True, False])
        steps = draw.choice([1, 2, 2])
        while True:
            w0 = tuple(draw.integer(-2, 2) for _ in range(d))
            b0 = draw.integer(-2, 2)
            examples = []
            for _ in range(steps):
                x = tuple(draw.nonzero(-3, 3) for _ in range(d))
                examples.append((x, draw.integer(-5, 5)))
            run = _Run(w0, b0, tuple(examples), eta, half)
            if self._well_posed(run):
                return run

    @staticmethod
    def _well_posed(run: _Run) -> bool:
        """Every step moves (residual not 0) and the numbers stay readable."""
        for k in range(1, len(run.examples) + 1):
            before = _sgd_exact(run, steps=k - 1)
            x, y = run.examples[k - 1]
            residual = sum(wi * xi for wi, xi in zip(before, x, strict=False)) + before[-1] - y
            if residual == 0:
                return False
        return all(abs(v) <= 40 for v in _sgd_exact(run))

    def generate(self, seed: int) -> Problem:
        run = self.run(seed)
        d, steps = len(run.w0), len(run.examples)
        key = _sgd_engine(run)
        names = ["w"] if d == 1 else [f"w_{i + 1}" for i in range(d)]
        order = vector([*names, "b"])
        loss = "1/2*(yhat - y)^2" if run.half else "(yhat - y)^2"
        model = "w*x + b" if d == 1 else "w.T@x + b"
        w_text = str(run.w0[0]) if d == 1 else vector(run.w0)

        def example(i: int) -> str:
            x, y = run.examples[i]
            xs = str(x[0]) if d == 1 else vector(x)
            return f"$x = {xs}$, $y = {y}$"

        if steps == 1:
            data = f"one step on the example {example(0)}"
        else:
            data = f"two steps, first on the example {example(0)}, then on {example(1)}"
        if d == 1:
            intro = f"A linear regression model $yhat = {model}$ starts from $w = {w_text}$"
        else:
            entries = vector([f"x_{i + 1}" for i in range(d)])
            intro = (
                f"A linear regression model with weights $w = {vector(names)}$ takes "
                f"inputs $x = {entries}$ and predicts $yhat = {model}$. "
                f"It starts from $w = {w_text}$"
            )
        statement = (
            f"{intro}, $b = {run.b0}$ and is trained by stochastic gradient descent with "
            f"learning rate $eta = {run.eta}$ on the loss $L = {loss}$ of one example at a "
            f"time: $w <- w - eta*d/dw L$ and $b <- b - eta*d/db L$. It takes {data}. "
            f"Give the parameters after {'this step' if steps == 1 else 'both steps'} "
            f"as {order}, to 3 significant figures."
        )
        # the worked solution, step by step in exact arithmetic
        c = Fraction(1, 2) if run.half else Fraction(1)
        lines = []
        for k in range(steps):
            before = _sgd_exact(run, steps=k)
            after = _sgd_exact(run, steps=k + 1)
            x, y = run.examples[k]
            yhat = sum(wi * xi for wi, xi in zip(before, x, strict=False)) + before[-1]
            g = 2 * c * (yhat - y)
            lines.append(
                f"Step {k + 1}: $yhat$ = {fmt(yhat)}, so $d/dyhat L$ = {fmt(g)}; "
                f"the gradient is {fmt(g)} times $x$ for $w$ and {fmt(g)} for $b$; "
                f"the parameters become {vector([fmt(v) for v in after])}."
            )
        gradient_rule = (
            "$d/dw L = (yhat - y)*x$ and $d/db L = yhat - y$ (the notes' rule)"
            if run.half
            else "$d/dw L = 2*(yhat - y)*x$ and $d/db L = 2*(yhat - y)$"
        )
        solution = (
            f"For this loss {gradient_rule}; each step subtracts $eta = {run.eta}$ times the "
            "gradient at the current parameters. " + " ".join(lines)
        )
        candidates = [
            (
                "ascent",
                _sgd_exact(run, sign=-1),
                "Gradient descent subtracts η·gradient; adding it climbs the loss.",
            ),
            (
                "square-factor",
                _sgd_exact(run, factor=Fraction(1, 2) if not run.half else Fraction(2)),
                "For L = (ŷ - y)² the gradient is 2(ŷ - y)x; the notes' L = ½(ŷ - y)² "
                "gives (ŷ - y)x: check the factor 2 for the loss you were given.",
            ),
            (
                "bias-not-updated",
                _sgd_exact(run, update_bias=False),
                "The bias is a parameter too: b ← b - η ∂L/∂b with ∂L/∂b = ∂L/∂ŷ.",
            ),
        ]
        if steps == 2:
            candidates += [
                (
                    "one-step",
                    _sgd_exact(run, steps=1),
                    "Those are the parameters after the first step; take the second one too.",
                ),
                (
                    "stale-parameters",
                    _sgd_exact(run, stale=True),
                    "The second gradient is taken at the parameters after the first step, "
                    "not at the starting ones.",
                ),
            ]
        mistakes = keep_distinct(key, candidates)
        return self.problem(
            seed,
            statement=statement,
            answer=vector([fmt_key(v) for v in key]),
            hints=[
                "Compute $yhat$ for the example, then $d/dyhat L$; the gradient for $w$ is "
                "that times $x$, for $b$ it is that times 1.",
                "Subtract $eta$ times the gradient; for a second step recompute $yhat$ "
                "with the new parameters.",
            ],
            solution=solution,
            mistakes=mistakes,
        )

    def verify(self, problem: Problem) -> list[str]:
        run = self.run(problem.seed)
        exact = [float(v) for v in _sgd_exact(run)]
        key = [float(v) for v in problem.answer.strip("[]").split(",")]
        if not np.allclose(key, exact, rtol=1e-8, atol=1e-12):
            return [f"engine SGD gives {key}, the exact update rule {exact}"]
        return []
