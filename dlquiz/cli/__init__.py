"""The ``dlquiz`` command line: thin commands over the package's Python API.

Every command module keeps SymPy and NumPy imports inside its functions, so
``dlquiz --help`` starts in a fraction of the time ``import sympy`` takes.
"""

from __future__ import annotations

import typer

from dlquiz import __version__
from dlquiz.cli import console
from dlquiz.status import EXIT_CODES_HELP

app = typer.Typer(
    name="dlquiz",
    help=(
        "Practise deep-learning derivations in the terminal and check them instantly.\n\n"
        + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain Click help: Rich's Markdown renderer costs ~60 ms at start
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dlquiz {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    no_color: bool = typer.Option(
        False, "--no-color", help="Plain output without colour (as NO_COLOR=1)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    console.reset()
    if no_color:
        console.disable_color()


def main() -> None:
    """Entry point of the ``dlquiz`` script."""
    app()


# Command modules register themselves on ``app``; imported last to avoid a cycle.
from dlquiz.cli import bank_cmds, judge_cmds, practice_cmds, sets_cmds  # noqa: E402,F401
