"""Backpropagation in numbers: the recursion delta_m = (W_{m+1}^T delta_{m+1}) ⊙ phi'(z_m).

The symbolic forms of the recursion and of dL/dW_m = delta_m a_{m-1}^T are data
(``problems/backprop/*.toml``, keys derived by the symbolic backprop). This family needs
code: its numbers come from the engine's autograd run through the layer, and are verified
by a plain loop of the notes' formulas in exact SymPy arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from dlquiz.bank.coded.common import (
    ACT_TEXT,
    close_to,
    engine_act,
    exact_dact,
    keep_distinct,
    numeric,
    read_numbers,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.core.numbers import array_text
from dlquiz.core.printing import to_unicode

# The question-kind dimension `zeros`: a key entry 0 is the point (a dead ReLU unit), or none is.
ZEROS = ("the point", "none")


@dataclass(frozen=True)
class _Layer:
    m: int
    act: str
    z: tuple[int, ...]  # z_m, stored by the forward pass
    a_prev: tuple[int, ...]  # a_{m-1}
    W_next: tuple[tuple[int, ...], ...]  # W_{m+1}
    delta_next: tuple[int, ...]  # delta_{m+1}
    ask: str  # "delta", "db" or "dW"

    @property
    def sizes(self) -> tuple[int, int, int]:
        """(d, n, k): sizes of a_{m-1}, z_m and z_{m+1}."""
        return len(self.a_prev), len(self.z), len(self.delta_next)


def _engine(layer: _Layer) -> dict[str, np.ndarray]:
    """Autograd through z_m = W_m a_{m-1} + b_m, a_m = phi(z_m), z_{m+1} = W_{m+1} a_m.

    The cost enters as sum(delta_{m+1} ⊙ z_{m+1}), whose gradient at z_{m+1} is the given
    delta_{m+1}. W_m is zero and b_m holds the stored z_m: the gradients asked for depend
    on W_m and b_m only through z_m, so any pair giving that z_m gives the same numbers.
    """
    from dlquiz.engine import Tensor

    d, n, _ = layer.sizes
    a_prev = Tensor(np.array(layer.a_prev, dtype=float).reshape(-1, 1))
    W = Tensor(np.zeros((n, d)), requires_grad=True)
    b = Tensor(np.array(layer.z, dtype=float).reshape(-1, 1), requires_grad=True)
    z = W @ a_prev + b
    a = engine_act(layer.act, z)
    z_next = Tensor(np.array(layer.W_next, dtype=float)) @ a
    delta_next = Tensor(np.array(layer.delta_next, dtype=float).reshape(-1, 1))
    (delta_next * z_next).sum().backward()
    return {"delta": b.grad, "db": b.grad, "dW": W.grad, "a": a.data}


def _exact(layer: _Layer) -> dict[str, sp.Matrix]:
    """The notes' formulas entry by entry, in exact arithmetic."""
    d, n, k = layer.sizes
    delta = []
    for j in range(n):
        back = sum(layer.W_next[i][j] * layer.delta_next[i] for i in range(k))
        delta.append(back * exact_dact(layer.act, sp.Integer(layer.z[j])))
    dW = [[delta[j] * layer.a_prev[c] for c in range(d)] for j in range(n)]
    return {"delta": sp.Matrix(delta), "db": sp.Matrix(delta), "dW": sp.Matrix(dW)}


@register
class NumericDelta(Family):
    id = "backprop/numeric-delta"
    topic = "backprop"
    title = "The backprop recursion in numbers: a layer's delta, then its gradients"
    kind = "numbers"
    # ReLU's layer has a dead unit by design: the 0 it puts in the key is the point.
    kinds = dims(ask=("delta", "dW", "db"), activation=("relu", "sigmoid", "tanh"), zeros=ZEROS)

    def question_kind(self, seed: int) -> dict[str, str]:
        layer = self.params(seed)
        zeros = ZEROS[0] if layer.act == "relu" else ZEROS[1]
        return {"ask": layer.ask, "activation": layer.act, "zeros": zeros}

    def params(self, seed: int) -> _Layer:
        draw = Draw(self.id, seed)
        m = draw.integer(1, 3)
        act = draw.choice(["relu", "relu", "sigmoid", "tanh"])
        d, n, k = draw.integer(2, 3), draw.integer(2, 3), draw.integer(2, 3)
        ask = draw.choice(["delta", "delta", "dW", "db"])
        while True:
            z = tuple(draw.nonzero(-3, 3) for _ in range(n))
            if act == "relu" and not (any(v < 0 for v in z) and any(v > 0 for v in z)):
                continue
            W_next = tuple(tuple(draw.integer(-2, 2) for _ in range(n)) for _ in range(k))
            delta_next = tuple(draw.nonzero(-3, 3) for _ in range(k))
            back = np.array(W_next).T @ np.array(delta_next)
            if not back.all():  # every unit receives some gradient
                continue
            a_prev = tuple(draw.nonzero(-2, 2) for _ in range(d))
            return _Layer(m, act, z, a_prev, W_next, delta_next, ask)

    def generate(self, seed: int) -> Problem:
        layer = self.params(seed)
        m, act = layer.m, layer.act
        d, n, k = layer.sizes
        v = _engine(layer)
        key = v[layer.ask]
        W_next = np.array(layer.W_next, dtype=float)
        delta_next = np.array(layer.delta_next, dtype=float).reshape(-1, 1)
        z = np.array(layer.z, dtype=float).reshape(-1, 1)
        a_prev = np.array(layer.a_prev, dtype=float).reshape(-1, 1)
        back = W_next.T @ delta_next
        dphi = {
            "relu": (z > 0).astype(float),
            "sigmoid": v["a"] * (1 - v["a"]),
            "tanh": 1 - v["a"] ** 2,
        }[act]
        delta = back * dphi
        p, q = m - 1, m + 1
        asked = {
            "delta": f"$delta{m} = d/dz{m} L$ (a vector of size {n})",
            "db": f"the bias gradient $d/db{m} L$ (a vector of size {n})",
            "dW": f"the weight gradient $d/dW{m} L$ (shape {n}x{d})",
        }[layer.ask]
        relu_note = " Take ReLU'(0) = 0." if act == "relu" else ""
        statement = (
            f"A network computes $z{m} = W{m}@a{p} + b{m}$ and $a{m} = {act}(z{m})$ in layer {m}, "
            f"then $z{q} = W{q}@a{m} + b{q}$ in layer {q}. The forward pass stored "
            f"$z{m} = {array_text(layer.z)}$ and $a{p} = {array_text(layer.a_prev)}$; layer {q} "
            f"has $W{q} = {array_text(layer.W_next)}$ and backpropagation has already found "
            f"$delta{q} = d/dz{q} L = {array_text(layer.delta_next)}$.{relu_note} "
            f"Compute {asked}, to 3 significant figures."
        )

        def grad(x: np.ndarray) -> np.ndarray:
            return x @ a_prev.T if layer.ask == "dW" else x

        act_values = {"relu": np.maximum(z, 0), "sigmoid": v["a"], "tanh": v["a"]}[act]
        candidates = [
            (
                "missing-transpose",
                grad((W_next @ delta_next) * dphi) if k == n else None,
                f"The recursion uses the transpose: {to_unicode.name(f'W{q}')}ᵀ sends the gradient "
                "back from the "
                f"{k} units of layer {q} to the {n} units of layer {m}.",
            ),
            (
                "missing-derivative",
                grad(back),
                f"That stops at ∂L/∂a{m}; the recursion multiplies entry by entry by "
                f"{ACT_TEXT[act]}'(z{m}) to get to z{m}.",
            ),
            (
                "activation-not-derivative",
                grad(back * act_values),
                f"You multiplied by {ACT_TEXT[act]}(z{m}) itself; the recursion needs its "
                f"derivative {ACT_TEXT[act]}'(z{m}).",
            ),
        ]
        if layer.ask == "dW":
            candidates.append(
                (
                    "transposed",
                    key.T,
                    f"This is the transpose: ∂L/∂W{m} = δ{m} a{p}ᵀ has the shape of W{m}, {n}x{d}.",
                )
            )
        mistakes = keep_distinct(key, candidates)
        dform = {
            "relu": f"ReLU'(z{m}) (1 where z > 0, else 0) = {array_text(dphi)}",
            "sigmoid": f"σ'(z{m}) = σ(z{m})(1 - σ(z{m})) = {array_text(dphi)}",
            "tanh": f"tanh'(z{m}) = 1 - tanh(z{m})² = {array_text(dphi)}",
        }[act]
        lines = [
            f"The recursion: $W{q}.T@delta{q}$ = {array_text(back)}; multiplied entry by entry by "
            f"{dform} it gives $delta{m} = hadamard(W{q}.T@delta{q}, {act}'(z{m}))$ "
            f"= {array_text(delta)}."
        ]
        if layer.ask == "db":
            lines.append(
                f"Since $d/db{m} z{m}$ is the identity, $d/db{m} L = delta{m}$ = {array_text(key)}."
            )
        elif layer.ask == "dW":
            lines.append(f"Then $d/dW{m} L = delta{m}@a{p}.T$ = {array_text(key)}.")
        given = {
            f"z{m}": str(n),
            f"a{m}": str(n),
            f"b{m}": str(n),
            f"delta{m}": str(n),
            f"a{p}": str(d),
            f"W{m}": f"{n}x{d}",
            f"W{q}": f"{k}x{n}",
            f"b{q}": str(k),
            f"z{q}": str(k),
            f"delta{q}": str(k),
        }
        return self.problem(
            seed,
            statement=statement,
            answer=array_text(key, None),
            hints=[
                f"The recursion: $delta{m} = hadamard(W{q}.T@delta{q}, {act}'(z{m}))$.",
                f"Then $d/dW{m} L = delta{m}@a{p}.T$ and $d/db{m} L = delta{m}$.",
            ],
            solution=" ".join(lines),
            mistakes=mistakes,
            given=given,
        )

    def verify(self, problem: Problem) -> list[str]:
        layer = self.params(problem.seed)
        exact = numeric(_exact(layer)[layer.ask])
        if not close_to(read_numbers(problem.answer), exact):
            return [f"engine autograd gives {problem.answer}, the notes' formulas {exact.ravel()}"]
        return []
