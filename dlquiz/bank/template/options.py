"""Choice questions: a pool of options, and the options one seed shows.

Each ``[[options]]`` entry has a ``text``, and either ``correct = true`` or a ``tag`` and
the ``feedback`` a student who picks it gets; ``when`` limits it to some question kinds
or draws. A seed shows one correct option and ``[choice] wrong`` distractors (default 3),
all drawn from the options that apply, in a shuffled order. With ``balance`` (the
default) the draw avoids a correct option that is the longest or the shortest of those
shown (ties count), when the pool allows another draw, so length gives nothing away. An
option may state the ``value`` it claims (a formula), which a check can test against its
own computation (the right option's claim must hold, a distractor's must not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlquiz.bank.rand import Draw
from dlquiz.bank.template.scope import Scope
from dlquiz.bank.template.source import Source

LETTERS = "ABCDEFGH"
BALANCE_TRIES = 20
_OPTION_KEYS = {
    "text": "the option as shown",
    "correct": "true for a right option",
    "tag": "the mistake's stable name (a wrong option)",
    "feedback": "what a student who picks it is told (a wrong option)",
    "when": "when the option applies",
    "value": "the number the option claims (a formula), for a check to test",
}
_CHOICE_KEYS = {
    "wrong": "how many distractors a seed shows (default 3)",
    "balance": "avoid a right option that is the longest or shortest shown (default true)",
}


@dataclass(frozen=True)
class Shown:
    """The options of one seed, in letter order."""

    texts: list[str]
    key: str  # the letter of the right option
    mistakes: list[dict[str, str]]
    entries: list[dict[str, Any]]  # the pool entries shown, in letter order


def read_options(source: Source) -> tuple[list[dict[str, Any]], int, bool]:
    options = source.tables("options", source.data.get("options"))
    config = source.table("choice", source.data.get("choice"))
    source.keys("choice", config, _CHOICE_KEYS)
    wrong = source.integer("choice.wrong", config.get("wrong", 3), 1, len(LETTERS) - 1)
    balance = config.get("balance", True)
    if not isinstance(balance, bool):
        raise source.fail("choice.balance", "must be true or false")
    if not options:
        raise source.fail("options", "a choice question needs [[options]] (its option pool)")
    for i, o in enumerate(options):
        where = f"options[{i}]"
        source.keys(where, o, _OPTION_KEYS)
        source.text(f"{where}.text", o.get("text"))
        if "value" in o:
            source.text(f"{where}.value", o.get("value"))
        correct = o.get("correct", False)
        if not isinstance(correct, bool):
            raise source.fail(f"{where}.correct", "must be true or false")
        if not correct:
            source.text(f"{where}.tag", o.get("tag"))
            source.text(f"{where}.feedback", o.get("feedback"))
        elif "feedback" in o or "tag" in o:
            raise source.fail(where, "a correct option has no tag or feedback")
    if not any(o.get("correct") for o in options):
        raise source.fail("options", "no option is marked correct = true")
    return options, wrong, balance


def draw_options(
    scope: Scope,
    options: list[dict[str, Any]],
    wrong: int,
    balance: bool,
    draw: Draw,
    text: Callable[[str, str], str],
    seed: int,
) -> Shown:
    """The options shown for this draw; ``text(field, raw)`` renders an option's text."""
    apply = [
        (i, o)
        for i, o in enumerate(options)
        if "when" not in o or scope.holds(o["when"], f"options[{i}].when")
    ]
    right = [(i, o) for i, o in apply if o.get("correct")]
    distractors = [(i, o) for i, o in apply if not o.get("correct")]
    if not right:
        raise scope.source.fail("options", f"no correct option applies for seed {seed}")
    if len(distractors) < wrong:
        raise scope.source.fail(
            "options", f"{len(distractors)} wrong options apply for seed {seed}, {wrong} are shown"
        )
    rendered: dict[int, str] = {}

    def shown_text(i: int, o: dict[str, Any]) -> str:
        if i not in rendered:
            rendered[i] = text(f"options[{i}].text", o["text"])
        return rendered[i]

    choices = len(right) > 1 or len(distractors) > wrong
    for _ in range(BALANCE_TRIES):
        r = draw.choice(right)
        ws = draw.sample(distractors, wrong)
        if not (balance and choices):
            break
        length = len(shown_text(*r))
        others = [len(shown_text(*w)) for w in ws]
        if min(others) < length < max(others):
            break
    order = draw.shuffle(range(wrong + 1))
    picked = [r, *ws]
    entries = [picked[k] for k in order]
    texts = [shown_text(i, o) for i, o in entries]
    if len(set(texts)) != len(texts):
        raise scope.source.fail("options", f"two options shown for seed {seed} have the same text")
    key = LETTERS[order.index(0)]
    mistakes = [
        {
            "tag": o["tag"],
            "answer": LETTERS[j],
            "feedback": text(f"options[{i}].feedback", o["feedback"]),
        }
        for j, (i, o) in enumerate(entries)
        if not o.get("correct")
    ]
    return Shown(texts, key, mistakes, [o for _, o in entries])
