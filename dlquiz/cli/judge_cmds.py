"""``check``, ``derive`` and ``steps``: the judge's commands (thin: parse options, render)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from typer.core import TyperCommand

from dlquiz.cli import app, console
from dlquiz.status import ExitStatus

VAR_HELP = (
    "Declare a name: NAME, NAME:3x2 (matrix), NAME:3 (column vector), NAME:positive, "
    "NAME:unit (in (0,1)), NAME:onehot, NAME:function. Repeatable."
)
VAR_METAVAR = "NAME[:SPEC]"
MAX_FILE_BYTES = 1_000_000
MAX_TIMEOUT = 60.0  # seconds: --timeout is a number in (0, 60]
TIMEOUT_HELP = f"Seconds {{what}} may take: more than 0, at most {MAX_TIMEOUT:g}."


def _fail(message: str, as_json: bool, **extra: object) -> typer.Exit:
    """An unusable input: one line on stderr (and JSON on stdout if asked), exit 2."""
    if as_json:
        console.print_json({"error": message, **extra})
    console.message(f"error: {message}", style="red")
    return typer.Exit(ExitStatus.BAD_INPUT)


def _check_timeout(timeout: float, as_json: bool) -> None:
    """--timeout is a finite number of seconds in (0, MAX_TIMEOUT]; NaN is not."""
    if not (0 < timeout <= MAX_TIMEOUT):  # also false for NaN
        raise _fail(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds", as_json)


def _namespace(var: list[str]):  # type: ignore[no-untyped-def]
    from dlquiz.core.vars import Namespace

    return Namespace.from_specs(var)


class ExpressionCommand(TyperCommand):
    """A command whose argument is an expression that may start with '-' (``-eta*g``).

    Click would read ``-eta*g`` as the option ``-e`` with the value ``ta*g``; here a token
    that starts with '-' but is not one of the command's options (nor an option's value)
    is the argument, moved after ``--``.
    """

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        takes_value, flags = set(), {"--help", "-h"}
        for param in self.params:
            names = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
            (flags if getattr(param, "is_flag", False) else takes_value).update(names)
        out, moved, i = [], [], 0
        while i < len(args):
            token = args[i]
            if token == "--":
                out += args[i:]
                break
            if token in takes_value:
                out += args[i : i + 2]
                i += 2
                continue
            name = token.split("=", 1)[0]
            if token in flags or (name in takes_value and "=" in token):
                out.append(token)
            elif token.startswith("-") and len(token) > 1:
                moved.append(token)
            else:
                out.append(token)
            i += 1
        if moved:
            out += ["--", *moved] if "--" not in out else moved
        return super().parse_args(ctx, out)


@app.command(
    epilog="Exit codes: 0 equivalent, 1 not equivalent, 2 the inputs cannot be used.",
    cls=ExpressionCommand,
)
def check(
    answer: str = typer.Argument(
        ...,
        metavar="ANSWER",
        help="The answer, in the notation or LaTeX. Put -- before an answer that starts with '-'.",
    ),
    expected: str = typer.Option(..., "--expected", "-e", metavar="EXPR", help="The right answer."),
    var: list[str] = typer.Option([], "--var", "-v", metavar=VAR_METAVAR, help=VAR_HELP),
    define: list[str] = typer.Option(
        [],
        "--define",
        "-d",
        metavar="NAME:=EXPR",
        help="A definition NAME:=EXPR the answer may use (yhat:=w*x+b).",
    ),
    tol: float | None = typer.Option(
        None,
        "--tol",
        metavar="R",
        help="Relative tolerance (default 5e-3 for numbers, 1e-7 for expressions).",
    ),
    kind: str = typer.Option(
        "auto",
        "--kind",
        metavar="KIND",
        help="auto, expression, number, numbers, integer, shape or choice.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Is ANSWER equivalent to the expected answer? Diagnoses the mistake if not."""
    from dlquiz.core.vars import VarSpecError, parse_name
    from dlquiz.judge import UnusableKey
    from dlquiz.judge import check as judge_check

    definitions = {}
    for item in define:
        name, sep, body = item.partition(":=")
        if not sep or not name.strip():
            raise _fail(f"--define '{item}' is not of the form NAME:=EXPR", as_json)
        try:
            definitions[parse_name(name, f"--define '{item}'")] = body.strip()
        except VarSpecError as exc:
            raise _fail(str(exc), as_json) from None
    if tol is not None and not (0 <= tol < 1):
        raise _fail("--tol must be a relative tolerance in [0, 1)", as_json)
    try:
        verdict = judge_check(  # the user typed the key: feedback may write its parts out
            answer,
            expected,
            kind=kind,
            vars=var,
            definitions=definitions,
            tolerance=tol,
            reveal=True,
        )
    except (UnusableKey, VarSpecError) as exc:
        raise _fail(str(exc), as_json) from None
    if verdict.unusable:
        raise _fail(verdict.feedback, as_json, equivalent=False, mistake=verdict.mistake)
    if as_json:
        console.print_json(verdict.to_json())
    elif verdict.equivalent:
        console.line(f"[green]✓[/green] equivalent{_note(verdict.feedback)}")
    else:
        tag = f" [{verdict.mistake}]" if verdict.mistake else ""
        console.line(f"[red]✗[/red] not equivalent: {_escape(verdict.feedback)}{_escape(tag)}")
    raise typer.Exit(ExitStatus.OK if verdict.equivalent else ExitStatus.FAILED)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _note(feedback: str) -> str:
    return "" if feedback == "correct" else f" ({feedback})"


@app.command(
    epilog="Exit codes: 0 derived and verified, 1 verification failed, 2 unusable input.",
    cls=ExpressionCommand,
)
def derive(
    expr: str = typer.Argument(..., metavar="EXPR", help="The expression to differentiate."),
    wrt: str = typer.Option(
        ..., "--wrt", metavar="VAR", help="The variable to differentiate with respect to."
    ),
    var: list[str] = typer.Option([], "--var", "-v", metavar=VAR_METAVAR, help=VAR_HELP),
    steps: bool = typer.Option(False, "--steps", help="Write the chain rule out, step by step."),
    timeout: float = typer.Option(
        2.0, "--timeout", metavar="SECONDS", help=TIMEOUT_HELP.format(what="the derivation")
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Differentiate EXPR with SymPy (matrix form for vectors), verified by autograd."""
    from dlquiz.core.names import canonical_name
    from dlquiz.core.printing import to_unicode
    from dlquiz.core.vars import VarSpecError
    from dlquiz.core.verification import verify_derivative
    from dlquiz.judge.core import UnusableKey, parse_key
    from dlquiz.judge.worker import WorkerError, WorkerTimeout, run

    _check_timeout(timeout, as_json)
    try:
        ns = _namespace(var)
        e = parse_key(expr, ns)
    except (UnusableKey, VarSpecError) as exc:
        raise _fail(str(exc).replace("the expected answer", "the expression"), as_json) from None
    name = canonical_name(wrt)
    if name not in ns:
        raise _fail(f"'{wrt}' does not appear in the expression and is not declared", as_json)
    try:
        result = run("derive", e, name, ns, steps, timeout=timeout)
    except WorkerTimeout:
        raise _fail(f"the derivation took longer than {timeout:g} s", as_json) from None
    except WorkerError as exc:
        raise _fail(f"cannot differentiate: {_clean(str(exc))}", as_json) from None
    check = verify_derivative(e, name, result.derivative, ns)
    if as_json:
        data = {
            "derivative": result.notation,
            "latex": result.latex,
            "verified": check.ok,
            "max_rel_error": check.max_rel_error,
        }
        if steps:
            data["steps"] = result.chain
        console.print_json(data)
    else:
        console.line(f"d/d{to_unicode.name(name)} {to_unicode(e)} =", markup=False)
        console.line(result.pretty, markup=False)
        console.line(f"notation: {result.notation}", markup=False)
        console.line(f"LaTeX:    {result.latex}", markup=False)
        mark = "[green]✓[/green] verified" if check.ok else "[red]✗ NOT verified[/red]"
        console.line(
            f"{mark} against the engine's autograd at {check.points} random points "
            f"(max relative error {check.max_rel_error:.1e})"
        )
        if steps:
            console.line("\n".join(result.chain), markup=False)
    raise typer.Exit(ExitStatus.OK if check.ok else ExitStatus.FAILED)


def _clean(message: str) -> str:
    """Worker errors arrive as 'SymbolicError: ...'; the class name is noise to a user."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.endswith("Error") else message


def read_text_file(path: str, what: str = "file") -> str:
    """Read a user's file (or stdin for '-') as UTF-8, within a size limit."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"{what} '{path}' does not exist or is not a file")
        with p.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"{what} '{path}' is larger than {MAX_FILE_BYTES // 1000} KB")
    if b"\x00" in data:
        raise ValueError(f"{what} '{path}' is not text (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} '{path}' is not UTF-8 text (byte {exc.start})") from None


# The worked example of `dlquiz steps --help` (the README shows the same file; a test runs it).
STEPS_EXAMPLE = """\
# linear regression on one example, as in the notes
w, x ∈ ℝ³
ŷ = wᵀx + b
L = ½(ŷ − y)²
dL/dw = dL/dŷ dŷ/dw = (ŷ − y)x
= (wᵀx + b − y)x
∂L/∂b = ŷ − y
"""


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


STEPS_HELP = f"""Check a derivation written as on paper: each step must equal the one before.

\b
A file, one step a line (LaTeX lines work too: \\frac{{dL}}{{dw}}, \\hat{{y}}):
{_indented(STEPS_EXAMPLE)}

\b
Declarations apply to the whole file, wherever they stand: w ∈ ℝ^3,
W ∈ ℝ^{{2×3}} (also R^(2x3), \\in \\mathbb{{R}}^{{2 \\times 3}}), η > 0, p ∈ (0, 1),
y ∈ onehot(3), φ: ℝ → ℝ. Other names are scalars; @, ⊙, a transpose, softmax
or sum of an undeclared name is an error that says how to declare it.

\b
NAME = EXPR or NAME := EXPR defines a name; a line starting with = continues
the one before; A = B = C checks B against A and C against B. Derivatives:
d/dw EXPR (up to the next + or -), ∂/∂w, ∇_w, dL/dw, ∂L/∂w, \\frac{{dL}}{{dw}}.
dL/dz for a cost L the file never defines stands for a quantity shaped like z
(the chain rule runs through the definitions). The final result of each
derivation is judged too, even after a wrong step.
"""


@app.command(
    help=STEPS_HELP,
    epilog=(
        "Exit codes: 0 every step valid, 1 a step is wrong, 2 the file cannot be read "
        "(or a line could not be decided within --timeout)."
    ),
)
def steps(
    file: str = typer.Argument(
        ..., metavar="FILE", help="The derivation, one step a line ('-' for stdin)."
    ),
    var: list[str] = typer.Option(
        [],
        "--var",
        "-v",
        metavar=VAR_METAVAR,
        help=VAR_HELP + " Optional: declarations in the file do the same.",
    ),
    timeout: float = typer.Option(
        2.0,
        "--timeout",
        metavar="SECONDS",
        help=TIMEOUT_HELP.format(what="each line's derivatives"),
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    from dlquiz.core.vars import VarSpecError
    from dlquiz.steps import check_steps

    _check_timeout(timeout, as_json)
    try:
        text = read_text_file(file, "derivation")
        ns = _namespace(var)
    except (ValueError, VarSpecError) as exc:
        raise _fail(str(exc), as_json) from None
    report = check_steps(text, ns, timeout=timeout)
    if as_json:
        console.print_json(report.to_json())
    else:
        colours = {"✓": "green", "✗": "red", "?": "yellow"}
        for line in report.lines(console.out().width):
            colour = colours.get(line[:1])
            text = _escape(line)
            console.line(f"[{colour}]{text[0]}[/{colour}]{text[1:]}" if colour else text)
    if report.unreadable:
        raise typer.Exit(ExitStatus.BAD_INPUT)
    raise typer.Exit(ExitStatus.OK if report.first_error is None else ExitStatus.FAILED)
