"""``generate`` and ``grade``: the instructor's commands (thin: options in, rendering out)."""

from __future__ import annotations

from pathlib import Path

import typer

from dlquiz.cli import app, console
from dlquiz.cli.judge_cmds import _fail
from dlquiz.status import ExitStatus

GENERATE_EPILOG = (
    "Writes problems.md, problems.tex, solutions.md, solutions.tex, key.json and "
    "answers.txt into DIR (with --variants K: DIR/v1 ... DIR/vK and DIR/roster.json; "
    "with --format moodle also DIR/moodle.xml). "
    "Exit codes: 0 written; 1 a family of the bank failed to build a problem; "
    "2 unusable options (unknown topic or family, bad --n or --variants, DIR not writable)."
)
GRADE_EPILOG = (
    "Writes grades.csv, grades.json, feedback/STUDENT.md and gradescope/STUDENT/results.json "
    "into --out, then manifest.json (every file with its size and SHA-256); while a run "
    "writes, --out/INCOMPLETE is present, so a report with INCOMPLETE beside it is not "
    "finished: re-run. Files of the previous run (its manifest) are replaced; no other "
    "file in --out is touched. A sheet holds lines 'N: answer', an optional '# version: N' and "
    "'# student: ID'. Exit codes: 0 grading completed (sheets that could not be graded are "
    "reported, not fatal); 2 the key is unusable, no sheet was found or --out cannot be "
    "written; 130 interrupted."
)


@app.command(epilog=GENERATE_EPILOG)
def generate(
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR", help="The folder to write."),
    topic: list[str] = typer.Option(
        [], "--topic", "-t", metavar="TOPIC", help="A topic (repeatable)."
    ),
    family: list[str] = typer.Option(
        [], "--family", "-f", metavar="FAMILY", help="A family id (repeatable)."
    ),
    n: int = typer.Option(10, "--n", "-n", metavar="N", help="Number of questions."),
    seed: int = typer.Option(
        0, "--seed", "-s", metavar="SEED", help="Which set (the same seed, the same set)."
    ),
    title: str | None = typer.Option(None, "--title", metavar="TEXT", help="The set's title."),
    variants: int | None = typer.Option(
        None, "--variants", metavar="K", help="K versions of the set, one folder each."
    ),
    fmt: list[str] = typer.Option(
        [], "--format", metavar="FORMAT", help="Also write another format: moodle (Moodle XML)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write a randomized problem set with solutions, an answer key and an answer sheet.

    The problems are the bank's selection for --topic/--family, --n and --seed: the same
    ones `dlquiz practice --seed S --mode random` presents for the same options.
    """
    from dlquiz.bank import FamilyError
    from dlquiz.core.numbers import count as plural
    from dlquiz.sets.generate import GenerationError, SetError, write_set

    formats = {f.strip().lower() for item in fmt for f in item.split(",") if f.strip()}
    unknown = formats - {"moodle"}
    if unknown:
        raise _fail(f"unknown --format '{sorted(unknown)[0]}' (known: moodle)", as_json)
    try:
        written = write_set(
            out,
            topics=topic,
            family_ids=family,
            n=n,
            seed=seed,
            title=title,
            variants=variants,
            moodle="moodle" in formats,
            progress=lambda text: console.message(f"generating: {text}"),
        )
    except (FamilyError, SetError) as exc:
        raise _fail(str(exc), as_json) from None
    except GenerationError as exc:
        if as_json:
            console.print_json({"error": str(exc)})
        console.message(f"error: {exc}", style="red")
        raise typer.Exit(ExitStatus.FAILED) from None
    for note in written.notes:
        console.message(f"note: {note}")
    if as_json:
        console.print_json(written.to_json())
        return
    count = len(written.versions[0])
    versions = len(written.versions)
    what = plural(count, "question")
    if variants is not None:
        what += f" in {plural(versions, 'version')}"
    console.line(f"Wrote {what} to {out}:", markup=False)
    for f in written.files:
        console.line(f"  {f}", markup=False)
    if "moodle.xml" in written.files:
        total = sum(len(v) for v in written.versions)
        console.line(
            f"moodle.xml holds {written.moodle_questions} of {plural(total, 'question')}; "
            f"{len(written.omitted)} left out",
            markup=False,
        )
        grouped: dict[tuple[int, str], list[int]] = {}
        for o in written.omitted:
            grouped.setdefault((o.number, o.reason), []).append(o.version or 0)
        for (number, reason), which in grouped.items():
            where = f"question {number}"
            if variants is not None:
                shown = (
                    "all versions"
                    if len(which) == versions
                    else "version" + ("s " if len(which) > 1 else " ") + ", ".join(map(str, which))
                )
                where += f" ({shown})"
            console.line(f"  left out {where}: {reason}", markup=False)


@app.command(epilog=GRADE_EPILOG)
def grade(
    key: Path = typer.Argument(
        ..., metavar="KEY", help="A key.json or a roster.json (or the set's folder)."
    ),
    submissions: list[str] = typer.Argument(
        ..., metavar="SUBMISSION...", help="Filled answer sheets, or folders of them."
    ),
    out: Path = typer.Option(
        Path("grades"), "--out", "-o", metavar="DIR", help="Where the reports go."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", metavar="N", help="Worker processes (default: one per core)."
    ),
    timeout: float = typer.Option(
        10.0,
        "--timeout",
        metavar="SECONDS",
        help="Seconds one answer may take before it is given up.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print grades.json on stdout."),
) -> None:
    """Grade a class's answer sheets against a key, with feedback for every student."""
    from dlquiz.sets.grade import grade_sheets
    from dlquiz.sets.keys import KeyFileError, load_keys
    from dlquiz.sets.output import INCOMPLETE, MANIFEST
    from dlquiz.sets.reports import write_reports
    from dlquiz.sets.sheets import shown
    from dlquiz.sets.submissions import find_submissions, read_submissions

    if jobs is not None and not 1 <= jobs <= 256:
        raise _fail("--jobs must be between 1 and 256", as_json)
    if not 0 < timeout <= 3600:
        raise _fail("--timeout must be a number of seconds in (0, 3600]", as_json)
    try:
        keyset = load_keys(key)
    except KeyFileError as exc:
        raise _fail(f"unusable key: {exc}", as_json) from None
    key_files = [keyset.path, *(k.path for k in keyset.keys.values())]
    found = find_submissions(submissions, exclude=[out, *key_files])
    if not found.sheets:
        for path, why in found.problems:
            console.message(f"not graded: {shown(path)}: {why}", style="yellow")
        where = ", ".join(shown(s) for s in submissions)
        raise _fail(f"no answer sheets found in {where}", as_json)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot write into {out}: {exc.strerror or exc}", as_json) from None
    # Each phase announces itself on stderr (a script, or a test, can follow the run).
    console.message(f"grading: reading {len(found.sheets)} sheets")
    sheets = read_submissions(found)
    # Ctrl-C: the workers are killed on the way out and the CLI's entry point ends with
    # 130 and one line; no report is written.
    results = _grade_with_progress(grade_sheets, keyset, sheets, jobs, timeout)
    console.message(f"grading: writing the reports into {out}")
    try:
        document, _files, notes = write_reports(out, keyset, results)
    except OSError as exc:
        raise _fail(
            f"cannot write into {out}: {exc.strerror or exc}; the report there is incomplete "
            f"({out / INCOMPLETE} marks it): re-run when the folder can be written",
            as_json,
        ) from None
    except KeyboardInterrupt:
        console.message(f"the report in {out} is incomplete ({out / INCOMPLETE} marks it)")
        raise
    for note in notes:
        console.message(f"note: {note}")
    for r in results:
        if r.error:
            console.message(f"not graded: {r.path}: {r.error}", style="yellow")
        for note in r.notes:
            console.message(f"note: {r.path}: {note}")
    if as_json:
        console.print_json(document)
    else:
        _print_summary(document["summary"])
        console.line(
            f"Reports in {out}: grades.csv, grades.json, feedback/, gradescope/", markup=False
        )
        console.line(
            f"{MANIFEST} lists every file; an {INCOMPLETE} file there means a run did not "
            "finish (re-run it)",
            markup=False,
        )


def _grade_with_progress(grade_sheets, keyset, sheets, jobs, timeout):  # type: ignore[no-untyped-def]
    """A progress bar on stderr when it is a terminal; none otherwise."""
    import time

    from dlquiz.sets.pool import default_processes

    answers = sum(len(sheet.answers) for sheet in sheets if sheet.error is None)
    console.message(
        f"grading: judging {answers} answers on {len(sheets)} sheets "
        f"({jobs or default_processes()} processes)"
    )
    err = console.err()
    if not err.is_terminal:
        return grade_sheets(keyset, sheets, jobs=jobs, timeout=timeout)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    # No refresh thread: the grader forks worker processes, and forking while another
    # thread holds a lock is unsafe. The bar is redrawn as sheets complete.
    with Progress(
        "grading",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        auto_refresh=False,
        transient=True,
    ) as bar:
        task = bar.add_task("grading", total=len(sheets))
        last = [0.0]

        def progress(done: int) -> None:
            bar.update(task, completed=done)
            now = time.monotonic()
            if now - last[0] > 0.1 or done == len(sheets):
                bar.refresh()
                last[0] = now

        return grade_sheets(keyset, sheets, jobs=jobs, timeout=timeout, progress=progress)


def _print_summary(summary: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    from dlquiz.sets.reports import number

    graded, total = summary["graded"], summary["sheets"]
    head = f"{graded} of {total} sheets graded"
    if summary["mean"] is not None:
        head += (
            f"; mean {number(summary['mean'])}, median {number(summary['median'])} "
            f"of {number(summary['max_score'])} ({summary['mean_percent']:.1f}% on average)"
        )
    console.line(head, markup=False)
    if not graded:
        console.line("No sheet could be graded: the reasons are listed above.", markup=False)
        return
    for count, what in (
        (summary["judge_errors"], "the judge failed (a bug in dlquiz: please report it)"),
        (summary["timeouts"], "they took longer than --timeout"),
    ):
        if count:
            s = "s" if count != 1 else ""
            console.line(f"{count} answer{s} could not be judged: {what}", markup=False)
    out = console.out()
    table = Table(title="Per question")
    table.add_column("#", justify="right")
    table.add_column("question", overflow="ellipsis", no_wrap=True, max_width=30)
    table.add_column("right", justify="right", no_wrap=True)
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("most common mistake", overflow="fold")
    table.add_column("blank", justify="right")
    for q in summary["questions"]:
        mean = "" if q["mean_score"] is None else f"{q['mean_score']:.2f}/{number(q['points'])}"
        table.add_row(
            str(q["number"]),
            escape(q["title"]),
            _percent(q["success_rate"]),
            mean,
            escape(_common(q["most_common_mistake"])),
            str(q["unanswered"]),
        )
    out.print(table)
    topics = Table(title="Per topic")
    topics.add_column("topic", overflow="fold")
    topics.add_column("questions", overflow="fold")
    topics.add_column("right", justify="right", no_wrap=True)
    topics.add_column("most common mistake", overflow="fold")
    for t in summary["topics"]:
        topics.add_row(
            escape(t["topic"]),
            ", ".join(map(str, t["questions"])),
            _percent(t["success_rate"]),
            escape(_common(t["most_common_mistake"])),
        )
    out.print(topics)
    _print_histogram(summary["histogram"])


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{100 * rate:.0f}%"


def _common(mistake: dict | None) -> str:
    return f"{mistake['tag']} ×{mistake['count']}" if mistake else ""


def _print_histogram(bins: list[dict], width: int = 40) -> None:
    """Sheets per score band, one line each, the longest bar ``width`` characters."""
    if not bins:
        return
    from dlquiz.sets.reports import number

    most = max(b["count"] for b in bins) or 1
    console.line("Scores (share of the maximum), sheets per band:", markup=False)
    for i, b in enumerate(bins):
        closing = "]" if i == len(bins) - 1 else ")"
        label = f"[{number(b['from'])}, {number(b['to'])}%{closing}"
        bar = "█" * round(width * b["count"] / most)
        console.line(f"  {label:>12} {bar} {b['count']}", markup=False)
