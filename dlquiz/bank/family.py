"""Problem families: a seed in, a Problem out, and a way to verify the key independently.

A family is either data (a TOML template in ``problems/<topic>/``, see ``templates.py``)
or Python (``dlquiz/bank/coded/``) when its numbers come from the engine or from
architecture arithmetic. Both register here under a stable id such as
``linear-regression/dw-scalar``; the id never depends on random values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from dlquiz.bank.problem import Problem
from dlquiz.bank.render import render
from dlquiz.core.vars import Namespace

# The topics of the notes, in the order the notes teach them (a contract: `dlquiz topics`).
TOPICS: dict[str, str] = {
    "autograd": "A model as atomic operations: its computational graph and backward pass",
    "linear-regression": "The linear model, squared loss, its gradients and the SGD update",
    "softmax-regression": "Scores, softmax probabilities and the cross-entropy gradient",
    "activations": "Sigmoid, tanh and ReLU and their derivatives",
    "mlp": "Multilayer perceptrons: forward passes and parameter counts",
    "backprop": "Backpropagation: the recursion for the deltas and each layer's gradients",
    "initialization": "Variance of a layer's output and the Xavier sigma",
    "regularization": "Weight decay and dropout",
    "optimizers": "Momentum and Adam, step by step",
    "convolution": "Convolution outputs, sizes, parameter counts and receptive fields",
    "pooling": "Max and average pooling, and where max-pool sends the gradient",
    "batch-norm": "Batch normalization: statistics, outputs and conventions",
    "resnet": "Residual connections: gradients, shapes and the 1x1 projection",
}


class FamilyError(ValueError):
    """A family that cannot produce a problem (a broken template names its file and field)."""


class Family(ABC):
    """Subclasses set ``id``, ``topic``, ``title`` and ``kind`` and implement the two methods."""

    id: str
    topic: str
    title: str
    kind: str
    points: int = 1

    @abstractmethod
    def generate(self, seed: int) -> Problem:
        """The problem for ``seed``: the same on every machine."""

    @abstractmethod
    def verify(self, problem: Problem) -> list[str]:
        """Check the key independently (engine, Monte Carlo, exact arithmetic).

        Returns the failures found (empty when the key is verified).
        """

    # --- helpers for subclasses ----------------------------------------------------
    def problem(
        self,
        seed: int,
        *,
        statement: str,
        answer: str,
        ns: Namespace | None = None,
        kind: str | None = None,
        tolerance: float | None = None,
        hints: Sequence[str] = (),
        solution: str = "",
        mistakes: Sequence[dict[str, str]] = (),
        definitions: dict[str, str] | None = None,
        choices: Sequence[str] = (),
        figure: str = "",
        given: Sequence[str] | dict[str, str] = (),
    ) -> Problem:
        """Build a Problem, rendering every ``$math$`` text for the terminal and for LaTeX.

        ``ns`` declares the answer's variables (shapes and domains); ``answer`` is in the
        notation. Hints and solution lines are rendered the same way as the statement.
        ``given`` declares names of the prose only (``["h:3", "delta2:2"]``), so that
        ``delta2@h.T`` prints with its transpose where the answer itself is numeric.
        """
        ns = ns if ns is not None else Namespace()
        scratch = ns.copy()  # names in the prose (given quantities) are not answer variables
        for spec in Namespace.from_specs(given or None).vars.values():
            scratch.declare(spec)
        return Problem(
            id=self.id,
            seed=seed,
            topic=self.topic,
            kind=kind or self.kind,
            statement=render(statement, scratch, "unicode"),
            statement_latex=render(statement, scratch, "latex"),
            answer=answer,
            vars=ns.as_dict(),
            tolerance=tolerance,
            points=self.points,
            hints=[render(h, scratch, "unicode") for h in hints],
            solution=render(solution, scratch, "unicode"),
            solution_latex=render(solution, scratch, "latex"),
            mistakes=[dict(m) for m in mistakes],
            definitions=dict(definitions or {}),
            choices=[render(c, scratch, "unicode") for c in choices],
            title=self.title,
            figure=figure,
        )


_PYTHON_FAMILIES: dict[str, Family] = {}


def register(cls: Callable[[], Family]) -> Callable[[], Family]:
    """Class decorator for Python families (instantiated once)."""
    family = cls()
    if family.id in _PYTHON_FAMILIES:
        raise FamilyError(f"two families with the id '{family.id}'")
    if family.topic not in TOPICS:
        raise FamilyError(f"family '{family.id}': unknown topic '{family.topic}'")
    _PYTHON_FAMILIES[family.id] = family
    return cls


def python_families() -> dict[str, Family]:
    import dlquiz.bank.coded  # noqa: F401  (imports every module, which registers)

    return dict(_PYTHON_FAMILIES)
