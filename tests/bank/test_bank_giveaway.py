"""What a student reads before answering never gives the answer away.

Titles are shown in the practice panel, `dlquiz topics`, `problems.md`, `problems.tex`
and `answers.txt`, and the statement is the question itself: neither may print the key.
"""

from __future__ import annotations

import re

import pytest

from dlquiz.bank import TOPICS, families
from dlquiz.core.printing import to_latex, to_notation, to_unicode
from dlquiz.core.vars import Namespace
from dlquiz.notation import parse

SEEDS = range(50)
# A title names the question in words; these characters belong to a formula.
FORMULA = re.compile(r"[=*^⊙@_{}←]|\bd[A-Za-z]+/d")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _key_forms(problem) -> set[str]:  # type: ignore[no-untyped-def]
    """The key as the notation, Unicode and LaTeX print it, whitespace removed."""
    ns = Namespace.from_specs([f"{k}:{v}" if v else k for k, v in problem.vars.items()])
    e = parse(problem.answer, ns, declare=True)
    if e.op in ("sym", "num"):  # a given name or number: the statement must mention it
        return set()
    return {_squash(f) for f in (problem.answer, to_notation(e), to_unicode(e), to_latex(e))}


@pytest.mark.parametrize("family_id", sorted(families()))
def test_a_title_states_no_formula(family_id: str) -> None:
    title = families()[family_id].title
    assert not FORMULA.search(title), title


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_a_topic_description_states_no_formula(topic: str) -> None:
    assert not FORMULA.search(TOPICS[topic]), TOPICS[topic]


EXPRESSION_FAMILIES = sorted(f for f, fam in families().items() if fam.kind == "expression")


@pytest.mark.parametrize("family_id", EXPRESSION_FAMILIES)
def test_no_printed_form_of_the_key_is_in_the_title_or_the_statement(family_id: str) -> None:
    fam = families()[family_id]
    for seed in SEEDS:
        p = fam.generate(seed)
        texts = {
            "title": _squash(p.title),
            "statement": _squash(p.statement),
            "statement_latex": _squash(p.statement_latex),
        }
        for form in _key_forms(p):
            for where, text in texts.items():
                assert form not in text, f"{family_id} seed {seed}: the {where} holds {form}"


def test_the_forms_are_found_when_they_are_there() -> None:
    """The check above can fail: a statement that states its key is caught."""
    p = families()["linear-regression/dw-vector"].generate(1)
    forms = _key_forms(p)
    assert forms
    assert any(form in _squash(p.statement + " " + to_unicode_answer(p)) for form in forms)


def to_unicode_answer(problem) -> str:  # type: ignore[no-untyped-def]
    ns = Namespace.from_specs([f"{k}:{v}" if v else k for k, v in problem.vars.items()])
    return to_unicode(parse(problem.answer, ns, declare=True))
