"""Math in documents is rendered math: no raw ``W^T``, ``ŷ_c`` or ``0.00000001``.

Statements and solutions are written with their math between ``$...$`` (rendered in the
notation's Unicode for the terminal, its LaTeX for print); prose that is not rendered
(options, a mistake's feedback) writes its math in Unicode (``Wᵀ``, ``‖w‖²``), and its
subscripted names are set as math in LaTeX.
"""

from __future__ import annotations

import re

import pytest

from dlquiz.bank import families
from dlquiz.bank.present import prose_tex

SEEDS = range(15)
CODE = (
    "weight_decay",
    "count_include_pad",
    "ceil_mode",
    "running_mean",
    "running_var",
    "kaiming_normal",
    "kaiming_uniform",
    "fan_in",
    "fan_out",
)
RAW_TEX = re.compile(r"\\\^\{\}|\\textasciitilde\{\}|\\_")
RAW_UNICODE = re.compile(r"[\^~$]|\|\|")
LONG_DECIMAL = re.compile(r"\b0\.0000\d")


def _outside_math(latex: str) -> str:
    for word in CODE:
        latex = latex.replace(word.replace("_", r"\_"), "")
    return "".join(re.split(r"(?<!\\)\$", latex)[::2])


def _texts(p) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    feedback = [m.get("feedback", "") for m in p.mistakes]
    return {
        "latex": [p.statement_latex, p.solution_latex, *map(prose_tex, [*p.choices, *feedback])],
        "unicode": [p.statement, p.solution, *p.hints, *p.choices, *feedback],
    }


@pytest.mark.parametrize("family_id", sorted(families()))
def test_no_raw_math_in_prose_and_small_numbers_with_an_exponent(family_id: str) -> None:
    fam = families()[family_id]
    for seed in SEEDS:
        p = fam.generate(seed)
        texts = _texts(p)
        for text in texts["latex"]:
            m = RAW_TEX.search(_outside_math(text))
            assert m is None, f"{family_id} seed {seed}: {_around(_outside_math(text), m)}"
        for text in texts["unicode"]:
            m = RAW_UNICODE.search(text)
            assert m is None, f"{family_id} seed {seed}: {_around(text, m)}"
        for text in [*texts["unicode"], *texts["latex"], p.answer]:  # 1e-8, not 0.00000001
            m = LONG_DECIMAL.search(text)
            assert m is None, f"{family_id} seed {seed}: {_around(text, m)}"


def _around(text: str, m) -> str:  # type: ignore[no-untyped-def]
    return text[max(0, m.start() - 40) : m.end() + 20]


def test_epsilon_is_1e_8_in_text_and_10_to_the_minus_8_in_latex() -> None:
    p = families()["optimizers/adam-steps"].generate(0)
    assert "ε = 1e-8" in p.statement
    assert r"\epsilon = 10^{-8}" in p.statement_latex


def test_subscripted_names_in_prose_are_math_in_latex() -> None:
    tex = prose_tex("The loss is -log ŷ_c; W_n and σ_B², but weight_decay stays code.")
    assert r"$\hat{y}_{\text{c}}$" in tex and r"$W_{\text{n}}$" in tex
    assert r"$\sigma_{\text{B}}^{2}$" in tex and r"weight\_decay" in tex
