"""Problem families as data: ``problems/<topic>/*.toml``, one family a file.

An instructor adds a derivation family by writing a model and the quantity to derive; the
key is derived by SymPy and symbolic backprop and verified against the engine's autograd,
never typed. The format (README, "Writing a problem family"):

    title = "..."                    # one line, shown by `dlquiz topics`
    kind = "expression"              # the answer kind (expression for derivations)
    statement = "... $math in the notation$ ..."   # top-level keys come before any [table]
    hints = ["...", "..."]
    solution = "..."                 # the chain rule and the key are appended
    [params]                         # drawn per seed; {name} in any string below
    c = { int = [2, 9] }             # inclusive range
    act = { choice = ["sigmoid", "tanh"] }
    layer = { choice = [{ m = "2", prev = "1" }, { m = "3", prev = "2" }] }  # linked: sets m, prev
    [vars]                           # answer variables: "" scalar, "3", "3x2", "positive"...
    w = ""                           # names may use params too: "W{m}" = "{k}x{n}"
    [definitions]                    # in order; may use vars, params, earlier definitions
    yhat = "w*x + b"
    [answer]
    derive = "L"                     # the key: d(definition)/d(wrt) ...
    wrt = "w"
    # expression = "w - eta*d/dw L"  # ... or an expression (derivatives worked out)
    allow = ["yhat"]                 # definitions an answer may use by name
    [[mistakes]]
    tag = "lost-half"                # stable name
    answer = "2*(yhat - y)*x"        # a wrong answer (may use definitions)
    feedback = "..."
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from dlquiz.bank.family import TOPICS, Family, FamilyError
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.bank.render import TemplateError, parse_math, render
from dlquiz.core.expr import Expr, substitute
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace, VarSpec, VarSpecError

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FILL_DEPTH = 8  # params may use params (a linked choice naming {act}), this deep
_ALLOWED_KEYS = {
    "id",
    "title",
    "kind",
    "points",
    "params",
    "vars",
    "definitions",
    "answer",
    "statement",
    "hints",
    "solution",
    "mistakes",
    "tolerance",
}


def template_root() -> Path:
    """Where the templates are: inside the installed package, or the source tree's problems/."""
    packaged = Path(str(resources.files("dlquiz"))) / "problems"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "problems"


class TemplateFamily(Family):
    """A family defined by a TOML file."""

    def __init__(self, path: Path, data: dict[str, Any], topic: str) -> None:
        self.path = path
        self.data = data
        self.topic = topic
        self.id = data.get("id") or f"{topic}/{path.stem}"
        self._check_fields()
        self.title = data["title"]
        self.kind = data.get("kind", "expression")
        self.points = int(data.get("points", 1))

    def where(self, field: str) -> str:
        return f"{self.path.parent.name}/{self.path.name}: field '{field}'"

    def fail(self, field: str, message: str) -> FamilyError:
        return FamilyError(f"{self.where(field)}: {message}")

    def _check_fields(self) -> None:
        d = self.data
        unknown = sorted(set(d) - _ALLOWED_KEYS)
        if unknown:
            raise self.fail(unknown[0], "is not a template field")
        for name in ("title", "statement"):
            if not isinstance(d.get(name), str) or not d[name].strip():
                raise self.fail(name, "is missing (a non-empty string)")
        answer = d.get("answer")
        if not isinstance(answer, dict):
            raise self.fail("answer", "is missing (a table with derive/wrt or expression)")
        stray = sorted(set(answer) - {"derive", "wrt", "expression", "allow"})
        if stray:
            raise self.fail(f"answer.{stray[0]}", "is not a field of [answer]")
        if ("derive" in answer) == ("expression" in answer):
            raise self.fail("answer", "needs either derive (with wrt) or expression")
        if "derive" in answer and "wrt" not in answer:
            raise self.fail("answer.wrt", "is missing (the variable to differentiate by)")
        if "derive" in answer and answer["derive"] not in d.get("definitions", {}):
            raise self.fail("answer.derive", f"'{answer['derive']}' is not a definition")
        for i, m in enumerate(d.get("mistakes", [])):
            for key in ("tag", "answer", "feedback"):
                if not isinstance(m.get(key), str):
                    raise self.fail(f"mistakes[{i}].{key}", "is missing (a string)")
        for name, spec in d.get("params", {}).items():
            if not (
                isinstance(spec, dict) and len(spec) == 1 and ("int" in spec or "choice" in spec)
            ):
                raise self.fail(
                    f"params.{name}", "must be { int = [lo, hi] } or { choice = [...] }"
                )
            options = spec.get("choice", [])
            if not isinstance(options, list) or ("choice" in spec and not options):
                raise self.fail(f"params.{name}", "choice needs a non-empty list")
            tables = [o for o in options if isinstance(o, dict)]
            if tables and (
                len(tables) != len(options)
                or any(not t or not all(isinstance(v, str) for v in t.values()) for t in tables)
                or any(set(t) != set(tables[0]) for t in tables)
            ):
                raise self.fail(
                    f"params.{name}",
                    "a choice of tables needs tables with the same keys and string values",
                )

    # --- generation -----------------------------------------------------------------
    def draw_params(self, seed: int) -> dict[str, str]:
        draw = Draw(self.id, seed)
        params: dict[str, str] = {}
        for name, spec in self.data.get("params", {}).items():
            if "int" in spec:
                lo, hi = spec["int"]
                params[name] = str(draw.integer(int(lo), int(hi)))
            else:
                picked = draw.choice(spec["choice"])
                if isinstance(picked, dict):  # linked params: one draw sets them all
                    params.update(picked)
                    params[name] = str(next(iter(picked.values())))
                else:
                    params[name] = str(picked)
        return params

    def fill(self, text: str, params: dict[str, str], field: str) -> str:
        """``{name}`` replaced by its param; a param's value may itself use params."""

        def repl(m: re.Match[str]) -> str:
            if m.group(1) not in params:
                raise self.fail(field, f"uses {{{m.group(1)}}}, which is not a param")
            return params[m.group(1)]

        for _ in range(_FILL_DEPTH):
            filled = _PARAM.sub(repl, text)
            if filled == text:
                if _PARAM.search(filled):  # a param whose value is itself
                    break
                return filled
            text = filled
        raise self.fail(field, "params refer to each other in a loop")

    def build(self, seed: int) -> tuple[Problem, dict[str, Any]]:
        from dlquiz.symbolic.chain import chain_rule
        from dlquiz.symbolic.derive import derivative, expand_derivatives
        from dlquiz.symbolic.simplify import simplify

        d = self.data
        params = self.draw_params(seed)
        try:
            ns = Namespace.from_specs(
                {
                    self.fill(k, params, f"vars.{k}"): self.fill(v, params, f"vars.{k}")
                    for k, v in d.get("vars", {}).items()
                }
            )
        except VarSpecError as exc:
            raise self.fail("vars", str(exc)) from None
        answer_vars = ns.as_dict()
        defs: dict[str, Expr] = {}
        for raw_name, body in d.get("definitions", {}).items():
            name = self.fill(raw_name, params, f"definitions.{raw_name}")
            try:
                e = expand_derivatives(
                    substitute(
                        parse_math(self.fill(body, params, f"definitions.{name}"), ns), defs
                    ),
                    ns,
                )
            except (TemplateError, ValueError) as exc:
                raise self.fail(f"definitions.{name}", str(exc)) from None
            defs[name] = e
            ns.declare(VarSpec(name, e.shape))
        spec = d["answer"]
        chain: list[str] = []
        try:
            if "derive" in spec:
                target = defs[self.fill(spec["derive"], params, "answer.derive")]
                wrt = self.fill(spec["wrt"], params, "answer.wrt")
                if wrt not in ns:
                    raise self.fail("answer.wrt", f"'{wrt}' is not a variable")
                key = derivative(target, wrt, ns)
                chain = chain_rule(target, wrt, ns)
            else:
                expr = parse_math(self.fill(spec["expression"], params, "answer.expression"), ns)
                target = substitute(expr, defs)
                key = simplify(expand_derivatives(target, ns), ns)
                wrt = None
        except (TemplateError, ValueError) as exc:
            raise self.fail("answer", str(exc)) from None
        allow = [self.fill(n, params, "answer.allow") for n in spec.get("allow", [])]
        for n in allow:
            if n not in defs:
                raise self.fail("answer.allow", f"'{n}' is not a definition")
        allowed = {n: to_notation(defs[n]) for n in allow}
        mistakes = []
        for i, m in enumerate(d.get("mistakes", [])):
            scratch = ns.copy()
            try:
                wrong = substitute(
                    parse_math(self.fill(m["answer"], params, f"mistakes[{i}].answer"), scratch),
                    defs,
                )
                wrong = expand_derivatives(wrong, scratch)
            except (TemplateError, ValueError) as exc:
                raise self.fail(f"mistakes[{i}].answer", str(exc)) from None
            mistakes.append(
                {
                    "tag": m["tag"],
                    "answer": to_notation(wrong),
                    "feedback": self.fill(m["feedback"], params, f"mistakes[{i}].feedback"),
                }
            )
        answer_text = to_notation(key)
        solution = self.fill(d.get("solution", ""), params, "solution")
        steps = "\n".join(chain)
        tail = f"\n\nSo the answer is ${answer_text}$."
        text_ns = ns.copy()
        try:
            problem = Problem(
                id=self.id,
                seed=seed,
                topic=self.topic,
                kind=self.kind,
                statement=render(
                    self.fill(d["statement"], params, "statement"), text_ns, "unicode"
                ),
                statement_latex=render(
                    self.fill(d["statement"], params, "statement"), text_ns, "latex"
                ),
                answer=answer_text,
                vars=answer_vars | {n: _shape_spec(defs[n]) for n in allowed},
                tolerance=d.get("tolerance"),
                points=self.points,
                hints=[
                    render(self.fill(h, params, "hints"), text_ns, "unicode")
                    for h in d.get("hints", [])
                ],
                solution=render(solution + tail, text_ns, "unicode")
                + ("\n\nChain rule, step by step:\n" + steps if steps else ""),
                solution_latex=render(solution + tail, text_ns, "latex"),
                mistakes=mistakes,
                definitions=allowed,
                title=self.title,
            )
        except TemplateError as exc:
            raise self.fail("statement", str(exc)) from None
        return problem, {"target": target, "wrt": wrt, "key": key, "ns": ns}

    def generate(self, seed: int) -> Problem:
        return self.build(seed)[0]

    def verify(self, problem: Problem) -> list[str]:
        from dlquiz.core.verification import verify_derivative, verify_expression

        _, info = self.build(problem.seed)
        if info["wrt"] is not None:
            check = verify_derivative(info["target"], info["wrt"], info["key"], info["ns"])
        else:
            check = verify_expression(info["target"], info["key"], info["ns"])
        if not check.ok:
            return [
                f"the key disagrees with the engine (max relative error {check.max_rel_error:.2e})"
            ]
        return []


def _shape_spec(e: Expr) -> str:
    if e.is_scalar:
        return ""
    m, n = e.shape
    return str(m) if n == 1 else f"{m}x{n}"


def load_templates(root: Path | None = None) -> dict[str, Family]:
    """Every template family under ``root`` (default: the packaged problems/)."""
    root = root or template_root()
    out: dict[str, Family] = {}
    if not root.is_dir():
        return out
    for path in sorted(root.glob("*/*.toml")):
        topic = path.parent.name
        where = f"{topic}/{path.name}"
        if topic not in TOPICS:
            raise FamilyError(f"{where}: '{topic}' is not a topic (one of {', '.join(TOPICS)})")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise FamilyError(f"{where}: not valid TOML: {exc}") from None
        family = TemplateFamily(path, data, topic)
        if family.id in out:
            raise FamilyError(f"{where}: field 'id': '{family.id}' is used twice")
        out[family.id] = family
    return out
