"""The report folder: complete or marked INCOMPLETE, nothing stale, nothing else touched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlquiz.sets import output
from dlquiz.sets.output import INCOMPLETE, MANIFEST, ReportError, ReportFolder, verify


def _report(students: list[str], title: str = "Quiz") -> dict[str, str]:
    files = {}
    for s in students:
        files[f"feedback/{s}.md"] = f"# {title}: feedback for {s}\n"
        files[f"gradescope/{s}/results.json"] = json.dumps({"score": len(s)}) + "\n"
    files["grades.json"] = json.dumps({"students": students}) + "\n"
    files["grades.csv"] = "student\n" + "".join(f"{s}\n" for s in students)
    return files


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()}


def _folders(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


LAST = ("grades.json", "grades.csv")


def test_a_complete_report_has_a_manifest_and_no_incomplete_marker(tmp_path):
    files = _report(["ana", "ben"])
    written, notes = ReportFolder(tmp_path).write(files, last=LAST)
    assert notes == []
    assert written[-2:] == ["grades.json", "grades.csv"]  # the last report files
    assert set(written) == set(files)
    assert verify(tmp_path) == []
    assert _tree(tmp_path) == set(files) | {MANIFEST}
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert [e["path"] for e in manifest["files"]] == written
    assert all(e["size"] == len(files[e["path"]].encode()) for e in manifest["files"])


def test_incomplete_is_there_before_the_first_file_and_goes_after_the_manifest(
    tmp_path, monkeypatch
):
    """Watch every rename: INCOMPLETE exists at each, the manifest is renamed last but one."""
    seen: list[tuple[str, bool]] = []
    real_replace = os.replace

    def spy(src, dst):  # type: ignore[no-untyped-def]
        seen.append((Path(dst).relative_to(tmp_path).as_posix(), (tmp_path / INCOMPLETE).exists()))
        real_replace(src, dst)

    monkeypatch.setattr(output.os, "replace", spy)
    ReportFolder(tmp_path).write(_report(["ana"]), last=LAST)
    names = [name for name, _ in seen]
    assert names[0] == INCOMPLETE
    assert names[-3:] == ["grades.json", "grades.csv", MANIFEST]
    assert all(marked for _, marked in seen[1:])
    assert not (tmp_path / INCOMPLETE).exists()


def test_a_second_run_removes_what_the_first_wrote_and_nothing_else(tmp_path):
    (tmp_path / "my-notes.txt").write_text("the instructor's own file")
    ReportFolder(tmp_path).write(_report(["ana", "ben", "cy"]), last=LAST)
    (tmp_path / "feedback" / "README.txt").write_text("mine too")
    (tmp_path / "gradescope" / "upload.sh").write_text("mine")
    ReportFolder(tmp_path).write(_report(["ana"]), last=LAST)
    assert verify(tmp_path) == []
    assert _tree(tmp_path) == set(_report(["ana"])) | {
        MANIFEST,
        "my-notes.txt",
        "feedback/README.txt",
        "gradescope/upload.sh",
    }
    assert "gradescope/ben" not in _folders(tmp_path)  # emptied and removed
    assert (tmp_path / "my-notes.txt").read_text() == "the instructor's own file"


def test_files_of_a_killed_run_are_removed_by_the_next(tmp_path, monkeypatch):
    calls = []
    real_replace = os.replace

    def dies_at_the_fourth_file(src, dst):  # type: ignore[no-untyped-def]
        calls.append(dst)
        if len(calls) == 5:
            raise KeyboardInterrupt  # as good as a kill for what is on disk
        real_replace(src, dst)

    monkeypatch.setattr(output.os, "replace", dies_at_the_fourth_file)
    with pytest.raises(KeyboardInterrupt):
        ReportFolder(tmp_path).write(_report(["ana", "ben", "cy", "dee"]), last=LAST)
    monkeypatch.undo()
    assert (tmp_path / INCOMPLETE).exists()
    assert verify(tmp_path) != []
    ReportFolder(tmp_path).write(_report(["ana"]), last=LAST)
    assert _tree(tmp_path) == set(_report(["ana"])) | {MANIFEST}
    assert verify(tmp_path) == []


def test_a_killed_runs_temporary_file_goes_when_a_rerun_keeps_the_file(tmp_path, monkeypatch):
    """Run A; run B (other content) killed while writing a file; run A again keeps that
    file (its bytes are A's) and must not leave B's temporary copy beside it."""
    folder = ReportFolder(tmp_path)
    folder.write(_report(["ana"]), last=LAST)
    monkeypatch.setattr(output, "open", _dying_open(2), raising=False)  # dies in ana's file
    with pytest.raises(_Killed):
        ReportFolder(tmp_path).write(_report(["ana"], "Quiz, again"), last=LAST)
    monkeypatch.undo()
    assert any(p.name.endswith(output.PARTIAL_SUFFIX) for p in tmp_path.rglob("*"))
    ReportFolder(tmp_path).write(_report(["ana"]), last=LAST)
    assert _tree(tmp_path) == set(_report(["ana"])) | {MANIFEST}
    assert verify(tmp_path) == []


def test_a_hostile_manifest_cannot_remove_anything_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.md"
    victim.write_text("keep me")
    sibling = tmp_path / "sibling.txt"
    sibling.write_text("keep me too")
    out = tmp_path / "out"
    out.mkdir()
    (out / "linked").symlink_to(outside)  # a folder inside --out that leads out of it
    (out / "alias.md").symlink_to(sibling)
    manifest = {
        "files": [
            {"path": p}
            for p in (
                "../sibling.txt",
                str(sibling),
                "linked/victim.md",
                "alias.md",
                "feedback/../../sibling.txt",
                "./x",
                "",
                None,
                "a\\..\\..\\sibling.txt",
            )
        ]
    }
    (out / MANIFEST).write_text(json.dumps(manifest))
    ReportFolder(out).write(_report(["ana"]), last=LAST)
    assert victim.read_text() == "keep me"
    assert sibling.read_text() == "keep me too"
    assert (out / "alias.md").is_symlink()  # a symlink is never removed
    assert verify(out) == []


def test_a_report_folder_leading_out_is_refused(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "feedback").symlink_to(outside)
    with pytest.raises(ReportError, match="leads out of"):
        ReportFolder(out).write(_report(["ana"]), last=LAST)
    assert list(outside.iterdir()) == []
    assert (out / INCOMPLETE).exists()


def test_an_unreadable_manifest_leaves_old_files_and_says_so(tmp_path):
    (tmp_path / MANIFEST).write_text("{not json")
    (tmp_path / "feedback").mkdir()
    (tmp_path / "feedback" / "old.md").write_text("from some run")
    _, notes = ReportFolder(tmp_path).write(_report(["ana"]), last=LAST)
    assert any("cannot be read" in n for n in notes)
    assert (tmp_path / "feedback" / "old.md").exists()


class _Killed(BaseException):
    pass


class _DiesHalfWay:
    """A file that writes half of what it is given, then the process "dies"."""

    def __init__(self, f) -> None:  # type: ignore[no-untyped-def]
        self.f = f

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()

    def write(self, data: bytes) -> int:
        self.f.write(data[: len(data) // 2])
        self.f.close()
        raise _Killed


def _dying_open(kill_at: int | None):  # type: ignore[no-untyped-def]
    """``open`` whose ``kill_at``-th file opened for writing dies half-way through."""
    count = [0]
    real_open = open

    def dying_open(path, mode="r", *a, **kw):  # type: ignore[no-untyped-def]
        f = real_open(path, mode, *a, **kw)
        if "w" in mode:
            count[0] += 1
            if count[0] == kill_at:
                return _DiesHalfWay(f)
        return f

    return dying_open


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    runs=st.lists(
        st.tuples(
            st.lists(st.sampled_from(["ana", "ben", "cy", "dee", "eve"]), unique=True),
            st.one_of(st.none(), st.integers(min_value=1, max_value=16)),
            st.sampled_from(["Quiz", "Quiz, again"]),  # a re-run may change a file or not
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_sequence_of_runs_and_kills_leaves_a_true_state(tmp_path_factory, runs):
    """Runs into one folder, some killed in the middle of writing their k-th file. After
    each: complete and exactly as its manifest says, or INCOMPLETE present, or the state
    the run before left; no report file on disk is partial; the user's file untouched."""
    out = tmp_path_factory.mktemp("out")
    (out / "mine.txt").write_text("user file")
    for students, kill_at, title in runs:
        files = _report(students, title)
        dying_open = _dying_open(kill_at)

        before = (_tree(out), verify(out))
        output.open = dying_open  # type: ignore[attr-defined]
        try:
            ReportFolder(out).write(files, last=LAST)
            finished = True
        except _Killed:
            finished = False
        finally:
            del output.open  # type: ignore[attr-defined]
        present = _tree(out) - {"mine.txt"}
        for name in present:
            if name.endswith(".json"):
                json.loads((out / name).read_text())  # never a partial JSON file
        if finished:
            assert verify(out) == []
            assert present == set(files) | {MANIFEST}
        elif INCOMPLETE not in present:  # killed while writing INCOMPLETE itself
            partial = f".{INCOMPLETE}{output.PARTIAL_SUFFIX}"
            assert present - {partial} == before[0] - {"mine.txt", partial}
            assert verify(out) == before[1]
        assert (out / "mine.txt").read_text() == "user file"


def test_grade_says_the_report_is_incomplete_when_it_cannot_be_written(tmp_path):
    from typer.testing import CliRunner

    from dlquiz.cli import app

    key = tmp_path / "key.json"
    key.write_text(json.dumps({"questions": [{"kind": "integer", "answer": "14"}]}))
    (tmp_path / "s.txt").write_text("1: 14\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "g"
    out.mkdir()
    (out / "feedback").symlink_to(elsewhere)
    result = CliRunner().invoke(app, ["grade", str(key), str(tmp_path / "s.txt"), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "cannot write into" in result.stderr and "INCOMPLETE" in result.stderr
    assert "Traceback" not in result.output
    assert (out / INCOMPLETE).exists() and not (out / "grades.csv").exists()
    assert list(elsewhere.iterdir()) == []


def test_a_rerun_keeps_unchanged_files_and_rewrites_changed_ones(tmp_path):
    ReportFolder(tmp_path).write(_report(["ana", "ben"]), last=LAST)
    kept = (tmp_path / "feedback" / "ana.md").stat().st_ino
    files = _report(["ana", "ben"]) | {"feedback/ben.md": "# Feedback: ben, regraded\n"}
    ReportFolder(tmp_path).write(files, last=LAST)
    assert (tmp_path / "feedback" / "ana.md").stat().st_ino == kept  # the same bytes: kept
    assert (tmp_path / "feedback" / "ben.md").read_text() == "# Feedback: ben, regraded\n"
    assert verify(tmp_path) == []
