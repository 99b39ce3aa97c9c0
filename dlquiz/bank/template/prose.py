"""Problem text from a template: ``{param}`` texts, ``{= formula}`` numbers, parts with ``when``.

``{= formula}`` is computed (``scope.number``) and written by the one number formatter
(``dlquiz.core.numbers``), 4 significant figures unless ``{= formula : 6}`` asks for
more; a vector or matrix is written in the notation. ``{= formula # unit}`` is a count
with its noun in the right number (``1 unit``, ``3 units``; ``# child|children``).
Outside ``$...$`` a number that is not a plain decimal becomes math of its own, so LaTeX
prints ``10^{-8}`` where the terminal shows ``1e-8``. A list of parts (hints, a
solution) keeps the parts whose ``when`` holds.
"""

from __future__ import annotations

import re
from typing import Any

from dlquiz.bank.render import TemplateError, render
from dlquiz.bank.template.scope import Scope
from dlquiz.core.numbers import array_text, count
from dlquiz.core.vars import Namespace

_COMPUTED = re.compile(
    r"\{=\s*([^{}#:]+?)\s*(?::\s*(\d{1,2}))?\s*(?:#\s*([^{}|]+?)\s*(?:\|\s*([^{}]+?))?)?\s*\}"
)
_DOLLAR = re.compile(r"(?<!\\)\$")
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
MAX_SIG = 15


def computed(scope: Scope, text: str, field: str) -> str:
    """Every ``{= formula}`` of ``text`` replaced by its number (math where it stands alone)."""
    out = []
    last = 0
    for m in _COMPUTED.finditer(text):
        sig = int(m.group(2) or 4)
        if not 1 <= sig <= MAX_SIG:
            raise scope.source.fail(field, f"{{= ... : {sig}}}: figures from 1 to {MAX_SIG}")
        value = scope.number(m.group(1), field)
        if m.group(3):  # a count and its noun
            v = float(value.flat[0]) if value.size == 1 else float("nan")
            if v != round(v):
                raise scope.source.fail(
                    field, f"{{= {m.group(1)} # ...}} counts, but is {value.tolist()}"
                )
            out += [text[last : m.start()], count(round(v), m.group(3), m.group(4))]
            last = m.end()
            continue
        number = array_text(value, sig)
        inside = len(_DOLLAR.findall(text, 0, m.start())) % 2 == 1
        plain = inside or _PLAIN.match(number)  # 1e-8 and [1, 2] become math of their own
        out += [text[last : m.start()], number if plain else f"${number}$"]
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def compose(scope: Scope, text: str, field: str, ns: Namespace, style: str) -> str:
    """A text of the template for the terminal (``unicode``) or for print (``latex``).

    ``ns`` is shared by a problem's texts, in order: a name the statement introduces
    (``$z = w*x + c$``) is known to the hints after it.
    """
    filled = computed(scope, scope.fill(text, field), field)
    try:
        return render(filled, ns, style)
    except TemplateError as exc:
        raise scope.source.fail(field, str(exc)) from None


def parts(scope: Scope, value: Any, field: str) -> list[tuple[str, str]]:
    """(field, text) of each part that applies: a string, or a list of strings and
    ``{ text = "...", when = ... }`` tables."""
    if value is None:
        return []
    if isinstance(value, str):
        return [(field, value)]
    if not isinstance(value, list):
        raise scope.source.fail(field, "must be a string or a list of strings and {text, when}")
    out = []
    for i, part in enumerate(value):
        where = f"{field}[{i}]"
        if isinstance(part, str):
            out.append((where, part))
            continue
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            raise scope.source.fail(
                where, 'must be a string or a table { text = "...", when = ... }'
            )
        scope.source.keys(where, part, {"text": "the text", "when": "when it applies"})
        if "when" not in part or scope.holds(part["when"], f"{where}.when"):
            out.append((where, part["text"]))
    return out


def joined(texts: list[str]) -> str:
    """Solution parts as one text: a space between parts, none after a line break or
    before punctuation."""
    out = ""
    for t in texts:
        if out and not out.endswith("\n") and t[:1] not in ";,.:)":
            out += " "
        out += t
    return out
