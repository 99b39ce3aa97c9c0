"""Named checks: a template's key against an implementation not derived from its declaration.

A template's formula is computed by the engine, so a model typed with the wrong
convention would pass any second reading of the same formula. Each ``[[checks]]`` entry
names one of the hooks below instead: the engine's library operation with the
template's stated convention (``F.softmax``, ``F.batch_norm``, ``F.conv2d``,
``optim.SGD``, ``MLP``), a Monte Carlo estimate (dropout, initialization), or an engine
fact a concept question rests on (batch norm in eval mode, gradients through residual
blocks). ``dlquiz verify`` runs them for every seed::

    [[checks]]
    use = "softmax"          # the hook
    o = "o"                  # its arguments: formulas, or texts for options
    when = { ask = "p" }     # optional: only for some draws

A hook receives the key as published (read back from the problem's answer) and returns
the failures it finds. Add one with ``@hook(name, doc, arg=Arg(...))``: a plain function
of a ``CheckContext`` and its arguments.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlquiz.bank.template.scope import Scope
from dlquiz.bank.template.source import Source

MC_SIGMAS = 5.0  # a Monte Carlo estimate agrees within five of its standard errors
MC_SAMPLES = 400_000
EXACT_RTOL = 1e-8


@dataclass(frozen=True)
class Arg:
    """A hook argument: ``number`` (a formula's value), ``int``, ``text`` (one of
    ``options`` when given), ``formula`` (an expression the hook runs itself) or
    ``numbers`` (a list of formulas)."""

    type: str
    required: bool = True
    options: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class Hook:
    name: str
    doc: str
    args: dict[str, Arg]
    run: Callable[..., list[str]]


HOOKS: dict[str, Hook] = {}


def hook(
    name: str, doc: str, **args: Arg
) -> Callable[[Callable[..., list[str]]], Callable[..., list[str]]]:
    def register(fn: Callable[..., list[str]]) -> Callable[..., list[str]]:
        HOOKS[name] = Hook(name, doc, args, fn)
        return fn

    return register


@dataclass
class CheckContext:
    """What a hook may look at: the published key, the draw, the problem."""

    family: str
    seed: int
    kind: str
    key: Any  # numbers as an array, an int, a shape tuple, or a choice's letter
    scope: Scope
    options: list[dict[str, Any]] = field(default_factory=list)  # a choice's shown options

    def agree(self, reference: Any, what: str, rtol: float = EXACT_RTOL) -> list[str]:
        """The key against a reference value, entry by entry."""
        if self.kind in ("integer", "shape"):
            ref = tuple(int(v) for v in np.asarray(reference).reshape(-1))
            key = tuple(np.asarray(self.key).reshape(-1).tolist())
            return [] if ref == key else [f"the key {self.key} but {what} gives {reference}"]
        key = np.asarray(self.key, dtype=float).reshape(-1)
        ref = np.asarray(reference, dtype=float).reshape(-1)
        if key.shape != ref.shape or not np.allclose(key, ref, rtol=rtol, atol=1e-10):
            return [f"the key {key.tolist()} differs from {what} {ref.tolist()}"]
        return []


def read_checks(source: Source) -> list[dict[str, Any]]:
    """The ``[[checks]]`` entries, each naming a hook with the arguments it takes."""
    entries = source.tables("checks", source.data.get("checks"))
    for i, entry in enumerate(entries):
        where = f"checks[{i}]"
        name = entry.get("use")
        if name not in HOOKS:
            raise source.fail(
                f"{where}.use", f"'{name}' is not a check (one of {', '.join(sorted(HOOKS))})"
            )
        h = HOOKS[name]
        allowed = {"use": "the check", "when": "when it runs"} | {
            a: f"{spec.type}{'' if spec.required else ', optional'}" for a, spec in h.args.items()
        }
        source.keys(where, entry, allowed)
        for a, spec in h.args.items():
            if a not in entry:
                if spec.required:
                    raise source.fail(f"{where}.{a}", f"is missing ({spec.doc or spec.type})")
                continue
            value = entry[a]
            ok = (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
                if spec.type == "numbers"
                else isinstance(value, str | int | float) and not isinstance(value, bool)
            )
            if not ok:
                want = "a list of formulas" if spec.type == "numbers" else "a formula or a text"
                raise source.fail(f"{where}.{a}", f"must be {want}")
    return entries


def run_checks(entries: list[dict[str, Any]], ctx: CheckContext) -> list[str]:
    failures = []
    for i, entry in enumerate(entries):
        where = f"checks[{i}]"
        if "when" in entry and not ctx.scope.holds(entry["when"], f"{where}.when"):
            continue
        h = HOOKS[entry["use"]]
        args = {
            a: _argument(ctx.scope, spec, entry[a], f"{where}.{a}")
            for a, spec in h.args.items()
            if a in entry
        }
        failures += [f"check '{h.name}': {f}" for f in h.run(ctx, **args)]
    return failures


def _argument(scope: Scope, spec: Arg, raw: Any, field: str) -> Any:
    if spec.type == "numbers":
        return [scope.number(str(r), field) for r in raw]
    if spec.type == "formula":
        return scope.parse(str(raw), field)
    if spec.type == "text":
        text = scope.fill(str(raw), field)
        if spec.options and text not in spec.options:
            raise scope.source.fail(field, f"'{text}' is not one of {', '.join(spec.options)}")
        return text
    value = scope.number(str(raw), field)
    if spec.type == "int":
        v = float(value.flat[0])
        if value.size != 1 or v != round(v):
            raise scope.source.fail(field, f"must be a whole number, not {value.tolist()}")
        return round(v)
    return value


# --- a reference formula ----------------------------------------------------------------


@hook(
    "formula",
    "the key against a reference formula written apart from the declaration (a closed form "
    "beside the steps), computed by NumPy (dlquiz.core.numeric), not by the engine",
    value=Arg("formula", doc="the reference formula"),
)
def _formula(ctx: CheckContext, value: Any) -> list[str]:
    from dlquiz.core.numeric import EvaluationError, evaluate

    env = {name: v[None] for name, v in ctx.scope.numbers.items()}
    try:
        with np.errstate(all="ignore"):
            reference = evaluate(value, env, 1)[0]
    except EvaluationError as exc:
        return [f"the reference formula cannot be computed: {exc}"]
    return ctx.agree(reference, "the reference formula")


# --- the engine's library operations -------------------------------------------------------


@hook("softmax", "the key against F.softmax of the scores", o=Arg("number", doc="the scores"))
def _softmax(ctx: CheckContext, o: np.ndarray) -> list[str]:
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    return ctx.agree(F.softmax(Tensor(o.reshape(-1)), axis=-1).data, "the engine's F.softmax")


@hook(
    "batch_norm",
    "the key against F.batch_norm in training mode (the notes' convention: derived from "
    "the engine's normalisation with eps = 0 and NumPy's standard deviation)",
    x=Arg("number", doc="the batch, one example per row"),
    gamma=Arg("number"),
    beta=Arg("number"),
    eps=Arg("number"),
    convention=Arg("text", options=("pytorch", "notes")),
)
def _batch_norm(
    ctx: CheckContext,
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: np.ndarray,
    convention: str,
) -> list[str]:
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    features = x.shape[1]
    g = np.broadcast_to(gamma.reshape(-1), (features,)).copy()
    b = np.broadcast_to(beta.reshape(-1), (features,)).copy()
    e = float(eps.flat[0])
    if convention == "pytorch":
        out = F.batch_norm(Tensor(x), Tensor(g), Tensor(b), training=True, eps=e).data
        return ctx.agree(out, "the engine's F.batch_norm")
    xhat = F.batch_norm(Tensor(x), training=True, eps=0.0).data  # (x - mu)/sigma
    sigma = x.std(axis=0)
    out = g * xhat * sigma / (sigma + e) + b
    return ctx.agree(out, "F.batch_norm with eps added to sigma (the notes)")


@hook(
    "conv2d_output",
    "the key against the output shape of the engine's F.conv2d (zeros of these sizes)",
    n=Arg("int"),
    c_in=Arg("int"),
    h=Arg("int"),
    w=Arg("int"),
    c_out=Arg("int"),
    k=Arg("int"),
    s=Arg("int"),
    p=Arg("int", doc="padding on each side"),
    want=Arg("text", options=("height", "width", "NCHW", "HWC")),
)
def _conv2d_output(ctx: CheckContext, n, c_in, h, w, c_out, k, s, p, want) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    batch = min(n, 2)  # the batch passes through; two images show that it does
    shape = F.conv2d(
        Tensor(np.zeros((batch, c_in, h, w))),
        Tensor(np.zeros((c_out, c_in, k, k))),
        stride=s,
        padding=p,
    ).shape
    if shape[0] != batch:
        return [f"the engine changed the batch size: {shape}"]
    out = {
        "height": shape[2],
        "width": shape[3],
        "NCHW": (n, shape[1], shape[2], shape[3]),
        "HWC": (shape[2], shape[3], shape[1]),
    }[want]
    return ctx.agree(out, "the engine's conv2d")


@hook(
    "mlp_parameters",
    "the key against the parameter entries of the engine's MLP of these sizes",
    sizes=Arg("number", doc="the widths, input first"),
    count=Arg("text", options=("total", "weights", "layer")),
    layer=Arg("int", required=False, doc="which layer (1 = the first), with count = layer"),
)
def _mlp_parameters(
    ctx: CheckContext, sizes: np.ndarray, count: str, layer: int | None = None
) -> list[str]:
    from dlquiz.engine import MLP

    widths = [int(v) for v in sizes.reshape(-1)]
    net = MLP(widths, rng=0)
    if count == "layer":
        if layer is None or not 1 <= layer <= len(net.layers):
            return [f"no layer {layer} in an MLP of sizes {widths}"]
        params = [net.layers[layer - 1].weight, net.layers[layer - 1].bias]
    elif count == "weights":
        params = [lin.weight for lin in net.layers]
    else:
        params = net.parameters()
    return ctx.agree(sum(int(t.data.size) for t in params), f"the engine's MLP{tuple(widths)}")


@hook(
    "sgd_momentum",
    "the key against the engine's optim.SGD(lr, momentum) run for some steps, with the "
    "gradient of a loss (by the engine's backward) or given gradients",
    theta0=Arg("number"),
    lr=Arg("number"),
    momentum=Arg("number"),
    steps=Arg("int"),
    returns=Arg("text", options=("theta", "velocity")),
    loss=Arg("formula", required=False, doc="a loss of the parameter named by param"),
    param=Arg("text", required=False),
    grads=Arg("numbers", required=False, doc="one gradient per step"),
)
def _sgd_momentum(  # type: ignore[no-untyped-def]
    ctx: CheckContext, theta0, lr, momentum, steps, returns, loss=None, param=None, grads=None
) -> list[str]:
    from dlquiz.core.autodiff import lower
    from dlquiz.engine import Tensor, optim

    if (loss is None) == (grads is None) or (loss is not None and not param):
        return ["give either loss and param, or grads"]
    shape = theta0.shape
    p = Tensor(theta0.copy(), requires_grad=True)
    opt = optim.SGD([p], lr=float(lr.flat[0]), momentum=float(momentum.flat[0]))
    for t in range(steps):
        opt.zero_grad()
        if grads is not None:
            p.grad = np.asarray(grads[t], dtype=float).reshape(shape)
        else:
            leaves = {n: Tensor(v[None]) for n, v in ctx.scope.numbers.items()}
            leaves[param] = Tensor(p.data[None], requires_grad=True)
            lower(loss, leaves, 1).sum().backward()
            p.grad = leaves[param].grad[0]
        opt.step()
    velocity = opt.velocity[0]
    out = p.data if returns == "theta" else velocity
    return ctx.agree(out, f"the engine's optim.SGD after {steps} steps ({returns})")


# --- Monte Carlo ------------------------------------------------------------------------


def _estimate(samples: np.ndarray, statistic: str) -> tuple[float, float]:
    """A mean or a variance of i.i.d. samples, with its standard error."""
    x = samples.reshape(-1)
    if statistic == "variance":
        centred = (x - x.mean()) ** 2
        return float(x.var(ddof=1)), float(centred.std(ddof=1) / math.sqrt(x.size))
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def _agrees_statistically(ctx: CheckContext, value: float, se: float, what: str) -> list[str]:
    key = float(np.asarray(ctx.key).flat[0])
    if abs(value - key) <= MC_SIGMAS * se + 1e-12:
        return []
    return [
        f"{what} gives {value:.6g} ± {se:.2g} (1 s.e.), the key {key:.6g}: "
        f"{abs(value - key) / max(se, 1e-300):.1f} standard errors apart (tolerance {MC_SIGMAS:g})"
    ]


@hook(
    "dropout_moments",
    "Monte Carlo with the engine's F.dropout on many copies of a unit: the mean or the "
    "variance of its output, or the value of a kept unit (classic: without the 1/(1 - p))",
    h=Arg("number"),
    p=Arg("number"),
    statistic=Arg("text", options=("mean", "variance", "kept")),
    scaling=Arg("text", options=("inverted", "classic")),
)
def _dropout_moments(ctx: CheckContext, h, p, statistic, scaling) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    prob = float(p.flat[0])
    units = Tensor(np.full(MC_SAMPLES, float(h.flat[0])))
    out = F.dropout(units, prob, training=True, rng=ctx.seed).data
    if scaling == "classic":
        out = out * (1 - prob)  # zeroing without the inverted scaling
    if statistic == "kept":
        kept = out[out != 0]
        return (
            ctx.agree(kept[:1], "the engine's kept unit")
            if kept.size
            else ["the engine kept no unit"]
        )
    value, se = _estimate(out, statistic)
    return _agrees_statistically(ctx, value, se, f"Monte Carlo over {out.size} dropout units")


@hook(
    "xavier_init",
    "the statistics of the engine's init.xavier_normal / xavier_uniform (gain 1) for a "
    "layer of these fans: the variance of the weights, and the bound of the uniform",
    n_in=Arg("int"),
    n_out=Arg("int"),
    ask=Arg("text", options=("sigma", "sigma2", "bound")),
)
def _xavier_init(ctx: CheckContext, n_in: int, n_out: int, ask: str) -> list[str]:
    from dlquiz.engine import init

    key = float(np.asarray(ctx.key).flat[0])
    reps = max(1, 200_000 // (n_in * n_out))
    rng = np.random.default_rng(ctx.seed)
    make = init.xavier_uniform if ask == "bound" else init.xavier_normal
    w = np.concatenate([make((n_out, n_in), rng).ravel() for _ in range(reps)])
    sq = w**2
    var, se = float(sq.mean()), float(sq.std(ddof=1) / math.sqrt(sq.size))
    target = {"sigma": key * key, "sigma2": key, "bound": key * key / 3}[ask]
    failures = []
    if abs(var - target) > MC_SIGMAS * se:
        failures.append(
            f"the variance of the engine's {make.__name__} weights is {var:.6g} ± {se:.2g}; "
            f"the key implies {target:.6g}"
        )
    if ask == "bound" and not (0.99 * key < np.abs(w).max() <= key):
        failures.append(
            f"xavier_uniform's samples reach {np.abs(w).max():.6g}, not the bound {key:.6g}"
        )
    return failures


# --- engine facts for concept questions ---------------------------------------------------


@hook(
    "batch_norm_eval",
    "the engine's BatchNorm: only gamma and beta are learned; the running statistics track "
    "the training batches; in eval mode an output does not depend on the rest of the batch, "
    "in training mode it does",
)
def _batch_norm_eval(ctx: CheckContext) -> list[str]:
    from dlquiz.engine import BatchNorm, Tensor

    rng = np.random.default_rng(ctx.seed)
    bn = BatchNorm(4, momentum=0.1)
    for _ in range(20):  # train: the running statistics move towards the data's
        bn(Tensor(rng.normal(3.0, 2.0, size=(8, 4))))
    failures = []
    if {id(p) for p in bn.parameters()} != {id(bn.gamma), id(bn.beta)}:
        failures.append("the engine's BatchNorm learns more than gamma and beta")
    if not np.allclose(bn.running_mean, 3.0, atol=1.0):
        failures.append("the running mean did not track the training batches")
    bn.eval()
    x = rng.normal(size=(1, 4))
    others = rng.normal(5.0, 3.0, size=(5, 4))
    alone = bn(Tensor(x)).data[0]
    if not np.allclose(alone, bn(Tensor(np.vstack([x, others]))).data[0]):
        failures.append("in eval mode the engine's output depends on the batch")
    bn.train()
    if np.allclose(bn(Tensor(np.vstack([x, others[:1]]))).data[0], alone):
        failures.append("in training mode the engine's output ignores the batch")
    return failures


@hook(
    "residual_gradient",
    "the engine's autograd through a deep stack of tanh blocks: the gradient vanishes "
    "without shortcuts and survives with them (y = f(x) + x)",
    depth=Arg("int"),
)
def _residual_gradient(ctx: CheckContext, depth: int) -> list[str]:
    from dlquiz.engine import Tensor

    rng = np.random.default_rng(ctx.seed)
    weights = [rng.normal(0.0, 0.1, size=(8, 8)) for _ in range(depth)]
    norms = {}
    for residual in (False, True):
        x = Tensor(rng.normal(size=8), requires_grad=True)
        h = x
        for w in weights:
            branch = (Tensor(w) @ h).tanh()
            h = branch + h if residual else branch
        h.sum().backward()
        assert x.grad is not None
        norms[residual] = float(np.linalg.norm(x.grad))
    if not norms[False] < 1e-6 < 0.1 < norms[True]:
        return [
            f"through {depth} blocks the engine's gradient is {norms[False]:.2e} plain and "
            f"{norms[True]:.2e} residual: the identity path should keep it alive"
        ]
    return []


# --- softmax regression: cross-entropy, its Jacobian, log-sum-exp, the logistic case ------


def _targets(y: np.ndarray) -> list[tuple[int, float]]:
    """The classes a target puts weight on, with their weights (one-hot: one class)."""
    return [(c, float(w)) for c, w in enumerate(y.reshape(-1)) if w != 0]


@hook(
    "cross_entropy",
    "the key against the engine's F.cross_entropy of the scores o (given, or o = W x + b "
    "from the engine's matmul) and its backward: a target y that is not one-hot (label "
    "smoothing) is the mixture sum_c y_c * F.cross_entropy(o, c); one step of optim.SGD on "
    "W and b for returns = W_after",
    returns=Arg(
        "text",
        options=(
            "loss",
            "probability",
            "log_probabilities",
            "dl_do",
            "dl_dW",
            "dl_db",
            "dl_dx",
            "W_after",
        ),
    ),
    y=Arg(
        "number",
        required=False,
        doc="the target: one-hot, or weights over the classes adding up to 1 (not needed "
        "for log_probabilities)",
    ),
    o=Arg("number", required=False, doc="the scores, or W, x (and b)"),
    W=Arg("number", required=False),
    x=Arg("number", required=False),
    b=Arg("number", required=False),
    lr=Arg("number", required=False, doc="the learning rate, with returns = W_after"),
    select=Arg("number", required=False, doc="a one-hot vector: the key is that entry"),
)
def _cross_entropy(  # type: ignore[no-untyped-def]
    ctx: CheckContext, returns, y=None, o=None, W=None, x=None, b=None, lr=None, select=None
) -> list[str]:
    failures = _cross_entropy_result(returns, y, o, W, x, b, lr)
    if isinstance(failures, list):
        return failures
    what, result = failures
    if select is not None:
        pick = select.reshape(-1)
        if pick.size != result.size or sorted(set(pick.tolist())) != [0.0, 1.0] or pick.sum() != 1:
            return [f"select = {pick.tolist()} is not one-hot over {result.size} entries"]
        result, what = float(pick @ result.reshape(-1)), f"{what}, the selected entry"
    return ctx.agree(result, what)


def _cross_entropy_result(  # type: ignore[no-untyped-def]
    returns, y, o, W, x, b, lr
) -> list[str] | tuple[str, np.ndarray]:
    """What the engine gives for ``returns`` (a description and the numbers), or failures."""
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F
    from dlquiz.engine.optim import SGD

    if (o is None) == (W is None or x is None):
        return ["give either the scores o, or W and x (and b)"]
    leaves: dict[str, Tensor] = {}
    if o is not None:
        leaves["o"] = Tensor(o.reshape(-1).copy(), requires_grad=True)
        scores = leaves["o"]
    else:
        leaves["W"] = Tensor(W.copy(), requires_grad=True)
        leaves["x"] = Tensor(x.reshape(-1).copy(), requires_grad=True)
        scores = leaves["W"] @ leaves["x"]
        if b is not None:
            leaves["b"] = Tensor(b.reshape(-1).copy(), requires_grad=True)
            scores = scores + leaves["b"]
    k = scores.shape[0]
    row = scores.reshape(1, k)
    if returns == "log_probabilities":
        logp = [-float(F.cross_entropy(row, [c], reduction="sum").data) for c in range(k)]
        return "-F.cross_entropy of each class", np.array(logp)
    if y is None:
        return [f"returns = {returns} needs the target y"]
    target = _targets(y)
    if y.size != k or not target or abs(sum(w for _, w in target) - 1) > 1e-9:
        return [f"the target {y.reshape(-1).tolist()} is not a distribution over {k} classes"]
    loss = None
    for c, w in target:
        term = F.cross_entropy(row, [c], reduction="sum") * w
        loss = term if loss is None else loss + term
    assert loss is not None
    if returns == "loss":
        return "the engine's F.cross_entropy", np.asarray(loss.data, dtype=float)
    if returns == "probability":
        if len(target) != 1:
            return ["returns = probability needs a one-hot target"]
        return "exp(-F.cross_entropy)", np.exp(-np.asarray(loss.data, dtype=float))
    loss.backward()
    if returns == "W_after":
        if "W" not in leaves or lr is None:
            return ["returns = W_after needs W, x and lr"]
        params = [leaves["W"]] + ([leaves["b"]] if "b" in leaves else [])
        SGD(params, lr=float(lr.flat[0])).step()
        return "W after the engine's optim.SGD step", leaves["W"].data.copy()
    name = returns.removeprefix("dl_d")
    if name not in leaves:
        return [f"returns = {returns} needs {name} as an argument"]
    grad = leaves[name].grad
    return f"the engine's backward of F.cross_entropy (d/d{name})", grad.copy()


@hook(
    "softmax_jacobian",
    "the key against the engine's reverse mode through F.softmax: row i of the Jacobian "
    "d yhat/d o is the backward of yhat_i; with g, the vector-Jacobian product J.T g",
    o=Arg("number", doc="the scores"),
    returns=Arg("text", options=("matrix", "vjp")),
    g=Arg("number", required=False, doc="the upstream gradient dL/dyhat, for vjp"),
    u=Arg("number", required=False, doc="one-hot: with v, the key is the entry u.T J v"),
    v=Arg("number", required=False),
)
def _softmax_jacobian(ctx: CheckContext, o, returns, g=None, u=None, v=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    scores = o.reshape(-1)
    k = scores.size
    if returns == "vjp":
        if g is None:
            return ["returns = vjp needs g"]
        t = Tensor(scores.copy(), requires_grad=True)
        (F.softmax(t, axis=-1) * Tensor(g.reshape(-1))).sum().backward()
        return ctx.agree(t.grad, "the engine's backward through F.softmax")
    rows = []
    for i in range(k):
        t = Tensor(scores.copy(), requires_grad=True)
        (F.softmax(t, axis=-1) * Tensor(np.eye(k)[i])).sum().backward()
        rows.append(t.grad.copy())
    jacobian = np.array(rows)
    if u is not None and v is not None:
        a, b = u.reshape(-1), v.reshape(-1)
        for pick in (a, b):
            if pick.size != k or sorted(set(pick.tolist())) != [0.0, 1.0] or pick.sum() != 1:
                return [f"u and v must be one-hot over {k} entries, not {pick.tolist()}"]
        return ctx.agree(float(a @ jacobian @ b), "an entry of the engine's Jacobian of F.softmax")
    return ctx.agree(jacobian, "the engine's Jacobian of F.softmax, row by row")


@hook(
    "logsumexp",
    "the key against the engine's F.logsumexp of the scores (which subtracts their maximum)",
    o=Arg("number", doc="the scores"),
    shift=Arg("number", required=False, doc="subtracted from the result (lse - shift)"),
)
def _logsumexp(ctx: CheckContext, o, shift=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    value = float(F.logsumexp(Tensor(o.reshape(-1)), axis=-1).data)
    if shift is not None:
        value -= float(shift.flat[0])
    return ctx.agree(value, "the engine's F.logsumexp")


@hook(
    "logistic",
    "the notes' logistic case as softmax regression with two classes: sigmoid(z) is "
    "F.softmax of the scores [0, z], the binary cross-entropy of a label y in {0, 1} is "
    "F.cross_entropy of those scores, and dL/dz (or dL/dw, with z = w.T x + b from the "
    "engine's matmul) its backward",
    y=Arg("number", doc="the label, 0 or 1"),
    returns=Arg("text", options=("probability", "loss", "dl_dz", "dl_dw")),
    z=Arg("number", required=False, doc="the score (a scalar), or w, x and b"),
    w=Arg("number", required=False),
    x=Arg("number", required=False),
    b=Arg("number", required=False),
)
def _logistic(ctx: CheckContext, y, returns, z=None, w=None, x=None, b=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    label = float(y.flat[0])
    if label not in (0.0, 1.0):
        return [f"the label {label} is neither 0 nor 1"]
    if (z is None) == (w is None or x is None):
        return ["give either the score z, or w and x (and b)"]
    if z is not None:
        weights = None
        score = Tensor(np.array([float(z.flat[0])]), requires_grad=True)
        leaf = score
    else:
        weights = Tensor(w.reshape(-1).copy(), requires_grad=True)
        score = (weights * Tensor(x.reshape(-1))).sum().reshape(1)
        if b is not None:
            score = score + Tensor(b.reshape(-1))
        leaf = None
    row = score.reshape(1, 1) * Tensor(np.array([[0.0, 1.0]]))  # the two scores [0, z]
    if returns == "probability":
        return ctx.agree(float(F.softmax(row, axis=-1).data[0, 1]), "F.softmax of [0, z]")
    loss = F.cross_entropy(row, [int(label)], reduction="sum")
    if returns == "loss":
        return ctx.agree(float(loss.data), "F.cross_entropy of the scores [0, z]")
    loss.backward()
    if returns == "dl_dw":
        if weights is None:
            return ["returns = dl_dw needs w and x"]
        return ctx.agree(weights.grad, "the engine's backward to w of F.cross_entropy of [0, z]")
    if leaf is None:
        return ["returns = dl_dz needs the score z"]
    return ctx.agree(leaf.grad, "the engine's backward of F.cross_entropy of [0, z]")


# --- linear regression: SGD on one example at a time -------------------------------------


@hook(
    "linear_sgd",
    "the key [w; b] against the engine's optim.SGD on the linear model yhat = w.T x + b "
    "with the loss scale*(yhat - y)^2 of one example per step (autograd for the gradient)",
    w0=Arg("number", doc="the starting weights"),
    b0=Arg("number"),
    X=Arg("number", doc="the examples, one per column, in the order of the steps"),
    y=Arg("number", doc="their targets"),
    lr=Arg("number"),
    scale=Arg("number", doc="the loss's constant: 1/2 for the notes' loss"),
    steps=Arg("int"),
)
def _linear_sgd(ctx: CheckContext, w0, b0, X, y, lr, scale, steps) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine.optim import SGD

    examples = X.reshape(w0.size, -1).T  # one row per example
    targets = y.reshape(-1)
    if steps > len(examples) or steps > targets.size:
        return [f"{steps} steps but {len(examples)} examples and {targets.size} targets"]
    w = Tensor(w0.reshape(-1).copy(), requires_grad=True)
    b = Tensor(np.array(float(b0.flat[0])), requires_grad=True)
    opt = SGD([w, b], lr=float(lr.flat[0]))
    c = float(scale.flat[0])
    for t in range(steps):
        opt.zero_grad()
        yhat = (w * Tensor(examples[t].copy())).sum() + b
        (((yhat - float(targets[t])) ** 2) * c).backward()
        opt.step()
    out = [*(float(v) for v in w.data), float(b.data)]
    return ctx.agree(out, f"the engine's optim.SGD after {steps} steps")
