"""Expressions back to text: the answer notation, Unicode for the terminal, LaTeX for print.

``to_notation`` writes what ``dlquiz.notation.parse`` reads back to an equal expression
(keys and ``derive`` output can be typed as answers). ``to_unicode`` is for reading in a
terminal (``δ aᵀ``, ``σ'(z₁)``, ``(W₂ᵀ δ₂) ⊙ step(z₁)``) and ``to_latex`` for documents.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import ClassVar

from dlquiz.core.expr import ELEMENTWISE, MATRIX_MAPS, REDUCTIONS, VECTOR_MAPS, Expr
from dlquiz.core.names import GREEK_LETTER
from dlquiz.core.numbers import scientific

ADD, MUL, NEG, POW, POST, ATOM = 1, 2, 3, 4, 5, 6
HADAMARD = 1.5  # "a ⊙ b" binds looser than juxtaposition: (a ⊙ b) xᵀ needs its parentheses

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_LETTERS_UP = dict(zip("abcdefghijklmnoprstuvwxyz", "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", strict=True))
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_NAME_PARTS = re.compile(r"^([A-Za-z]+?)(hat|bar|tilde)?(\d*)(?:_(\w+))?$")
_BRACED_NAME = re.compile(r"^(.+?)_\{([^{}]+)\}$")  # W_{m+1}: an index expression


def format_number(value: Fraction) -> str:
    """1/2, 3/4 and 1/3 as fractions; 0.1, 2.5e-3 -> 0.0025 as decimals, 1e-8 below 1e-4
    (as ``numbers.fmt``); else p/q."""
    if value.denominator == 1:
        return str(value.numerator)
    small = scientific(value)
    if small is not None:
        return f"{small[0]}e{small[1]}"
    if value.denominator in (2, 3, 4, 6, 7, 8, 9, 12):
        return f"{value.numerator}/{value.denominator}"
    q = value.denominator
    while q % 2 == 0:
        q //= 2
    while q % 5 == 0:
        q //= 5
    if q == 1:
        with localcontext() as ctx:
            ctx.prec = 60
            text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        if len(text.lstrip("-").replace(".", "").lstrip("0")) <= 17:
            return text
    return f"{value.numerator}/{value.denominator}"


class _Printer:
    """Precedence-aware printing; the three styles differ only in their leaf forms."""

    style = "notation"

    def __call__(self, e: Expr) -> str:
        return self.p(e)[0]

    def wrap(self, e: Expr, min_prec: int) -> str:
        text, prec = self.p(e)
        return text if prec >= min_prec else self.paren(text)

    def paren(self, text: str) -> str:
        return f"({text})"

    def p(self, e: Expr) -> tuple[str, int]:
        return getattr(self, "p_" + e.op)(e)

    # leaves
    def p_num(self, e: Expr) -> tuple[str, int]:
        v: Fraction = e.value  # type: ignore[assignment]
        text = self.number(v)
        if v < 0:
            return text, NEG
        return text, MUL if "/" in text else ATOM

    def number(self, v: Fraction) -> str:
        return format_number(v)

    def p_const(self, e: Expr) -> tuple[str, int]:
        return str(e.value), ATOM

    def p_sym(self, e: Expr) -> tuple[str, int]:
        return self.name(e.value), ATOM  # type: ignore[arg-type]

    def name(self, name: str) -> str:
        return name

    def p_ones(self, e: Expr) -> tuple[str, int]:
        m, n = e.shape
        return (f"ones({m})" if n == 1 else f"ones({m}, {n})"), ATOM

    def p_zeros(self, e: Expr) -> tuple[str, int]:
        m, n = e.shape
        return (f"0*ones({m})" if n == 1 else f"0*ones({m}, {n})"), MUL

    # sums and products
    def p_add(self, e: Expr) -> tuple[str, int]:
        parts: list[str] = []
        for i, term in enumerate(e.args):
            negative, magnitude = _split_sign(term)
            text = self.wrap(magnitude, ADD + 1) if negative else self.wrap(term, ADD)
            if i == 0:
                parts.append(("-" + text) if negative else text)
            else:
                parts.append((" - " if negative else " + ") + text)
        return "".join(parts), ADD

    def p_mul(self, e: Expr) -> tuple[str, int]:
        coeff, numer, denom = _split_fraction(e)
        negative = coeff < 0
        coeff = abs(coeff)
        text, prec = self.product(coeff.numerator, numer)
        if denom or coeff.denominator != 1:
            text, prec = self.fraction((text, prec), self.product(coeff.denominator, denom))
        if negative:
            return "-" + (text if prec >= MUL else self.paren(text)), NEG
        return text, prec

    def product(self, coefficient: int, factors: list[Expr]) -> tuple[str, int]:
        if not factors:
            return str(coefficient), ATOM
        if coefficient == 1 and len(factors) == 1:
            return self.p(factors[0])
        scalars = [f for f in factors if f.is_scalar]
        arrays = [f for f in factors if not f.is_scalar]
        parts = [str(coefficient)] if coefficient != 1 else []
        parts += [self.wrap(f, MUL + 1 if f.op == "matmul" else MUL) for f in scalars]
        if len(arrays) >= 2:
            had = self.hadamard(arrays)
            parts.append(self.paren(had) if parts and self.style != "notation" else had)
        else:
            parts += [self.wrap(f, MUL) for f in arrays]
        if len(parts) == 1:
            infix_hadamard = len(arrays) >= 2 and self.style != "notation"
            return parts[0], HADAMARD if infix_hadamard else MUL
        return self.join_product(parts), MUL

    def join_product(self, parts: list[str]) -> str:
        return "*".join(parts)

    def hadamard(self, arrays: list[Expr]) -> str:
        return "hadamard(" + ", ".join(self(a) for a in arrays) + ")"

    def fraction(self, top: tuple[str, int], bottom: tuple[str, int]) -> tuple[str, int]:
        top_text = top[0] if top[1] >= MUL else self.paren(top[0])
        bottom_text = bottom[0] if bottom[1] >= POW else self.paren(bottom[0])
        return f"{top_text}/{bottom_text}", MUL

    def p_pow(self, e: Expr) -> tuple[str, int]:
        base, exponent = e.args
        if exponent.op == "num":
            v: Fraction = exponent.value  # type: ignore[assignment]
            if v == Fraction(1, 2):
                return self.sqrt(self(base)), ATOM
            if v < 0:
                _, numer, denom = _split_fraction(e)
                return self.fraction(self.product(1, numer), self.product(1, denom))
        return self.power(self.wrap(base, POST), exponent), POW

    def sqrt(self, inner: str) -> str:
        return f"sqrt({inner})"

    def power(self, base: str, exponent: Expr) -> str:
        text, prec = self.p(exponent)
        if prec == ATOM:
            return f"{base}^{text}"
        return f"{base}^({text})"

    def p_matmul(self, e: Expr) -> tuple[str, int]:
        a, b = e.args
        # A signed right operand keeps its parentheses: W@-y/s would read as (W@-y)/s,
        # and juxtaposed (W -y) as a difference.
        return self.matmul(self.wrap(a, MUL), self.wrap(b, NEG + 1)), MUL

    def matmul(self, a: str, b: str) -> str:
        return f"{a}@{b}"

    def p_T(self, e: Expr) -> tuple[str, int]:
        return self.transpose(self.wrap(e.args[0], ATOM)), POST

    def transpose(self, inner: str) -> str:
        return f"{inner}.T"

    def p_fn(self, e: Expr) -> tuple[str, int]:
        name: str = e.value  # type: ignore[assignment]
        args = [self(a) for a in e.args]
        return self.call(name, args), ATOM

    def call(self, name: str, args: list[str]) -> str:
        if name == "maxof":
            name = "max"
        if name not in _BUILTIN_NAMES:
            name = self.name(name.rstrip("'")) + ("'" if name.endswith("'") else "")
        return f"{name}({', '.join(args)})"

    def p_matrix(self, e: Expr) -> tuple[str, int]:
        m, n = e.shape
        rows = [[self(e.args[i * n + j]) for j in range(n)] for i in range(m)]
        return self.matrix(rows, m, n), ATOM

    def matrix(self, rows: list[list[str]], m: int, n: int) -> str:
        if m == 1:
            return "[[" + ", ".join(rows[0]) + "]]"
        if n == 1:  # a flat list is a vector, and a vector is a column
            return "[" + ", ".join(r[0] for r in rows) + "]"
        return "[" + "; ".join(", ".join(r) for r in rows) + "]"

    def p_deriv(self, e: Expr) -> tuple[str, int]:
        body, var = e.args
        return f"d/d{self(var)} ({self(body)})", ATOM


# The notation's own functions print by their name; any other is a user's name (Greek,
# subscripts). ``maxof`` never reaches these checks: every printer renames it ``max`` first.
_BUILTIN_NAMES = ELEMENTWISE | REDUCTIONS | VECTOR_MAPS | MATRIX_MAPS


class _UnicodePrinter(_Printer):
    style = "unicode"

    def name(self, name: str) -> str:
        braced = _BRACED_NAME.match(name)
        if braced:
            return f"{self.name(braced.group(1))}_{{{braced.group(2)}}}"
        m = _NAME_PARTS.match(name)
        if not m:
            return name
        base, accent, digits, sub = m.groups()
        base = GREEK_LETTER.get(base, base)
        if accent == "hat" and len(base) == 1:
            base += "\u0302"
        elif accent:
            base += accent
        return base + digits.translate(_SUBSCRIPT) + (f"_{sub}" if sub else "")

    def join_product(self, parts: list[str]) -> str:
        out = parts[0]
        for part in parts[1:]:
            sep = "·" if out[-1].isdigit() and part[0].isdigit() else " "
            out += sep + part
        return out

    def hadamard(self, arrays: list[Expr]) -> str:
        return " ⊙ ".join(self.wrap(a, MUL + 1) for a in arrays)

    def sqrt(self, inner: str) -> str:
        return f"√({inner})" if not _is_atom(inner) else f"√{inner}"

    def power(self, base: str, exponent: Expr) -> str:
        if exponent.op == "num" and exponent.value.denominator == 1:  # type: ignore[union-attr]
            return base + str(exponent.value.numerator).translate(_SUPERSCRIPT)  # type: ignore[union-attr]
        if exponent.op == "sym" and len(str(exponent.value)) == 1 and exponent.value in _LETTERS_UP:
            return base + _LETTERS_UP[str(exponent.value)]  # βᵗ, not β^t
        text, prec = self.p(exponent)
        return f"{base}^{text}" if prec == ATOM else f"{base}^({text})"

    def matmul(self, a: str, b: str) -> str:
        return f"{a} {b}"

    def transpose(self, inner: str) -> str:
        return inner + "ᵀ"

    def p_const(self, e: Expr) -> tuple[str, int]:
        return ("π" if e.value == "pi" else "e"), ATOM

    # Functions written as brackets around their argument: (opening, closing).
    brackets: ClassVar[dict[str, tuple[str, str]]] = {
        "abs": ("|", "|"),
        "norm": ("‖", "‖"),
        "floor": ("⌊", "⌋"),
        "ceil": ("⌈", "⌉"),
    }

    def call(self, name: str, args: list[str]) -> str:
        inner = ", ".join(args)
        if name in self.brackets:
            opening, closing = self.brackets[name]
            return f"{opening}{inner}{closing}"
        pretty = {
            "sigmoid": "σ",
            "sigmoid'": "σ'",
            "tanh'": "tanh'",
            "relu": "ReLU",
            "maxof": "max",
        }
        if name in pretty:
            return f"{pretty[name]}({inner})"
        if name not in _BUILTIN_NAMES:
            return self.name(name.rstrip("'")) + ("'" if name.endswith("'") else "") + f"({inner})"
        return f"{name}({inner})"

    def p_ones(self, e: Expr) -> tuple[str, int]:
        return "𝟏", ATOM

    def p_zeros(self, e: Expr) -> tuple[str, int]:
        return "𝟎", ATOM

    def p_deriv(self, e: Expr) -> tuple[str, int]:
        body, var = e.args
        if body.op == "sym":
            return f"∂{self(body)}/∂{self(var)}", ATOM
        return f"∂/∂{self(var)} ({self(body)})", ATOM


class _LatexPrinter(_Printer):
    style = "latex"

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)"

    def number(self, v: Fraction) -> str:
        small = scientific(abs(v))
        if small is not None:  # 10^{-8}, 2.5 \cdot 10^{-5}
            power = f"10^{{{small[1]}}}"
            return ("-" if v < 0 else "") + (
                power if small[0] == "1" else rf"{small[0]} \cdot {power}"
            )
        text = format_number(abs(v))
        if "/" in text:
            text = rf"\frac{{{abs(v.numerator)}}}{{{v.denominator}}}"
        return ("-" if v < 0 else "") + text

    def name(self, name: str) -> str:
        braced = _BRACED_NAME.match(name)
        if braced:
            return f"{self.name(braced.group(1))}_{{{braced.group(2)}}}"
        m = _NAME_PARTS.match(name)
        if not m:
            return name.replace("_", r"\_")
        base, accent, digits, sub = m.groups()
        base = "\\" + base if base in GREEK_LETTER else base
        if accent:
            base = rf"\{accent}{{{base}}}"
        subscript = digits or (rf"\text{{{sub}}}" if sub else "")
        return f"{base}_{{{subscript}}}" if subscript else base

    def join_product(self, parts: list[str]) -> str:
        out = parts[0]
        for part in parts[1:]:
            sep = r" \cdot " if out[-1].isdigit() and part[0].isdigit() else " "
            out += sep + part
        return out

    def hadamard(self, arrays: list[Expr]) -> str:
        return r" \odot ".join(self.wrap(a, MUL + 1) for a in arrays)

    def fraction(self, top: tuple[str, int], bottom: tuple[str, int]) -> tuple[str, int]:
        return rf"\frac{{{top[0]}}}{{{bottom[0]}}}", ATOM

    def sqrt(self, inner: str) -> str:
        return rf"\sqrt{{{inner}}}"

    def power(self, base: str, exponent: Expr) -> str:
        return f"{base}^{{{self(exponent)}}}"

    def matmul(self, a: str, b: str) -> str:
        return f"{a} {b}"

    def transpose(self, inner: str) -> str:
        return inner + r"^{\top}"

    def p_const(self, e: Expr) -> tuple[str, int]:
        return (r"\pi" if e.value == "pi" else "e"), ATOM

    brackets: ClassVar[dict[str, tuple[str, str]]] = {
        "abs": (r"\left|", r"\right|"),
        "norm": (r"\left\|", r"\right\|"),
        "floor": (r"\left\lfloor ", r" \right\rfloor"),
        "ceil": (r"\left\lceil ", r" \right\rceil"),
    }

    def call(self, name: str, args: list[str]) -> str:
        inner = ", ".join(args)
        if name in self.brackets:
            opening, closing = self.brackets[name]
            return f"{opening}{inner}{closing}"
        commands = {
            "exp": r"\exp",
            "log": r"\log",
            "tanh": r"\tanh",
            "max": r"\max",
            "min": r"\min",
            "maxof": r"\max",
            "sigmoid": r"\sigma",
            "sigmoid'": r"\sigma'",
            "tanh'": r"\tanh'",
        }
        if name in commands:
            head = commands[name]
        elif name in _BUILTIN_NAMES:
            head = rf"\operatorname{{{ {'relu': 'ReLU'}.get(name, name) }}}"
        else:
            head = self.name(name.rstrip("'")) + ("'" if name.endswith("'") else "")
        return rf"{head}\left({inner}\right)"

    def matrix(self, rows: list[list[str]], m: int, n: int) -> str:
        body = r" \\ ".join(" & ".join(r) for r in rows)
        return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"

    def p_ones(self, e: Expr) -> tuple[str, int]:
        return r"\mathbf{1}", ATOM

    def p_zeros(self, e: Expr) -> tuple[str, int]:
        return r"\mathbf{0}", ATOM

    def p_deriv(self, e: Expr) -> tuple[str, int]:
        body, var = e.args
        if body.op == "sym":
            return rf"\frac{{\partial {self(body)}}}{{\partial {self(var)}}}", ATOM
        return rf"\frac{{\partial}}{{\partial {self(var)}}}\left({self(body)}\right)", ATOM


def _is_atom(text: str) -> bool:
    return bool(re.fullmatch(r"[\w\u0370-\u03ff\u0302\u2080-\u2089]+", text))


def _split_sign(term: Expr) -> tuple[bool, Expr]:
    """(is the term printed with a minus, the term without it)."""
    from dlquiz.core.expr import mul, num

    if term.op == "num" and term.value < 0:  # type: ignore[operator]
        return True, num(-term.value)  # type: ignore[operator]
    if term.op == "mul" and term.args[0].op == "num" and term.args[0].value < 0:  # type: ignore[operator]
        return True, mul(num(-term.args[0].value), *term.args[1:])  # type: ignore[operator]
    return False, term


def _split_fraction(e: Expr) -> tuple[Fraction, list[Expr], list[Expr]]:
    """A product as coefficient, numerator factors and denominator factors."""
    from dlquiz.core.expr import num, power

    coeff = Fraction(1)
    numer: list[Expr] = []
    denom: list[Expr] = []
    for f in e.args if e.op == "mul" else (e,):
        if f.op == "num":
            coeff *= f.value  # type: ignore[operator]
        elif f.op == "pow" and f.args[1].op == "num" and f.args[1].value < 0:  # type: ignore[operator]
            denom.append(power(f.args[0], num(-f.args[1].value)))  # type: ignore[operator]
        else:
            numer.append(f)
    return coeff, numer, denom


to_notation = _Printer()
to_unicode = _UnicodePrinter()
to_latex = _LatexPrinter()
