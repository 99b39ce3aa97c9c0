"""Options read the same in every command: one meaning per short option, plain metavars."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from dlquiz.cli import app

runner = CliRunner()
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)

# The table: (command, short option, long option).
SHORT = [
    ("practice", "-n", "--n"),
    ("practice", "-t", "--topic"),
    ("practice", "-f", "--family"),
    ("practice", "-s", "--seed"),
    ("generate", "-n", "--n"),
    ("generate", "-t", "--topic"),
    ("generate", "-f", "--family"),
    ("generate", "-s", "--seed"),
    ("generate", "-o", "--out"),
    ("history", "-n", "--limit"),
    ("grade", "-o", "--out"),
    ("grade", "-j", "--jobs"),
    ("show", "-s", "--seed"),
    ("verify", "-t", "--topic"),
    ("verify", "-f", "--family"),
    ("check", "-e", "--expected"),
    ("check", "-v", "--var"),
    ("check", "-d", "--define"),
    ("derive", "-v", "--var"),
    ("steps", "-v", "--var"),
    ("graph", "-v", "--var"),
    ("reset", "-y", "--yes"),
]
# `history -n` is its --limit: the number of problems, as -n is everywhere else.
SAME_MEANING = {"-n": {"--n", "--limit"}}


def _help(command: str) -> str:
    r = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    return r.stdout


def _pairs(command: str) -> dict[str, str]:
    """Short option -> long option, as the command's --help lists them."""
    return dict(re.findall(r"^\s+(-[A-Za-z]), (--[a-z][a-z-]*)", _help(command), flags=re.M))


@pytest.mark.parametrize(("command", "short", "long"), SHORT)
def test_the_short_option_of_the_table(command: str, short: str, long: str) -> None:
    assert _pairs(command).get(short) == long


def test_no_short_option_means_two_things_across_commands() -> None:
    meanings: dict[str, set[str]] = {}
    for command in COMMANDS:
        for short, long in _pairs(command).items():
            meanings.setdefault(short, set()).add(long)
    for short, longs in meanings.items():
        assert len(longs) == 1 or longs <= SAME_MEANING.get(short, set()), (short, longs)


@pytest.mark.parametrize("command", [*COMMANDS, None])
def test_help_shows_no_python_type_as_a_metavar(command: str | None) -> None:
    text = _help(command) if command else runner.invoke(app, ["--help"]).stdout
    assert "<" not in text, [line for line in text.splitlines() if "<" in line]


def test_generate_takes_the_short_options(tmp_path) -> None:
    out = tmp_path / "set"
    r = runner.invoke(
        app, ["generate", "-n", "2", "-s", "3", "-t", "pooling", "-o", str(out), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert (out / "key.json").exists()
