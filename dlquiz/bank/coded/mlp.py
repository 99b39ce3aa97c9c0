"""MLP families: forward and backward passes in numbers, parameter counts and shapes.

The notes' one-hidden-layer network h = Phi(W_1 x + b_1), O = W_2 h + b_2 with small
integer weights: the numbers come from the engine (``dlquiz.engine``, its autograd for
the backward pass) and are verified by exact SymPy arithmetic of the notes' formulas.
Parameter counts and shapes are checked against engine layers built with those sizes.

The helpers it shares with the other topics (number text, keeping only the mistakes the
judge can tell apart, the activations in exact arithmetic) are in ``common``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from dlquiz.bank.coded.common import (
    ACT_TEXT,
    close_to,
    engine_act,
    exact_act,
    exact_dact,
    keep_distinct,
    numeric,
    read_numbers,
    tuple_text,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import array_text

# The question-kind dimension `zeros`: a key entry 0 is the point (a dead ReLU unit), or none is.
ZEROS = ("the point", "none")


def _col(values: Sequence[int]) -> np.ndarray:
    return np.array(values, dtype=float).reshape(-1, 1)


# --- the network ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Net:
    act: str
    W1: tuple[tuple[int, ...], ...]
    b1: tuple[int, ...]
    W2: tuple[tuple[int, ...], ...]
    b2: tuple[int, ...]
    x: tuple[int, ...]

    @property
    def sizes(self) -> tuple[int, int, int]:
        return len(self.x), len(self.b1), len(self.b2)

    def z1(self) -> list[int]:
        return [
            sum(w * v for w, v in zip(row, self.x, strict=True)) + b
            for row, b in zip(self.W1, self.b1, strict=True)
        ]

    def given(self) -> dict[str, str]:
        """The shapes of the network's quantities, for the prose (transposes print)."""
        d, hd, q = self.sizes

        def spec(m: int, n: int = 1) -> str:
            return "" if m == n == 1 else (str(m) if n == 1 else f"{m}x{n}")

        return {
            "W1": spec(hd, d),
            "b1": spec(hd),
            "W2": spec(q, hd),
            "b2": spec(q),
            "x": spec(d),
            "z1": spec(hd),
            "h": spec(hd),
            "O": spec(q),
            "y": spec(q),
            "delta1": spec(hd),
            "delta2": spec(q),
        }

    def statement_values(self) -> str:
        return (
            f"$W1 = {array_text(self.W1)}$, $b1 = {array_text(self.b1)}$, "
            f"$W2 = {array_text(self.W2)}$ and $b2 = {array_text(self.b2)}$"
        )


def _draw_net(draw: Draw, act: str, d: int, hd: int, q: int) -> _Net:
    """Small integer weights with no pre-activation exactly 0; ReLU sees both signs."""
    while True:
        W1 = tuple(tuple(draw.integer(-2, 2) for _ in range(d)) for _ in range(hd))
        x = tuple(draw.nonzero(-2, 2) for _ in range(d))
        b1 = tuple(draw.integer(-1, 1) for _ in range(hd))
        W2 = tuple(tuple(draw.nonzero(-2, 2) for _ in range(hd)) for _ in range(q))
        b2 = tuple(draw.integer(-1, 1) for _ in range(q))
        net = _Net(act, W1, b1, W2, b2, x)
        z = net.z1()
        if any(v == 0 for v in z) or any(abs(v) > 4 for v in z):
            continue
        if act == "relu" and not (any(v < 0 for v in z) and any(v > 0 for v in z)):
            continue
        if act != "relu" and len(set(z)) < 2 and hd > 1:
            continue
        if not any(b1) or not any(b2):
            continue
        return net


def _net_engine(net: _Net, y: Sequence[int] | None = None, scale: Fraction | None = None):  # type: ignore[no-untyped-def]
    """Forward (and, with a target, backward) on the engine: z1, h, O and the gradients."""
    from dlquiz.engine import Tensor

    W1 = Tensor(np.array(net.W1, dtype=float), requires_grad=True)
    b1 = Tensor(_col(net.b1), requires_grad=True)
    W2 = Tensor(np.array(net.W2, dtype=float), requires_grad=True)
    b2 = Tensor(_col(net.b2), requires_grad=True)
    z1 = W1 @ Tensor(_col(net.x)) + b1
    h = engine_act(net.act, z1)
    O = W2 @ h + b2
    out = {"z1": z1.data, "h": h.data, "O": O.data}
    if y is not None and scale is not None:
        loss = ((O - Tensor(_col(y))) ** 2).sum() * float(scale)
        loss.backward()
        out |= {"W1": W1.grad, "b1": b1.grad, "W2": W2.grad, "b2": b2.grad, "L": loss.data}
    return out


def _net_exact(
    net: _Net, y: Sequence[int] | None = None, scale: Fraction | None = None
) -> dict[str, sp.Matrix]:
    """The notes' formulas in exact arithmetic: forward, then delta_2, delta_1 and the gradients."""
    W1, W2 = sp.Matrix(net.W1), sp.Matrix(net.W2)
    b1, b2, x = sp.Matrix(net.b1), sp.Matrix(net.b2), sp.Matrix(net.x)
    z1 = W1 * x + b1
    h = z1.applyfunc(lambda v: exact_act(net.act, v))
    O = W2 * h + b2
    out = {"z1": z1, "h": h, "O": O}
    if y is not None and scale is not None:
        delta2 = 2 * sp.Rational(scale.numerator, scale.denominator) * (O - sp.Matrix(y))
        dphi = z1.applyfunc(lambda v: exact_dact(net.act, v))
        delta1 = (W2.T * delta2).multiply_elementwise(dphi)
        out |= {
            "delta2": delta2,
            "delta1": delta1,
            "W2": delta2 * h.T,
            "b2": delta2,
            "W1": delta1 * x.T,
            "b1": delta1,
        }
    return out


@register
class MlpForward(Family):
    id = "mlp/forward"
    topic = "mlp"
    title = "Forward pass through a one-hidden-layer MLP with given weights"
    kind = "numbers"
    # ReLU's hidden representation has a dead unit by design (its 0 is the point).
    kinds = dims(ask=("h", "O"), activation=("relu", "sigmoid", "tanh"), zeros=ZEROS)

    def question_kind(self, seed: int) -> dict[str, str]:
        net, ask = self.params(seed)
        dead = net.act == "relu" and ask == "h"
        return {"ask": ask, "activation": net.act, "zeros": ZEROS[0] if dead else ZEROS[1]}

    def params(self, seed: int) -> tuple[_Net, str]:
        draw = Draw(self.id, seed)
        act = draw.choice(["relu", "relu", "sigmoid", "tanh"])
        d, hd, q = draw.integer(2, 3), draw.integer(2, 3), draw.integer(1, 2)
        ask = draw.choice(["h", "O", "O"])
        while True:  # no key entry 0 by accident (ReLU's dead units in h are the point)
            net = _draw_net(draw, act, d, hd, q)
            if (act == "relu" and ask == "h") or np.abs(_net_engine(net)[ask]).min() > 1e-9:
                return net, ask

    def generate(self, seed: int) -> Problem:
        net, ask = self.params(seed)
        v = _net_engine(net)
        key = v[ask]
        phi = net.act
        z1, h, O = v["z1"], v["h"], v["O"]
        what = (
            f"the hidden representation $h$ (a vector of size {len(net.b1)})"
            if ask == "h"
            else (
                "the output $O$ (a single number)"
                if len(net.b2) == 1
                else f"the output $O$ (a vector of size {len(net.b2)})"
            )
        )
        relu_note = ", with ReLU(0) = 0" if phi == "relu" else ""
        statement = (
            f"A one-hidden-layer MLP computes $h = {phi}(W1@x + b1)$ and $O = W2@h + b2$ "
            f"(the nonlinearity $Phi$ is {ACT_TEXT[phi]}{relu_note}), "
            f"with {net.statement_values()}. For the input $x = {array_text(net.x)}$, "
            f"compute {what}, to 3 significant figures."
        )
        W1, W2 = np.array(net.W1, float), np.array(net.W2, float)
        x, b1, b2 = _col(net.x), _col(net.b1), _col(net.b2)
        act = {
            "relu": lambda t: np.maximum(t, 0),
            "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
            "tanh": np.tanh,
        }[phi]
        if ask == "h":
            candidates = [
                (
                    "no-activation",
                    z1,
                    f"That is the pre-activation W₁ x + b₁; the hidden representation "
                    f"applies {ACT_TEXT[phi]} to it, entry by entry.",
                ),
                (
                    "missing-bias",
                    act(W1 @ x),
                    "The bias is missing: h = Φ(W₁x + b₁) adds b₁ before the nonlinearity.",
                ),
                (
                    "bias-after-activation",
                    act(W1 @ x) + b1,
                    "The bias is added inside the nonlinearity: h = Φ(W₁x + b₁), not Φ(W₁x) + b₁.",
                ),
                (
                    "transposed-weights",
                    act(W1.T @ x + b1) if W1.shape[0] == W1.shape[1] else None,
                    "Row i of W₁ gives hidden unit i: h = Φ(W₁x + b₁), not Φ(W₁ᵀx + b₁).",
                ),
            ]
        else:
            candidates = [
                (
                    "no-activation",
                    W2 @ z1 + b2,
                    f"The hidden layer's nonlinearity is missing: h = {ACT_TEXT[phi]}(W₁x + b₁) "
                    "before the output layer.",
                ),
                (
                    "activation-on-output",
                    act(O),
                    "The output layer has no nonlinearity in the notes: O = W₂h + b₂.",
                ),
                (
                    "missing-bias",
                    W2 @ act(W1 @ x),
                    "The biases are missing: z = W x + b in both layers.",
                ),
                ("missing-output-bias", W2 @ h, "The output bias is missing: O = W₂h + b₂."),
            ]
        mistakes = keep_distinct(key, candidates)
        steps = [
            f"First the pre-activation $z1 = W1@x + b1$ = {array_text(z1)}.",
            f"Then $h = {phi}(z1)$ = {array_text(h)}"
            + (" (the negative entries become 0)." if phi == "relu" else ", entry by entry."),
        ]
        if ask == "O":
            steps.append(
                f"Finally $O = W2@h + b2$ = {array_text(O)}; the output layer has no nonlinearity."
            )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(key, None),
            hints=[
                "Row i of $W1$ dotted with $x$, plus entry i of $b1$, is the pre-activation "
                "of hidden unit i.",
                f"Apply {ACT_TEXT[phi]} to each pre-activation"
                + (
                    ", then multiply by $W2$ and add $b2$ (no nonlinearity at the output)."
                    if ask == "O"
                    else "."
                ),
            ],
            solution=" ".join(steps),
            mistakes=mistakes,
            given=net.given(),
        )

    def verify(self, problem: Problem) -> list[str]:
        net, ask = self.params(problem.seed)
        exact = numeric(_net_exact(net)[ask])
        if not close_to(read_numbers(problem.answer), exact):
            return [
                f"engine forward pass {problem.answer} differs from exact arithmetic "
                f"{exact.ravel()}"
            ]
        return []


@register
class MlpBackward(Family):
    id = "mlp/backward"
    topic = "mlp"
    title = "Backward pass through a one-hidden-layer MLP: a weight or bias gradient in numbers"
    kind = "numbers"
    kinds = dims(
        wrt=("W2", "b2", "W1", "b1"),
        activation=("relu", "sigmoid"),
        loss=("half", "plain"),
        zeros=ZEROS,  # ReLU's dead unit stops the gradient of W2, W1, b1: that 0 is the point
    )

    def question_kind(self, seed: int) -> dict[str, str]:
        net, _, scale, wrt = self.params(seed)
        dead = net.act == "relu" and wrt != "b2"
        return {
            "wrt": wrt,
            "activation": net.act,
            "loss": "half" if scale != 1 else "plain",
            "zeros": ZEROS[0] if dead else ZEROS[1],
        }

    def params(self, seed: int) -> tuple[_Net, tuple[int, ...], Fraction, str]:
        draw = Draw(self.id, seed)
        act = draw.choice(["relu", "relu", "sigmoid"])
        hd, q = draw.integer(2, 3), draw.integer(1, 2)
        wrt = draw.choice(["W2", "b2", "W1", "W1", "b1"])
        scale = draw.choice([Fraction(1, 2), Fraction(1)])
        while True:
            net = _draw_net(draw, act, 2, hd, q)
            y = tuple(draw.integer(-2, 2) for _ in range(q))
            O = _net_engine(net)["O"].ravel()
            back = np.array(net.W2, float).T @ (O - np.array(y, float))
            # every unit receives some gradient: a 0 comes only from a dead ReLU unit
            if np.abs(O - np.array(y)).min() > 1e-9 and np.abs(back).min() > 1e-9:
                return net, y, scale, wrt

    def generate(self, seed: int) -> Problem:
        net, y, scale, wrt = self.params(seed)
        v = _net_engine(net, y, scale)
        key = v[wrt]
        phi = net.act
        d, hd, q = net.sizes
        loss = "1/2*||O - y||^2" if scale == Fraction(1, 2) else "||O - y||^2"
        names = {
            "W2": "the output weights",
            "b2": "the output bias",
            "W1": "the hidden weights",
            "b1": "the hidden bias",
        }
        shape = {"W2": f"{q}x{hd}", "b2": f"{q}", "W1": f"{hd}x{d}", "b1": f"{hd}"}[wrt]
        statement = (
            f"A one-hidden-layer MLP computes $h = {phi}(W1@x + b1)$ and $O = W2@h + b2$ "
            f"with {net.statement_values()}"
            f"{' (take ReLU(0) = 0 and its derivative at 0 as 0)' if phi == 'relu' else ''}. "
            f"For the input $x = {array_text(net.x)}$ with target $y = {array_text(y)}$ "
            f"and the loss $L = {loss}$ (summed over the outputs), compute the gradient "
            f"$d/d{wrt} L$ of {names[wrt]} (shape {shape}), to 3 significant figures."
        )
        W2 = np.array(net.W2, float)
        x = _col(net.x)
        z1, h, O = v["z1"], v["h"], v["O"]
        delta2 = 2 * float(scale) * (O - _col(y))
        dphi = {"relu": (z1 > 0).astype(float), "sigmoid": h * (1 - h), "tanh": 1 - h * h}[phi]
        act_z = h
        other = 2.0 if scale == Fraction(1, 2) else 0.5
        factor_text = (
            "With L = ½‖O - y‖² the ½ cancels the 2 from the square: δ₂ = O - y."
            if scale == Fraction(1, 2)
            else "With L = ‖O - y‖² (no ½) the square brings down a 2: δ₂ = 2(O - y)."
        )

        def grad(delta_1_or_2: np.ndarray, inp: np.ndarray | None) -> np.ndarray:
            return delta_1_or_2 @ inp.T if inp is not None else delta_1_or_2

        inp = {"W2": h, "b2": None, "W1": x, "b1": None}[wrt]
        if wrt in ("W2", "b2"):
            delta = delta2
            candidates = [
                ("factor-two", other * key, factor_text),
                ("sign", -key, "The sign is flipped: ∂L/∂O is proportional to O - y, not y - O."),
                (
                    "pre-activation",
                    grad(delta2, z1) if wrt == "W2" else None,
                    "The output layer's input is h = Φ(z₁), not the pre-activation z₁: "
                    "∂L/∂W₂ = δ₂ hᵀ.",
                ),
            ]
        else:
            delta1 = (W2.T @ delta2) * dphi
            delta = delta1
            candidates = [
                ("factor-two", other * key, factor_text),
                (
                    "missing-derivative",
                    grad(W2.T @ delta2, inp),
                    "The derivative of the nonlinearity is missing: δ₁ = (W₂ᵀδ₂) ⊙ Φ'(z₁), "
                    f"with Φ' = {ACT_TEXT[phi]}'.",
                ),
                (
                    "activation-not-derivative",
                    grad((W2.T @ delta2) * act_z, inp),
                    "You multiplied by Φ(z₁) itself; the recursion needs the derivative "
                    f"Φ'(z₁) ({ACT_TEXT[phi]}').",
                ),
                ("sign", -key, "The sign is flipped: ∂L/∂O is proportional to O - y, not y - O."),
            ]
        if wrt in ("W1", "W2") and 1 not in key.shape:
            candidates.append(
                (
                    "transposed",
                    key.T,
                    "This is the transpose: ∂L/∂W has the shape of W, δ times the layer's "
                    "input transposed.",
                )
            )
        mistakes = keep_distinct(key, candidates)
        lines = [
            f"Forward: $z1$ = {array_text(z1)}, $h$ = {array_text(h)}, $O$ = {array_text(O)}.",
            f"Backward: $delta2 = d/dO L$ = {'' if scale == Fraction(1, 2) else '2'}(O - y) "
            f"= {array_text(delta2)}.",
        ]
        if wrt == "W2":
            lines.append(f"Then $d/dW2 L = delta2@h.T$ = {array_text(key)}.")
        elif wrt == "b2":
            lines.append(
                f"The bias gradient is the delta itself: $d/db2 L = delta2$ = {array_text(key)}."
            )
        else:
            dname = {
                "relu": "ReLU'(z1), 1 where z1 > 0 and 0 elsewhere,",
                "sigmoid": "sigmoid'(z1) = h(1 - h)",
                "tanh": "tanh'(z1) = 1 - h²",
            }[phi]
            lines.append(
                f"The recursion: $W2.T@delta2$ = {array_text(W2.T @ delta2)}, "
                f"times {dname} = {array_text(dphi)}, "
                f"gives $delta1$ = {array_text(delta)}."
            )
            lines.append(
                f"Then $d/dW1 L = delta1@x.T$ = {array_text(key)}."
                if wrt == "W1"
                else f"So $d/db1 L = delta1$ = {array_text(key)}."
            )
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(key, None),
            hints=[
                "Run the forward pass first and keep $z1$, $h$ and $O$.",
                "Backward: $delta2 = d/dO L$; for the output layer $d/dW2 L = delta2@h.T$; "
                f"one layer down $delta1 = hadamard(W2.T@delta2, {phi}'(z1))$ and "
                "$d/dW1 L = delta1@x.T$.",
            ],
            solution=" ".join(lines),
            mistakes=mistakes,
            given=net.given(),
        )

    def verify(self, problem: Problem) -> list[str]:
        net, y, scale, wrt = self.params(problem.seed)
        exact = numeric(_net_exact(net, y, scale)[wrt])
        if not close_to(read_numbers(problem.answer), exact):
            return [
                f"engine gradient {problem.answer} differs from the exact backprop formulas "
                f"{exact.ravel()}"
            ]
        return []


# --- architecture arithmetic -------------------------------------------------------------

_INPUTS = (2, 3, 4, 5, 8, 10, 12, 16, 20, 32, 64, 100, 784)
_HIDDEN = (3, 4, 5, 6, 8, 10, 16, 20, 32, 50, 64, 100, 128, 256)
_OUTPUTS = (1, 2, 3, 4, 5, 10)


def _sizes(draw: Draw) -> list[int]:
    layers = draw.integer(1, 3)
    return [
        draw.choice(_INPUTS),
        *(draw.choice(_HIDDEN) for _ in range(layers)),
        draw.choice(_OUTPUTS),
    ]


def _layers_text(sizes: Sequence[int]) -> str:
    hidden = sizes[1:-1]
    widths = ", ".join(str(h) for h in hidden)
    return (
        f"{sizes[0]} inputs, {len(hidden)} hidden layer{'s' if len(hidden) > 1 else ''} "
        f"of width{'s' if len(hidden) > 1 else ''} {widths} and "
        f"{sizes[-1]} output{'s' if sizes[-1] > 1 else ''}"
    )


@register
class MlpShapes(Family):
    id = "mlp/shapes"
    topic = "mlp"
    title = "Shapes of hidden representations, weights and gradients for a batch"
    kind = "shape"
    kinds = dims(what=("H", "O", "W", "b", "b-column", "dW"))

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"what": self.params(seed)[2]}

    def params(self, seed: int) -> tuple[list[int], int, str, int]:
        draw = Draw(self.id, seed)
        sizes = [
            draw.choice(_INPUTS[:-1]),
            *(draw.choice(_HIDDEN) for _ in range(draw.integer(1, 3))),
            draw.choice(_OUTPUTS[1:]),
        ]
        batch = draw.choice([8, 16, 32, 50, 64, 100, 128])
        what = draw.choice(["H", "H", "O", "W", "b", "b-column", "dW"])
        layer = draw.integer(1, len(sizes) - 2) if what == "H" else draw.integer(1, len(sizes) - 1)
        return sizes, batch, what, layer

    @staticmethod
    def shape(sizes: Sequence[int], batch: int, what: str, layer: int) -> tuple[int, ...]:
        if what == "H":
            return (batch, sizes[layer])
        if what == "O":
            return (batch, sizes[-1])
        if what in ("W", "dW"):
            return (sizes[layer], sizes[layer - 1])
        return (sizes[layer], 1) if what == "b-column" else (sizes[layer],)

    def generate(self, seed: int) -> Problem:
        sizes, batch, what, layer = self.params(seed)
        key = self.shape(sizes, batch, what, layer)
        arch = _layers_text(sizes)
        n_layers = len(sizes) - 1
        asked = {
            "H": f"the hidden representation $H{layer}$ of layer {layer} for the whole batch",
            "O": "the output $O$ for the whole batch",
            "W": f"the weight matrix $W{layer}$ of layer {layer}",
            "b": f"the bias $b{layer}$ of layer {layer} as PyTorch's nn.Linear stores it "
            "(broadcast over the rows)",
            "b-column": f"the bias $b{layer}$ of layer {layer} in the notes' column convention "
            f"for one example, $z{layer} = W{layer}@a{layer - 1} + b{layer}$",
            "dW": f"the gradient $d/dW{layer} L$ of the batch loss with respect to $W{layer}$",
        }[what]
        statement = (
            f"An MLP has {arch} ({n_layers} fully connected layers, ReLU after each but the "
            f"last). For one example layer {layer} computes $z{layer} = W{layer}@a{layer - 1} + "
            f"b{layer}$ (the notes' column convention: $W{layer}$ has one row per output "
            f"unit). A batch of {batch} "
            f"examples is processed at once with the examples as the rows of $X$, shape "
            f"({batch}, {sizes[0]}), as PyTorch does: a layer maps its input rows A to "
            "ReLU(A Wᵀ + b), b added to every row, one row per example. "
            f"What is the shape of {asked}?"
        )
        candidates: list[tuple[str, object, str]] = []
        if len(key) == 2 and key[0] != key[1] and what != "b-column":
            candidates.append(
                (
                    "transposed",
                    key[::-1],
                    "The order is reversed: "
                    + (
                        "the examples are the rows, so the batch comes first."
                        if what in ("H", "O")
                        else "a layer's W has one row per output unit and one column per input "
                        "(n_out, n_in)."
                    ),
                )
            )
        if what in ("H", "O"):
            candidates.append(
                (
                    "batch-missing",
                    (key[1],),
                    f"That is the shape for a single example; the batch of {batch} stacks "
                    "them as rows.",
                )
            )
            if what == "H" and sizes[layer - 1] != sizes[layer]:
                candidates.append(
                    (
                        "wrong-layer",
                        (batch, sizes[layer - 1]),
                        f"That is the width of the layer's input; H{layer} has one column per "
                        f"unit of layer {layer}.",
                    )
                )
        elif what == "b-column":
            candidates += [
                (
                    "row-vector",
                    (1, sizes[layer]),
                    "In the notes' column convention b is a column, like z: one row per unit.",
                ),
                (
                    "one-dimensional",
                    (sizes[layer],),
                    "That is how PyTorch stores it; in the notes' column convention b is a "
                    "column vector, one row per unit and one column.",
                ),
                (
                    "wrong-layer",
                    (sizes[layer - 1], 1),
                    f"That is the width of the layer's input; b{layer} has one entry per unit "
                    f"of layer {layer}.",
                ),
            ]
        elif what == "b":
            candidates += [
                (
                    "bias-per-example",
                    (batch, sizes[layer]),
                    "The bias is a parameter: it does not depend on the batch (it is broadcast "
                    "over the rows).",
                ),
                (
                    "column-vector",
                    (sizes[layer], 1),
                    "That is the notes' column for one example; nn.Linear stores its bias as a "
                    "1-D tensor, one entry per unit, added to every row.",
                ),
            ]
        else:
            candidates.append(
                (
                    "batch-in-gradient",
                    (batch, sizes[layer], sizes[layer - 1]),
                    "The batch loss sums the examples' gradients: ∂L/∂W has the shape of W.",
                )
            )
        mistakes = keep_distinct(key, candidates, text=tuple_text)
        n_in, n_out = sizes[layer - 1], sizes[layer]
        explain = {
            "H": f"Row i of $H{layer}$ is the hidden representation of example i, one entry "
            f"per unit of layer {layer}: ({batch}, {n_out}).",
            "O": f"Row i of $O$ holds example i's {sizes[-1]} outputs: ({batch}, {sizes[-1]}).",
            "W": f"$W{layer}$ maps the {n_in} units of the layer below to the {n_out} units of "
            f"layer {layer}: one row per output unit, ({n_out}, {n_in}).",
            "b": f"One bias per unit of layer {layer}, shared by every example: ({n_out},).",
            "b-column": f"One bias per unit of layer {layer}, a column like $z{layer}$ in the "
            f"notes' convention: ({n_out}, 1).",
            "dW": "A gradient has the shape of its parameter; the batch's contributions are "
            f"summed (or averaged) into it: ({n_out}, {n_in}).",
        }[what]
        return self.problem(
            seed,
            statement=statement,
            answer=tuple_text(key),
            hints=[
                "Write down the widths layer by layer: " + " → ".join(str(s) for s in sizes) + ".",
                "Activations of a batch: (batch, units). Parameters do not depend on the "
                "batch: W is (units out, units in), b is (units out,).",
            ],
            solution=explain,
            mistakes=mistakes,
        )

    def verify(self, problem: Problem) -> list[str]:
        """Run a batch through engine layers of these sizes and read the shape off."""
        from dlquiz.engine import MLP, Tensor

        sizes, batch, what, layer = self.params(problem.seed)
        net = MLP(sizes, rng=0)
        a = Tensor(np.random.default_rng(0).standard_normal((batch, sizes[0])))
        acts = []
        for i, lin in enumerate(net.layers):
            a = lin(a)
            if i < len(net.layers) - 1:
                a = a.relu()
            acts.append(a)
        a.sum().backward()
        lin = net.layers[layer - 1]
        actual = {
            "H": acts[layer - 1].shape,
            "O": acts[-1].shape,
            "W": lin.weight.shape,
            "b": lin.bias.shape,
            "b-column": (*lin.bias.shape, 1),
            "dW": lin.weight.grad.shape,
        }[what]
        expected = tuple_text(actual)
        if tuple(actual) != self.shape(sizes, batch, what, layer) or expected != problem.answer:
            return [f"the engine gives the shape {tuple(actual)}, the key says {problem.answer}"]
        return []
