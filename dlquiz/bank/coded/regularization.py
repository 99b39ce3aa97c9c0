"""Regularization in numbers: a weight-decay step, and dropout's outputs and expectations.

The symbolic weight-decay gradient and update are data
(``problems/regularization/*.toml``). These families need code: the weight-decay step
comes from the engine (autograd for the penalty's gradient, ``optim.SGD`` for the step,
with PyTorch's ``weight_decay = 2 lambda`` convention made explicit) and is checked by
exact rational arithmetic; dropout's outputs come from the engine's
``functional.dropout`` and are checked by a plain loop, and its expectation and variance
by Monte Carlo with the engine within five standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from dlquiz.bank.coded.common import (
    close_to,
    distinguishable,
    keep_distinct,
    read_numbers,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import array_text, fmt

MC_SIGMAS = 5.0  # statistical tolerance of the Monte Carlo checks, in standard errors
MC_UNITS = 200_000  # dropout draws per Monte Carlo check

# --- a weight-decay step ----------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    case: str  # notes (lambda*||w||^2), half (lambda/2*||w||^2) or pytorch (weight_decay)
    w: tuple[Fraction, ...]
    g: tuple[int, ...]  # the data loss's gradient at w
    eta: Fraction
    lam: Fraction  # lambda, or PyTorch's weight_decay in the pytorch case

    @property
    def decay(self) -> Fraction:
        """The coefficient of w in the gradient: 2*lambda, lambda or weight_decay."""
        return {"notes": 2 * self.lam, "half": self.lam, "pytorch": self.lam}[self.case]


def _step_exact(
    s: _Step, *, decay: Fraction | None = None, sign: int = 1, lr_on_decay: bool = True
) -> list[Fraction]:
    """w - eta*(g + decay*w) in exact arithmetic; the keywords make the known mistakes."""
    d = s.decay if decay is None else decay
    out = []
    for wi, gi in zip(s.w, s.g, strict=True):
        step = s.eta * gi + (s.eta if lr_on_decay else 1) * d * wi
        out.append(wi - sign * step)
    return out


def _step_engine(s: _Step) -> np.ndarray:
    """The engine's step: autograd for the penalty (notes' forms), SGD's weight_decay for PyTorch.

    The data loss enters as its gradient g: sum(g ⊙ w) has exactly that gradient at w.
    """
    from dlquiz.engine import Tensor
    from dlquiz.engine.optim import SGD

    w = Tensor(np.array([float(v) for v in s.w]), requires_grad=True)
    g = Tensor(np.array(s.g, dtype=float))
    if s.case == "pytorch":
        opt = SGD([w], lr=float(s.eta), weight_decay=float(s.lam))
        loss = (g * w).sum()
    else:
        opt = SGD([w], lr=float(s.eta))
        coeff = float(s.lam) if s.case == "notes" else float(s.lam) / 2
        loss = (g * w).sum() + (w * w).sum() * coeff
    loss.backward()
    opt.step()
    return w.data.copy()


@register
class WeightDecayStep(Family):
    id = "regularization/weight-decay-step"
    topic = "regularization"
    title = "One SGD step with weight decay, in numbers (the notes' or PyTorch's convention)"
    kind = "numbers"
    kinds = dims(convention=("notes", "half", "pytorch"))

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"convention": self.params(seed).case}

    def params(self, seed: int) -> _Step:
        draw = Draw(self.id, seed)
        case = draw.choice(["notes", "notes", "half", "pytorch"])
        n = draw.integer(2, 4)
        etas = [Fraction(1, 10), Fraction(1, 5), Fraction(1, 2), Fraction(1, 4)]
        lams = [Fraction(1, 10), Fraction(1, 20), Fraction(1, 4), Fraction(1, 2), Fraction(1, 5)]
        while True:
            w = tuple(draw.fraction(-3, 3, (1, 2)) for _ in range(n))
            g = tuple(draw.integer(-4, 4) for _ in range(n))
            step = _Step(case, w, g, draw.choice(etas), draw.choice(lams))
            if all(w) and self._decay_visible(step):
                return step

    @staticmethod
    def _decay_visible(s: _Step) -> bool:
        """Forgetting the decay, or the other convention's factor 2, must show at 3 figures."""
        key = [float(v) for v in _step_exact(s)]
        other = s.decay / 2 if s.case == "notes" else 2 * s.decay
        return all(
            distinguishable(key, [float(v) for v in _step_exact(s, decay=d)])
            for d in (Fraction(0), other)
        )

    def generate(self, seed: int) -> Problem:
        s = self.params(seed)
        key = _step_engine(s)
        w, g = array_text(s.w), array_text(s.g)
        eta, lam = fmt(s.eta, 6), fmt(s.lam, 6)
        intro = (
            f"A model's weights are $w = {w}$ and the gradient of its data loss at this $w$ is "
            f"$g = {g}$. One step of gradient descent with learning rate $eta = {eta}$ is taken"
        )
        if s.case == "notes":
            statement = (
                f"{intro} on the regularized loss $J = L + lambda*||w||^2$ with $lambda = {lam}$ "
                "(weight decay as in the notes: the penalty is added to the loss). What is $w$ "
                "after the step?"
            )
        elif s.case == "half":
            statement = (
                f"{intro} on the regularized loss $J = L + lambda/2*||w||^2$ with $lambda = {lam}$ "
                "(another common convention, with a factor 1/2: the notes write $lambda*||w||^2$). "
                "What is $w$ after the step?"
            )
        else:
            statement = (
                f"{intro} by PyTorch's torch.optim.SGD(params, lr={eta}, weight_decay={lam}), "
                "which adds weight_decay times w to the gradient (so weight_decay corresponds to "
                "$2*lambda$ for the notes' penalty $lambda*||w||^2$). What is $w$ after the step?"
            )
        factor = 1 - s.eta * s.decay
        candidates = [
            (
                "penalty-lost-factor" if s.case == "notes" else "convention-mixup",
                _step_exact(s, decay=s.decay / 2 if s.case == "notes" else 2 * s.decay),
                "The penalty λ‖w‖² has gradient 2λw: the factor 2 from the square stays."
                if s.case == "notes"
                else (
                    "With λ/2·‖w‖² the 1/2 cancels the 2: the penalty's gradient is λw."
                    if s.case == "half"
                    else "PyTorch's weight_decay is added as weight_decay·w, no extra 2: it is "
                    "already the notes' 2λ."
                ),
            ),
            (
                "missing-decay",
                _step_exact(s, decay=Fraction(0)),
                "The penalty's gradient is missing: weight decay adds a term proportional to w.",
            ),
            (
                "decay-sign",
                _step_exact(s, decay=-s.decay),
                "The decay term shrinks w: it enters the gradient with a plus sign, so the step "
                "subtracts it.",
            ),
            ("ascent", _step_exact(s, sign=-1), "Gradient descent subtracts η times the gradient."),
            (
                "decay-without-lr",
                _step_exact(s, lr_on_decay=False),
                "The learning rate multiplies the whole gradient, the decay term included.",
            ),
        ]
        mistakes = keep_distinct(key, candidates)
        total = f"the gradient is $g + {fmt(s.decay, 6)}*w$"
        coeff_text = {
            "notes": f"the penalty's gradient is $2*lambda*w$, so {total}",
            "half": f"the penalty's gradient is $lambda*w$, so {total}",
            "pytorch": f"SGD adds weight_decay times w: {total}",
        }[s.case]
        solution = (
            f"For this loss {coeff_text}. The step is $w - eta*(g + {fmt(s.decay, 6)}*w)$ "
            f"= {fmt(factor, 6)}·w - {eta}·g: the weights shrink by the factor "
            f"1 - η·{fmt(s.decay, 6)} = {fmt(factor, 6)} before the data gradient "
            "acts. "
            f"That gives {array_text(key)}."
        )
        if s.case == "notes":
            solution += (
                f" (In PyTorch the same step is SGD with weight_decay = 2λ = {fmt(2 * s.lam, 6)}.)"
            )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(key, None),
            hints=[
                "Gradient descent on J: $w <- w - eta*d/dw J$, where $d/dw J$ is $g$ plus the "
                "penalty's gradient.",
                "$d/dw (lambda*||w||^2) = 2*lambda*w$; PyTorch's weight_decay is added as "
                "weight_decay times w.",
            ],
            solution=solution,
            mistakes=mistakes,
            given={"w": str(len(s.w)), "g": str(len(s.w))},
        )

    def verify(self, problem: Problem) -> list[str]:
        s = self.params(problem.seed)
        exact = [float(v) for v in _step_exact(s)]
        if not close_to(read_numbers(problem.answer), exact):
            return [f"the engine's step {problem.answer} differs from the exact rule {exact}"]
        return []


# --- dropout -------------------------------------------------------------------------------

_P = tuple(Fraction(v) for v in ("1/2", "1/5", "1/4", "1/10", "3/10", "2/5", "3/4"))


@dataclass(frozen=True)
class _Dropout:
    h: tuple[Fraction, ...]
    p: Fraction
    rng_seed: int  # the engine's draw
    ask: str  # output or gradient
    upstream: tuple[int, ...]  # dL/dh' for the gradient question


def _dropout_engine(d: _Dropout) -> tuple[np.ndarray, np.ndarray]:
    """The engine's inverted dropout on h (training mode) and dL/dh through it."""
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    h = Tensor(np.array([float(v) for v in d.h]), requires_grad=True)
    out = F.dropout(h, float(d.p), training=True, rng=d.rng_seed)
    (out * Tensor(np.array(d.upstream, dtype=float))).sum().backward()
    return out.data.copy(), h.grad.copy()


def _units(word: str, indices: list[int]) -> str:
    return f"{word} unit{'s' if len(indices) > 1 else ''} " + ", ".join(str(i + 1) for i in indices)


@register
class DropoutOutput(Family):
    """The mask's zeros are the point of the question: declared as the kind ``zeros``."""

    id = "regularization/dropout-output"
    topic = "regularization"
    title = "Inverted dropout on a vector: the output for a given mask, and the gradient through it"
    kind = "numbers"
    kinds = dims(ask=("output", "gradient"), zeros=("the point",))

    def draw(self, seed: int) -> _Dropout:
        draw = Draw(self.id, seed)
        n = draw.integer(3, 6)
        p = draw.choice(_P)
        h = tuple(Fraction(draw.nonzero(-6, 6), draw.choice([1, 1, 2])) for _ in range(n))
        upstream = tuple(draw.nonzero(-3, 3) for _ in range(n))
        ask = draw.choice(["output", "output", "gradient"])
        while True:  # a draw of the engine that keeps some units and drops others
            d = _Dropout(h, p, draw.integer(0, 2**31 - 1), ask, upstream)
            kept = _dropout_engine(d)[0] != 0
            if kept.any() and not kept.all():
                return d

    def generate(self, seed: int) -> Problem:
        d = self.draw(seed)
        out, grad = _dropout_engine(d)
        kept = out != 0
        index = range(len(d.h))
        mask = _units("keeps", [i for i in index if kept[i]])
        mask += " and " + _units("drops", [i for i in index if not kept[i]])
        p, q = fmt(d.p, 6), fmt(1 - d.p, 6)
        statement = (
            f"A dropout layer with $p = {p}$ (the notes' dropout: each unit becomes 0 with "
            "probability $p$ and $h/(1 - p)$ with probability $1 - p$) is applied during "
            f"training to the hidden representation $h = {array_text(d.h)}$. Its random draw "
            f"{mask}."
        )
        up = np.array(d.upstream, dtype=float)
        keep = 1 - float(d.p)
        if d.ask == "output":
            key, values = out, np.array([float(v) for v in d.h])
            statement += " What is the layer's output h'?"
        else:
            key, values = grad, up
            statement += (
                f" Backpropagation brings the gradient dL/dh' = {array_text(d.upstream)} to the "
                "layer's output. What is the gradient dL/dh with respect to its input?"
            )
        candidates = [
            (
                "not-scaled",
                values * kept,
                f"The kept units are scaled by 1/(1 - p) = 1/{q}, so that E[h'] = h.",
            ),
            (
                "scaled-by-keep",
                values * kept * keep,
                "Inverted dropout divides the kept units by 1 - p; multiplying by 1 - p is the "
                "classic test-time scaling.",
            ),
            (
                "scaled-by-p",
                values * kept / float(d.p),
                "The kept units are divided by the keep probability 1 - p, not by p.",
            ),
            (
                "mask-inverted",
                values * (~kept) / keep,
                "Units that are dropped become 0; the kept ones are the ones scaled.",
            ),
        ]
        if d.ask == "gradient":
            candidates.append(
                (
                    "gradient-not-masked",
                    up / keep,
                    "The dropped units did not reach the output: their gradient is 0 (the same "
                    "mask applies backward).",
                )
            )
        scale = fmt(1 / keep, 6)
        solution = (
            f"Dropped units become 0; kept units are divided by 1 - p = {q}, i.e. multiplied "
            f"by {scale}. So h' = {array_text(key)}."
            if d.ask == "output"
            else "Dropout multiplies each unit by m_i/(1 - p), with m_i = 1 for a kept unit and "
            "0 for a dropped one; backward the gradient is multiplied by the same factor: 0 for "
            f"the dropped units, {scale} times dL/dh' for the kept ones. So dL/dh = "
            f"{array_text(key)}."
        )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(key, None),
            hints=[
                "A dropped unit outputs 0; a kept unit outputs h/(1 - p) (inverted dropout).",
                "The operation is h' = m ⊙ h/(1 - p) for the fixed mask m: backward, the gradient "
                "is multiplied by the same m/(1 - p).",
            ],
            solution=solution,
            mistakes=keep_distinct(key, candidates),
        )

    def verify(self, problem: Problem) -> list[str]:
        """A plain loop of the notes' rule, exact, with the mask the engine drew."""
        d = self.draw(problem.seed)
        kept = [v != 0 for v in _dropout_engine(d)[0]]
        source = d.h if d.ask == "output" else d.upstream
        pairs = zip(source, kept, strict=True)
        exact = [float(Fraction(v) / (1 - d.p)) if k else 0.0 for v, k in pairs]
        if not close_to(read_numbers(problem.answer), exact):
            return [f"engine dropout gives {problem.answer}, the rule {exact}"]
        return []

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"ask": self.draw(seed).ask, "zeros": "the point"}
