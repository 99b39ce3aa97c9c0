"""The judge against two SymPy baselines, on one labelled corpus, in one run.

For every pair of benchmarks/judge_corpus.toml (shape answers excepted: SymPy has no
notion of them) it times

  * the judge: ``dlquiz.judge.check`` (parse both sides, exact or random-point
    equivalence, diagnosis when wrong), with its key cache cleared before each pair;
  * ``simplify``: ``sympy.simplify(a - b) == 0`` on the same two expressions;
  * ``equals``: ``expected.equals(answer) is True``, the comparison PrairieLearn's
    ``pl-symbolic-input`` grades with (SymPy's own equality checker: simplification
    plus numerical tests at random points);

the two baselines on the same SymPy objects (vectors and matrices written out entry by
entry, compared entry by entry), SymPy's cache cleared before each pair, in a worker
process with the same per-pair time limit (a pair that runs out counts as the limit and
as "not equivalent"), in rounds (each pair's best time of 3 rounds, one block per
method per round). It prints the median time and the accuracy against the labels of
each, the judge's 99th percentile, and the ratios (targets: the judge 100% accurate and
strictly more accurate than both; its median at least 20x faster than both; every
check under 50 ms at the 99th percentile). Then it times ``dlquiz --help`` against
``python -c "import sympy"`` (target: at most 0.5).

Usage: python benchmarks/judge.py [--limit SECONDS] [--runs N] [--rounds N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

CORPUS = Path(__file__).with_name("judge_corpus.toml")


def load_pairs() -> list[dict]:
    pairs = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["pair"]
    return [p for p in pairs if p.get("kind", "auto") != "shape"]


def judge_once(p: dict) -> tuple[float, bool]:
    """One check, its key cache cleared first: (seconds, right against the label)."""
    from dlquiz.judge import check
    from dlquiz.judge.core import _prepare_cached

    _prepare_cached.cache_clear()
    started = time.perf_counter()
    verdict = check(p["answer"], p["expected"], kind=p.get("kind", "auto"), vars=p["vars"])
    return time.perf_counter() - started, verdict.equivalent is p["equivalent"]


# --- the baseline: SymPy on explicit matrices ---------------------------------------------


def to_explicit(e, ns):  # type: ignore[no-untyped-def]
    """An Expr as a SymPy scalar or explicit Matrix (every entry a symbol)."""
    import sympy as sp

    from dlquiz.symbolic.bridge import relu, sigmoid, step

    def assumptions(name: str) -> dict:
        spec = ns.get(name)
        domain = spec.domain if spec else "real"
        return {"positive": True} if domain in ("positive", "unit") else {"real": True}

    def ew(f, x):  # type: ignore[no-untyped-def]
        return x.applyfunc(f) if isinstance(x, sp.MatrixBase) else f(x)

    def combine(op, a, b):  # type: ignore[no-untyped-def]
        am, bm = isinstance(a, sp.MatrixBase), isinstance(b, sp.MatrixBase)
        if am and bm:
            return a.applyfunc(lambda v: v) if op is None else _entrywise(op, a, b)
        if am:
            return a.applyfunc(lambda v: op(v, b))
        if bm:
            return b.applyfunc(lambda v: op(a, v))
        return op(a, b)

    def _entrywise(op, a, b):  # type: ignore[no-untyped-def]
        return sp.Matrix(a.rows, a.cols, lambda i, j: op(a[i, j], b[i, j]))

    memo: dict[int, object] = {}
    for node in e.walk():
        args = [memo[id(a)] for a in node.args]
        op = node.op
        if op == "num":
            v = node.value
            out = sp.Rational(v.numerator, v.denominator)
        elif op == "const":
            out = sp.pi if node.value == "pi" else sp.E
        elif op == "sym":
            if node.shape:
                m, n = node.shape
                out = sp.Matrix(
                    m, n, lambda i, j, nm=node.value: sp.Symbol(f"{nm}_{i}{j}", **assumptions(nm))
                )
            else:
                out = sp.Symbol(node.value, **assumptions(node.value))
        elif op in ("ones", "zeros"):
            m, n = node.shape
            out = sp.ones(m, n) if op == "ones" else sp.zeros(m, n)
        elif op == "add":
            out = args[0]
            for a in args[1:]:
                out = combine(lambda x, y: x + y, out, a)
        elif op == "mul":
            out = args[0]
            for a in args[1:]:
                out = combine(lambda x, y: x * y, out, a)
        elif op == "pow":
            out = combine(lambda x, y: x**y, args[0], args[1])
        elif op == "matmul":
            a, b = args
            out = a * b
            if isinstance(out, sp.MatrixBase) and out.shape == (1, 1):
                out = out[0, 0]
        elif op == "T":
            out = args[0].T
        elif op == "matrix":
            m, n = node.shape
            out = sp.Matrix(m, n, args)
        elif op == "fn":
            name = node.value
            x = args[0]
            table = {
                "exp": sp.exp,
                "log": sp.log,
                "abs": sp.Abs,
                "sign": sp.sign,
                "sigmoid": sigmoid,
                "tanh": sp.tanh,
                "relu": relu,
                "step": step,
                "sigmoid'": lambda v: sigmoid(v) * (1 - sigmoid(v)),
                "tanh'": lambda v: 1 - sp.tanh(v) ** 2,
            }
            if name in table:
                out = ew(table[name], x)
            elif name in ("max", "min"):
                f = sp.Max if name == "max" else sp.Min
                out = combine(f, args[0], args[1])
            elif name == "sum":
                out = sum(x) if isinstance(x, sp.MatrixBase) else x
            elif name == "mean":
                out = sum(x) / len(x) if isinstance(x, sp.MatrixBase) else x
            elif name == "norm":
                out = sp.sqrt(sum(v**2 for v in x)) if isinstance(x, sp.MatrixBase) else sp.Abs(x)
            elif name == "softmax":
                total = sum(sp.exp(v) for v in x)
                out = x.applyfunc(lambda v, t=total: sp.exp(v) / t)
            elif name.endswith("'"):
                f = sp.Function(name[:-1])
                t = sp.Dummy()
                out = ew(lambda v, f=f, t=t: sp.Subs(sp.Derivative(f(t), t), t, v), x)
            else:
                out = ew(sp.Function(name), x)
        else:
            raise ValueError(op)
        memo[id(node)] = out
    return memo[id(e)]


def _baseline_worker(conn, method) -> None:  # type: ignore[no-untyped-def]
    import sympy as sp
    from sympy.core.cache import clear_cache

    from dlquiz.core.vars import Namespace
    from dlquiz.judge.core import parse_key
    from dlquiz.notation import parse

    conn.send("ready")
    while True:
        item = conn.recv()
        if item is None:
            return
        try:
            ns = Namespace.from_specs(item["vars"])
            expected = parse_key(item["expected"], ns)
            answer = parse(item["answer"], ns)
            clear_cache()
            started = time.perf_counter()  # building the SymPy objects is part of its work
            a, b = to_explicit(answer, ns), to_explicit(expected, ns)
            if isinstance(a, sp.MatrixBase) != isinstance(b, sp.MatrixBase) or (
                isinstance(a, sp.MatrixBase) and a.shape != b.shape
            ):
                same = False
            else:
                pairs = zip(a, b, strict=True) if isinstance(a, sp.MatrixBase) else [(a, b)]
                if method == "equals":  # PrairieLearn: a_tru.equals(a_sub) is True
                    same = all(sp.sympify(v).equals(u) is True for u, v in pairs)
                else:
                    same = all(sp.simplify(u - v) == 0 for u, v in pairs)
            conn.send((time.perf_counter() - started, bool(same)))
        except Exception:  # the baseline failing on a pair counts as "not equivalent"
            conn.send((None, False))


class Baseline:
    """A SymPy method in its own worker process, killed and replaced past the limit."""

    def __init__(self, method: str, limit: float) -> None:
        self.method, self.limit = method, limit
        self.ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self.rounds: list[list[float]] = []
        self.times: list[float] = []
        self.right = self.timeouts = 0
        self._start()

    def round(self, pairs: list[dict]) -> None:
        """Every pair once; accuracy and time-outs are counted in the first round."""
        self.times = []
        first = not self.rounds
        right, timeouts = self.right, self.timeouts
        for p in pairs:
            self.run(p)
        if not first:
            self.right, self.timeouts = right, timeouts
        self.rounds.append(self.times)

    def best(self) -> list[float]:
        return [min(t) for t in zip(*self.rounds, strict=True)]

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(
            target=_baseline_worker, args=(child, self.method), daemon=True
        )
        self.proc.start()
        parent.recv()
        self.conn = parent

    def run(self, p: dict) -> None:
        self.conn.send(p)
        if self.conn.poll(self.limit + 5):
            elapsed, same = self.conn.recv()
            if elapsed is None:
                elapsed = 0.0
            elif elapsed > self.limit:
                self.timeouts += 1
                same = False
        else:
            self.proc.kill()
            self.proc.join()
            self._start()
            elapsed, same = self.limit, False
            self.timeouts += 1
        self.times.append(min(elapsed, self.limit))
        self.right += same is p["equivalent"]

    def close(self) -> None:
        self.conn.send(None)
        self.proc.join(timeout=5)


def best_of(cmd: list[str], runs: int) -> float:
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        results.append(time.perf_counter() - started)
    return min(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=float, default=5.0, help="seconds per baseline pair")
    parser.add_argument("--runs", type=int, default=7, help="runs of each start-up command")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds over the corpus")
    args = parser.parse_args()

    pairs = load_pairs()
    print(f"corpus: {len(pairs)} labelled pairs ({sum(p['equivalent'] for p in pairs)} equivalent)")
    for p in pairs:  # warm up: imports, first-use costs, NumPy's and Python's own caches
        judge_once(p)
    baselines = {m: Baseline(m, args.limit) for m in ("simplify", "equals")}
    # Rounds of one block per method (all pairs), each pair's best time over the rounds:
    # a shared machine's load falls on every method alike, and no method runs with the
    # caches another one just filled.
    judge_runs: list[list[float]] = []
    judge_right = 0
    for round_ in range(args.rounds):
        times = []
        for p in pairs:
            elapsed, right = judge_once(p)
            times.append(elapsed)
            judge_right += right if round_ == 0 else 0
        judge_runs.append(times)
        for baseline in baselines.values():
            baseline.round(pairs)
    for baseline in baselines.values():
        baseline.close()
    judge_times = [min(t) for t in zip(*judge_runs, strict=True)]
    jm = statistics.median(judge_times)
    p99 = statistics.quantiles(judge_times, n=100)[98]
    print(
        f"judge:    median {jm * 1e3:8.3f} ms   p99 {p99 * 1e3:7.2f} ms   max "
        f"{max(judge_times) * 1e3:7.2f} ms   accuracy {judge_right}/{len(pairs)}"
    )
    medians, rights = {}, {}
    for method, baseline in baselines.items():
        medians[method], rights[method] = statistics.median(baseline.best()), baseline.right
        print(
            f"{method + ':':9} median {medians[method] * 1e3:8.3f} ms   accuracy "
            f"{baseline.right}/{len(pairs)}   ({baseline.timeouts} over the "
            f"{args.limit:g} s limit)"
        )
    for method in ("simplify", "equals"):
        print(
            f"speed-up over {method}: {medians[method] / jm:.1f}x (target >= 20x); "
            f"more accurate: {judge_right > rights[method]}"
        )
    print(f"judge 100% accurate: {judge_right == len(pairs)}; p99 under 50 ms: {p99 < 0.05}")

    dlquiz = [sys.executable, "-m", "dlquiz", "--help"]
    sympy = [sys.executable, "-c", "import sympy"]
    best_of(dlquiz, 1), best_of(sympy, 1)  # warm the file cache
    h, s = best_of(dlquiz, args.runs), best_of(sympy, args.runs)
    print(f"dlquiz --help {h * 1e3:.0f} ms vs import sympy {s * 1e3:.0f} ms: ", end="")
    print(f"ratio {h / s:.2f} (target <= 0.5)")


if __name__ == "__main__":
    main()
