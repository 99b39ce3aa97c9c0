"""The files ``grade`` writes: grades.csv, grades.json, feedback, Gradescope, the summary."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from dlquiz.cli import app
from dlquiz.sets.grade import grade_sheets
from dlquiz.sets.keys import load_keys
from dlquiz.sets.reports import file_names, summarize, write_reports
from dlquiz.sets.sheets import Sheet, parse_sheet

KEY = {
    "title": "Week 3 | quiz",
    "questions": [
        {
            "number": 1,
            "title": "Sigmoid derivative",
            "kind": "expression",
            "answer": "sigmoid(z)*(1 - sigmoid(z))",
            "mistakes": [
                {"tag": "sigma-for-sigma-prime", "answer": "sigmoid(z)", "feedback": "That is σ."}
            ],
        },
        {"number": 2, "title": "Probabilities", "kind": "numbers", "answer": "[0.25, 0.75]"},
        {"number": 3, "title": "Output size", "kind": "integer", "answer": "14", "points": 2},
    ],
}


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(KEY))
    return load_keys(path)


@pytest.fixture
def graded(key):
    sheets = [
        parse_sheet("# student: ana\n1: sigmoid(z)*(1-sigmoid(z))\n2: [0.25, 0.75]\n3: 14\n", "a"),
        parse_sheet("# student: ben\n1: sigmoid(z)\n2: [0.25, 0.5]\n3: 13\n", "b"),
        parse_sheet("# student: =HYPERLINK(1)\n1: sigmoid(z)\n3: 14\n", "c"),
        parse_sheet("# student: ../../etc/passwd\n1: `tick` | <b>x</b>\n", "d"),
        Sheet("e.pdf", error="a PDF file, not a text answer sheet"),
    ]
    return grade_sheets(key, sheets, jobs=1)


def test_summary_mean_median_success_and_most_common_mistake(key, graded):
    s = summarize(key, graded)
    assert (s["sheets"], s["graded"], s["not_graded"]) == (5, 4, 1)
    scores = sorted(r.score for r in graded if r.graded)
    assert scores == [0, 0.5, 2, 4]
    assert s["mean"] == pytest.approx(1.625)
    assert s["median"] == pytest.approx(1.25)
    q1, q2, q3 = s["questions"]
    assert q1["success_rate"] == 0.25
    assert q1["most_common_mistake"]["tag"] == "sigma-for-sigma-prime"
    assert q1["most_common_mistake"]["count"] == 2
    assert q1["most_common_mistake"]["feedback"] == "That is σ."
    assert q2["unanswered"] == 2
    assert q2["mean_score"] == pytest.approx((1 + 0.5) / 4)
    assert q3["success_rate"] == 0.5 and q3["points"] == 2


def test_grades_csv(tmp_path, key, graded):
    write_reports(tmp_path, key, graded)
    rows = list(csv.reader(io.StringIO((tmp_path / "grades.csv").read_text())))
    assert rows[0] == ["student", "score", "max", "q1", "q2", "q3", "version", "file", "problems"]
    assert rows[1][:6] == ["ana", "4", "4", "1", "1", "2"]
    assert rows[2][:6] == ["ben", "0.5", "4", "0", "0.5", "0"]
    assert rows[3][0] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert rows[5][0] == "e" and rows[5][1:6] == ["", "", "", "", ""]
    assert "a PDF file" in rows[5][-1]


def test_feedback_markdown(tmp_path, key, graded):
    write_reports(tmp_path, key, graded)
    ben = (tmp_path / "feedback" / "ben.md").read_text()
    assert ben.startswith("# Feedback: Week 3 \\| quiz\n")
    assert "**Score:** 0.5 / 4 (12%)" in ben
    assert "| 1 | Sigmoid derivative | 0 / 1 | ✗ wrong |" in ben
    assert "| 2 | Probabilities | 0.5 / 1 | ◐ partly right |" in ben
    assert "That is σ. (mistake: sigma-for-sigma-prime)" in ben
    assert "Your answer: `sigmoid(z)`" in ben
    assert "1 of 2 entries right" in ben
    for q in KEY["questions"]:  # the key's answers are not handed back
        assert q["answer"] not in ben
    hostile = (tmp_path / "feedback" / "etc_passwd.md").read_text()
    assert "Your answer: `` `tick` | <b>x</b> ``" in hostile
    pdf = (tmp_path / "feedback" / "e.md").read_text()
    assert "**Score:** not graded" in pdf and "a PDF file" in pdf


def test_gradescope_results(tmp_path, key, graded):
    write_reports(tmp_path, key, graded)
    ben = json.loads((tmp_path / "gradescope" / "ben" / "results.json").read_text())
    assert ben["score"] == 0.5 and ben["max_score"] == 4
    assert [t["name"] for t in ben["tests"]] == [
        "1. Sigmoid derivative",
        "2. Probabilities",
        "3. Output size",
    ]
    assert [t["max_score"] for t in ben["tests"]] == [1, 1, 2]
    assert [t["score"] for t in ben["tests"]] == [0, 0.5, 0]
    assert ben["tests"][0]["status"] == "failed"
    assert "Your answer: sigmoid(z)" in ben["tests"][0]["output"]
    ana = json.loads((tmp_path / "gradescope" / "ana" / "results.json").read_text())
    assert ana["score"] == 4 and all(t["status"] == "passed" for t in ana["tests"])
    pdf = json.loads((tmp_path / "gradescope" / "e" / "results.json").read_text())
    assert pdf["score"] == 0 and "could not be graded" in pdf["output"]


def test_grades_json_holds_everything(tmp_path, key, graded):
    document, files, notes = write_reports(tmp_path, key, graded)
    assert notes == []
    data = json.loads((tmp_path / "grades.json").read_text())
    assert data == json.loads(json.dumps(document))
    assert data["summary"]["graded"] == 4
    ben = data["students"][1]
    assert ben["feedback"] == "feedback/ben.md"
    assert ben["answers"][1]["entries"] == [[True], [False]]
    assert set(files) >= {"grades.csv", "grades.json", "feedback/ben.md"}
    assert all((tmp_path / f).exists() for f in files)


def test_file_names_are_safe_and_unique(graded):
    graded[0].student = "Zoë Ångström"
    graded[1].student = "zoe_angstrom"
    names = file_names(graded)
    assert names[0] == "Zoe_Angstrom"
    assert names[1] == "zoe_angstrom-2"
    assert names[3] == "etc_passwd"
    assert len(set(names)) == len(names)
    assert all("/" not in n and not n.startswith(".") for n in names)


def test_same_student_twice_is_kept_apart(tmp_path):
    key_path = tmp_path / "key.json"
    key_path.write_text(json.dumps(KEY))
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("# student: kim\n3: 14\n")
    b.write_text("# student: kim\n3: 12\n")
    result = CliRunner().invoke(
        app, ["grade", str(key_path), str(a), str(b), "--out", str(tmp_path / "g"), "--json"]
    )
    assert result.exit_code == 0
    students = json.loads(result.stdout)["students"]
    assert [s["student"] for s in students] == ["kim", "kim~2"]
    assert any("also belongs to 'kim'" in n for n in students[1]["notes"])


def test_summary_table_on_stdout(tmp_path):
    key_path = tmp_path / "key.json"
    key_path.write_text(json.dumps(KEY))
    s = tmp_path / "s.txt"
    s.write_text("1: sigmoid(z)\n2: [0.25, 0.75]\n3: 14\n")
    result = CliRunner().invoke(
        app,
        ["--no-color", "grade", str(key_path), str(s), "--out", str(tmp_path / "g")],
        env={"COLUMNS": "120"},
    )
    assert result.exit_code == 0
    assert "1 of 1 sheets graded; mean 3, median 3 of 4 (75.0% on average)" in result.stdout
    assert "sigma-for-sigma-prime ×1" in result.stdout
    assert "Reports in" in result.stdout


TOPIC_KEY = {
    "title": "Topics",
    "questions": [
        {
            "number": 1,
            "title": "Sigmoid derivative",
            "topic": "activations",
            "kind": "expression",
            "answer": "sigmoid(z)*(1 - sigmoid(z))",
            "mistakes": [{"tag": "sigma-for-sigma-prime", "answer": "sigmoid(z)"}],
        },
        {
            "number": 2,
            "title": "Tanh derivative",
            "topic": "activations",
            "kind": "expression",
            "answer": "1 - tanh(z)^2",
            "mistakes": [{"tag": "forgot-square", "answer": "1 - tanh(z)"}],
        },
        {"number": 3, "title": "Output size", "kind": "integer", "answer": "14"},
    ],
}


def _grade_80(tmp_path, sheets: dict[str, str | bytes]):  # type: ignore[no-untyped-def]
    key_path = tmp_path / "key.json"
    key_path.write_text(json.dumps(TOPIC_KEY))
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, text in sheets.items():
        (subs / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    return CliRunner().invoke(
        app,
        ["--no-color", "grade", str(key_path), str(subs), "--out", str(tmp_path / "g")],
        env={"COLUMNS": "80"},
    )


def test_summary_per_topic_and_histogram_at_80_columns(tmp_path):
    right = "1: sigmoid(z)*(1-sigmoid(z))\n2: 1 - tanh(z)^2\n3: 14\n"
    sheets = {
        "a.txt": right,
        "b.txt": right,
        "c.txt": "1: sigmoid(z)\n2: 1 - tanh(z)\n3: 14\n",
        "d.txt": "1: sigmoid(z)\n2: 1 - tanh(z)^2\n3: 13\n",
        "e.txt": "",
    }
    result = _grade_80(tmp_path, sheets)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert table and all(len(line) <= 80 for line in table)
    assert "Per topic" in result.stdout
    activations = next(line for line in lines if "│ activations" in line)
    assert "1, 2" in activations and "50%" in activations  # 4 of 8 answers right
    assert "sigma-for-sigma-prime ×2" in activations
    other = next(line for line in lines if "│ other" in line)  # a question without a topic
    assert "3" in other and "60%" in other  # a, b and c of five sheets
    data = json.loads((tmp_path / "g" / "grades.json").read_text())
    topics = {t["topic"]: t for t in data["summary"]["topics"]}
    assert topics["activations"]["questions"] == [1, 2]
    assert topics["activations"]["success_rate"] == 0.5
    assert topics["other"]["most_common_mistake"] is None
    # scores 3, 3, 1, 1, 0 of 3: bands 0-10% once, 30-40% twice, 90-100% twice
    histogram = data["summary"]["histogram"]
    assert [b["count"] for b in histogram] == [1, 0, 0, 2, 0, 0, 0, 0, 0, 2]
    bands = [line for line in lines if "%)" in line or "%]" in line]
    assert len(bands) == 10 and all(len(line) <= 80 for line in bands)
    assert bands[-1].rstrip().endswith("█ 2") and bands[0].rstrip().endswith("█ 1")
    assert bands[1].rstrip().endswith(" 0")


def test_no_empty_tables_when_no_sheet_could_be_graded(tmp_path):
    result = _grade_80(tmp_path, {"scan.pdf": b"%PDF-1.4 binary", "x.png": b"\x89PNG\r\n"})
    assert result.exit_code == 0, result.output
    assert "0 of 2 sheets graded" in result.stdout
    assert "No sheet could be graded" in result.stdout
    assert "Per question" not in result.stdout and "Per topic" not in result.stdout
    assert "┏" not in result.stdout and "█" not in result.stdout
    assert json.loads((tmp_path / "g" / "grades.json").read_text())["summary"]["histogram"] == []
