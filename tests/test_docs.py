"""The README documents every command, every family and the exact CI command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlquiz.bank import families
from dlquiz.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def test_there_are_commands() -> None:
    assert {"check", "derive", "steps", "topics", "show", "verify", "graph"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"dlquiz {command}" in README


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_documents_its_exit_codes(command: str) -> None:
    r = CliRunner().invoke(app, [command, "--help"])
    assert r.exit_code == 0
    assert "Exit codes" in r.stdout


def test_every_family_is_in_the_readme() -> None:
    missing = [f for f in families() if f"`{f}`" not in README]
    assert not missing


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second_verbatim() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, flags=re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()


def test_the_readme_exit_code_table_matches_the_enum() -> None:
    from dlquiz.status import ExitStatus

    for status in ExitStatus:
        assert f"| {int(status)} |" in README
