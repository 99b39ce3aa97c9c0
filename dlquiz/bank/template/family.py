"""A family defined by a template: read and checked once, then built seed by seed.

For a seed: draw the params (``params.py``), redrawing until every ``require`` holds;
declare the vars, read the definitions, compute the values (``scope.py``); then the key
(derived by SymPy for an expression, computed by the engine for a number, drawn from the
pool for a choice), the mistakes the judge can tell apart (``answers.py``), the options
(``options.py``) and the prose (``prose.py``). ``verify`` checks the key independently:
the engine's autograd for a derivation, the named ``[[checks]]`` (``checks.py``) for
numbers and choices.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from dlquiz.bank.family import TOPICS, Family, FamilyError
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw
from dlquiz.bank.render import TemplateError, parse_math
from dlquiz.bank.template import answers, checks, options, params, prose
from dlquiz.bank.template.scope import NotFinite, Scope
from dlquiz.bank.template.source import (
    ANSWER_KINDS,
    NUMERIC_KINDS,
    TOP_LEVEL,
    Source,
)
from dlquiz.core.expr import Expr, substitute
from dlquiz.core.printing import to_notation
from dlquiz.core.vars import Namespace, VarSpec, VarSpecError

DEFAULT_REDRAWS = 200
MAX_REDRAWS = 10_000
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ANSWER_KEYS = {
    "expression": {
        "derive": "the definition to differentiate",
        "wrt": "the variable to differentiate by",
        "expression": "an expression (derivatives worked out)",
        "allow": "definitions an answer may use by name",
    },
    "numeric": {"value": 'a formula for the key (a shape: "(a, b, c)")'},
}
_MISTAKE_KEYS = {
    "tag": "a stable name",
    "answer": "the wrong answer (a formula)",
    "feedback": "what the student is told",
    "when": "when it applies",
}
_VALUE_KEYS = {
    "value": "a formula",
    "grad": "a formula to differentiate (by the engine's reverse mode)",
    "wrt": "the variable of grad",
    "at": "names bound to other values while computing this one",
}


@dataclass
class Built:
    """One seed's problem and what verification needs of its making."""

    problem: Problem
    scope: Scope
    mistakes: answers.Mistakes = field(default_factory=answers.Mistakes)
    shown: options.Shown | None = None
    derivation: dict[str, Any] | None = None  # expression kind: target, wrt, key, ns


class TemplateFamily(Family):
    """A family defined by a TOML file (see the README, "Writing a problem family")."""

    def __init__(self, path: Path, data: dict[str, Any], topic: str) -> None:
        self.path = path
        self.data = data
        self.topic = topic
        self.source = Source(path, data, topic)
        self.id = data.get("id") or f"{topic}/{path.stem}"
        self._read()
        self.kinds = {p.name: p.labels() for p in self.params if p.kind}

    # --- reading ---------------------------------------------------------------------------
    def _read(self) -> None:
        s, d = self.source, self.data
        s.keys("", d, TOP_LEVEL)
        self.title = s.text("title", d.get("title"))
        s.text("statement", d.get("statement"))
        self.kind = d.get("kind", "expression")
        if self.kind not in ANSWER_KINDS:
            raise s.fail("kind", f"'{self.kind}' is not an answer kind ({', '.join(ANSWER_KINDS)})")
        self.points = s.integer("points", d.get("points", 1), 1, 100)
        tolerance = d.get("tolerance")
        if tolerance is not None and (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, float | int)
            or not 0 < tolerance < 1
        ):
            raise s.fail("tolerance", "must be a relative tolerance between 0 and 1")
        self.tolerance = None if tolerance is None else float(tolerance)
        self.redraws = s.integer("redraws", d.get("redraws", DEFAULT_REDRAWS), 1, MAX_REDRAWS)
        self.params = params.read_params(s)
        names = {p.name for p in self.params}
        for key in ("vars", "definitions"):
            for name, body in s.table(key, d.get(key)).items():
                s.text(f"{key}.{name}", body, required=key == "definitions")
        self.values = s.table("values", d.get("values"))
        for name, spec in self.values.items():
            where = f"values.{name}"
            if name in names:
                raise s.fail(where, f"'{name}' is already a param")
            if isinstance(spec, dict):
                s.keys(where, spec, _VALUE_KEYS)
                if ("value" in spec) == ("grad" in spec):
                    raise s.fail(where, 'needs value = "formula" or grad = "formula" with wrt')
                if "grad" in spec and not isinstance(spec.get("wrt"), str):
                    raise s.fail(f"{where}.wrt", "is missing (the variable to differentiate by)")
                for k, v in s.table(f"{where}.at", spec.get("at")).items():
                    s.text(f"{where}.at.{k}", v)
            else:
                s.text(where, spec)
        self.requires = self._read_requires()
        self._read_answer()
        self.mistakes = s.tables("mistakes", d.get("mistakes"))
        for i, m in enumerate(self.mistakes):
            s.keys(f"mistakes[{i}]", m, _MISTAKE_KEYS)
            for key in ("tag", "answer", "feedback"):
                if not isinstance(m.get(key), str):
                    raise s.fail(f"mistakes[{i}].{key}", "is missing (a string)")
        self.options: list[dict[str, Any]] = []
        if self.kind == "choice":
            if self.mistakes:
                raise s.fail("mistakes", "a choice question's mistakes are its wrong [[options]]")
            self.options, self.wrong, self.balance = options.read_options(s)
        elif "options" in d or "choice" in d:
            raise s.fail("options", 'only a choice question (kind = "choice") has options')
        self.checks = checks.read_checks(s)
        if self.kind in NUMERIC_KINDS and not self.checks:
            raise s.fail(
                "checks",
                "a numeric template needs an independent check: add a [[checks]] entry "
                f"(one of {', '.join(sorted(checks.HOOKS))})",
            )

    def _read_requires(self) -> list[tuple[str, Any, Any, bool]]:
        s = self.source
        raw = self.data.get("require", [])
        if not isinstance(raw, list):
            raise s.fail("require", "must be a list of conditions")
        out = []
        for i, entry in enumerate(raw):
            where = f"require[{i}]"
            when = None
            if isinstance(entry, dict):
                s.keys(where, entry, {"holds": "a condition", "when": "when it applies"})
                when = entry.get("when")
                entry = entry.get("holds")
            if not isinstance(entry, str | dict | list) or not entry:
                raise s.fail(where, "must be a condition: a comparison, a table or a list")
            late = bool(set(_WORD.findall(str(entry))) & set(self.values))
            out.append((where, entry, when, late))
        return out

    def _read_answer(self) -> None:
        s = self.source
        answer = s.table("answer", self.data.get("answer"))
        if self.kind == "choice":
            if answer:
                raise s.fail("answer", "a choice question's key is its correct option")
            return
        allowed = _ANSWER_KEYS["expression" if self.kind == "expression" else "numeric"]
        s.keys("answer", answer, allowed)
        if self.kind != "expression":
            s.text("answer.value", answer.get("value"))
        elif ("derive" in answer) == ("expression" in answer):
            raise s.fail("answer", "needs either derive (with wrt) or expression")
        elif "derive" in answer and "wrt" not in answer:
            raise s.fail("answer.wrt", "is missing (the variable to differentiate by)")
        elif "derive" in answer and answer["derive"] not in self.data.get("definitions", {}):
            raise s.fail("answer.derive", f"'{answer['derive']}' is not a definition")
        self.answer = answer

    # --- drawing ----------------------------------------------------------------------------
    def _scope(self, seed: int) -> tuple[Scope, Draw, Any]:
        """A draw meeting every ``require``, its values computed; and the key's value."""
        draw = Draw(self.id, seed)
        failed: Counter[str] = Counter()
        for _ in range(self.redraws):
            scope = Scope(self.source, Namespace())
            params.draw_params(self.params, draw, scope, seed)
            self._declare(scope)
            try:
                if not self._requires(scope, late=False, failed=failed):
                    continue
                self._compute(scope)
                if not self._requires(scope, late=True, failed=failed):
                    continue
                key = None
                if self.kind in NUMERIC_KINDS:
                    key = answers.numeric_value(
                        scope, self.kind, self.answer["value"], "answer.value"
                    )
            except NotFinite as exc:
                failed[f"field '{exc.field}' was not a finite number"] += 1
                continue
            return scope, draw, key
        worst = failed.most_common(1)[0][0] if failed else "nothing"
        raise self.source.fail(
            "require",
            f"no draw for seed {seed} met the requirements in {self.redraws} "
            f"redraws (most often failed: {worst}); loosen them or raise redraws",
        )

    def _requires(self, scope: Scope, *, late: bool, failed: Counter[str]) -> bool:
        for where, condition, when, is_late in self.requires:
            if is_late != late:
                continue
            if when is not None and not scope.holds(when, f"{where}.when"):
                continue
            if not scope.holds(condition, where):
                failed[f"'{condition}'"] += 1
                return False
        return True

    def _declare(self, scope: Scope) -> None:
        """The vars (answer variables) and definitions, in the draw's namespace."""
        try:
            for raw, spec in self.data.get("vars", {}).items():
                name = scope.fill(raw, f"vars.{raw}")
                if not name.strip():
                    continue  # a var named by a param that is empty: not in this draw
                declared = Namespace.from_specs({name: scope.fill(spec, f"vars.{raw}")})
                for v in declared.vars.values():
                    scope.ns.declare(v)
                    scope.text_ns.declare(v)
                scope.vars.update(declared.as_dict())  # the answer's variables
        except VarSpecError as exc:
            raise self.source.fail("vars", str(exc)) from None
        for raw, body in self.data.get("definitions", {}).items():
            name = scope.fill(raw, f"definitions.{raw}")
            if not name.strip():
                continue  # a definition named by a param that is empty: not in this draw
            where = f"definitions.{name}"
            e = scope.parse(body, where)
            if self.kind == "expression":
                from dlquiz.symbolic.derive import expand_derivatives

                try:
                    e = expand_derivatives(e, scope.ns)
                except ValueError as exc:
                    raise self.source.fail(where, str(exc)) from None
            scope.definitions[name] = e
            scope.ns.declare(VarSpec(name, e.shape))
            scope.text_ns.declare(VarSpec(name, e.shape))

    def _compute(self, scope: Scope) -> None:
        for name, spec in self.values.items():
            where = f"values.{name}"
            if isinstance(spec, str):
                scope.bind(name, scope.number(spec, where))
                continue
            at = {k: scope.number(v, f"{where}.at.{k}") for k, v in spec.get("at", {}).items()}
            if "grad" in spec:
                value = scope.gradient(spec["grad"], spec["wrt"], where, at=at)
            else:
                value = scope.number(spec["value"], where, at=at)
            scope.bind(name, value)

    def draw_params(self, seed: int) -> dict[str, str]:
        """The params' texts for a seed (as ``{name}`` fills them)."""
        return dict(self._scope(seed)[0].texts)

    def question_kind(self, seed: int) -> dict[str, str]:
        scope = self._scope(seed)[0]
        return {name: scope.labels[name] for name in self.kinds}

    # --- building ---------------------------------------------------------------------------
    def generate(self, seed: int) -> Problem:
        return copy.deepcopy(self.build(seed).problem)

    def build(self, seed: int) -> Built:
        return _build(self, seed)

    def _build(self, seed: int) -> Built:
        scope, draw, key_value = self._scope(seed)
        text_ns = scope.text_ns.copy()

        def text(field: str, raw: str, style: str = "unicode") -> str:
            return prose.compose(scope, raw, field, text_ns, style)

        mistakes = answers.Mistakes()
        shown = None
        info = None
        answer_vars: dict[str, str] = {}
        definitions: dict[str, str] = {}
        tail = ""
        steps = ""
        choices: list[str] = []
        if self.kind == "expression":
            answer_text, mistakes, definitions, answer_vars, chain, info = self._derivation(
                scope, text
            )
            tail = f"\n\nSo the answer is ${answer_text}$."
            steps = "\n".join(chain)
        elif self.kind == "choice":
            shown = options.draw_options(
                scope, self.options, self.wrong, self.balance, draw, text, seed
            )
            answer_text = shown.key
            choices = shown.texts
            scope.texts["correct"] = choices[options.LETTERS.index(shown.key)]
            mistakes = answers.Mistakes(kept=shown.mistakes)
        else:
            answer_text = answers.key_text(self.kind, key_value)
            mistakes = answers.numeric_mistakes(
                scope,
                self.mistakes,
                self.kind,
                key_value,
                lambda m, i: text(f"mistakes[{i}].feedback", m["feedback"]),
            )
        scope.texts["answer"] = answer_text  # {answer} in any text
        statement = self.data["statement"]
        hints = prose.parts(scope, self.data.get("hints"), "hints")
        solution = prose.parts(scope, self.data.get("solution"), "solution")

        def solution_text(style: str) -> str:
            rendered = [text(f, t, style) for f, t in solution]
            body = prose.joined(rendered)
            return body + (text("solution", tail, style) if tail else "")

        problem = Problem(
            id=self.id,
            seed=seed,
            topic=self.topic,
            kind=self.kind,
            statement=text("statement", statement),
            statement_latex=text("statement", statement, "latex"),
            answer=answer_text,
            vars=answer_vars,
            tolerance=self.tolerance,
            points=self.points,
            hints=[text(f, h) for f, h in hints],
            solution=solution_text("unicode")
            + ("\n\nChain rule, step by step:\n" + steps if steps else ""),
            solution_latex=solution_text("latex"),
            mistakes=mistakes.kept,
            definitions=definitions,
            choices=choices,
            title=self.title,
            question_kind={name: scope.labels[name] for name in self.kinds},
            family_version=self.version,
        )
        return Built(problem, scope, mistakes, shown, info)

    def _derivation(self, scope: Scope, text: Any) -> tuple:  # type: ignore[type-arg]
        """The key of an expression template: derived by SymPy, mistakes read alike."""
        from dlquiz.symbolic.chain import chain_rule
        from dlquiz.symbolic.derive import derivative, expand_derivatives
        from dlquiz.symbolic.simplify import simplify

        ns = scope.ns
        defs = scope.definitions
        answer_vars = dict(scope.vars)
        spec = self.answer
        chain: list[str] = []
        try:
            if "derive" in spec:
                target = defs[scope.fill(spec["derive"], "answer.derive")]
                wrt = scope.fill(spec["wrt"], "answer.wrt")
                if wrt not in ns:
                    raise self.source.fail("answer.wrt", f"'{wrt}' is not a variable")
                key = derivative(target, wrt, ns)
                chain = chain_rule(target, wrt, ns)
            else:
                target = scope.parse(spec["expression"], "answer.expression")
                key = simplify(expand_derivatives(target, ns), ns)
                wrt = None
        except (TemplateError, ValueError) as exc:
            raise self.source.fail("answer", str(exc)) from None
        allow = [scope.fill(n, "answer.allow") for n in spec.get("allow", [])]
        allow = [n for n in allow if n.strip()]  # a name filled empty: not in this draw
        for n in allow:
            if n not in defs:
                raise self.source.fail("answer.allow", f"'{n}' is not a definition")
        allowed = {n: to_notation(defs[n]) for n in allow}
        out = answers.Mistakes()
        kept: list[Expr] = []
        for i, m in enumerate(self.mistakes):
            where = f"mistakes[{i}]"
            if "when" in m and not scope.holds(m["when"], f"{where}.when"):
                continue
            out.applicable.append(m["tag"])
            try:
                wrong = substitute(
                    parse_math(scope.fill(m["answer"], f"{where}.answer"), ns.copy()), defs
                )
                wrong = expand_derivatives(wrong, ns.copy())
            except (TemplateError, ValueError) as exc:
                raise self.source.fail(f"{where}.answer", str(exc)) from None
            if _same_function(wrong, key, ns):
                out.dropped.append((m["tag"], "the judge cannot tell it from the key"))
                continue
            twin = next((j for j, e in enumerate(kept) if _same_function(wrong, e, ns)), None)
            if twin is not None:
                out.dropped.append(
                    (m["tag"], f"the judge cannot tell it from '{out.kept[twin]['tag']}'")
                )
                continue
            kept.append(wrong)
            out.kept.append(
                {
                    "tag": m["tag"],
                    "answer": to_notation(wrong),
                    "feedback": text(f"{where}.feedback", m["feedback"]),
                }
            )
        answer_vars = answer_vars | {n: _shape_spec(defs[n]) for n in allowed}
        info = {"target": target, "wrt": wrt, "key": key, "ns": ns}
        return to_notation(key), out, allowed, answer_vars, chain, info

    # --- verification -----------------------------------------------------------------------
    def verify(self, problem: Problem) -> list[str]:
        built = self.build(problem.seed)
        if self.kind == "expression":
            return self._verify_derivation(built)
        failures: list[str] = []
        if self.kind == "choice":
            key: Any = problem.answer
            failures += _option_failures(problem)
        else:
            try:
                key = answers.read_key(self.kind, problem.answer)
            except ValueError as exc:
                return [f"the key {problem.answer!r} cannot be read: {exc}"]
        ctx = checks.CheckContext(
            family=self.id,
            seed=problem.seed,
            kind=self.kind,
            key=key,
            scope=built.scope,
            options=built.shown.entries if built.shown else [],
        )
        return failures + checks.run_checks(self.checks, ctx)

    def _verify_derivation(self, built: Built) -> list[str]:
        from dlquiz.core.verification import verify_derivative, verify_expression

        info = built.derivation or {}
        if info["wrt"] is not None:
            check = verify_derivative(info["target"], info["wrt"], info["key"], info["ns"])
        else:
            check = verify_expression(info["target"], info["key"], info["ns"])
        failures = (
            []
            if check.ok
            else [
                f"the key disagrees with the engine (max relative error {check.max_rel_error:.2e})"
            ]
        )
        ctx = checks.CheckContext(self.id, built.problem.seed, self.kind, info["key"], built.scope)
        return failures + checks.run_checks(self.checks, ctx)

    def mistake_report(self, seed: int) -> answers.Mistakes:
        """Which listed mistakes applied to this seed and which were dropped, and why."""
        return self.build(seed).mistakes

    @cached_property
    def version(self) -> str:
        from dlquiz.bank.versions import source_version

        return source_version(self.path, template=True)


@lru_cache(maxsize=64)
def _build(family: TemplateFamily, seed: int) -> Built:
    """Builds are deterministic: generate, verify and the mistake report share one."""
    return family._build(seed)


def _same_function(a: Expr, b: Expr, ns: Namespace) -> bool:
    """Equal at random points (so the judge could not tell them apart)?"""
    from dlquiz.core.numeric import EvaluationError, evaluate, sample_env

    if a.shape != b.shape:
        return False
    rng = np.random.default_rng(3)
    try:
        env, funcs = sample_env(ns, a.free_symbols() | b.free_symbols(), 6, rng)
        with np.errstate(all="ignore"):
            va, vb = evaluate(a, env, 6, funcs), evaluate(b, env, 6, funcs)
    except (EvaluationError, ValueError):
        return False
    valid = np.isfinite(va).all(axis=(1, 2)) & np.isfinite(vb).all(axis=(1, 2))
    return bool(valid.any()) and bool(np.allclose(va[valid], vb[valid], rtol=1e-9, atol=1e-12))


def _option_failures(problem: Problem) -> list[str]:
    letters = [options.LETTERS[i] for i in range(len(problem.choices))]
    failures = []
    if len(set(problem.choices)) != len(problem.choices):
        failures.append("the options are not distinct")
    if problem.answer not in letters:
        failures.append(f"the key {problem.answer!r} is not the letter of an option")
    if sorted([m["answer"] for m in problem.mistakes] + [problem.answer]) != letters:
        failures.append("every wrong option needs exactly one mistake tag")
    return failures


def _shape_spec(e: Expr) -> str:
    if e.is_scalar:
        return ""
    m, n = e.shape
    return str(m) if n == 1 else f"{m}x{n}"


def check_topic(topic: str, where: str) -> None:
    if topic not in TOPICS:
        raise FamilyError(f"{where}: '{topic}' is not a topic (one of {', '.join(TOPICS)})")
