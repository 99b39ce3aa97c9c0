"""``dlquiz generate``: the files of a set, their contents, variants, determinism, Moodle."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from sets_helpers import FAMILIES, questions
from typer.testing import CliRunner

from dlquiz.bank import Problem, select
from dlquiz.cli import app

runner = CliRunner()
SET_FILES = {"problems.md", "problems.tex", "solutions.md", "solutions.tex", "key.json"}
SET_FILES |= {"answers.txt"}


def _generate(*args: str):
    return runner.invoke(app, ["generate", *args])


def test_generate_writes_every_file_and_reports_them(tmp_path):
    out = tmp_path / "set"
    result = _generate(
        "--family",
        FAMILIES[0],
        "--family",
        FAMILIES[1],
        "--n",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == SET_FILES
    for name in SET_FILES:
        assert name in result.stdout
    data = json.loads((out / "key.json").read_text())
    assert [q["number"] for q in data["questions"]] == [1, 2]


def test_key_holds_the_bank_fields_of_select(single_set):
    """The key is select()'s problems, field for field: practice with the seed is this set."""
    problems = select([], FAMILIES, 4, 11)
    entries = questions(single_set / "key.json")
    assert len(entries) == 4
    for i, (entry, p) in enumerate(zip(entries, problems, strict=True), start=1):
        assert entry["number"] == i
        for name in ("id", "seed", "kind", "answer", "vars", "tolerance", "points", "mistakes"):
            assert entry[name] == getattr(p, name), name
        assert entry["title"] == p.title
    key = json.loads((single_set / "key.json").read_text())
    assert key["title"] == "Quiz 1"
    assert key["version"] is None
    assert key["selection"] == {"topics": [], "families": FAMILIES, "n": 4, "seed": 11}


def test_typing_the_key_is_accepted_and_each_mistake_is_diagnosed(single_set):
    for entry in questions(single_set / "key.json"):
        p = Problem.from_json(entry | {"topic": "", "statement": "", "statement_latex": ""})
        assert p.check(entry["answer"]).equivalent
        for m in entry["mistakes"]:
            verdict = p.check(m["answer"])
            assert not verdict.equivalent and verdict.mistake == m["tag"]


def test_student_files_never_contain_answers_seeds_or_family_ids(single_set):
    entries = questions(single_set / "key.json")
    for name in ("problems.md", "problems.tex", "answers.txt"):
        text = (single_set / name).read_text(encoding="utf-8")
        for e in entries:
            assert e["answer"] not in text, (name, e["answer"])
            assert e["id"] not in text, (name, e["id"])
            assert str(e["seed"]) not in text, (name, e["seed"])
            for m in e["mistakes"]:
                assert m["answer"] not in text
    solutions = (single_set / "solutions.md").read_text(encoding="utf-8")
    for e in entries:
        assert e["answer"] in solutions


def test_problems_markdown_has_math_titles_and_hints(single_set):
    md = (single_set / "problems.md").read_text(encoding="utf-8")
    assert md.startswith("# Quiz 1\n")
    assert "4 questions · 4 points" in md
    headings = re.findall(r"^## (\d+)\. ", md, flags=re.M)
    assert headings == ["1", "2", "3", "4"]
    assert "$\\hat{y}" in md or "$o = " in md  # math kept between dollars
    assert md.count("*Answer with*") == 4


def test_problems_tex_is_a_complete_document(single_set):
    tex = (single_set / "problems.tex").read_text(encoding="utf-8")
    assert tex.startswith("\\documentclass")
    assert "\\usepackage{amsmath,amssymb}" in tex
    assert tex.rstrip().endswith("\\end{document}")
    assert tex.count("\\subsection*{") == 4
    assert tex.count("{") == tex.count("}")
    for ch in {c for c in tex if ord(c) > 0x7F}:  # every non-ASCII character is declared
        assert f"\\DeclareUnicodeCharacter{{{ord(ch):04X}}}" in tex, repr(ch)


def test_answer_sheet_lists_every_question_with_its_hint(single_set):
    text = (single_set / "answers.txt").read_text(encoding="utf-8")
    assert re.findall(r"^(\d+): $", text, flags=re.M) == ["1", "2", "3", "4"]
    assert "# student:" in text
    assert "# version:" not in text
    assert "#    Answer with an expression" in text
    assert "#    Answer with numbers in brackets" in text


def test_solutions_list_the_known_mistakes(single_set):
    md = (single_set / "solutions.md").read_text(encoding="utf-8")
    assert md.count("**Answer:**") == 4
    assert "`not-normalized`" in md
    tex = (single_set / "solutions.tex").read_text(encoding="utf-8")
    assert tex.count("\\textbf{Answer:}") == 4


def test_same_arguments_give_byte_identical_files(tmp_path):
    args = ["--family", FAMILIES[1], "--n", "3", "--seed", "9", "--variants", "2"]
    args += ["--format", "moodle"]
    a = _generate(*args, "--out", str(tmp_path / "a"))
    b = _generate(*args, "--out", str(tmp_path / "b"))
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert files_a == files_b
    for rel in files_a:
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    other = _generate(*args[:-2], "--seed", "10", "--out", str(tmp_path / "c"))
    assert other.exit_code == 0
    assert (tmp_path / "c" / "v1" / "key.json").read_bytes() != (
        tmp_path / "a" / "v1" / "key.json"
    ).read_bytes()


def test_variants_share_families_but_not_problems(variant_set):
    roster = json.loads((variant_set / "roster.json").read_text())
    assert roster["versions"] == {"1": "v1/key.json", "2": "v2/key.json", "3": "v3/key.json"}
    keys = [questions(variant_set / f"v{v}" / "key.json") for v in (1, 2, 3)]
    for k in range(3):
        assert len({keys[v][k]["id"] for v in range(3)}) == 1  # same family at each position
        assert len({keys[v][k]["answer"] for v in range(3)}) == 3  # different problems
    for v in (1, 2, 3):
        key = json.loads((variant_set / f"v{v}" / "key.json").read_text())
        assert key["version"] == v
        sheet = (variant_set / f"v{v}" / "answers.txt").read_text()
        assert f"\n# version: {v}\n" in sheet
        assert f"Version {v} · 3 questions" in (variant_set / f"v{v}" / "problems.md").read_text()
    # version 1 is the bank's selection itself
    assert [e["seed"] for e in keys[0]] == [p.seed for p in select([], FAMILIES, 3, 4)]


def test_moodle_export_keeps_numeric_questions_and_explains_the_rest(single_set, tmp_path):
    root = ET.parse(single_set / "moodle.xml").getroot()
    assert root.tag == "quiz"
    kinds = [q.get("type") for q in root.findall("question")]
    entries = questions(single_set / "key.json")
    numeric = [e for e in entries if e["kind"] == "numbers"]
    assert kinds.count("cloze") == len(numeric)
    assert "category" in kinds
    for q in root.findall("question[@type='cloze']"):
        text = q.find("questiontext/text").text
        assert "{1:NUMERICAL:=" in text
        assert "\\(" in text  # math for MathJax
    result = _generate(
        "--family", FAMILIES[0], "--n", "1", "--format", "moodle", "--out", str(tmp_path / "m")
    )
    assert result.exit_code == 0
    assert "0 of 1 question;" in result.stdout
    assert "left out question 1: a symbolic expression" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topic", "nope"], "no topic 'nope'"),
        (["--family", "nope/nothing"], "no family 'nope/nothing'"),
        (["--n", "0"], "--n must be between"),
        (["--variants", "0"], "--variants must be between"),
        (["--format", "pdf"], "unknown --format 'pdf'"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, args, message):
    result = _generate(*args, "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_out_must_be_a_folder(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = _generate("--family", FAMILIES[1], "--n", "1", "--out", str(target))
    assert result.exit_code == 2
    assert "not a folder" in result.output


def test_generate_json_lists_files_and_problems(tmp_path):
    result = _generate("--family", FAMILIES[1], "--n", "2", "--json", "--out", str(tmp_path / "j"))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data["files"]) == SET_FILES
    assert [q["id"] for q in data["versions"][0]] == [FAMILIES[1]] * 2


def test_every_familys_versions_keep_its_question_kind() -> None:
    """Versions redraw numbers and names, never what is asked (issue 14): every family."""
    from dlquiz.bank import families
    from dlquiz.sets.generate import build_versions

    ids = list(families())
    versions, _ = build_versions((), ids, len(ids), 11, variants=2)
    for first, second in zip(*versions, strict=True):
        assert first.id == second.id
        assert first.question_kind == second.question_kind, first.id
    varied = sum(a.statement != b.statement for a, b in zip(*versions, strict=True))
    assert varied >= 0.9 * len(ids)  # and the numbers or names did change
