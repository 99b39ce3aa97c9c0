"""The problem bank as a whole: topics, variety, determinism, selection, the loader, verify."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from kind_fixtures import problems
from typer.testing import CliRunner

from dlquiz.bank import TOPICS, FamilyError, families, generate, select
from dlquiz.bank.templates import load_templates
from dlquiz.cli import app

runner = CliRunner()
TOPIC_IDS = [
    "autograd",
    "linear-regression",
    "softmax-regression",
    "activations",
    "mlp",
    "backprop",
    "initialization",
    "regularization",
    "optimizers",
    "convolution",
    "pooling",
    "batch-norm",
    "resnet",
]
FAMILY_IDS = list(families())


def test_topics_are_the_contract() -> None:
    assert list(TOPICS) == TOPIC_IDS
    r = runner.invoke(app, ["topics", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert [t["id"] for t in data["topics"]] == TOPIC_IDS
    listed = {f["id"] for t in data["topics"] for f in t["families"]}
    assert listed == set(FAMILY_IDS)


def test_every_topic_has_three_families_and_forty_in_all() -> None:
    per_topic = {t: [f for f in families().values() if f.topic == t] for t in TOPIC_IDS}
    thin = {t: len(fs) for t, fs in per_topic.items() if len(fs) < 3}
    assert not thin, f"topics with fewer than 3 families: {thin}"
    assert len(FAMILY_IDS) >= 40


def test_every_kind_of_answer_is_used() -> None:
    kinds = {f.kind for f in families().values()}
    assert {"expression", "number", "numbers", "integer", "shape", "choice"} <= kinds


@pytest.mark.parametrize("family_id", FAMILY_IDS)
def test_a_family_has_at_least_100_variants_in_200_seeds(family_id: str) -> None:
    statements = {p.statement for p in problems(family_id)}  # (shared with the kind fixtures)
    assert len(statements) >= 100, f"{family_id}: only {len(statements)} distinct statements"


@pytest.mark.parametrize("family_id", FAMILY_IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    a = generate(family_id, 17).to_json()
    b = generate(family_id, 17).to_json()
    assert a == b
    assert a["id"] == family_id
    assert a["seed"] == 17
    assert a["topic"] in TOPICS
    for field in (
        "kind",
        "statement",
        "statement_latex",
        "answer",
        "vars",
        "tolerance",
        "points",
        "hints",
        "solution",
        "mistakes",
    ):
        assert field in a
    assert 1 <= len(a["hints"]) <= 3, f"{family_id}: {len(a['hints'])} hints"
    assert all(set(m) == {"tag", "answer", "feedback"} for m in a["mistakes"])


def test_problems_are_the_same_in_another_process() -> None:
    """Nothing depends on Python's per-process hash seed or on anything but (family, seed)."""
    code = (
        "import json, sys\n"
        "from dlquiz.bank import families, generate\n"
        "print(json.dumps([generate(f, 5).to_json() for f in sorted(families())], sort_keys=True))"
    )
    here = json.dumps([generate(f, 5).to_json() for f in sorted(FAMILY_IDS)], sort_keys=True)
    there = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        check=True,
    ).stdout.strip()
    assert json.loads(there) == json.loads(here)


def test_select_is_deterministic_and_interleaves_topics() -> None:
    a = [(p.id, p.seed) for p in select(n=12, seed=3)]
    b = [(p.id, p.seed) for p in select(n=12, seed=3)]
    assert a == b
    assert a != [(p.id, p.seed) for p in select(n=12, seed=4)]
    topics = [families()[fid].topic for fid, _ in a]
    assert len(set(topics)) == 12  # one topic after another until each has had its turn


def test_select_filters_by_topic_and_family_and_cycles() -> None:
    chosen = select(["pooling"], n=7, seed=1)
    assert {p.topic for p in chosen} == {"pooling"}
    assert len(chosen) == 7
    assert len({(p.id, p.seed) for p in chosen}) == 7  # cycling still gives fresh variants
    one = select(family_ids=["linear-regression/dw-scalar"], n=3, seed=2)
    assert [p.id for p in one] == ["linear-regression/dw-scalar"] * 3
    with pytest.raises(FamilyError, match="no topic"):
        select(["astrology"])
    with pytest.raises(FamilyError, match="no family"):
        select(family_ids=["nope/nothing"])


def test_show_json_and_text() -> None:
    r = runner.invoke(app, ["show", "softmax-regression/probabilities", "--seed", "4", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["id"] == "softmax-regression/probabilities"
    assert data["input_hint"]
    r = runner.invoke(app, ["show", "linear-regression/dw-scalar", "--solution"])
    assert r.exit_code == 0
    assert "Solution" in r.stdout
    assert "Answer:" in r.stdout
    r = runner.invoke(app, ["show", "nope/nothing"])
    assert r.exit_code == 2
    assert "no family" in r.stderr


def test_show_without_solution_does_not_reveal_the_answer() -> None:
    p = generate("linear-regression/dw-scalar", 8)
    r = runner.invoke(app, ["show", p.id, "--seed", "8"])
    assert "Answer:" not in r.stdout
    assert p.answer not in r.stdout


def test_verify_every_family_for_two_seeds() -> None:
    r = runner.invoke(app, ["verify", "--seeds", "2", "--json"])
    data = json.loads(r.stdout)
    failures = {f["id"]: f["failures"] for f in data["families"] if not f["ok"]}
    assert not failures
    assert r.exit_code == 0
    assert {f["id"] for f in data["families"]} == set(FAMILY_IDS)


def test_verify_reports_a_broken_key(monkeypatch) -> None:
    family = families()["softmax-regression/probabilities"]
    original = family.generate

    def wrong_key(seed: int):  # type: ignore[no-untyped-def]
        p = original(seed)
        p.answer = "[0.5, 0.25, 0.25]" if p.answer.count(",") == 2 else "[0.25, 0.25, 0.25, 0.25]"
        return p

    monkeypatch.setattr(family, "generate", wrong_key)
    r = runner.invoke(app, ["verify", "--family", family.id, "--seeds", "2"])
    assert r.exit_code == 1
    assert "differs from the engine's F.softmax" in r.stdout


def test_verify_unknown_topic_exits_2() -> None:
    r = runner.invoke(app, ["verify", "--topic", "astrology"])
    assert r.exit_code == 2


# --- the template loader ----------------------------------------------------------------

GOOD = """\
title = "A test family"
statement = "Find $d/dw L$ for $L = {c}*w^2$."
hints = ["Power rule."]
[params]
c = { int = [1, 9] }
[vars]
w = ""
[definitions]
L = "{c}*w^2"
[answer]
derive = "L"
wrt = "w"
"""


def _write(tmp_path: Path, text: str, topic: str = "activations", name: str = "t.toml") -> Path:
    folder = tmp_path / topic
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_good_template_loads_and_derives(tmp_path: Path) -> None:
    fams = load_templates(_write(tmp_path, GOOD))
    p = fams["activations/t"].generate(3)
    assert p.check(p.answer).equivalent
    assert not fams["activations/t"].verify(p)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (GOOD.replace('title = "A test family"\n', ""), "title"),
        (GOOD.replace("[answer]\nderive", "[answer]\nderivative"), "answer.derivative"),
        (GOOD.replace('derive = "L"\n', ""), "answer"),
        (GOOD.replace('wrt = "w"\n', ""), "answer.wrt"),
        (GOOD.replace('derive = "L"', 'derive = "M"'), "answer.derive"),
        (GOOD.replace("c = { int = [1, 9] }", 'c = "seven"'), "params.c"),
        (GOOD.replace("{c}*w^2$.", "{d}*w^2$."), "statement"),
        (GOOD.replace('L = "{c}*w^2"', 'L = "{c}*w^"'), "definitions.L"),
        (GOOD.replace('w = ""', 'w = "3y2"'), "vars"),
        ("homework = 1\n" + GOOD, "homework"),
        (GOOD + 'alow = ["L"]\n', "answer.alow"),
        (GOOD + '\n[[mistakes]]\ntag = "x"\nanswer = "w"\n', "mistakes[0].feedback"),
    ],
)
def test_a_broken_template_names_its_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    def load_and_generate() -> None:
        load_templates(_write(tmp_path, text))["activations/t"].generate(0)

    with pytest.raises(FamilyError) as info:
        load_and_generate()
    message = str(info.value)
    assert "activations/t.toml" in message
    assert f"field '{field}'" in message


def test_invalid_toml_and_unknown_topic_folders(tmp_path: Path) -> None:
    with pytest.raises(FamilyError, match=re.escape("t.toml: not valid TOML")):
        load_templates(_write(tmp_path, "title = "))
    with pytest.raises(FamilyError, match="'astrology' is not a topic"):
        load_templates(_write(tmp_path / "b", GOOD, topic="astrology"))


# --- graphs -----------------------------------------------------------------------------


def test_graph_of_the_notes_autograd_example() -> None:
    r = runner.invoke(
        app,
        [
            "graph",
            "(y - (W_o@relu(W_n@x + b_n) + b_o))^2",
            "--var",
            "W_o:1x2",
            "--var",
            "W_n:2x2",
            "--var",
            "x:2",
            "--var",
            "b_n:2",
            "--var",
            "b_o",
            "--var",
            "y",
        ],
    )
    assert r.exit_code == 0, r.output
    for op in ("pow", "matmul", "relu", "add", "W_n", "x"):
        assert op in r.stdout


def test_graph_with_values_shows_forward_values_and_gradients() -> None:
    args = ["graph", "1/2*(w*x + b - y)^2", "--at", "w=0.5", "--at", "x=2", "--at", "b=0.1"]
    r = runner.invoke(app, [*args, "--at", "y=1", "--json"])
    assert r.exit_code == 0
    nodes = {n["label"]: n for n in json.loads(r.stdout)["nodes"]}
    # dL/dw = (w x + b - y) x = 0.1 * 2
    assert nodes["w"]["grad"][0][0] == pytest.approx(0.2)
    assert runner.invoke(app, [*args]).exit_code == 2  # y has no value
    assert runner.invoke(app, ["graph", "x +"]).exit_code == 2
