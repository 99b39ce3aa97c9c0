"""Problem families: a seed in, a Problem out, and a way to verify the key independently.

A family is either data (a TOML template in ``problems/<topic>/``, see ``templates.py``)
or Python (``dlquiz/bank/coded/``) when its numbers come from the engine or from
architecture arithmetic. Both register here under a stable id such as
``linear-regression/dw-scalar``; the id never depends on random values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from types import MappingProxyType

from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.bank.render import render
from dlquiz.core.vars import Namespace

KIND_TRIES = 1000  # seeds tried to find one of a wanted question kind

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


def dims(**values: Sequence[str]) -> Mapping[str, tuple[str, ...]]:
    """A family's question-kind dimensions: ``dims(ask=("theta", "v"), given=(...))``."""
    return MappingProxyType({name: tuple(v) for name, v in values.items()})


def kind_label(kind: Mapping[str, str]) -> str:
    """A question kind as one line: ``ask=theta, given=loss`` (``-`` for a family without)."""
    return ", ".join(f"{k}={v}" for k, v in sorted(kind.items())) or "-"


class Family(ABC):
    """Subclasses set ``id``, ``topic``, ``title`` and ``kind`` and implement the two methods.

    ``kinds`` declares the question-kind dimensions (what is asked, the convention, the
    activation, ...) and their values; every problem reports its own in
    ``Problem.question_kind`` (checked against the declaration by ``problem``).
    """

    id: str
    topic: str
    title: str
    kind: str
    points: int = 1
    kinds: Mapping[str, Sequence[str]] = MappingProxyType({})

    @abstractmethod
    def generate(self, seed: int) -> Problem:
        """The problem for ``seed``: the same on every machine."""

    @abstractmethod
    def verify(self, problem: Problem) -> list[str]:
        """Check the key independently (engine, Monte Carlo, exact arithmetic).

        Returns the failures found (empty when the key is verified).
        """

    def mistake_report(self, seed: int) -> object | None:
        """Which listed mistakes applied to ``seed`` and which were dropped (templates);
        None for a family that filters its own (``verify`` counts the drops)."""
        return None

    # --- question kinds ----------------------------------------------------------------
    def question_kind(self, seed: int) -> dict[str, str]:
        """The question kind ``seed`` draws (subclasses may answer without building)."""
        return dict(self.generate(seed).question_kind)

    def seed_of_kind(self, kind: Mapping[str, str], seed: int) -> int:
        """A seed whose problem has this question kind: ``seed`` itself if it does, else
        the first of a stream of seeds derived from ``(kind, seed)`` that does.

        Deterministic, so a set's version is reproduced from its seed alone; a kind no
        seed draws within ``KIND_TRIES`` is a ``FamilyError`` naming it.
        """
        wanted = dict(kind)
        unknown = sorted(set(wanted) - set(self.kinds))
        if unknown:
            raise FamilyError(
                f"family '{self.id}' has no question-kind dimension '{unknown[0]}'"
                + (f" (its dimensions: {', '.join(self.kinds)})" if self.kinds else "")
            )
        if self.question_kind(seed) == wanted:
            return seed
        draw = Draw(self.id, "kind", kind_label(wanted), seed)
        for _ in range(KIND_TRIES):
            candidate = draw.seed()
            if self.question_kind(candidate) == wanted:
                return candidate
        raise FamilyError(
            f"family '{self.id}': no seed draws the question kind {kind_label(wanted)} "
            f"(tried {KIND_TRIES})"
        )

    def generate_kind(self, kind: Mapping[str, str], seed: int) -> Problem:
        """A problem of this question kind with new numbers and names (set versions)."""
        return self.generate(self.seed_of_kind(kind, seed))

    @cached_property
    def version(self) -> str:
        """A hash of what builds this family's problems (its source and the kernel's):
        when it changes, a seed may give another problem than before."""
        import inspect
        from pathlib import Path

        from dlquiz.bank.versions import source_version

        return source_version(Path(inspect.getfile(type(self))))

    def _own_kind(self, seed: int) -> dict[str, str]:
        """The kind of ``seed`` from an overridden ``question_kind`` (none otherwise)."""
        if type(self).question_kind is Family.question_kind:
            return {}
        return self.question_kind(seed)

    def check_kind(self, kind: Mapping[str, str]) -> dict[str, str]:
        """``kind`` if it fits the declared dimensions, else a ``FamilyError``."""
        if set(kind) != set(self.kinds):
            raise FamilyError(
                f"family '{self.id}' reports the question kind {kind_label(kind)}, but declares "
                f"the dimensions {', '.join(self.kinds) or '(none)'}"
            )
        for dim, value in kind.items():
            if value not in self.kinds[dim]:
                raise FamilyError(
                    f"family '{self.id}': '{value}' is not a declared value of the question-"
                    f"kind dimension '{dim}' ({', '.join(self.kinds[dim])})"
                )
        return dict(kind)

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
        question_kind: Mapping[str, str] | None = None,
    ) -> Problem:
        """Build a Problem, rendering every ``$math$`` text for the terminal and for LaTeX.

        ``ns`` declares the answer's variables (shapes and domains); ``answer`` is in the
        notation. Hints and solution lines are rendered the same way as the statement.
        ``given`` declares names of the prose only (``["h:3", "delta2:2"]``), so that
        ``delta2@h.T`` prints with its transpose where the answer itself is numeric.
        ``question_kind`` is the problem's value of each declared dimension of ``kinds``.
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
            question_kind=self.check_kind(
                question_kind if question_kind is not None else self._own_kind(seed)
            ),
            family_version=self.version,
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
