"""Convolution families: sizes against the engine's conv2d, values against NumPy by hand."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from bank_helpers import (
    assert_latex_prose_is_ascii,
    assert_same_seed_same_problem,
    assert_verify_command_passes,
    numbers,
    passing_problems,
)
from numpy.lib.stride_tricks import sliding_window_view

from dlquiz.bank import families, generate
from dlquiz.bank.coded.common import out_size
from dlquiz.bank.coded.convolution import receptive_field
from dlquiz.engine import Conv2d, Tensor
from dlquiz.engine import functional as F

IDS = [
    "convolution/output-size",
    "convolution/output-shape",
    "convolution/param-count",
    "convolution/output-entry",
    "convolution/output-map",
    "convolution/receptive-field",
    "convolution/dilation",
    "convolution/same-padding",
    "convolution/cnn-shapes",
    "convolution/cnn-counts",
    "convolution/gradient",
]


@pytest.mark.parametrize("family_id", IDS)
def test_every_family_passes_the_bank_checks(family_id: str) -> None:
    passing_problems(family_id, range(6), topic="convolution")


@pytest.mark.parametrize("family_id", IDS)
def test_same_seed_same_problem(family_id: str) -> None:
    assert_same_seed_same_problem(family_id, 23)


def test_output_size_by_hand_and_against_the_engine() -> None:
    assert out_size(32, 5, 1, 2) == 32  # "same" padding
    assert out_size(28, 3, 2, 1) == 14
    assert out_size(7, 3, 2, 0) == 3
    family = families()["convolution/output-size"]
    for seed in range(25):
        su = {k: v for k, v in family.draw_params(seed).items()}
        h, w, k, s, pad = (int(su[n]) for n in ("h", "w", "k", "s", "pad"))
        x = Tensor(np.random.default_rng(seed).normal(size=(1, 2, h, w)))
        kernel = Tensor(np.ones((3, 2, k, k)))
        shape = F.conv2d(x, kernel, stride=s, padding=pad).shape
        expected = shape[2] if su["ask"] == "height" else shape[3]
        p = family.generate(seed)
        assert int(p.answer) == expected
        if su["padding"] == "total":  # the statement gives the total padding, twice PyTorch's
            assert f"p = {2 * pad} in total" in p.statement


def test_output_shape_against_the_engine_layout_by_layout() -> None:
    family = families()["convolution/output-shape"]
    layouts = set()
    for seed in range(25):
        su = family.draw_params(seed)
        c_in, c_out, k, s, p, h, w, n = (
            int(su[v]) for v in ["c_in", "c_out", "k", "s", "p", "h", "w", "n"]
        )
        layouts.add(su["layout"])
        out = Conv2d(c_in, c_out, k, stride=s, padding=p, rng=0)(
            Tensor(np.zeros((1, c_in, h, w)))
        ).shape
        expected = (n, *out[1:]) if su["layout"] == "NCHW" else (out[2], out[3], out[1])
        assert generate("convolution/output-shape", seed).answer == str(expected).replace(",)", ")")
    assert layouts == {"NCHW", "HWC"}


def test_param_count_against_the_formula_and_the_engine() -> None:
    family = families()["convolution/param-count"]
    for seed in range(25):
        su = {k: v for k, v in family.draw_params(seed).items()}
        c_in, c_out, kh, kw = (int(su[n]) for n in ("c_in", "c_out", "kh", "kw"))
        expected = c_out * (c_in * kh * kw + (1 if su["bias"] == "yes" else 0))
        p = family.generate(seed)
        assert int(p.answer) == expected
        assert f"= {expected}" in p.solution.replace(":", " =")  # exact, not rounded
        assert family.verify(replace(p, answer=str(expected + 1)))
    layer = Conv2d(3, 64, 3, rng=0)  # the classic first layer: 64 * (27 + 1)
    assert sum(p.data.size for p in layer.parameters()) == 1792


def test_output_entry_against_numpy_padding_and_a_window() -> None:
    family = families()["convolution/output-entry"]
    for seed in range(30):
        su = family.draw(seed)
        X = np.pad(np.array(su.X, dtype=float), ((0, 0), (1, 1), (1, 1)))  # (C, n+2, n+2)
        V = np.array(su.V, dtype=float)  # V[c, a + 1, b + 1]
        window = X[:, su.i - 1 : su.i + 2, su.j - 1 : su.j + 2]  # rows i-1..i+1 (1-based)
        expected = float((window * V).sum())
        assert float(family.generate(seed).answer) == pytest.approx(expected, abs=1e-12)


def test_output_entry_names_the_flipped_kernel() -> None:
    family = families()["convolution/output-entry"]
    for seed in range(30):
        p = family.generate(seed)
        flipped = [m for m in p.mistakes if m["tag"] == "flipped-kernel"]
        if flipped:
            verdict = p.check(flipped[0]["answer"])
            assert not verdict.equivalent and verdict.mistake == "flipped-kernel"
            return
    pytest.fail("no seed lists the flipped-kernel mistake")


def test_output_map_against_a_sliding_window_in_numpy() -> None:
    family = families()["convolution/output-map"]
    for seed in range(30):
        su = family.draw(seed)
        X = np.pad(np.array(su.X, dtype=float), su.pad)
        K = np.array(su.K, dtype=float)
        windows = sliding_window_view(X, K.shape)[:: su.stride, :: su.stride]
        expected = (windows * K).sum(axis=(2, 3)) + su.bias
        assert np.allclose(numbers(family.generate(seed).answer), expected, atol=1e-12)


def test_receptive_field_by_hand() -> None:
    assert receptive_field([("conv", 3, 1), ("conv", 3, 1)]) == 5
    assert receptive_field([("conv", 3, 2), ("conv", 3, 1)]) == 7
    assert receptive_field([("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1)]) == 8
    assert receptive_field([("conv", 7, 2), ("pool", 2, 2), ("conv", 3, 1)]) == 7 + 2 + 2 * 4


def test_receptive_field_key_matches_the_formula() -> None:
    family = families()["convolution/receptive-field"]
    for seed in range(25):
        layers = family.draw(seed)
        assert int(family.generate(seed).answer) == receptive_field(layers)
        assert family.verify(family.generate(seed)) == []


def test_verify_command_passes_for_the_topic() -> None:
    assert_verify_command_passes("convolution", 3)


def test_latex_prose_is_ascii() -> None:
    """Greek letters belong in math: the LaTeX prose must compile without Unicode support."""
    assert_latex_prose_is_ascii(IDS)


def test_output_map_has_no_zero_entry() -> None:
    """A zero entry is guessable: the draw is redone until every output entry is nonzero."""
    for seed in range(80):
        assert (numbers(generate("convolution/output-map", seed).answer) != 0).all(), seed


def test_dilation_keys_by_the_span_formula_and_a_wrong_key_fails_the_check() -> None:
    """span = d(k - 1) + 1 per layer; the check (a dilated kernel written out for the
    engine's conv2d) rejects a key one off."""
    family = families()["convolution/dilation"]
    asks = set()
    for seed in range(40):
        q = {n: v for n, v in family.draw_params(seed).items()}
        h, k, d, d2, s, p = (int(q[n]) for n in ("h", "k", "d", "d2", "s", "p"))
        span = d * (k - 1) + 1
        expected = {
            "size": (h + 2 * p - span) // s + 1,
            "span": span,
            "stack": span + d2 * (k - 1),
        }[q["ask"]]
        problem = family.generate(seed)
        asks.add(q["ask"])
        assert int(problem.answer) == expected
        assert "Beyond the notes" in problem.statement
        assert family.verify(replace(problem, answer=str(expected + 1))), seed
    assert asks == {"size", "span", "stack"}


def test_same_padding_keeps_the_size_in_the_engine_and_one_off_fails() -> None:
    family = families()["convolution/same-padding"]
    asks = set()
    for seed in range(30):
        q = family.draw_params(seed)
        pad, h = int(q["pad"]), int(q["h"])
        problem = family.generate(seed)
        key = int(problem.answer)
        asks.add(q["ask"])
        k, p = (key, pad) if q["ask"] == "kernel" else (2 * pad + 1, key)
        if q["ask"] == "total":
            p = key // 2
        out = F.conv2d(Tensor(np.zeros((1, 1, h, h))), Tensor(np.ones((1, 1, k, k))), padding=p)
        assert out.shape[2] == h and k % 2 == 1
        assert family.verify(replace(problem, answer=str(key + 1))), seed
    assert asks == {"per-side", "total", "kernel"}


def _cnn(q: dict[str, str]) -> dict[str, object]:
    """The network of the cnn families traced by hand (NCHW, one image)."""
    v = {n: int(q[n]) for n in ("c0", "h", "c1", "k1", "p1", "c2", "k2", "p2", "m")}
    h1 = v["h"] + 2 * v["p1"] - v["k1"] + 1
    h2 = h1 // 2 + 2 * v["p2"] - v["k2"] + 1
    flat = v["c2"] * (h2 // 2) ** 2
    p1 = v["c1"] * (v["c0"] * v["k1"] ** 2 + 1)
    p2 = v["c2"] * (v["c1"] * v["k2"] ** 2 + 1)
    pd = v["m"] * (flat + 1)
    return {
        "conv1": (v["c1"], h1, h1),
        "pool1": (v["c1"], h1 // 2, h1 // 2),
        "conv2": (v["c2"], h2, h2),
        "pool2": (v["c2"], h2 // 2, h2 // 2),
        "flatten": (flat,),
        "conv1-params": p1,
        "conv2-params": p2,
        "dense-params": pd,
        "total-params": p1 + p2 + pd,
        "conv1-macs": v["c1"] * h1 * h1 * v["c0"] * v["k1"] ** 2,
        "conv2-macs": v["c2"] * h2 * h2 * v["c1"] * v["k2"] ** 2,
    }


@pytest.mark.parametrize("family_id", ["convolution/cnn-shapes", "convolution/cnn-counts"])
def test_cnn_trace_by_hand_every_kind_and_a_wrong_key_fails(family_id: str) -> None:
    family = families()[family_id]
    asks = set()
    for seed in range(60):
        q = family.draw_params(seed)
        want = _cnn(q)[q["ask"]]
        problem = family.generate(seed)
        asks.add(q["ask"])
        if isinstance(want, tuple):
            n = int(q["n"])
            assert problem.answer == str((n, *want)).replace(",)", ")")
            wrong = str((n, *want[:-1], want[-1] + 1)).replace(",)", ")")
        else:
            assert int(problem.answer) == want
            wrong = str(want + 1)
        assert family.verify(replace(problem, answer=wrong)), seed
    assert len(asks) == len(family.kinds["ask"])


def test_cnn_counts_say_whether_the_bias_counts() -> None:
    family = families()["convolution/cnn-counts"]
    for seed in range(40):
        p = family.generate(seed)
        if p.question_kind["ask"].endswith("-macs"):
            assert "the bias additions do not count" in p.statement


def _notes_conv(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """H_ijd = sum_abc V_abcd X_{i+a, j+b, c}, offsets -2..2, zero outside (NumPy windows)."""
    n, padded = X.shape[0], np.pad(X, ((2, 2), (2, 2), (0, 0)))
    H = np.zeros((n, n, V.shape[3]))
    for i in range(n):
        for j in range(n):
            H[i, j] = np.einsum("abc,abcd->d", padded[i : i + 5, j : j + 5], V)
    return H


def test_convolution_gradient_is_the_change_of_the_loss() -> None:
    """L = sum(G * H) is linear in V and in X: one unit step of the asked entry changes L
    by exactly the key."""
    family = families()["convolution/gradient"]
    kinds = set()
    for seed in range(30):
        su = family.draw(seed)
        p = family.generate(seed)
        kinds.add(tuple(sorted(p.question_kind.items())))
        X, V = su.X.astype(float), su.V.astype(float)
        a, b, c, d = su.at
        if su.ask == "dV":
            step = V.copy()
            step[a + 2, b + 2, c - 1, d - 1] += 1
            change = (su.G * (_notes_conv(X, step) - _notes_conv(X, V))).sum()
        else:
            step = X.copy()
            step[a - 1, b - 1, c - 1] += 1
            change = (su.G * (_notes_conv(step, V) - _notes_conv(X, V))).sum()
        assert float(p.answer) == pytest.approx(change, abs=1e-9)
        assert V.shape[:2] == (5, 5) and V.shape[3] == 2  # Delta = 2, two output channels
        assert family.verify(replace(p, answer=str(change + 1)))
    assert len(kinds) == 4


def _texts(p) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.statement, p.solution, *p.hints, *(m["feedback"] for m in p.mistakes), *p.choices]


def test_output_size_speaks_of_one_padding_convention_per_problem() -> None:
    """A problem that gives the total padding never shows the per-side formula (n + 2p) in
    its hints, feedback or solution, and the other way round; no textbook notation (p_h)."""
    family = families()["convolution/output-size"]
    for seed in range(120):
        p = family.generate(seed)
        total = p.question_kind["padding"] == "total"
        for text in _texts(p):
            assert ("n + 2p" not in text) if total else ("n + p " not in text), (seed, text)
            assert "p_h" not in text and "d2l" not in text.lower()


PLURAL = re.compile(
    r"(?<![\w.,])(?<!\+ )(?<!- )1 (?:[a-z-]+ )?(?:channels|images|pixels|filters|windows|layers|"
    r"kernels|outputs|inputs|units|rows|columns|positions|cells|entries|products)\b"
)


def test_no_family_of_the_topic_writes_one_with_a_plural() -> None:
    """ "1 channels" (and its kind) in any text of a convolution or pooling problem."""
    assert PLURAL.search("the 1 input channels are summed") and not PLURAL.search("k + 1 rows")
    for family_id, family in families().items():
        if family.topic in ("convolution", "pooling"):
            for seed in range(120):
                for text in _texts(family.generate(seed)):
                    assert not PLURAL.search(text), (family_id, seed, text)


def test_cnn_counts_solution_writes_the_key_exactly() -> None:
    """Counts of six digits are written whole in the worked solution, not to 4 figures."""
    family = families()["convolution/cnn-counts"]
    for seed in range(40):
        p = family.generate(seed)
        assert p.answer in p.solution, (seed, p.answer)


def _family_sizes(module: str) -> dict[str, tuple[int, list[str]]]:
    """Each family class of a coded module: its lines with the helpers only it uses, and
    its method names (from the source, by the ast module)."""
    import ast
    from pathlib import Path

    import dlquiz.bank.coded as coded

    tree = ast.parse((Path(coded.__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
    defs: dict[str, ast.AST] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        name = getattr(node, "name", None) or getattr(target, "id", None)
        if name:
            defs[name] = node

    def used(node: ast.AST) -> set[str]:
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        return names | {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}

    def closure(name: str, seen: set[str]) -> set[str]:
        for u in used(defs[name]) & set(defs):
            if u not in seen and u != name:
                seen.add(u)
                closure(u, seen)
        return seen

    classes = [
        n
        for n, d in defs.items()
        if isinstance(d, ast.ClassDef)
        and "generate" in {b.name for b in d.body if isinstance(b, ast.FunctionDef)}
    ]
    helpers = {c: closure(c, set()) for c in classes}
    out = {}
    for c in classes:
        own = [h for h in helpers[c] if all(h not in helpers[o] for o in classes if o != c)]
        lines = sum(defs[n].end_lineno - defs[n].lineno + 1 for n in [c, *own])  # type: ignore[attr-defined]
        methods = [b.name for b in defs[c].body if isinstance(b, ast.FunctionDef)]  # type: ignore[attr-defined]
        out[c] = (lines, methods)
    return out


CODED = sorted(
    p.stem
    for p in (Path(__file__).resolve().parents[2] / "dlquiz" / "bank" / "coded").glob("*.py")
    if p.stem not in ("__init__", "common", "graph_model")
)


@pytest.mark.parametrize("module", CODED)
def test_python_families_are_short_and_named_alike(module: str) -> None:
    """Issue 12, over every module of coded families (not only this topic's): a family
    that stays code is at most 150 lines with the helpers only it uses, and draws a
    seed's numbers in `draw(self, seed)`, then generate, verify, question_kind."""
    sizes = _family_sizes(module)
    assert sizes
    for name, (lines, methods) in sizes.items():
        assert lines <= 150, (name, lines)
        assert "setup" not in methods and "params" not in methods, (name, methods)
        core = [m for m in methods if m in ("draw", "generate", "verify", "question_kind")]
        assert core == ["draw", "generate", "verify", "question_kind"], (name, methods)


def test_the_cnn_hook_on_lenet_by_hand() -> None:
    """LeNet-5's first layers, numbers from the literature: conv1 6@5x5 on 1x32x32 has 156
    parameters and 6*28*28*25 = 117600 multiply-accumulates; conv2 16@5x5 on 6x14x14 has
    2416; the flattened 16x5x5 = 400 entries. A key one off fails."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    sizes = dict(n=1, c0=1, h=32, c1=6, k1=5, p1=0, c2=16, k2=5, p2=0, m=120)
    expected = {
        "conv1": (1, 6, 28, 28),
        "pool1": (1, 6, 14, 14),
        "conv2": (1, 16, 10, 10),
        "pool2": (1, 16, 5, 5),
        "flatten": (1, 400),
        "conv1-params": 156,
        "conv2-params": 2416,
        "dense-params": 120 * 401,
        "conv1-macs": 117600,
        "conv2-macs": 16 * 10 * 10 * 6 * 25,
    }
    run = HOOKS["cnn_trace"].run
    for want, key in expected.items():
        kind = "shape" if isinstance(key, tuple) else "integer"
        ctx = CheckContext("t", 0, kind, key, scope=None)  # type: ignore[arg-type]
        assert run(ctx, **sizes, want=want) == [], want
        wrong = (*key[:-1], key[-1] + 1) if isinstance(key, tuple) else key + 1
        ctx = CheckContext("t", 0, kind, wrong, scope=None)  # type: ignore[arg-type]
        assert run(ctx, **sizes, want=want), want


def test_the_dilation_hook_against_known_spans() -> None:
    """A 3x3 kernel with dilation 2 spans 5 pixels (WaveNet-style stacks add d(k - 1))."""
    from dlquiz.bank.template.checks import HOOKS, CheckContext

    run = HOOKS["dilated_conv"].run
    ok = CheckContext("t", 0, "integer", 5, scope=None)  # type: ignore[arg-type]
    assert run(ok, h=9, k=3, d=2, s=1, p=0, want="field") == []
    stacked = CheckContext("t", 0, "integer", 5 + 8, scope=None)  # type: ignore[arg-type]
    assert run(stacked, h=9, k=3, d=2, s=1, p=0, want="field", d2=4) == []
    height = CheckContext("t", 0, "integer", 28, scope=None)  # type: ignore[arg-type]
    assert run(height, h=32, k=3, d=2, s=1, p=0, want="height") == []
    assert run(height, h=32, k=3, d=2, s=1, p=1, want="height")  # 30, not 28
