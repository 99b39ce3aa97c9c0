"""The generated .tex files compile with pdflatex from texlive-latex-base alone.

CI installs Debian's texlive-latex-base (see .ci/run); where pdflatex is missing these
tests skip and say so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dlquiz.bank import families

PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(
    PDFLATEX is None, reason="pdflatex not installed (apt-get install texlive-latex-base)"
)


def compile_tex(source: Path, workdir: Path) -> str:
    """Compile ``source`` in ``workdir``; returns the log. Fails the test on any error."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / source.name
    shutil.copy(source, target)
    proc = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", target.name],
        cwd=workdir,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
    )
    log = (workdir / target.with_suffix(".log").name).read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert proc.returncode == 0, f"{source.name}: {errors[:5]}\n{proc.stdout[-2000:]}"
    assert target.with_suffix(".pdf").exists()
    assert "Missing character" not in log, "a character has no glyph in the fonts used"
    return log


@needs_pdflatex
@pytest.mark.parametrize("name", ["problems.tex", "solutions.tex"])
def test_set_compiles(single_set, tmp_path, name):
    compile_tex(single_set / name, tmp_path)


@needs_pdflatex
def test_a_version_of_a_variant_set_compiles(variant_set, tmp_path):
    compile_tex(variant_set / "v2" / "problems.tex", tmp_path / "p")
    compile_tex(variant_set / "v2" / "solutions.tex", tmp_path / "s")


@needs_pdflatex
@pytest.mark.slow
def test_one_problem_of_every_family_compiles(tmp_path):
    """Every family's statement, figure, options and solution, in one document each."""
    from dlquiz.sets.generate import write_set

    ids = list(families())
    write_set(tmp_path / "all", family_ids=ids, n=len(ids), seed=2, title="Every family")
    compile_tex(tmp_path / "all" / "problems.tex", tmp_path / "p")
    compile_tex(tmp_path / "all" / "solutions.tex", tmp_path / "s")
