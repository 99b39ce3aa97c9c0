"""The judge on the labelled corpus (every topic; scalar, vector, matrix, numeric, LaTeX)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dlquiz.bank import TOPICS
from dlquiz.judge import check

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "judge_corpus.toml"
PAIRS = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["pair"]


CLASSES = ("narrow-sampling", "orthants", "tolerance", "integers", "exact", "domain", "notation",
           "constant-key", "identities")  # fmt: skip


def test_the_corpus_covers_every_topic_with_enough_pairs() -> None:
    assert len(PAIRS) >= 229  # 129 before the outside review, at least 100 since
    topics = {p["topic"] for p in PAIRS}
    assert set(TOPICS) <= topics  # test_bank pins TOPICS to the notes' 13 topics
    assert sum(p["equivalent"] for p in PAIRS) >= 40
    assert sum(not p["equivalent"] for p in PAIRS) >= 40


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p['topic']}:{p['answer']}" for p in PAIRS])
def test_pair(pair: dict) -> None:
    verdict = check(
        pair["answer"], pair["expected"], kind=pair.get("kind", "auto"), vars=pair["vars"]
    )
    assert not verdict.unusable, verdict.feedback
    assert verdict.equivalent is pair["equivalent"], verdict.feedback
    if "mistake" in pair:
        assert verdict.mistake == pair["mistake"], verdict.feedback


@pytest.mark.parametrize("name", CLASSES)
def test_every_class_of_wrong_verdict_has_pairs_both_ways(name: str) -> None:
    """Each class found by the outside review: at least 6 pairs, right and wrong answers."""
    pairs = [p for p in PAIRS if p.get("class") == name]
    assert len(pairs) >= 6
    assert any(p["equivalent"] for p in pairs)
    assert any(not p["equivalent"] for p in pairs)
