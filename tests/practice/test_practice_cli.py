"""``dlquiz practice``, ``stats``, ``history`` and ``reset`` through Typer's runner."""

from __future__ import annotations

import json
import re

import pytest
from practice_helpers import DW, SOFTMAX, wrong_answer
from typer.testing import CliRunner

from dlquiz.bank import select
from dlquiz.cli import app, practice_cmds
from dlquiz.practice.store import Store

runner = CliRunner()
FAMILIES = ["--family", DW, "--family", SOFTMAX]


def _practice(lines: list[str], *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["practice", *args], input="".join(f"{x}\n" for x in lines))


def _squash(text: str) -> str:
    """Text with every run of whitespace as one space (and none inside a matrix's rows)."""
    return " ".join(text.split()).replace("; ", ";")


def _outcomes() -> list[tuple[str, int, str]]:
    with Store() as store:
        return [
            (r["family"], r["seed"], r["outcome"])
            for r in store.query("SELECT family, seed, outcome FROM problems ORDER BY id")
        ]


def test_a_whole_session_right_wrong_hint_solution_skip(home):
    ps = select([], [DW, SOFTMAX], 5, 4)
    lines = [
        ps[0].answer,
        wrong_answer(ps[1]),
        ps[1].answer,
        "?",
        ps[2].answer,
        "!",
        "skip",
    ]
    r = _practice(lines, *FAMILIES, "--n", "5", "--seed", "4")
    assert r.exit_code == 0, r.output
    out = r.stdout
    said = _squash(out)  # messages wrap at the terminal's width: compare the words
    assert "Problem set, seed 4: 5 problems" in said
    assert out.count("✓ Right") == 3
    verdict = ps[1].check(wrong_answer(ps[1]))
    tag = f" [{verdict.mistake}]" if verdict.mistake else ""
    assert _squash(f"✗ Not right{tag}: {verdict.feedback}") in said
    assert _squash(f"Hint 1/{len(ps[2].hints)}: {ps[2].hints[0]}") in said
    assert "Solution:" in out and _squash(f"Answer: {ps[3].answer}") in said
    assert _squash(f"Skipped. The answer: {ps[4].answer}") in said
    assert "Session summary" in out
    assert "\x1b[" not in out  # not a terminal: plain text
    assert _outcomes() == [
        (ps[0].id, ps[0].seed, "right"),
        (ps[1].id, ps[1].seed, "right-after-help"),
        (ps[2].id, ps[2].seed, "right-after-help"),
        (ps[3].id, ps[3].seed, "solution"),
        (ps[4].id, ps[4].seed, "skipped"),
    ]
    # The summary's total line: 5 attempted, 1 right first time, 2 after help, 2 not solved.
    total = next(line for line in out.splitlines() if "total" in line)
    assert re.findall(r"\d+", total)[:4] == ["5", "1", "2", "2"]


def test_the_seed_gives_select_order_problem_for_problem(home):
    ps = select(["linear-regression", "softmax-regression"], [], 4, 9)
    r = _practice(
        ["skip"] * 4,
        "--topic",
        "linear-regression",
        "--topic",
        "softmax-regression",
        "-n",
        "4",
        "--seed",
        "9",
    )
    assert r.exit_code == 0, r.output
    assert [(f, s) for f, s, _ in _outcomes()] == [(p.id, p.seed) for p in ps]


def test_quit_half_way(home):
    ps = select([], [DW], 4, 1)
    r = _practice(
        [ps[0].answer, wrong_answer(ps[1]), "q", ps[2].answer],
        "--family",
        DW,
        "-n",
        "4",
        "--seed",
        "1",
    )
    assert r.exit_code == 0
    assert [o for _, _, o in _outcomes()] == ["right", "quit"]
    with Store() as store:
        assert store.query("SELECT end_reason FROM sessions")[0][0] == "quit"
        assert store.counts()["attempts"] == 2


def test_end_of_input_is_a_normal_end(home):
    r = _practice([], "--family", DW, "-n", "3")
    assert r.exit_code == 0
    assert "No problem attempted." in r.stdout
    assert _outcomes() == []


def test_adaptive_is_the_default_mode(home):
    r = _practice(["skip", "skip"], *FAMILIES, "-n", "2")
    assert r.exit_code == 0, r.output
    assert "Adaptive practice: 2 problems" in r.stdout
    outcomes = _outcomes()
    assert {f for f, _, _ in outcomes} == {DW, SOFTMAX}  # two new families, one of each


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topic", "astrology"], "no topic 'astrology'"),
        (["--family", "nope/none"], "no family 'nope/none'"),
        (["--mode", "sometimes"], "--mode must be adaptive or random"),
    ],
)
def test_bad_options_exit_2_with_one_line(home, args, message):
    r = runner.invoke(app, ["practice", *args], input="")
    assert r.exit_code == 2
    assert message in r.stderr
    assert "Traceback" not in r.output


def test_an_unusable_database_exits_2(home):
    home.mkdir()
    (home / "progress.db").write_bytes(b"garbage" * 200)
    for command in (["practice"], ["stats"], ["history"]):
        r = runner.invoke(app, command, input="")
        assert r.exit_code == 2, command
        assert "progress database" in r.stderr


def test_help_documents_the_prompt_and_exit_codes():
    r = runner.invoke(app, ["practice", "--help"])
    text = " ".join(r.stdout.split())
    assert "Exit codes: 0" in text and "130 interrupted by Ctrl-C" in text
    assert "? for the next hint" in text and "q to end" in text


def _session_with_mistakes(home) -> list:  # type: ignore[no-untyped-def]
    ps = select([], [DW, SOFTMAX], 4, 2)
    lines = [
        wrong_answer(ps[0]),
        ps[0].answer,
        ps[1].answer,
        wrong_answer(ps[2]),
        wrong_answer(ps[2]),
        wrong_answer(ps[2]),
        "skip",
    ]
    assert _practice(lines, *FAMILIES, "-n", "4", "--seed", "2").exit_code == 0
    return ps


def test_stats_json(home):
    ps = _session_with_mistakes(home)
    r = runner.invoke(app, ["stats", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    fams = {f["family"]: f for f in data["families"]}
    outcomes = {}
    for p, o in zip(ps, ["right-after-help", "right", "wrong", "skipped"], strict=True):
        outcomes.setdefault(p.id, []).append(o)
    for fid, seq in outcomes.items():
        f = fams[fid]
        assert f["problems"] == len(seq)
        assert f["right_first_time"] == seq.count("right")
        assert f["accuracy"] == pytest.approx(seq.count("right") / len(seq), abs=1e-4)
        assert f["next_due"] is not None and f["due_in"].startswith("in ")
    tags = {}
    for p, wrong in ((ps[0], 1), (ps[2], 3)):
        tag = p.check(wrong_answer(p)).mistake
        if tag:
            tags.setdefault(p.id, {}).setdefault(tag, 0)
            tags[p.id][tag] += wrong
    for fid, expected in tags.items():
        assert {m["tag"]: m["count"] for m in fams[fid]["mistakes"]} == expected
    topics = {t["topic"]: t for t in data["topics"]}
    assert topics["linear-regression"]["problems"] + topics["softmax-regression"]["problems"] == 4
    assert 0 <= topics["linear-regression"]["mastery"] <= 1
    assert data["problems"] == 4 and data["answers"] == 2 + 1 + 3


def test_stats_human_shows_a_bar_per_topic(home):
    r = runner.invoke(app, ["stats"])
    assert r.exit_code == 0
    assert "No practice recorded yet" in r.stderr
    _session_with_mistakes(home)
    r = runner.invoke(app, ["stats"])
    out = r.stdout
    for topic in ("linear-regression", "softmax-regression", "resnet"):
        assert re.search(rf"{topic}\s+[█░]{{8}}\s+\d+%", out), topic
    assert "Families practised" in out and DW in out


def test_history_json_and_limit(home):
    ps = _session_with_mistakes(home)
    r = runner.invoke(app, ["history", "--json", "--limit", "2"])
    assert r.exit_code == 0
    rows = json.loads(r.stdout)["problems"]
    assert [(x["family"], x["seed"], x["outcome"]) for x in rows] == [
        (ps[3].id, ps[3].seed, "skipped"),
        (ps[2].id, ps[2].seed, "wrong"),
    ]
    assert [a["answer"] for a in rows[1]["answers"]] == [wrong_answer(ps[2])] * 3
    assert all(not a["correct"] for a in rows[1]["answers"])
    r = runner.invoke(app, ["history"])
    assert r.exit_code == 0
    assert f"{ps[0].id}  seed {ps[0].seed}" in r.stdout
    assert "right after help (hints or retries)" in r.stdout


def test_reset_refuses_without_yes_when_not_interactive(home):
    _practice(["skip"], "--family", DW, "-n", "1")
    r = runner.invoke(app, ["reset"], input="y\n")
    assert r.exit_code == 2
    assert "--yes" in r.stderr
    assert len(_outcomes()) == 1


def test_reset_asks_at_a_terminal(home, monkeypatch):
    _practice(["skip"], "--family", DW, "-n", "1")
    monkeypatch.setattr(practice_cmds, "_interactive", lambda: True)
    r = runner.invoke(app, ["reset"], input="n\n")
    assert r.exit_code == 1
    assert len(_outcomes()) == 1
    r = runner.invoke(app, ["reset"], input="y\n")
    assert r.exit_code == 0
    assert _outcomes() == []


def test_reset_yes(home):
    _practice(["skip"], "--family", DW, "-n", "1")
    r = runner.invoke(app, ["reset", "--yes"])
    assert r.exit_code == 0
    assert "Deleted 1 problem, 0 answers and 1 session in" in r.stderr
    with Store() as store:
        assert store.counts() == {"sessions": 0, "problems": 0, "attempts": 0, "cards": 0}
