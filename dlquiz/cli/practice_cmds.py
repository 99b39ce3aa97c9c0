"""``practice``, ``stats``, ``history`` and ``reset``: the student's commands (issue 5).

Thin: the loop is ``dlquiz.practice.session.Session``; this module picks the input source
(readline at a terminal, plain lines from a pipe), renders with Rich, and maps the way a
session ended to an exit code.
"""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dlquiz.cli import app, console
from dlquiz.status import ExitStatus

if TYPE_CHECKING:
    from dlquiz.bank import Problem
    from dlquiz.practice.session import SessionInfo, Summary
    from dlquiz.practice.store import Store

PROMPT_HELP = (
    "At the prompt type an answer, ? for the next hint, ! (or solution) for the worked "
    "solution, skip to move on, q to end. A wrong answer gets feedback and another try, "
    "up to 3; then the worked solution."
)
PRACTICE_EPILOG = (
    PROMPT_HELP + " Every graded answer is saved at once in the progress database "
    "($DLQUIZ_HOME/progress.db, or the platform's data directory). Exit codes: 0 the "
    "session ended (all problems done, q, or end of input/Ctrl-D), 2 an unknown topic or "
    "family, a bad option or an unusable progress database, 130 interrupted by Ctrl-C "
    "(the summary is printed first)."
)
MODES = ("adaptive", "random")


def _now() -> datetime:
    from dlquiz.practice.scheduler import system_clock

    return system_clock()


# Where a session reads the time: the wall clock (UTC) and a monotonic timer. Module
# attributes, so a test can freeze both and replay a session exactly (the README's).
CLOCK = _now
TIMER = time.monotonic
OUTCOME_TEXT = {
    "right": "right first time",
    "right-after-help": "right after help (hints or retries)",
    "wrong": "wrong on every try",
    "skipped": "skipped",
    "solution": "solution viewed",
    "quit": "left unsolved when the session ended",
    "unfinished": "unfinished (the process stopped)",
}


def _fail(text: str, as_json: bool = False) -> typer.Exit:
    if as_json:
        console.print_json({"error": text})
    console.message(f"error: {text}", style="red")
    return typer.Exit(ExitStatus.BAD_INPUT)


def _open_store(*, create: bool, as_json: bool = False) -> Store | None:
    from dlquiz.practice.store import Store, StoreError, open_existing

    try:
        return Store() if create else open_existing()
    except StoreError as exc:
        raise _fail(str(exc), as_json) from None


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


# --- input sources ------------------------------------------------------------------


class TerminalInput:
    """``input()`` with readline editing and a history file kept in the data directory."""

    def __init__(self, history: Path) -> None:
        self.history = history
        try:
            import readline
        except ImportError:  # Windows without pyreadline: plain input()
            self._readline: Any = None
            return
        self._readline = readline
        readline.set_history_length(1000)
        with contextlib.suppress(OSError):
            readline.read_history_file(str(history))

    def read(self, prompt: str) -> str:
        line = input(prompt)
        if line.strip() and self._readline is not None:
            try:
                self.history.parent.mkdir(parents=True, exist_ok=True)
                if not self.history.exists():
                    self.history.touch()
                self._readline.append_history_file(1, str(self.history))
            except (OSError, AttributeError):
                pass
        return line


class PipedInput:
    """One answer a line from standard input, echoed after the prompt so a transcript reads
    like a terminal session."""

    def read(self, prompt: str) -> str:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stdout.write("\n")
            sys.stdout.flush()
            raise EOFError
        text = line.rstrip("\r\n")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return text


# --- the display --------------------------------------------------------------------


class RichDisplay:
    """The session on stdout: problems in panels, verdicts, hints and the summary."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.summarised = False

    def _say(self, text: str, style: str | None = None) -> None:
        """A message wrapped at words to the terminal's width, matrices as rows."""
        from rich.text import Text

        from dlquiz.bank.present import matrix_rows

        console.out().print(Text(matrix_rows(text), style=style or ""))

    def start(self, info: SessionInfo) -> None:
        count = f"{info.n} problem{'s' if info.n != 1 else ''}"
        if info.mode == "random":
            head = (
                f"Problem set, seed {info.seed}: {count} "
                f"(--mode random --seed {info.seed} gives the same set again)."
            )
        else:
            head = f"Adaptive practice: {count}, due and weakest families first."
        self._say(head, "bold")
        self._say("Type an answer; ? hint, ! solution, skip, q to end.", "dim")

    def problem(self, problem: Problem, position: int, total: int | None) -> None:
        from dlquiz.cli.bank_cmds import render_problem

        console.out().print()
        render_problem(problem, number=position)

    def hint(self, text: str, index: int, count: int) -> None:
        self._say(f"Hint {index}/{count}: {text}", "yellow")

    def no_more_hints(self, count: int) -> None:
        if count:
            self._say(f"No more hints (this problem has {count}).", "dim")
        else:
            self._say("This problem has no hints.", "dim")

    def unreadable(self, feedback: str) -> None:
        self._say(f"Cannot read that answer: {feedback} (not counted as a try)", "yellow")

    def right(self, feedback: str, tries: int, hints: int) -> None:
        help_used = []
        if tries > 1:
            help_used.append(f"try {tries}")
        if hints:
            help_used.append(f"{hints} hint{'s' if hints != 1 else ''}")
        note = f" ({', '.join(help_used)})" if help_used else ""
        extra = f" {feedback}" if feedback and feedback != "correct" else ""
        self._say(f"✓ Right{note}.{extra}", "green")

    def wrong(self, feedback: str, mistake: str | None, tries_left: int) -> None:
        tag = f" [{mistake}]" if mistake else ""
        text = feedback.strip()
        if text and text[-1] not in ".!?":
            text += "."
        left = (
            f"{tries_left} tr{'ies' if tries_left != 1 else 'y'} left."
            if tries_left
            else "No tries left."
        )
        self._say(f"✗ Not right{tag}: {text} {left}", "red")

    def solution(self, problem: Problem, *, asked: bool) -> None:
        self._say("Solution:", "bold")
        self._say(problem.solution.strip())
        self._say(f"Answer: {problem.answer}", "bold green")

    def skipped(self, problem: Problem) -> None:
        self._say(f"Skipped. The answer: {problem.answer}", "dim")

    def notice(self, text: str) -> None:
        console.message(text, style="yellow")

    def summary(self, summary: Summary) -> None:
        from rich.table import Table

        self.summarised = True
        out = console.out()
        out.print()
        if summary.interrupted:
            self._say("Interrupted.", "yellow")
        lines = summary.topics()
        if not lines:
            self._say("No problem attempted.")
        else:
            table = Table(title="Session summary", title_justify="left")
            table.add_column("topic", no_wrap=True)
            for name in ("attempted", "right first time", "right after help"):
                table.add_column(name, justify="right")
            table.add_column("not solved", justify="right")
            table.add_column("time", justify="right")
            for t in [*lines, summary.total()]:
                table.add_row(
                    t.topic,
                    str(t.attempted),
                    str(t.right_first_time),
                    str(t.right_after_help),
                    str(t.not_solved),
                    _duration(t.seconds),
                    end_section=t is lines[-1],
                )
            out.print(table)
        # A path is never broken inside: on a line of its own when it does not fit.
        where = f"Progress saved in {self.database}"
        if len(where) > out.width:
            where = f"Progress saved in\n{self.database}"
        out.print(where, style="dim", soft_wrap=True, markup=False, highlight=False)


# --- commands -------------------------------------------------------------------------


@app.command(epilog=PRACTICE_EPILOG)
def practice(
    topic: list[str] = typer.Option(
        [],
        "--topic",
        "-t",
        metavar="TOPIC",
        help="Practise this topic (repeatable; default: all).",
    ),
    family: list[str] = typer.Option(
        [], "--family", "-f", metavar="FAMILY", help="Practise this family (repeatable)."
    ),
    n: int = typer.Option(10, "--n", "-n", min=1, metavar="N", help="How many problems."),
    seed: int | None = typer.Option(
        None,
        "--seed",
        "-s",
        metavar="SEED",
        help="Random mode: the set `dlquiz generate` makes with the same --seed, --topic, "
        "--family and --n. Adaptive mode: the order new families are introduced in.",
    ),
    mode: str | None = typer.Option(
        None,
        "--mode",
        metavar="MODE",
        help="adaptive (spaced repetition: due and weakest families first; the default) or "
        "random (a fixed set; the default when --seed is given).",
    ),
) -> None:
    """Practise in the terminal: problems, instant feedback, hints, progress that is kept."""
    if mode is None:
        mode = "random" if seed is not None else "adaptive"
    if mode not in MODES:
        raise _fail(f"--mode must be adaptive or random, not '{mode}'")

    import os

    from dlquiz.bank import FamilyError
    from dlquiz.practice.paths import history_path
    from dlquiz.practice.session import (
        AdaptivePicker,
        RandomPicker,
        Session,
        SessionInfo,
        Summary,
    )
    from dlquiz.practice.store import StoreError

    store = _open_store(create=True)
    assert store is not None
    display = RichDisplay(store.path)
    session: Session | None = None
    try:
        try:
            if mode == "random":
                if seed is None:
                    seed = int.from_bytes(os.urandom(3), "big")
                picker: Any = RandomPicker(topic, family, n, seed)
            else:
                picker = AdaptivePicker(topic, family, n, seed=seed or 0, clock=CLOCK)
        except FamilyError as exc:
            raise _fail(str(exc)) from None
        info = SessionInfo(mode, n, seed, tuple(topic), tuple(family))
        source: Any = TerminalInput(history_path()) if sys.stdin.isatty() else PipedInput()
        session = Session(store, picker, source, display, info=info, clock=CLOCK, timer=TIMER)
        try:
            summary = session.run()
        except StoreError as exc:
            raise _fail(str(exc)) from None
    except KeyboardInterrupt:  # before the session started, or during its summary
        summary = session.summary if session is not None else Summary("interrupted")
        summary.reason = "interrupted"
        if not display.summarised:
            with contextlib.suppress(KeyboardInterrupt):
                display.summary(summary)
    finally:
        store.close()
    raise typer.Exit(ExitStatus.INTERRUPTED if summary.interrupted else ExitStatus.OK)


def _bar(fraction: float, width: int = 8) -> str:
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


def _tags(mistakes: list[dict[str, Any]]) -> str:
    return ", ".join(f"{m['tag']}×{m['count']}" for m in mistakes) or "–"


CSV_HELP = "Print as CSV (formula-like cells start with ')."
TABLE_EPILOG = "Exit codes: 0 shown, 2 the progress database cannot be used (or --csv with --json)."


def _one_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        raise _fail("--csv and --json cannot be combined", as_json=False)


def _write_csv(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@app.command(epilog=TABLE_EPILOG)
def stats(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    as_csv: bool = typer.Option(
        False,
        "--csv",
        help="One row per family: topic, problems, accuracy, streak, mastery, next_due. "
        + CSV_HELP,
    ),
) -> None:
    """Progress per topic and family: attempts, accuracy, streak, mistakes, next due, mastery.

    Accuracy and streak count problems answered right the first time without a hint;
    mastery is that share over each family's latest 3 problems, averaged over the topic.
    """
    from dlquiz.practice import report
    from dlquiz.practice.scheduler import system_clock
    from dlquiz.practice.store import StoreError

    _one_format(as_json, as_csv)
    store = _open_store(create=False, as_json=as_json)
    try:
        data = report.stats(store, system_clock())
    except StoreError as exc:
        raise _fail(str(exc), as_json) from None
    finally:
        if store is not None:
            store.close()
    if as_json:
        console.print_json(data)
        return
    if as_csv:
        _write_csv(report.stats_csv(data))
        return
    from rich import box
    from rich.table import Table

    if not data["problems"]:
        console.message("No practice recorded yet: start with `dlquiz practice`.")
    # Columns sized to fit 80 characters; mistake tags get their own list below.
    topics = Table(
        title="Topics",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        show_edge=False,
    )
    topics.add_column("topic", no_wrap=True)
    topics.add_column("mastery", no_wrap=True)
    for name in ("seen", "problems", "1st try", "streak"):
        topics.add_column(name, justify="right", no_wrap=True)
    topics.add_column("next due", no_wrap=True)
    for t in data["topics"]:
        topics.add_row(
            t["topic"],
            f"{_bar(t['mastery'])} {_percent(t['mastery']):>4}",
            f"{t['practised']}/{t['families']}",
            str(t["problems"]),
            _percent(t["accuracy"]),
            str(t["streak"]),
            t["due_in"],
        )
    console.out().print(topics)
    console.out().print()
    practised = [f for f in data["families"] if f["problems"] or f["answers"]]
    if practised:
        fams = Table(
            title="Families practised",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 1, 0, 0),
            show_edge=False,
        )
        fams.add_column("family", overflow="fold")
        for name in ("problems", "1st try", "streak"):
            fams.add_column(name, justify="right", no_wrap=True)
        fams.add_column("next due", no_wrap=True)
        for f in practised:
            fams.add_row(
                f["family"],
                str(f["problems"]),
                _percent(f["accuracy"]),
                str(f["streak"]),
                f["due_in"],
            )
        console.out().print(fams)
        console.out().print()
    with_mistakes = [t for t in data["topics"] if t["mistakes"]]
    if with_mistakes:
        console.line("[bold]Frequent mistakes[/bold]")
        for t in with_mistakes:
            console.line(f"  {t['topic']}: {_tags(t['mistakes'])}", markup=False)
            for f in data["families"]:
                if f["topic"] == t["topic"] and f["mistakes"]:
                    console.line(f"    {f['family']}: {_tags(f['mistakes'])}", markup=False)


def _local(text: str | None) -> str:
    if not text:
        return ""
    return datetime.fromisoformat(text).astimezone().strftime("%Y-%m-%d %H:%M")


@app.command(epilog=TABLE_EPILOG)
def history(
    limit: int = typer.Option(
        20, "--limit", "-n", min=1, metavar="N", help="How many problems (newest first)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    as_csv: bool = typer.Option(
        False,
        "--csv",
        help="One row per answer: problem, session, family, seed, outcome, try, answer, "
        "correct, mistake, hints, seconds, time. " + CSV_HELP,
    ),
) -> None:
    """The latest problems practised, newest first, with every answer given."""
    from dlquiz.practice import report
    from dlquiz.practice.store import StoreError

    _one_format(as_json, as_csv)
    store = _open_store(create=False, as_json=as_json)
    try:
        rows = report.history(store, limit)
    except StoreError as exc:
        raise _fail(str(exc), as_json) from None
    finally:
        if store is not None:
            store.close()
    if as_json:
        console.print_json({"problems": rows})
        return
    if as_csv:
        _write_csv(report.history_csv(rows))
        return
    if not rows:
        console.message("No practice recorded yet: start with `dlquiz practice`.")
        return
    from rich.text import Text

    out = console.out()
    for i, r in enumerate(rows):
        if i:
            out.print()
        head = Text()
        head.append(_local(r["shown_at"]) + "  ", style="dim")
        head.append(r["family"], style="bold")
        head.append(f"  seed {r['seed']}", style="dim")
        out.print(head, soft_wrap=True)
        details = [OUTCOME_TEXT.get(r["outcome"], r["outcome"])]
        details.append(f"{r['tries']} tr{'y' if r['tries'] == 1 else 'ies'}")
        details.append(f"{r['hints']} hint{'' if r['hints'] == 1 else 's'}")
        if r["seconds"] is not None:
            details.append(_duration(r["seconds"]))
        out.print(Text("  " + " · ".join(details)), soft_wrap=True)
        if r["older_bank"]:
            out.print(
                Text(
                    "  from an older version of the bank: `dlquiz show "
                    f"{r['family']} --seed {r['seed']}` may now show another problem",
                    style="yellow",
                ),
                soft_wrap=True,
            )
        for a in r["answers"]:
            line = Text("  ")
            line.append("✓ " if a["correct"] else "✗ ", style="green" if a["correct"] else "red")
            line.append(a["answer"])
            if a["mistake"]:
                line.append(f"  [{a['mistake']}]", style="dim")
            out.print(line, soft_wrap=True)


def _interactive() -> bool:
    return sys.stdin.isatty()


@app.command(
    epilog="Exit codes: 0 progress deleted (or there was none), 1 not confirmed, "
    "2 not interactive and no --yes, or the progress database cannot be used."
)
def reset(
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete all practice progress (answers, problems, sessions, schedule)."""
    from dlquiz.practice.store import StoreError

    store = _open_store(create=False)
    if store is None:
        console.message("No progress to delete.")
        return
    try:
        try:
            counts = store.counts()
            store.ensure_writable()  # a read-only database: say so before asking
        except StoreError as exc:
            raise _fail(str(exc)) from None
        from dlquiz.core.numbers import count

        what = (
            f"{count(counts['problems'], 'problem')}, {count(counts['attempts'], 'answer')} "
            f"and {count(counts['sessions'], 'session')} in {store.path}"
        )
        if not yes:
            if not _interactive():
                raise _fail("reset needs --yes when standard input is not a terminal")
            if not typer.confirm(f"Delete all progress ({what})?", default=False):
                console.message("Nothing deleted.")
                raise typer.Exit(ExitStatus.FAILED)
        try:
            store.reset()
        except StoreError as exc:
            raise _fail(str(exc)) from None
        console.message(f"Deleted {what}.")
    finally:
        store.close()
