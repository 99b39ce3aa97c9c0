"""MLP shapes: hidden representations, weights and gradients of a batch.

The forward and backward passes in numbers and the parameter counts are templates
(``problems/mlp/``). Shapes are checked against engine layers built with those sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dlquiz.bank.coded.common import (
    keep_distinct,
    tuple_text,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw

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
