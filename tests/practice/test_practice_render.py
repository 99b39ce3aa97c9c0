"""What a student sees in an 80-column terminal: nothing cut, nothing split mid-word."""

from __future__ import annotations

import os
import re

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from dlquiz.bank import families, generate, plan
from dlquiz.bank.present import matrix_block, matrix_rows
from dlquiz.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "80"}


def _run(args: list[str], lines: list[str] = ()):  # type: ignore[no-untyped-def,assignment]
    r = runner.invoke(app, args, input="".join(f"{x}\n" for x in lines), env=WIDE)
    assert r.exit_code == 0, r.output
    return r.stdout


def _fits(out: str) -> None:
    """No line wider than 80 terminal cells (ŷ is y and a combining hat: one cell)."""
    home = os.environ["DLQUIZ_HOME"]  # pytest's temporary path: the only unbreakable line
    long = [line for line in out.splitlines() if cell_len(line) > 80 and home not in line]
    assert not long, long


def _words(text: str) -> set[str]:
    return set(text.split())


def _inside(out: str) -> str:
    """The text of panels without their borders."""
    return "\n".join(re.sub(r"^[│╭╰]\s?|\s?[│╮╯]$", "", line) for line in out.splitlines())


@pytest.mark.parametrize("family_id", sorted(families()))
def test_the_panel_title_keeps_the_family_id_and_the_seed(family_id: str) -> None:
    for seed in (0, 987654321):
        out = _run(["show", family_id, "--seed", str(seed)])
        _fits(out)
        assert f"{family_id} · seed {seed}" in out.splitlines()[0]
        # every word of the title and of the statement is there whole
        p = generate(family_id, seed)
        words = _words(_inside(out))
        assert _words(p.title) <= words
        assert _words(matrix_rows(p.statement)) <= words


def test_practice_feedback_and_solutions_wrap_at_words(home) -> None:
    """A wrong answer's feedback, hints and the worked solution, for several families."""
    shown = []
    for fid in (
        "linear-regression/dw-scalar",
        "regularization/weight-decay-update",
        "pooling/max-pool-gradient",
        "backprop/recursion",
    ):
        out = _run(["practice", "-f", fid, "-n", "1", "-s", "3"], ["0", "?", "?", "!"])
        _fits(out)
        ((family, seed),) = plan([], [fid], 1, 3)
        p = family.generate(seed)
        words = _words(out)
        assert _words(matrix_rows(p.solution)) <= words, fid
        for hint in p.hints[:2]:
            assert _words(matrix_rows(hint)) <= words
        shown.append(out)
    assert any("✗ Not right" in o for o in shown)


def test_choice_options_hang_under_their_text() -> None:
    p = generate("resnet/purpose", 0)
    out = _run(["show", "resnet/purpose", "--seed", "0"])
    _fits(out)
    lines = _inside(out).splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"\s+[A-H]\) ", line)]
    assert len(starts) == len(p.choices)
    wrapped = 0
    for i in starts:
        column = re.match(r"\s+[A-H]\) ", lines[i]).end()
        j = i + 1
        while (
            j < len(lines)
            and lines[j].strip()
            and j not in starts
            and not lines[j].startswith("Answer")
        ):
            # under the option's text, not under its letter
            assert lines[j][:column].isspace() and not lines[j][column].isspace(), lines[j]
            wrapped += 1
            j += 1
    assert wrapped  # some option is longer than a line


def test_a_matrix_is_shown_as_rows() -> None:
    out = _inside(_run(["show", "pooling/max-pool-gradient", "--seed", "1", "--solution"]))
    p = generate("pooling/max-pool-gradient", 1)
    body = re.search(r"X = \[([^\]]*)\]", p.statement).group(1)
    rows = [r.strip() for r in body.split(";")]
    for row in rows:
        cells = [c.strip() for c in row.split(",")]
        assert any(
            [c.strip() for c in line.strip(" [];").split(",")] == cells for line in out.splitlines()
        ), row


def test_matrix_rows_keeps_the_text_and_the_notation() -> None:
    text = "with W = [1, -20; 3, 4], b = [1, 2] and c = [[1, 2]]."
    shown = matrix_rows(text)
    assert shown == "with W =\n    [1, -20;\n     3,   4],\nb = [1, 2] and c = [[1, 2]]."
    assert matrix_rows("no matrix [1, 2]") == "no matrix [1, 2]"
    assert matrix_block("1, 2; 3, 4; 5, 66", indent="") == "[1,  2;\n 3,  4;\n 5, 66]"


def test_topics_fits_80_columns() -> None:
    out = _run(["topics"])
    _fits(out)
    assert all(line == line.rstrip() for line in out.splitlines())
    for fid, fam in families().items():
        assert fid in out
        assert _words(fam.title) <= _words(out)


def test_the_summary_says_right_after_help(home) -> None:
    p = generate("linear-regression/dw-scalar", 5)
    out = _run(["practice", "-f", p.id, "-n", "1", "-s", "5"], ["skip"])
    _fits(out)
    table = out.split("Session summary")[1]
    head = [line for line in table.splitlines() if line.startswith("┃")]
    columns = zip(*[line.strip("┃").split("┃") for line in head], strict=True)
    names = [" ".join(" ".join(cell.split()) for cell in col).strip() for col in columns]
    assert names == [
        "topic",
        "attempted",
        "right first time",
        "right after help",
        "not solved",
        "time",
    ]


def test_an_option_is_shown_as_written_never_as_markup() -> None:
    from rich.console import Console

    from dlquiz.cli.bank_cmds import choice_lines

    console = Console(width=80, record=True, color_system=None)
    console.print(choice_lines(["[bold]x[/bold] and [1, 2]", "b"]))
    assert "A) [bold]x[/bold] and [1, 2]" in console.export_text()
