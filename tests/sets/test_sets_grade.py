"""``dlquiz grade``: keys, rosters, full marks, mistakes, partial credit, hostile sheets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time

import pytest
from sets_helpers import questions, sheet
from typer.testing import CliRunner

from dlquiz.cli import app
from dlquiz.sets import grade as grading
from dlquiz.sets.keys import KeyFileError, load_keys
from dlquiz.sets.sheets import parse_sheet

runner = CliRunner()
DLQUIZ = [sys.executable, "-m", "dlquiz"]


def _grade(*args: str):
    return runner.invoke(app, ["grade", *args])


def _key_answers(key_path) -> dict[int, str]:
    return {q["number"]: q["answer"] for q in questions(key_path)}


def _first_mistakes(key_path) -> dict[int, tuple[str, str]]:
    return {
        q["number"]: (q["mistakes"][0]["answer"], q["mistakes"][0]["tag"])
        for q in questions(key_path)
    }


def test_the_key_earns_full_marks_and_mistakes_earn_zero_named(single_set, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ada.txt").write_text(sheet(_key_answers(single_set / "key.json")))
    mistakes = _first_mistakes(single_set / "key.json")
    (subs / "bob.txt").write_text(sheet({n: a for n, (a, _) in mistakes.items()}))
    out = tmp_path / "grades"
    result = _grade(str(single_set / "key.json"), str(subs), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ada, bob = data["students"]
    assert (ada["student"], ada["score"], ada["max_score"]) == ("ada", 4, 4)
    assert all(a["status"] == "right" for a in ada["answers"])
    assert bob["score"] == 0
    for a in bob["answers"]:
        assert a["status"] == "wrong"
        assert a["mistake"] == mistakes[a["number"]][1]
    summary = data["summary"]
    assert (summary["graded"], summary["mean"], summary["median"]) == (2, 2, 2)
    for q in summary["questions"]:
        assert q["success_rate"] == 0.5
        assert q["most_common_mistake"]["tag"] == mistakes[q["number"]][1]
        assert q["most_common_mistake"]["count"] == 1


def test_equivalent_rewrites_earn_full_marks(single_set):
    keyset = load_keys(single_set / "key.json")
    rewrites = {}
    for q in keyset.keys[None].questions:
        if q.kind == "expression":
            rewrites[q.number] = f"0 + ({q.answer})*1"
        else:  # the key rounded to three significant figures, as a student writes it
            values = [float(v) for v in q.answer.strip("[]").split(",")]
            rewrites[q.number] = "[" + ", ".join(f"{v:.3g}" for v in values) + "]"
    [result] = grading.grade_sheets(keyset, [parse_sheet(sheet(rewrites), "r.txt")], jobs=1)
    assert result.score == result.max_score == 4


def test_partial_credit_for_a_partly_right_vector(single_set):
    keyset = load_keys(single_set / "key.json")
    q = next(q for q in keyset.keys[None].questions if q.kind == "numbers")
    values = [float(v) for v in q.answer.strip("[]").split(",")]
    wrong_one = [*values[:-1], values[-1] + 1]
    text = sheet({q.number: "[" + ", ".join(f"{v:.4g}" for v in wrong_one) + "]"})
    [result] = grading.grade_sheets(keyset, [parse_sheet(text, "p.txt")], jobs=1)
    answer = next(a for a in result.answers if a.number == q.number)
    assert answer.status == "partial"
    assert answer.score == pytest.approx((len(values) - 1) / len(values))
    assert answer.entries is not None and answer.entries[-1] == [False]
    assert result.score == pytest.approx(answer.score)


def test_roster_picks_each_sheets_key_by_version(variant_set, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for v in (1, 2, 3):
        answers = _key_answers(variant_set / f"v{v}" / "key.json")
        (subs / f"s{v}.txt").write_text(sheet(answers, version=v))
    v2 = _key_answers(variant_set / "v2" / "key.json")
    (subs / "wrong-version.txt").write_text(sheet(v2, version=1))
    (subs / "no-version.txt").write_text(sheet(v2))
    (subs / "v9.txt").write_text(sheet(v2, version=9))
    out = tmp_path / "g"
    result = _grade(str(variant_set / "roster.json"), str(subs), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    by_id = {s["student"]: s for s in json.loads(result.stdout)["students"]}
    for v in (1, 2, 3):
        assert by_id[f"s{v}"]["score"] == 3 and by_id[f"s{v}"]["version"] == v
    assert by_id["wrong-version"]["score"] < 3  # graded against version 1's key
    assert not by_id["no-version"]["graded"]
    assert "no '# version: N' line" in by_id["no-version"]["error"]
    assert "version 9 is not in the roster" in by_id["v9"]["error"]
    assert "not graded" in result.stderr


def test_the_sets_folder_stands_for_its_roster(variant_set, tmp_path):
    f = tmp_path / "s.txt"
    f.write_text(sheet(_key_answers(variant_set / "v3" / "key.json"), version=3))
    result = _grade(str(variant_set), str(f), "--out", str(tmp_path / "g"), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["students"][0]["score"] == 3
    result = _grade(str(tmp_path), str(f), "--out", str(tmp_path / "g"))
    assert result.exit_code == 2
    assert "without a roster.json or key.json" in result.stderr


def test_a_sheet_for_another_version_is_refused_by_a_single_key(variant_set, tmp_path):
    f = tmp_path / "s.txt"
    f.write_text(sheet(_key_answers(variant_set / "v2" / "key.json"), version=2))
    result = _grade(str(variant_set / "v1" / "key.json"), str(f), "--out", str(tmp_path / "g"))
    assert result.exit_code == 0
    data = json.loads((tmp_path / "g" / "grades.json").read_text())
    assert "grade with the set's roster.json" in data["students"][0]["error"]


def test_hostile_sheets_are_graded_or_reported_and_never_stop_the_batch(single_set, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    key = _key_answers(single_set / "key.json")
    (subs / "good.txt").write_text(sheet(key, student="s0001"))
    (subs / "empty.txt").write_bytes(b"")
    (subs / "binary.txt").write_bytes(os.urandom(2000))
    (subs / "scan.pdf").write_bytes(b"%PDF-1.5\n" + os.urandom(500))
    (subs / "huge.txt").write_bytes(b"1: " + b"(" * 2_000_000)
    (subs / "latin1.txt").write_bytes(sheet(key, student="Zoë").encode("cp1252"))
    (subs / "dupes.txt").write_text(f"1: nonsense\n1: {key[1]}\n")
    (subs / "unknown.txt").write_text(f"1: {key[1]}\n99: 5\n0: 1\n")
    (subs / "long-answer.txt").write_text("1: " + "x+" * 5000 + "x\n2: " + "9^" * 50 + "9\n")
    (subs / "garbage.txt").write_text("1: )(\n2: [1, 2; 3]\n3: exp(exp(exp(1000)))\n4: ∂∂∂\n")
    out = tmp_path / "g"
    result = _grade(str(single_set / "key.json"), str(subs), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    by_id = {s["student"]: s for s in json.loads(result.stdout)["students"]}
    assert by_id["s0001"]["score"] == 4
    assert by_id["empty"]["score"] == 0 and by_id["empty"]["graded"]
    assert not by_id["binary"]["graded"] and "binary" in by_id["binary"]["error"]
    assert "a PDF file" in by_id["scan"]["error"]
    assert "larger than 1 MB" in by_id["huge"]["error"]
    assert by_id["Zoë"]["score"] == 4 and any("Windows-1252" in n for n in by_id["Zoë"]["notes"])
    assert by_id["dupes"]["score"] == 1
    assert any("answered twice" in n for n in by_id["dupes"]["notes"])
    assert by_id["unknown"]["score"] == 1
    assert any("does not have are ignored: 0, 99" in n for n in by_id["unknown"]["notes"])
    long_answers = by_id["long-answer"]["answers"]
    assert long_answers[0]["status"] == "unreadable" and "too long" in long_answers[0]["feedback"]
    assert long_answers[1]["status"] == "unreadable"
    assert by_id["garbage"]["score"] == 0
    assert all(a["status"] in ("wrong", "unreadable") for a in by_id["garbage"]["answers"])
    assert "Traceback" not in result.output
    csv_rows = (out / "grades.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + len(by_id)


def test_missing_submission_paths_are_reported(single_set, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text(sheet(_key_answers(single_set / "key.json")))
    result = _grade(
        str(single_set / "key.json"),
        str(f),
        str(tmp_path / "nope.txt"),
        "--out",
        str(tmp_path / "g"),
    )
    assert result.exit_code == 0
    assert "nope.txt: no such file or folder" in result.stderr


def test_no_sheets_at_all_is_a_usage_error(single_set, tmp_path):
    (tmp_path / "empty").mkdir()
    result = _grade(
        str(single_set / "key.json"), str(tmp_path / "empty"), "--out", str(tmp_path / "g")
    )
    assert result.exit_code == 2
    assert "no answer sheets found" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a dlquiz key"),
        ('{"questions": []}', "the key has no questions"),
        ('{"questions": [{"kind": "poem", "answer": "x"}]}', "unknown kind 'poem'"),
        ('{"questions": [{"kind": "number", "answer": "1", "points": -1}]}', "'points' must be"),
        ('{"questions": [{"kind": "number", "answer": "(("}]}', "cannot be read"),
        ('{"questions": [{"kind": "number", "answer": "x"}]}', "cannot contain variables"),
        (
            '{"questions": [{"number": 1, "kind": "number", "answer": "1"}, '
            '{"number": 1, "kind": "number", "answer": "2"}]}',
            "appears twice",
        ),
        ('{"questions": [{"kind": "number", "answer": "1", "tolerance": 5}]}', "'tolerance'"),
        ('{"versions": {"1": "missing/key.json"}}', "cannot be read"),
        ('{"versions": {"one": "k.json"}}', "version 'one' is not a number"),
        (
            '{"format": 3, "questions": [{"kind": "number", "answer": "1"}]}',
            "key format 3 was written by a newer dlquiz",
        ),
        ('{"format": "2", "questions": [{"kind": "number", "answer": "1"}]}', "'format'"),
    ],
)
def test_an_unusable_key_exits_2(tmp_path, content, message):
    key = tmp_path / "key.json"
    key.write_text(content)
    sheet_file = tmp_path / "s.txt"
    sheet_file.write_text("1: 1\n")
    result = _grade(str(key), str(sheet_file), "--out", str(tmp_path / "g"))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    with pytest.raises(KeyFileError):
        load_keys(key)


def test_a_binary_key_exits_2(tmp_path):
    key = tmp_path / "key.json"
    key.write_bytes(b"\xff\xfe\x00garbage")
    result = _grade(str(key), str(key), "--out", str(tmp_path / "g"))
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr or "not valid JSON" in result.stderr


def test_key_json_is_format_2_with_the_bank_and_family_versions_and_kinds(single_set):
    from dlquiz.bank import families, generate
    from dlquiz.bank import version as bank_version

    data = json.loads((single_set / "key.json").read_text())
    assert data["format"] == 2
    assert data["bank_version"] == bank_version()
    for q in data["questions"]:
        problem = generate(q["id"], q["seed"])
        assert q["family_version"] == families()[q["id"]].version == problem.family_version
        assert q["question_kind"] == problem.question_kind
    key = load_keys(single_set / "key.json")
    assert (key.keys[None].format, key.keys[None].bank_version) == (2, bank_version())


def test_a_format_1_key_grades_as_before(single_set, tmp_path):
    """A key written before format 2 (no bank version, kinds or family versions) grades."""
    data = json.loads((single_set / "key.json").read_text())
    data["format"] = 1
    del data["bank_version"]
    for q in data["questions"]:
        del q["question_kind"], q["family_version"]
    old = tmp_path / "key.json"
    old.write_text(json.dumps(data))
    answers = sheet(_key_answers(single_set / "key.json"))
    mistakes = sheet({n: a for n, (a, _) in _first_mistakes(single_set / "key.json").items()})
    for key_path in (single_set / "key.json", old):
        right, wrong = grading.grade_sheets(
            load_keys(key_path), [parse_sheet(answers, "a"), parse_sheet(mistakes, "b")], jobs=1
        )
        assert (right.score, wrong.score) == (4, 0)
        assert [a.mistake for a in wrong.answers] == [
            tag for _, tag in _first_mistakes(single_set / "key.json").values()
        ]


def test_a_key_edited_by_hand_without_optional_fields_still_grades(tmp_path):
    key = tmp_path / "key.json"
    key.write_text(
        json.dumps(
            {
                "questions": [
                    {"kind": "number", "answer": "1/(1+exp(-2))", "topic": None},
                    {"kind": "shape", "answer": "(32, 14, 14)", "points": 2},
                    {"kind": "choice", "answer": "B", "mistakes": [{"tag": "t", "answer": "A"}]},
                    {"kind": "integer", "answer": "27"},
                    {"kind": "expression", "answer": "x*W", "vars": {"W": "2x3", "x": ""}},
                ]
            }
        )
    )
    f = tmp_path / "s.txt"
    f.write_text("1: 0.881\n2: 32x14x14\n3: A\n4: (28 + 2 - 3)/1 \n5: W*x\n")
    [result] = grading.grade_sheets(load_keys(key), [parse_sheet(f.read_text(), "s")], jobs=1)
    statuses = [a.status for a in result.answers]
    assert statuses == ["right", "right", "wrong", "right", "right"]
    assert result.answers[2].mistake == "t"
    assert result.score == 5 and result.max_score == 6


# --- time limits and crashes: a stand-in judge that misbehaves on purpose -------------------


@pytest.fixture
def misbehaving_judge(monkeypatch):
    """Answers 'SLOW' sleep, 'STUCK' also ignore SIGALRM, 'CRASH' kill the worker."""
    real = grading.judge_answer

    def judge(question, prepared, text):
        if text == "SLOW":
            time.sleep(60)
        if text == "STUCK":
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            time.sleep(60)
        if text == "CRASH":
            os._exit(9)
        return real(question, prepared, text)

    monkeypatch.setattr(grading, "judge_answer", judge)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs POSIX signals")
def test_answers_that_hang_or_crash_cost_only_their_own_question(single_set, misbehaving_judge):
    keyset = load_keys(single_set / "key.json")
    key = _key_answers(single_set / "key.json")
    texts = [
        sheet(key | {1: "SLOW"}),
        sheet(key | {2: "STUCK"}),
        sheet(key | {3: "CRASH"}),
        sheet(key),
        sheet(key | {1: "SLOW", 4: "STUCK"}),
    ]
    sheets = [parse_sheet(t, f"s{i}.txt") for i, t in enumerate(texts)]
    started = time.monotonic()
    results = grading.grade_sheets(keyset, sheets, jobs=2, timeout=0.5)
    assert time.monotonic() - started < 20
    scores = [r.score for r in results]
    assert scores == [3, 3, 3, 4, 2]
    assert results[0].answers[0].status == "timeout"
    assert results[1].answers[1].status == "timeout"
    assert results[2].answers[2].status == "error"
    assert [a.status for a in results[4].answers] == ["timeout", "right", "right", "timeout"]
    assert any("could not be judged" in n for n in results[0].notes)


def test_parallel_and_serial_grading_agree(single_set):
    keyset = load_keys(single_set / "key.json")
    key = _key_answers(single_set / "key.json")
    mistakes = _first_mistakes(single_set / "key.json")
    texts = [
        sheet(key if i % 3 == 0 else {n: a for n, (a, _) in mistakes.items()}) for i in range(12)
    ]
    texts += [sheet({1: "garbage(", 2: "1/0"})]
    sheets = [parse_sheet(t, f"s{i}.txt") for i, t in enumerate(texts)]
    one = grading.grade_sheets(keyset, sheets, jobs=1)
    two = grading.grade_sheets(keyset, sheets, jobs=2)
    assert [r.to_json() for r in one] == [r.to_json() for r in two]


def test_grade_through_a_real_process(single_set, tmp_path):
    """The installed command end to end (the worker pool under a real process)."""
    import subprocess
    import sys

    f = tmp_path / "ada.txt"
    f.write_text(sheet(_key_answers(single_set / "key.json")))
    exe = shutil.which("dlquiz")
    cmd = [exe] if exe else [sys.executable, "-m", "dlquiz"]
    proc = subprocess.run(
        [*cmd, "grade", str(single_set / "key.json"), str(f), "--out", str(tmp_path / "g")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 of 1 sheets graded; mean 4, median 4 of 4" in proc.stdout
    assert (tmp_path / "g" / "feedback" / "ada.md").exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs Linux's /proc")
def test_ctrl_c_ends_with_130_kills_the_workers_and_writes_nothing(single_set, tmp_path):
    """Ctrl-C while judging: exit 130, one line, no report, and every process it started
    (grading workers, their SymPy workers) gone. Triggered by the judging phase's own
    line on stderr, once a worker is seen: no race with a fixed sleep under load."""
    import subprocess
    import uuid

    from sets_helpers import TAG_VARIABLE, describe_processes, tagged_processes

    subs = tmp_path / "subs"
    subs.mkdir()
    text = sheet(_key_answers(single_set / "key.json"))
    for i in range(3000):
        (subs / f"s{i:04d}.txt").write_text(text)
    tag = uuid.uuid4().hex
    out = tmp_path / "g"
    proc = subprocess.Popen(
        [*DLQUIZ, "grade", str(single_set / "key.json"), str(subs), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, TAG_VARIABLE: tag},
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # the phases announce themselves
        seen.append(line)
        if line.startswith("grading: judging"):
            break
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if len(tagged_processes(tag)) > 1:  # the parent and at least one worker
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("grading finished before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # say what is still running, then clean up
        left = describe_processes(tagged_processes(tag))
        for pid in tagged_processes(tag):
            os.kill(pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"grade did not end within 120 s of Ctrl-C; still running:\n{left}")
    stderr = "".join(seen) + stderr
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not (out / "grades.csv").exists()
    assert not (out / "INCOMPLETE").exists()  # writing never started
    deadline = time.monotonic() + 2
    while tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tagged_processes(tag) == []


# --- one verdict everywhere: the SymPy confirmation inside grading workers ----------------

GREY_KEY = {
    "questions": [
        {"number": 1, "kind": "expression", "answer": "-log(1+exp(-30*x))", "vars": {"x": ""}},
        {"number": 2, "kind": "expression", "answer": "2*x", "vars": {"x": ""}},
    ]
}
GREY_ANSWER = "log(sigmoid(30*x))"  # equal; with the switch below, only SymPy may say so
# The judge gives SymPy 2 s (DLQUIZ_TIMEOUT); a cold SymPy takes about 1.3 s for its first
# confirmation, more on a loaded machine. These tests are about where the confirmation can
# run (a grading worker could not start SymPy at all), not about that limit: both commands
# get the same, roomier one, so their verdicts stay comparable.
SYMPY_SECONDS = "20"


def test_a_grey_zone_answer_gets_full_marks_through_the_real_grade_command(tmp_path):
    import subprocess

    key = tmp_path / "key.json"
    key.write_text(json.dumps(GREY_KEY))
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(3):  # several sheets: both workers meet one
        (subs / f"s{i}.txt").write_text(f"1: {GREY_ANSWER}\n2: x + x\n")
    proc = subprocess.run(
        [*DLQUIZ, "grade", str(key), str(subs), "--out", str(tmp_path / "g"), "--json", "-j2"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DLQUIZ_TIMEOUT": SYMPY_SECONDS, "DLQUIZ_FORCE_SYMBOLIC": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    students = json.loads(proc.stdout)["students"]
    assert [s["score"] for s in students] == [2, 2, 2]
    for s in students:
        assert s["answers"][0]["status"] == "right"
        assert "confirmed symbolically" in s["answers"][0]["feedback"]
    assert "could not be judged" not in proc.stderr


def test_dlquiz_check_agrees_on_the_grey_zone_answer(monkeypatch):
    from dlquiz.judge import worker

    monkeypatch.setattr(worker, "DEFAULT_TIMEOUT", float(SYMPY_SECONDS))
    monkeypatch.setenv("DLQUIZ_FORCE_SYMBOLIC", "1")
    result = runner.invoke(app, ["check", GREY_ANSWER, "-e", GREY_KEY["questions"][0]["answer"]])
    assert result.exit_code == 0, result.output
    assert "confirmed symbolically" in result.output


# --- a judge limit is the answer's problem; any other exception is the judge's -----------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (OverflowError("integer division result too large for a float"), "too large"),
        (MemoryError(), "ran out of memory"),
    ],
)
def test_an_answer_that_breaks_a_judge_limit_is_unreadable(single_set, monkeypatch, error, reason):
    import dlquiz.judge

    real = dlquiz.judge.check

    def check(text, *a, **kw):  # type: ignore[no-untyped-def]
        if text == "HOSTILE":
            raise error
        return real(text, *a, **kw)

    monkeypatch.setattr(dlquiz.judge, "check", check)
    keyset = load_keys(single_set / "key.json")
    key = _key_answers(single_set / "key.json")
    [result] = grading.grade_sheets(keyset, [parse_sheet(sheet(key | {1: "HOSTILE"}), "s")], jobs=1)
    first = result.answers[0]
    assert (first.status, first.mistake, first.score) == ("unreadable", "unreadable", 0)
    assert reason in first.feedback and "\n" not in first.feedback
    assert result.score == 3
    assert not any("could not be judged" in n for n in result.notes)


def test_an_overflowing_answer_is_unreadable_in_the_real_grade(single_set, tmp_path):
    f = tmp_path / "s.txt"
    f.write_text(sheet(_key_answers(single_set / "key.json") | {1: "1e30^11"}))
    result = _grade(str(single_set / "key.json"), str(f), "--out", str(tmp_path / "g"), "--json")
    assert result.exit_code == 0, result.output
    [student] = json.loads(result.stdout)["students"]
    assert student["answers"][0]["status"] == "unreadable"
    assert json.loads(result.stdout)["summary"]["judge_errors"] == 0


def test_any_other_exception_in_the_judge_is_an_error_and_counted(
    single_set, tmp_path, monkeypatch
):
    import dlquiz.judge

    real = dlquiz.judge.check

    def check(text, *a, **kw):  # type: ignore[no-untyped-def]
        if text == "BUG":
            raise ValueError("a bug in the judge")
        return real(text, *a, **kw)

    monkeypatch.setattr(dlquiz.judge, "check", check)
    key = _key_answers(single_set / "key.json")
    (tmp_path / "a.txt").write_text(sheet(key | {2: "BUG"}))
    (tmp_path / "b.txt").write_text(sheet(key | {2: "BUG", 3: "BUG"}))
    result = runner.invoke(
        app,
        [
            *("--no-color", "grade", str(single_set / "key.json")),
            *(str(tmp_path / "a.txt"), str(tmp_path / "b.txt")),
            *("--out", str(tmp_path / "g"), "--jobs", "1"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "g" / "grades.json").read_text())
    assert data["summary"]["judge_errors"] == 3
    assert [a["status"] for a in data["students"][1]["answers"]] == [
        "right",
        "error",
        "error",
        "right",
    ]
    assert "3 answers could not be judged: the judge failed" in result.stdout
