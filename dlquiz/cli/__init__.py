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


def _argument_type_in_help(self, ctx):  # type: ignore[no-untyped-def]
    """Nothing after an argument's metavar in --help: it already says what to give.

    Typer prints the Python type there (``KEY <path>``, ``SUBMISSION... <list[str]>``),
    which means nothing to a student or an instructor.
    """
    return None


typer.core.TyperArgument.display_type_rich = _argument_type_in_help  # type: ignore[method-assign]


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
    import warnings

    # Floating-point trouble (overflow, 0/0) is handled where it matters; a user never
    # sees NumPy's RuntimeWarnings (nor any other run-time warning) on stderr.
    warnings.simplefilter("ignore", RuntimeWarning)
    console.reset()
    if no_color:
        console.disable_color()


def main() -> None:
    """Entry point of the ``dlquiz`` script: Ctrl-C anywhere ends with 130, never a traceback.

    Click would print "Aborted!" and exit 1, which the documented exit codes do not allow.
    Its exceptions are recognised by behaviour (``show``/``exit_code``): Typer may bring
    its own copy of Click.
    """
    import sys

    from dlquiz.status import ExitStatus

    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:
        if type(exc).__name__ == "Abort":  # Click's wrapper of Ctrl-C and of end of input
            if isinstance(exc.__context__, KeyboardInterrupt):
                _interrupted()
            console.message("aborted")
            sys.exit(ExitStatus.FAILED)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # usage errors
            exc.show()
            sys.exit(exc.exit_code)
        if type(exc).__name__ == "Exit" and hasattr(exc, "exit_code"):
            sys.exit(exc.exit_code)
        raise
    if code == ExitStatus.INTERRUPTED:  # Typer's own translation of Ctrl-C, returned
        _interrupted()
    sys.exit(code if isinstance(code, int) else ExitStatus.OK)


def _interrupted() -> None:
    import sys

    from dlquiz.judge.lifetime import end_children
    from dlquiz.status import ExitStatus

    sys.stderr.write("\ninterrupted\n")  # not through Rich: it may be mid-render
    end_children()  # nothing left running, and nothing for the exit to wait on
    sys.exit(ExitStatus.INTERRUPTED)


# Command modules register themselves on ``app``; imported last to avoid a cycle.
from dlquiz.cli import (  # noqa: E402,F401
    bank_cmds,
    judge_cmds,
    notation_cmds,
    practice_cmds,
    sets_cmds,
)
