"""The Problem: one concrete question, with everything needed to show, judge and grade it.

Every consumer (``show``, practice, ``generate``, ``grade``, ``verify``) uses these field
names; the JSON form is the same object. The ``answer`` is written in the answer
notation, so typing the key as an answer is accepted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlquiz.judge import AnswerKey, PreparedKey, Verdict

INPUT_HINTS = {
    "expression": "an expression, e.g. (w*x + b - y)*x; vectors and matrices: W@x, x.T, "
    "hadamard(a, b) or a ⊙ b; LaTeX works too",
    "number": "a number, to 3 significant figures (e.g. 0.731); an expression like "
    "1/(1+exp(-1)) also works",
    "numbers": "numbers in brackets: a vector as [1, 2, 3], a matrix as [1, 2; 3, 4]",
    "integer": "a whole number (arithmetic such as (28 + 2 - 3)/1 + 1 is fine)",
    "shape": "a shape such as (32, 14, 14)",
    "choice": "the letter of one option (A, B, C, ...)",
}


@dataclass
class Problem:
    """A question drawn from a family with a seed. ``id`` is the family's id."""

    id: str
    seed: int
    topic: str
    kind: str
    statement: str
    statement_latex: str
    answer: str
    vars: dict[str, str] = field(default_factory=dict)
    tolerance: float | None = None
    points: int = 1
    hints: list[str] = field(default_factory=list)
    solution: str = ""
    solution_latex: str = ""
    mistakes: list[dict[str, str]] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)
    title: str = ""
    figure: str = ""  # a drawing for the terminal (an autograd graph, a grid), or ""
    # What is asked, as named dimensions ({"ask": "theta", "given": "loss"}): a set's
    # versions keep it while numbers and names change (``Family.generate_kind``).
    question_kind: dict[str, str] = field(default_factory=dict)
    # The content version of the family that built it: another version may build another
    # problem for the same seed (``Family.version``).
    family_version: str = ""

    @property
    def input_hint(self) -> str:
        return INPUT_HINTS.get(self.kind, "")

    @property
    def shapes(self) -> dict[str, str]:
        """The declared non-scalar shapes, for display next to the statement."""
        out = {}
        for name, spec in self.vars.items():
            first = spec.split(":")[0] if spec else ""
            if first and first[0].isdigit():
                m, _, n = first.partition("x")
                out[name] = f"{m}x{n or 1}"
        return out

    @property
    def answer_key(self) -> AnswerKey:
        """The key fields as the one answer-key type the judge and key files share."""
        from dlquiz.judge.key import AnswerKey

        return AnswerKey(
            kind=self.kind,
            answer=self.answer,
            vars=self.vars,
            definitions=self.definitions,
            tolerance=self.tolerance,
            mistakes=tuple(self.mistakes),
            choices=tuple(self.choices),
        )

    @cached_property
    def key(self) -> PreparedKey:
        """The judge's prepared key (parsed once per problem)."""
        return self.answer_key.prepare()

    def check(self, answer: str) -> Verdict:
        """Judge an answer to this problem."""
        from dlquiz.judge import check

        return check(answer, self.key, tolerance=self.tolerance)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["input_hint"] = self.input_hint
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Problem:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})

    def key_json(self, number: int) -> dict[str, Any]:
        """What an answer key records for one question (``key.json``, format 2)."""
        return {
            "number": number,
            "id": self.id,
            "seed": self.seed,
            "points": self.points,
            "question_kind": dict(self.question_kind),
            "family_version": self.family_version,
            **self.answer_key.to_json(),
        }
