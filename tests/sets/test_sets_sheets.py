"""Reading answer sheets: the format, and whatever else a file may hold."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlquiz.sets.sheets import (
    MAX_SHEET_BYTES,
    parse_sheet,
    read_sheet,
    student_from_path,
)
from dlquiz.sets.submissions import find_submissions


def test_answers_headers_and_comments():
    s = parse_sheet(
        "# dlquiz answer sheet: Quiz\n"
        "# version: 2\n"
        "# Student:  Ada Lovelace \n"
        "#\n"
        "# 1. a question\n"
        "1: 4*(w*x + b - y)\n"
        "2. [0.1, 0.2]\n"
        "3) 7\n"
        "4:\n"
        "5: sigmoid(z)  # my guess\n"
    )
    assert s.version == 2
    assert s.student == "Ada Lovelace"
    assert s.answers == {1: "4*(w*x + b - y)", 2: "[0.1, 0.2]", 3: "7", 4: "", 5: "sigmoid(z)"}
    assert s.lines[3] == 8
    assert s.error is None and s.notes == []


def test_an_answer_may_continue_on_the_next_lines():
    s = parse_sheet("1: [1, 2;\n   3, 4]\n\n2: 0.5\n0.25\n")
    assert s.answers == {1: "[1, 2; 3, 4]", 2: "0.5 0.25"}


def test_a_decimal_continuation_is_not_a_question_number():
    s = parse_sheet("1: [0.5,\n0.25]\n")
    assert s.answers == {1: "[0.5, 0.25]"}


def test_duplicate_questions_keep_the_last_answer_and_say_so():
    s = parse_sheet("1: a\n2: b\n1: c\n")
    assert s.answers[1] == "c"
    assert any("question 1 is answered twice (lines 1 and 3)" in n for n in s.notes)


def test_lines_that_are_not_answers_are_reported():
    s = parse_sheet("hello there\nmore text\n1: x\n")
    assert s.answers == {1: "x"}
    assert any("2 line(s) are not answers" in n for n in s.notes)


def test_two_different_versions_make_the_sheet_ungradable():
    s = parse_sheet("# version: 1\n# version: 2\n1: x\n")
    assert s.error is not None and "2 different versions" in s.error


def test_a_version_that_is_not_a_number():
    s = parse_sheet("# version: two\n1: x\n")
    assert s.error is not None and "not a number" in s.error


def test_empty_sheet_has_no_answers_and_a_note(tmp_path):
    f = tmp_path / "empty.txt"
    f.write_bytes(b"")
    s = read_sheet(f)
    assert s.error is None and s.answers == {}
    assert any("no answers found" in n for n in s.notes)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", "a PDF file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a zip archive"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a PNG image"),
        (b"1: x\x00\x00\x00\xff\xfe", "contains NUL bytes"),
        (bytes(range(1, 32)) * 20, "control characters"),
    ],
)
def test_binary_files_are_reported(tmp_path, data, reason):
    f = tmp_path / "upload.txt"
    f.write_bytes(data)
    s = read_sheet(f)
    assert s.error is not None and reason in s.error


def test_huge_file_is_reported_without_reading_it_all(tmp_path):
    f = tmp_path / "huge.txt"
    with f.open("wb") as out:
        out.write(b"1: x\n" * (MAX_SHEET_BYTES // 5 + 10))
    s = read_sheet(f)
    assert s.error is not None and "larger than 1 MB" in s.error


@pytest.mark.parametrize(
    ("data", "note"),
    [
        ("# student: Zoë\n1: 0.5\n".encode("utf-16"), "UTF-16"),
        ("# student: Zoë\n1: 0.5\n".encode("utf-16-le"), "UTF-16"),
        ("# student: Zoë\n1: 0.5\n".encode("cp1252"), "Windows-1252"),
        ("\ufeff# student: Zoë\n1: 0.5\n".encode(), None),
        ("# student: Zoë\r\n1: 0.5\r\n".encode(), None),
    ],
)
def test_encodings(tmp_path, data, note):
    f = tmp_path / "s.txt"
    f.write_bytes(data)
    s = read_sheet(f)
    assert s.error is None
    assert s.student == "Zoë"
    assert s.answers == {1: "0.5"}
    if note:
        assert any(note in n for n in s.notes)
    else:
        assert s.notes == []


def test_utf8_with_a_broken_byte_keeps_its_greek(tmp_path):
    f = tmp_path / "s.txt"
    f.write_bytes("# student: Zoë\n1: σ(z)*(1 - σ(z))\n2: x".encode() + b"\xff\n")
    s = read_sheet(f)
    assert s.answers[1] == "σ(z)*(1 - σ(z))"
    assert s.answers[2] == "x\ufffd"
    assert any("not valid UTF-8" in n for n in s.notes)


def test_unreadable_path_is_an_error_not_an_exception(tmp_path):
    s = read_sheet(tmp_path / "missing.txt")
    assert s.error is not None and "cannot be read" in s.error


def test_control_characters_never_reach_an_id_or_answer():
    s = parse_sheet("# student: a\x1b[31mb\u202e\u200bc\n1: x\x07y\n")
    assert s.student == "a[31mbc"
    assert s.answers[1] == "xy"


def test_many_problems_are_capped():
    s = parse_sheet("".join(f"1: {i}\n" for i in range(100)))
    assert len(s.notes) <= 9


def test_student_from_path(tmp_path):
    assert student_from_path("subs/alice.txt") == "alice"
    assert student_from_path("subs/bob/answers.txt") == "bob"


def test_find_sheets_searches_folders_and_skips_hidden(tmp_path):
    (tmp_path / "a.txt").write_text("1: x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "answers.txt").write_text("1: y")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / "grades").mkdir()
    (tmp_path / "grades" / "old.md").write_text("x")
    found = find_submissions(
        [str(tmp_path), str(tmp_path / "a.txt"), "nope"], exclude=[tmp_path / "grades"]
    )
    rel = [os.path.relpath(p, tmp_path) for p in found.sheets]
    assert rel == ["a.txt", os.path.join("sub", "answers.txt")]
    assert found.problems == [("nope", "no such file or folder")]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_a_sheet_or_a_reason(tmp_path_factory, data):
    f = tmp_path_factory.mktemp("fuzz") / "s.txt"
    f.write_bytes(data)
    s = read_sheet(f)
    assert s.error is None or isinstance(s.error, str)
    for number, answer in s.answers.items():
        assert isinstance(number, int) and isinstance(answer, str)
        assert "\x00" not in answer


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_parses(text):
    s = parse_sheet(text)
    assert all("\n" not in a for a in s.answers.values())
