"""Moodle XML: which questions Moodle can grade by itself, and what it is told."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dlquiz.bank import Problem, families, select
from dlquiz.sets.moodle import LEFT_OUT, html_text, moodle_xml


def _problem(kind: str, answer: str, **kw) -> Problem:
    fields = {
        "id": f"test/{kind}",
        "seed": 0,
        "topic": "mlp",
        "kind": kind,
        "statement": "Compute it.",
        "statement_latex": kw.pop("statement_latex", "Compute $x_{1}$ for 50\\% of it."),
        "answer": answer,
        "title": f"A {kind} question",
        "solution_latex": "Because $a = b$.",
    }
    return Problem(**(fields | kw))


def _questions(xml: str) -> list[ET.Element]:
    return [q for q in ET.fromstring(xml).findall("question") if q.get("type") != "category"]


def test_number_question_with_tolerance_and_mistake_feedback():
    p = _problem(
        "number",
        "0.7310585786",
        mistakes=[{"tag": "sigma", "answer": "0.5", "feedback": "That is σ(0)."}],
    )
    xml, omitted = moodle_xml([[p]], "T", with_versions=False)
    assert omitted == []
    [q] = _questions(xml)
    assert q.get("type") == "numerical"
    right, wrong = q.findall("answer")
    assert (right.get("fraction"), wrong.get("fraction")) == ("100", "0")
    assert float(right.find("text").text) == pytest.approx(0.7310585786)
    # the judge's tolerance: 5e-3 relative plus 1e-6 absolute
    assert float(right.find("tolerance").text) == pytest.approx(1e-6 + 5e-3 * 0.7310585786)
    assert float(wrong.find("text").text) == 0.5
    assert "That is σ(0)." in wrong.find("feedback/text").text
    text = q.find("questiontext/text").text
    assert text == "<p>Compute \\(x_{1}\\) for 50% of it.</p>"


def test_integer_question_is_exact():
    xml, _ = moodle_xml([[_problem("integer", "(28 + 2 - 3)/1 + 1")]], "T", with_versions=False)
    [q] = _questions(xml)
    assert q.find("answer/text").text == "28"
    assert float(q.find("answer/tolerance").text) == 0


def test_matrix_of_numbers_becomes_a_cloze_question():
    xml, _ = moodle_xml([[_problem("numbers", "[1, 2; 3, 0.00001]")]], "T", with_versions=False)
    [q] = _questions(xml)
    assert q.get("type") == "cloze"
    text = q.find("questiontext/text").text
    assert text.count("{1:NUMERICAL:=") == 4
    assert "row 2: {1:NUMERICAL:=3:" in text
    assert "e-" not in text  # Moodle's cloze syntax wants plain decimals


def test_choice_question_keeps_option_order_and_feedback():
    p = _problem(
        "choice",
        "B",
        choices=["x < 0", "x > 0", "x = 0"],
        mistakes=[{"tag": "sign", "answer": "A", "feedback": "Flip it."}],
    )
    xml, _ = moodle_xml([[p]], "T", with_versions=False)
    [q] = _questions(xml)
    assert q.get("type") == "multichoice"
    assert q.find("shuffleanswers").text == "false"
    answers = q.findall("answer")
    assert [a.get("fraction") for a in answers] == ["0", "100", "0"]
    assert [a.find("text").text for a in answers] == ["x &lt; 0", "x &gt; 0", "x = 0"]
    assert answers[0].find("feedback/text").text == "Flip it."


@pytest.mark.parametrize("kind", sorted(LEFT_OUT))
def test_expressions_and_shapes_are_left_out_with_the_reason(kind):
    answer = "(3, 4)" if kind == "shape" else "x*y"
    xml, omitted = moodle_xml([[_problem(kind, answer)]], "T", with_versions=False)
    assert _questions(xml) == []
    assert [(o.number, o.kind, o.reason) for o in omitted] == [(1, kind, LEFT_OUT[kind])]


def test_versions_share_one_category_per_question():
    versions = [[_problem("integer", str(v)), _problem("number", f"0.{v}")] for v in (1, 2, 3)]
    xml, _ = moodle_xml(versions, "Quiz / one", with_versions=True)
    root = ET.fromstring(xml)
    categories = [q.find("category/text").text for q in root if q.get("type") == "category"]
    assert categories == [
        "$course$/top/dlquiz/Quiz one/Question 1",
        "$course$/top/dlquiz/Quiz one/Question 2",
    ]
    names = [q.find("name/text").text for q in _questions(xml)]
    assert names[:3] == [f"1. A integer question (version {v})" for v in (1, 2, 3)]


def test_html_text_escapes_prose_and_keeps_math():
    assert (
        html_text("a <b> \\& c $x < y$\n\nnext")
        == "<p>a &lt;b&gt; &amp; c \\(x &lt; y\\)</p><p>next</p>"
    )


def test_every_family_exports_or_is_explained():
    problems = select([], list(families()), len(families()), 5)
    xml, omitted = moodle_xml([problems], "All", with_versions=False)
    exported = _questions(xml)
    assert len(exported) + len(omitted) == len(problems)
    for o in omitted:
        assert problems[o.number - 1].kind in LEFT_OUT
