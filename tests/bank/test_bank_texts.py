"""What a student reads is finished text, in every family: no raw math, no placeholder,
no statement said twice.

Every text of a problem shown in the terminal (title, statement, hints, options,
solution, each mistake's feedback and the judge's reply to each known mistake) over
several seeds: no `$` of unrendered prose math, no `{name}` or `{= ...}` left unfilled,
the ReLU'(0) convention stated at most once per text, no "= 1 = 1" repetition.
"""

from __future__ import annotations

import pytest
from bank_helpers import assert_finished_texts

from dlquiz.bank import families, generate


@pytest.mark.parametrize("family_id", sorted(families()))
def test_no_raw_math_placeholder_or_repetition_reaches_a_student(family_id: str) -> None:
    for seed in range(12):
        assert_finished_texts(generate(family_id, seed))
