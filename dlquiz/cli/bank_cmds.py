"""``topics``, ``show``, ``verify`` and ``graph``: the problem bank's commands."""

from __future__ import annotations

import typer

from dlquiz.cli import app, console
from dlquiz.cli.judge_cmds import VAR_HELP, VAR_METAVAR, ExpressionCommand, _fail
from dlquiz.status import ExitStatus


@app.command(epilog="Exit codes: 0 listed.")
def topics(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """The topics of the course notes with their problem families."""
    from dlquiz.bank import TOPICS, families

    by_topic: dict[str, list] = {t: [] for t in TOPICS}
    for f in families().values():
        by_topic[f.topic].append(f)
    if as_json:
        console.print_json(
            {
                "topics": [
                    {
                        "id": t,
                        "description": TOPICS[t],
                        "families": [{"id": f.id, "title": f.title, "kind": f.kind} for f in fams],
                    }
                    for t, fams in by_topic.items()
                ]
            }
        )
        return
    import textwrap

    from rich.markup import escape

    width = max(40, console.out().width)
    for i, (t, fams) in enumerate(by_topic.items()):
        if i:
            console.line("")
        head = textwrap.wrap(f"{t} — {TOPICS[t]}", width, subsequent_indent=" " * (len(t) + 3))
        console.line(f"[bold]{escape(t)}[/bold]" + escape(head[0][len(t) :]))
        for line in head[1:]:
            console.line(line, markup=False)
        for f in fams:
            console.line(f"  {escape(f.id)}  [dim]{f.kind}[/dim]")
            for line in textwrap.wrap(
                f.title, width, initial_indent=" " * 6, subsequent_indent=" " * 6
            ):
                console.line(line, markup=False)


def panel_title(problem, number: int | None = None) -> str:  # type: ignore[no-untyped-def]
    """``3. backprop/recursion · seed 17``: short enough for 80 columns, so the family id
    and the seed (what `dlquiz show` needs to bring the problem back) are never cut."""
    head = f"{number}. " if number is not None else ""
    return f"{head}{problem.id} · seed {problem.seed}"


def choice_lines(choices: list[str]):  # type: ignore[no-untyped-def]
    """The options, each wrapped under its own text (``A)`` hangs to the left)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for i, c in enumerate(choices):
        grid.add_row(Text(f"  {chr(65 + i)})"), Text(c))  # Text: an option's [1, 2] is no markup
    return grid


def render_problem(problem, *, solution: bool = False, number: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """A problem in a Rich panel on stdout (shared with practice).

    Wrapped at words to the terminal's width; a matrix is set as its rows.
    """
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.text import Text

    from dlquiz.bank.present import matrix_rows
    from dlquiz.core.printing import to_unicode

    parts: list = [
        Text(problem.title or problem.id, style="bold"),
        Text(""),
        Text(matrix_rows(problem.statement.strip())),
    ]
    if problem.figure:
        parts += [Text(""), Text(problem.figure.rstrip("\n"))]
    if problem.choices:
        parts += [Text(""), choice_lines(problem.choices)]
    shapes = ", ".join(f"{to_unicode.name(n)}: {s}" for n, s in sorted(problem.shapes.items()))
    if shapes:
        parts += [Text(""), Text(f"Shapes: {shapes}", style="dim")]
    parts += [Text(f"Answer with {problem.input_hint}.", style="dim")]
    if solution:
        parts += [
            Text(""),
            Text("Solution", style="bold"),
            Text(matrix_rows(problem.solution.strip())),
        ]
        parts.append(Text(matrix_rows(f"Answer: {problem.answer}"), style="bold green"))
    title = escape(panel_title(problem, number))
    console.out().print(Panel(Group(*parts), title=title, title_align="left", expand=False))


@app.command(epilog="Exit codes: 0 shown, 2 no such family.")
def show(
    family_id: str = typer.Argument(
        ..., metavar="FAMILY", help="A family id (see `dlquiz topics`)."
    ),
    seed: int = typer.Option(0, "--seed", "-s", metavar="SEED", help="Which variant."),
    solution: bool = typer.Option(False, "--solution", help="Show the worked solution and answer."),
    as_json: bool = typer.Option(False, "--json", help="Print the problem as JSON."),
) -> None:
    """One problem of a family, as a student sees it."""
    from dlquiz.bank import FamilyError, generate

    try:
        problem = generate(family_id, seed)
    except (FamilyError, ValueError) as exc:
        raise _fail(str(exc), as_json) from None
    if as_json:
        console.print_json(problem.to_json())
    else:
        render_problem(problem, solution=solution)


@app.command(epilog="Exit codes: 0 every key verified, 1 a failure, 2 no such family or topic.")
def verify(
    family_ids: list[str] = typer.Option(
        [], "--family", "-f", metavar="FAMILY", help="A family id (repeatable)."
    ),
    topic: list[str] = typer.Option(
        [], "--topic", "-t", metavar="TOPIC", help="A topic (repeatable)."
    ),
    seeds: int = typer.Option(
        5, "--seeds", min=1, metavar="N", help="Seeds per family (0 .. N-1)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Build every family's problems, verify each key independently, check the judge."""
    from rich.table import Table

    from dlquiz.bank import FamilyError
    from dlquiz.bank import pool as family_pool
    from dlquiz.bank.verify import verify_family

    try:
        chosen = family_pool(topic, family_ids)
    except FamilyError as exc:
        raise _fail(str(exc), as_json) from None
    reports = []
    for i, fam in enumerate(chosen, start=1):
        console.message(f"[{i}/{len(chosen)}] {fam.id}")
        reports.append(verify_family(fam, range(seeds)))
    failed = [r for r in reports if not r.ok]
    if as_json:
        console.print_json({"ok": not failed, "families": [r.to_json() for r in reports]})
    else:
        from dlquiz.core.numbers import count

        title = (
            f"dlquiz verify: {count(len(reports), 'family', 'families')} × {count(seeds, 'seed')}"
        )
        table = Table(title=title)
        for col in ("family", "topic", "seeds", "result", "seconds"):
            table.add_column(col)
        for r in reports:
            mark = "[green]ok[/green]" if r.ok else f"[red]{len(r.failures)} failed[/red]"
            table.add_row(r.id, r.topic, str(r.seeds), mark, f"{r.seconds:.2f}")
        console.out().print(table)
        for r in reports:
            for tag, d in r.drops.items():
                if d.dropped:
                    console.line(
                        f"· {r.id}: mistake '{tag}' dropped in {d.dropped} of {d.applies} "
                        f"seeds ({d.why})",
                        markup=False,
                    )
        for r in failed:
            for f in r.failures[:10]:
                console.line(f"✗ {r.id}: {f}", markup=False)
    raise typer.Exit(ExitStatus.FAILED if failed else ExitStatus.OK)


@app.command(epilog="Exit codes: 0 drawn, 2 unusable input.", cls=ExpressionCommand)
def graph(
    expr: str = typer.Argument(..., metavar="EXPR", help="A model or loss, in the notation."),
    var: list[str] = typer.Option([], "--var", "-v", metavar=VAR_METAVAR, help=VAR_HELP),
    at: list[str] = typer.Option(
        [],
        "--at",
        metavar="NAME=VALUE",
        help="A value NAME=VALUE (w=0.5, x=[1, 2]); give all to see values and gradients.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the graph as JSON."),
) -> None:
    """The computational graph of EXPR in atomic operations, with values and gradients."""
    from dlquiz.bank.graphs import GraphError, build_graph, render_tree

    try:
        g = build_graph(expr, var, at)
    except GraphError as exc:
        raise _fail(str(exc), as_json) from None
    if as_json:
        console.print_json(g.to_json())
    else:
        console.line(render_tree(g), markup=False)
