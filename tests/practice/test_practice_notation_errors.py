"""Answers the notation refuses (issue 9) are unreadable in practice: shown a reason, not
counted as a try, and the problem stays (``1e30^11`` used to drop it silently)."""

from __future__ import annotations

import pytest
from test_practice_session import _attempts, _problems, _run

REFUSED = ["1e30^11", "1e30*" * 11 + "1", "0.6265.3", "2 3", "d/dw (w)", "tanh^-1(w)"]


@pytest.mark.parametrize("answer", REFUSED)
def test_a_refused_answer_is_not_a_try_and_keeps_the_problem(home, answer: str) -> None:
    _, display, store, _ = _run([answer, lambda ps: ps[0].answer], n=1)
    assert display.kinds() == ["problem", "unreadable", "right", "summary"]
    unreadable = next(e for e in display.events if e[0] == "unreadable")
    assert unreadable[1] and "\n" not in unreadable[1]
    (row,) = _problems(store)
    assert (row["outcome"], row["tries"]) == ("right", 1)
    assert len(_attempts(store)) == 1
