"""``notation``: the binding table of the answer notation, in the terminal."""

from __future__ import annotations

import shutil

import typer

from dlquiz.cli import app, console


@app.command(epilog="Exit codes: 0 the table was printed.")
def notation(
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """Print the answer notation's binding table (the README's, from the same source)."""
    from dlquiz.notation.table import as_json as rows
    from dlquiz.notation.table import terminal

    if as_json:
        console.print_json(rows())
        return
    width = min(80, shutil.get_terminal_size((80, 24)).columns)
    console.line(terminal(width), markup=False)
