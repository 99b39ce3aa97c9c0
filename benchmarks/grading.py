"""Grading throughput: a class of 500 sheets of 20 questions, against the judge alone.

    python benchmarks/grading.py [--sheets N] [--jobs N] [--seed S]

It generates a 20-question set from the whole bank (``dlquiz generate``'s code), then
writes N answer sheets (default 500) whose answers are distinct strings, so no cache of
answer texts can carry the batch:

- 50% equivalent rewrites of the key: an expression scaled and divided back by a number
  that differs per sheet, numbers rounded and nudged within the tolerance, integers as
  arithmetic, shapes and letters in other spellings;
- 30% known mistakes, rewritten the same way (or wrong numbers where a question lists none);
- 20% garbage: unknown names, unbalanced brackets, words, wrong shapes.

Then it grades them from the files as ``dlquiz grade`` does (read every sheet, judge every
answer in the worker pool, with 1 process and with ``--jobs``, default one per core) and
prints answers checked per second, next to the judge's single-check rate in the same run (one
process calling ``dlquiz.judge.check`` on a sample of the same answers with the same
prepared keys). Target: at least 500 answers per second on a 2-core machine. It also
prints how each category was graded, so a fast but wrong grader shows.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dlquiz.sets.keys import Question

QUESTIONS = 20
FALLBACK = ["linear-regression/dw-scalar", "softmax-regression/probabilities"]


def rewrite(q: Question, text: str, k: int, rng: random.Random) -> str:
    """An answer equal to ``text`` (a key or a mistake), spelled differently for each k."""
    if q.kind == "expression":
        return f"({k}*({text}))/{k}"
    if q.kind in ("number", "numbers"):
        from dlquiz.core.expr import substitute
        from dlquiz.core.numeric import evaluate
        from dlquiz.core.vars import Namespace
        from dlquiz.notation import parse

        try:
            values = evaluate(substitute(parse(text, Namespace()), {}), {}, 1)[0]
        except Exception:  # a mistake that is not plain numbers: keep its text
            return f"{text} "
        nudged = values * (1 + rng.uniform(-5e-4, 5e-4)) + k * 1e-12
        body = "; ".join(", ".join(f"{v:.7g}" for v in row) for row in nudged)
        return body if values.size == 1 else f"[{body}]"
    if q.kind == "integer":
        return f"({text})*{k}/{k}"
    if q.kind == "shape":  # separators, spaces and brackets: hundreds of spellings
        parts = [p.strip() for p in text.strip("()[] ").replace("x", ",").split(",")]
        seps = [", ", ",", " x ", "x", " , ", " ,", "  ,  "]
        body = parts[0]
        for i, p in enumerate(parts[1:]):
            body += seps[(k // (7**i)) % len(seps)] + p
        left, right = ("(", ")") if k % 2 else ("[", "]")
        return left + " " * (k % 3) + body + " " * (k // 3 % 3) + right
    # a letter has only a few spellings; these answers repeat (and cost next to nothing)
    return [text, f"({text})", text.lower(), f"{text}.", f"[{text}]", f"{text.lower()})"][k % 6]


def garbage(q: Question, k: int, rng: random.Random) -> str:
    forms = [
        f"foo{k}(x",
        f"the answer is {k}",
        f"[[{k}, 2], [3]]",
        f"({k}+",
        f"{k}^{k}^{k}",
        f"sigmoid(z{k})*",
        f"∂L/∂w = {k}",
        f"{k}.{rng.randrange(10**6)} meters",
    ]
    return forms[k % len(forms)]


def build_answers(
    questions: list[Question], sheets: int, seed: int
) -> list[dict[int, tuple[str, str]]]:
    """Per sheet, per question: (category, answer text)."""
    rng = random.Random(seed)
    out = []
    for s in range(sheets):
        answers = {}
        for q in questions:
            k = s * QUESTIONS + q.number + 2
            r = rng.random()
            if r < 0.5:
                answers[q.number] = ("rewrite", rewrite(q, q.answer, k, rng))
            elif r < 0.8 and q.mistakes:
                m = q.mistakes[rng.randrange(len(q.mistakes))]
                answers[q.number] = ("mistake", rewrite(q, m["answer"], k, rng))
            elif r < 0.8:
                answers[q.number] = ("mistake", f"{k}.{rng.randrange(10**4)}")
            else:
                answers[q.number] = ("garbage", garbage(q, k, rng))
        out.append(answers)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheets", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from dlquiz.judge import check
    from dlquiz.sets.generate import GenerationError, write_set
    from dlquiz.sets.grade import grade_paths
    from dlquiz.sets.keys import load_keys
    from dlquiz.sets.pool import default_processes

    jobs = args.jobs or default_processes()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        try:
            write_set(root / "set", n=QUESTIONS, seed=args.seed)
        except GenerationError as exc:
            print(f"(the whole bank failed: {exc}; using {', '.join(FALLBACK)})")
            write_set(root / "set", family_ids=FALLBACK, n=QUESTIONS, seed=args.seed)
        generated = time.perf_counter() - started
        keyset = load_keys(root / "set" / "key.json")
        questions = keyset.keys[None].questions
        kinds = Counter(q.kind for q in questions)
        print(f"set: {len(questions)} questions ({dict(sorted(kinds.items()))}), ", end="")
        print(f"generated in {generated:.1f} s")

        sheets = build_answers(questions, args.sheets, args.seed)
        texts = [a for sheet in sheets for _, a in sheet.values()]
        print(
            f"sheets: {args.sheets} x {len(questions)} = {len(texts)} answers, "
            f"{len(set(texts))} distinct strings ({100 * len(set(texts)) / len(texts):.1f}%)"
        )
        folder = root / "sheets"
        folder.mkdir()
        for s, answers in enumerate(sheets):
            lines = [f"# student: s{s:04d}"] + [f"{n}: {a}" for n, (_, a) in answers.items()]
            (folder / f"s{s:04d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

        # the judge alone, in this process, on a sample of the same answers
        prepared = {q.number: q.prepare() for q in questions}
        sample = [(q, sheets[s][q.number][1]) for s in range(0, args.sheets, 5) for q in questions]
        started = time.perf_counter()
        for q, text in sample:
            check(text, prepared[q.number], tolerance=q.tolerance)
        single = len(sample) / (time.perf_counter() - started)

        paths = sorted(folder.iterdir())
        rates = {}
        for n in sorted({1, jobs}):
            started = time.perf_counter()
            results = grade_paths(keyset, paths, jobs=n)
            elapsed = time.perf_counter() - started
            rates[n] = (len(texts) / elapsed, elapsed)
        rate = rates[jobs][0]

    outcome: dict[str, Counter] = {"rewrite": Counter(), "mistake": Counter(), "garbage": Counter()}
    for s, r in enumerate(results):
        for a in r.answers:
            outcome[sheets[s][a.number][0]][a.status] += 1
    print(f"judge alone (1 process):  {single:8.0f} answers/s  ({len(sample)} checks)")
    for n, (r, elapsed) in rates.items():
        print(
            f"dlquiz grade ({n} job{'s' if n > 1 else ' '}):    {r:8.0f} answers/s  "
            f"({len(texts)} answers in {elapsed:.2f} s, reading the files included)"
        )
    print(
        f"grade ({jobs} jobs) / single-check: {rate / single:.2f}x; target >= 500 answers/s: ",
        end="",
    )
    print("met" if rate >= 500 else "NOT met")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load is not None:
        print(f"(load average {load[0]:.2f} on {os.cpu_count()} cores: other work slows both)")
    for label, counts in outcome.items():
        shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"  {label:8} -> {shown}")


if __name__ == "__main__":
    main()
