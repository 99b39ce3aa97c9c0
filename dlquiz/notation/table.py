"""The binding table of the answer notation: one source for the README and ``dlquiz notation``.

Each row is a rule, what a student types, and what it reads as. The README's table is
``markdown()`` verbatim (a test holds them equal) and ``dlquiz notation`` prints
``terminal()``; the tests in ``tests/judge/test_notation.py`` hold each row's examples.
A row marked ``changed`` or ``new`` reads differently from (or did not exist in) the
previous version.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

HEADER = ("rule", "you type", "it reads as")


@dataclass(frozen=True)
class Row:
    rule: str
    typed: str
    reads: str
    mark: str = ""  # "new" or "changed": this version's rows that read differently

    def rule_text(self) -> str:
        return f"{self.rule} ({self.mark})" if self.mark else self.rule


ROWS: tuple[Row, ...] = (
    Row("numbers", "`3`, `-0.25`, `2.5e-3`, `1/10`", "exact rationals"),
    Row(
        "numbers side by side",
        "`2 3`, `1 000`, `1\\,000`, `0.6265.3`; `2(3)`",
        "an input error (separate entries with commas; no thousands separators); "
        "`2(3)` is the product 6",
        "new",
    ),
    Row(
        "operators",
        "`+ - * / ^ **`, parentheses; `x²`, `x¹⁰`, `x⁻¹`",
        "`**` is `^`; `^` is right-associative: `2^3^2` = 512; superscript digits are powers",
        "changed",
    ),
    Row(
        "implicit multiplication binds like `*`",
        "`2x`, `2(x+1)`, `(a+b)(c-d)`, `1/2x`",
        "`2*x`, …, `(1/2)*x`",
    ),
    Row("names", "`w`, `yhat`, `n_in`, `beta1`", "identifiers (case-sensitive)"),
    Row(
        "Greek letters",
        "`eta` or `η`, `lambda` or `λ`, `epsilon`/`ε`, `sigma`/`σ`, `gamma`, `beta`, `mu`, "
        "`delta`, `theta`",
        "the same symbol either way; `lambda` is a symbol, not Python",
    ),
    Row("hats and subscripts", "`ŷ`, `y_hat`, `\\hat{y}`; `W₁`, `W_1`, `W1`", "`yhat`; `W1`"),
    Row(
        "index subscripts",
        "`W_{m+1}`, `W_{m + 1}`, `\\delta_{m-1}`, `--var W_{m+1}:3x2`",
        "one name each, spaces removed and nothing folded: `W_{m+1}`, `delta_{m-1}`",
        "new",
    ),
    Row(
        "juxtaposed known names",
        "`wx` (when `w`, `x` are known and `wx` is not); `wx^2`, `δ₂a₁ᵀ`, `delta2a1^T`, "
        "`xxᵀw`; `1/wx`",
        "`w*x`; the run is split into its names before a transpose or power, which takes "
        "the last name only: `w*x^2`, `δ₂ a₁ᵀ`, `x xᵀ w`; the run stays one factor: `1/(w*x)`",
        "changed",
    ),
    Row(
        "unknown names",
        "`yaht`",
        "an input error naming it and listing the known names",
    ),
    Row(
        "functions (any case)",
        "`exp log ln sqrt abs sigmoid tanh relu step max min sign floor ceil`, `softmax(v)`, "
        "`sum(v)`, `mean(v)`, `norm(v)`, `diag(v)`",
        "`ln` = `log`; `ReLU` = `relu`; `max(0, z)` elementwise, `max(v)` the largest entry; "
        "`diag(v)` the diagonal matrix of a vector",
        "changed",
    ),
    Row(
        "rounding",
        "`floor((n + 2*p - k)/s) + 1`, `⌊x⌋`, `\\lfloor x \\rfloor`, `ceil(x)`, `⌈x⌉`, "
        "`\\lceil x \\rceil`",
        "⌊x⌋ and ⌈x⌉, exact on whole-number arithmetic (`floor(n/s)` is 1 at n = s = 49); "
        "derivative 0, also at the jumps",
        "new",
    ),
    Row(
        "function powers",
        "`tanh^2(z)`, `tanh²(z)`, `\\tanh^2(z)`, `sigmoid^2(z)`; `σ²(n_in + n_out)`; `tanh^-1(z)`",
        "`tanh(z)^2`, …, `sigmoid(z)^2` (a positive whole power of a function name); bare σ is "
        "the symbol: `sigma^2*(n_in + n_out)`; an input error (it would be the inverse)",
        "new",
    ),
    Row(
        "sigma",
        "`sigma(z)`, `σ(z)`; bare `sigma`",
        "the sigmoid; the symbol σ",
    ),
    Row(
        "derivatives of functions",
        "`sigmoid'(z)`, `σ'(z)`, `tanh'(z)`, `relu'(z)`, `phi'(z)` for a declared `phi:function`",
        "σ(z)(1−σ(z)); 1−tanh²(z); `step(z)`; φ′(z)",
    ),
    Row(
        "the notes' conventions",
        "`step(0)`, `relu'(0)`",
        "0 (not SymPy's Heaviside(0) = 1/2)",
    ),
    Row(
        "constants",
        "`pi`, `e` (unless declared), `e^x`",
        "π, Euler's e, `exp(x)`",
    ),
    Row(
        "vectors and matrices",
        "`--var W:3x2 --var x:2`",
        "a vector is a column; a 1x1 result is a scalar",
    ),
    Row("`@`", "`W@x`", "always the matrix product"),
    Row(
        "`hadamard(a, b)`, `a ⊙ b`",
        "`hadamard(W2.T@delta2, step(z1))`",
        "always elementwise",
    ),
    Row(
        "`*` (the product a student means)",
        "`2*x`, `W*x`, `delta*a^T`, `sigmoid(z)*(1-sigmoid(z))`, `A*B`",
        "scaling when a side is a scalar; the matrix product when the inner dimensions "
        "chain; elementwise when the shapes are equal and do not chain; the matrix product "
        "for equal square shapes; anything else is a shape error",
    ),
    Row(
        "broadcasting",
        "`1 - z`, `1/(1+exp(-z))`, `z^2`",
        "scalars broadcast in `+ - /` and in functions; `^` with a scalar exponent is elementwise",
    ),
    Row(
        "transpose",
        "`x.T`, `x^T`, `xᵀ`, `W^\\top`; `w^Tx`",
        "the transpose (`x^T` is a power only for a scalar base when a name `T` is "
        "declared); `'` is never a transpose; `w^Tx` is `w.T@x` when `x` is a known name "
        "and `Tx` is not",
        "changed",
    ),
    Row(
        "norms and absolute values",
        "`|x|`, `||w||^2`, `‖w‖²`",
        "`abs(x)`, `norm(w)^2`",
    ),
    Row(
        "literal matrices",
        "`[1, 2; 3, 4]` or `[[1, 2], [3, 4]]`; `[1, 2, 3]`; `[[1, 2, 3]]`; `[1 2 3]`, "
        "`[28 28; 29 28]`, `[1 -2]`; `[1 - 2]`",
        "a 2x2 matrix; a column vector; a row; in a bracket without commas, numbers "
        "separated by spaces are entries (a line break in it ends a row): `[1, 2, 3]`, "
        "`[28, 28; 29, 28]`, `[1, -2]`; -1",
        "changed",
    ),
    Row(
        "shapes (shape answers)",
        "`(32, 14, 14)`, `32x14x14`",
        "a shape",
    ),
    Row(
        "domains",
        "`--var x:positive`, `--var p:unit`, `--var y:3:onehot`, `--var phi:function`",
        "defaults: `n_in n_out sigma eta lambda epsilon` positive, `p` in (0, 1), so "
        "`sqrt(sigma^2)` equals `sigma`",
    ),
    Row(
        "LaTeX (detected by `\\` or `{`)",
        "`\\frac{e^{-z}}{(1+e^{-z})^2}`, `\\sqrt{\\frac{2}{n_{in}+n_{out}}}`, "
        "`\\eta (w x + b - y) x`, `\\sigma(z)(1-\\sigma(z))`, `W^\\top x`, "
        "`\\begin{bmatrix}1 & 2\\\\3 & 4\\end{bmatrix}`, `\\mathcal{L}`, `x^10`",
        "the same names: `n_{in}` → `n_in`, `\\hat{y}` → `yhat`, `e^{x}` → `exp(x)`, "
        "`\\mathcal{L}` → `L`; a number after `^` is whole: `x^10` = `x^{10}`",
        "changed",
    ),
    Row(
        "derivation files only",
        "`d/dw ...`, `dL/dw`, `∂L/∂w`, `\\frac{dL}{dw}`, `w ∈ ℝ^3`, `NAME = EXPR`, a leading `=`",
        "a derivative; a Leibniz derivative; a declaration; a definition; a step (see "
        "Derivations). In an answer (`check`), `d/dw (...)` and `\\frac{d}{dw}` are input "
        "errors that point to `derive` and `steps`",
        "changed",
    ),
    Row(
        "not notation",
        "`softmax(o)_i`",
        "components are not part of the notation: answer with the vector",
    ),
)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The README's table, one line a row."""
    lines = ["| " + " | ".join(HEADER) + " |", "|---|---|---|"]
    for row in ROWS:
        rule = f"{row.rule} *({row.mark})*" if row.mark else row.rule
        cells = (rule, row.typed, row.reads)
        lines.append("| " + " | ".join(_markdown_cell(c) for c in cells) + " |")
    return "\n".join(lines)


_CODE_SPAN = re.compile(r"`[^`]*`")
_KEEP = "\u00a0"  # textwrap splits only at ASCII whitespace: a short code span stays whole


def _wrap(text: str, width: int, first: str, rest: str) -> str:
    def keep(m: re.Match[str]) -> str:
        span = m.group(0)
        return span.replace(" ", _KEEP) if len(span) <= 24 else span

    wrapped = textwrap.fill(
        _CODE_SPAN.sub(keep, text),
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return wrapped.replace(_KEEP, " ")


def terminal(width: int = 80) -> str:
    """The table for a terminal: each rule a heading, its two cells wrapped at word
    boundaries below it (a three-column grid would split LaTeX examples mid-word)."""
    width = max(40, width)
    label = max(len(h) for h in HEADER[1:]) + 2
    out = ["The answer notation (binding). (new) and (changed) mark this version's rows."]
    for row in ROWS:
        out.append("")
        out.append(_wrap(row.rule_text(), width, "", ""))
        for head, cell in zip(HEADER[1:], (row.typed, row.reads), strict=True):
            out.append(_wrap(cell, width, f"  {head:<{label}}", " " * (label + 2)))
    return "\n".join(out)


def as_json() -> list[dict[str, str]]:
    """The rows for ``dlquiz notation --json``."""
    return [
        {"rule": r.rule, "you_type": r.typed, "reads_as": r.reads, "mark": r.mark} for r in ROWS
    ]
