"""A class folder from many systems: odd names and odd entries, each graded or reported."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sets_helpers import questions, sheet
from typer.testing import CliRunner

from dlquiz.cli import app
from dlquiz.sets.sheets import read_sheet, shown
from dlquiz.sets.submissions import find_submissions

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs and symlinks: POSIX")


def _key_answers(key_path: Path) -> dict[int, str]:
    return {q["number"]: q["answer"] for q in questions(key_path)}


def _unescape(text: str) -> bytes:
    r"""The bytes ``shown`` stands for (``\xNN`` back to the byte)."""
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=40).filter(lambda b: b"\\" not in b and b"\0" not in b))
def test_shown_names_are_utf8_and_keep_every_byte(raw):
    name = os.fsdecode(raw)
    text = shown(name)
    text.encode("utf-8")  # never raises: fit for CSV, JSON and Markdown
    assert _unescape(text) == raw
    if b"\\x" not in raw:
        try:
            assert text == raw.decode("utf-8")  # valid UTF-8 is shown as it is
        except UnicodeDecodeError:
            assert "\\x" in text


@pytest.fixture
def hostile_class(single_set, tmp_path):
    """The batch of the issue: one entry of every awkward kind, and two good sheets."""
    key = _key_answers(single_set / "key.json")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.txt").write_text(sheet(key))
    real = subs / "bob.txt"
    real.write_text(sheet(key))
    (subs / "a-alias.txt").symlink_to(real)  # sorts before its target
    with open(os.path.join(os.fsencode(subs), b"caf\xe9-latin1-name.txt"), "w") as f:
        f.write(sheet(key))
    os.mkfifo(subs / "pipe.txt")
    (subs / "dangling.txt").symlink_to(subs / "gone.txt")
    (subs / "loop-a.txt").symlink_to(subs / "loop-b.txt")
    (subs / "loop-b.txt").symlink_to(subs / "loop-a.txt")
    (subs / "device.txt").symlink_to("/dev/null")
    secret = tmp_path / "secret.txt"
    secret.write_text(sheet(key))  # a readable sheet, but outside the paths given
    (subs / "passwd.txt").symlink_to(secret)
    (subs / "etc").symlink_to(tmp_path)  # a folder out of the paths
    (subs / "inner").mkdir()
    (subs / "inner" / "cy.txt").write_text(sheet(key))
    (subs / "inner-again").symlink_to(subs / "inner")  # a folder inside the paths
    return subs


def test_every_entry_is_graded_or_reported_with_its_reason(single_set, hostile_class, tmp_path):
    out = tmp_path / "g"
    result = CliRunner().invoke(
        app, ["grade", str(single_set / "key.json"), str(hostile_class), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    data = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    by_file = {Path(s["file"]).name: s for s in data["students"]}
    graded = {name for name, s in by_file.items() if s["graded"]}
    assert graded == {"ana.txt", "bob.txt", "caf\\xe9-latin1-name.txt", "cy.txt"}
    assert all(by_file[n]["score"] == 4 for n in graded)
    # the alias: one submission, named by the real file, the symlink noted
    assert "a-alias.txt" not in by_file
    assert any("also submitted as" in n and "a-alias.txt" in n for n in by_file["bob.txt"]["notes"])
    assert [s["file"] for s in data["students"]].count(str(hostile_class / "inner" / "cy.txt")) == 1
    reasons = {name: s["error"] for name, s in by_file.items() if not s["graded"]}
    assert "named pipe (FIFO)" in reasons["pipe.txt"]
    assert "dangling symlink" in reasons["dangling.txt"]
    assert "loops" in reasons["loop-a.txt"] and "loops" in reasons["loop-b.txt"]
    assert "character device" in reasons["device.txt"]
    assert "outside the given submission paths" in reasons["passwd.txt"]
    assert "outside the given submission paths" in reasons["etc"]
    assert set(reasons) == {
        "pipe.txt",
        "dangling.txt",
        "loop-a.txt",
        "loop-b.txt",
        "device.txt",
        "passwd.txt",
        "etc",
    }
    for name in reasons:
        assert f"not graded: {hostile_class / name}" in result.stderr
    # the name that is not UTF-8: \xNN in every report, and the id from that form
    latin = by_file["caf\\xe9-latin1-name.txt"]
    assert latin["student"] == "caf\\xe9-latin1-name"
    rows = list(csv.reader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    assert any(r[0] == "caf\\xe9-latin1-name" and r[1] == "4" for r in rows)
    md = (out / latin["feedback"]).read_text(encoding="utf-8")
    assert "caf\\\\xe9-latin1-name" in md  # Markdown-escaped backslash: shows as caf\xe9
    json.loads((out / latin["gradescope"]).read_text(encoding="utf-8"))
    for f in out.rglob("*"):
        if f.is_file():
            f.read_bytes().decode("utf-8")  # every report file is valid UTF-8
            assert f.stat().st_size > 0


def test_a_symlink_given_as_an_argument_obeys_the_same_rule(single_set, tmp_path):
    """``grade key subs/*``: the shell hands a student's symlink over as an argument."""
    key = _key_answers(single_set / "key.json")
    secret = tmp_path / "secret.txt"
    secret.write_text(sheet(key))
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ok.txt").write_text(sheet(key))
    (subs / "sneaky.txt").symlink_to(secret)
    found = find_submissions([str(subs / "ok.txt"), str(subs / "sneaky.txt")])
    assert found.sheets == [str(subs / "ok.txt")]
    assert found.problems[0][0] == str(subs / "sneaky.txt")
    assert "outside the given submission paths" in found.problems[0][1]
    # naming the target too puts it inside the paths: then the link is an alias of it
    found = find_submissions([str(subs / "sneaky.txt"), str(secret)])
    assert found.sheets == [str(secret)]
    assert found.aliases == {str(secret): [str(subs / "sneaky.txt")]}


def test_a_fifo_named_directly_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "answers.txt"
    os.mkfifo(fifo)
    found = find_submissions([str(fifo)])
    assert found.sheets == [] and "named pipe" in found.problems[0][1]
    s = read_sheet(fifo)  # the reader itself never blocks on one either
    assert s.error is not None and "not a regular file" in s.error


def test_the_report_folder_and_the_key_are_not_submissions(single_set, tmp_path):
    subs = tmp_path / "subs"
    (subs / "grades" / "feedback").mkdir(parents=True)
    (subs / "grades" / "feedback" / "old.md").write_text("x")
    (subs / "a.txt").write_text("1: x\n")
    (subs / "key-link.json").symlink_to(single_set / "key.json")
    found = find_submissions(
        [str(subs), str(single_set / "key.json")],
        exclude=[subs / "grades", single_set / "key.json"],
    )
    assert found.sheets == [str(subs / "a.txt")]
    assert found.problems == []  # the key reached through a symlink is the key: skipped


# --- a property: whatever a folder holds, every entry is accounted for ------------------

KINDS = ["file", "fifo", "dangling", "loop", "link-in", "link-out", "link-dir-in", "hidden"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=12))
def test_every_visible_entry_is_a_sheet_a_problem_or_an_alias(tmp_path_factory, kinds):
    root = tmp_path_factory.mktemp("class")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "o.txt").write_text("1: 1\n")
    subs = root / "subs"
    subs.mkdir()
    (subs / "base.txt").write_text("1: 1\n")
    expected_sheets = {str(subs / "base.txt")}
    expected_problems: set[str] = set()
    aliases: set[str] = set()
    for i, kind in enumerate(kinds):
        p = subs / f"e{i:02d}.txt"
        if kind == "file":
            p.write_text("1: 1\n")
            expected_sheets.add(str(p))
        elif kind == "fifo":
            os.mkfifo(p)
            expected_problems.add(str(p))
        elif kind == "dangling":
            p.symlink_to(subs / f"missing{i}")
            expected_problems.add(str(p))
        elif kind == "loop":
            p.symlink_to(p)
            expected_problems.add(str(p))
        elif kind == "link-in":
            p.symlink_to(subs / "base.txt")
            aliases.add(str(p))
        elif kind == "link-out":
            p.symlink_to(outside / "o.txt")
            expected_problems.add(str(p))
        elif kind == "link-dir-in":
            (subs / f"d{i}").mkdir()
            (subs / f"d{i}" / "x.txt").write_text("1: 1\n")
            p.symlink_to(subs / f"d{i}")
            expected_sheets.add(str(subs / f"d{i}" / "x.txt"))
        else:
            (subs / f".hidden{i}").write_text("1: 1\n")
    found = find_submissions([str(subs)])
    assert set(found.sheets) == expected_sheets
    assert len(found.sheets) == len(set(found.sheets))
    assert {p for p, _ in found.problems} == expected_problems
    assert set(found.aliases.get(str(subs / "base.txt"), [])) == aliases
    for path in found.sheets:
        assert stat.S_ISREG(os.lstat(path).st_mode)  # a sheet is named by its real file
