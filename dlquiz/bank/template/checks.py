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


# --- the engine's layers with given weights (mlp, backprop) ---------------------------------


def _activation(name: str):  # type: ignore[no-untyped-def]
    from dlquiz.engine import functional as F

    return {"relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh}[name]


def _row(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=float).reshape(1, -1)


@hook(
    "mlp_net",
    "the engine's two-layer MLP (Linear layers in PyTorch's row convention x Wᵀ + b) loaded "
    "with the given weights: its hidden h or output O, or, with a target y and a scale c of "
    "the summed squared loss c·‖O - y‖² (F.mse_loss), a parameter's gradient by backward",
    W1=Arg("number"),
    b1=Arg("number"),
    W2=Arg("number"),
    b2=Arg("number"),
    x=Arg("number"),
    activation=Arg("text", options=("relu", "sigmoid", "tanh")),
    returns=Arg("text", options=("h", "O", "W1", "b1", "W2", "b2")),
    y=Arg("number", required=False, doc="the target, for a gradient"),
    scale=Arg("number", required=False, doc="the loss's factor c, for a gradient"),
)
def _mlp_net(  # type: ignore[no-untyped-def]
    ctx: CheckContext, W1, b1, W2, b2, x, activation, returns, y=None, scale=None
) -> list[str]:
    from dlquiz.engine import MLP, Tensor
    from dlquiz.engine import functional as F

    W1, W2 = np.atleast_2d(W1), np.atleast_2d(W2)
    net = MLP([W1.shape[1], W1.shape[0], W2.shape[0]], activation=_activation(activation))
    for layer, W, b in ((net.layers[0], W1, b1), (net.layers[1], W2, b2)):
        layer.weight.data = np.array(W, dtype=float)
        layer.bias.data = np.asarray(b, dtype=float).reshape(-1).copy()
    inputs = Tensor(_row(x))
    if returns == "h":
        return ctx.agree(net.activation(net.layers[0](inputs)).data, "the engine's first layer")
    out = net(inputs)
    if returns == "O":
        return ctx.agree(out.data, "the engine's MLP")
    if y is None or scale is None:
        return ["a gradient needs the target y and the loss's scale"]
    loss = F.mse_loss(out, Tensor(_row(y)), reduction="sum") * float(np.asarray(scale).flat[0])
    loss.backward()
    param = {
        "W1": net.layers[0].weight,
        "b1": net.layers[0].bias,
        "W2": net.layers[1].weight,
        "b2": net.layers[1].bias,
    }[returns]
    return ctx.agree(param.grad, f"the engine's backward to {returns}")


@hook(
    "layer_backward",
    "the engine's autograd through one layer F.linear(a_prev, W, b), its activation and "
    "the next layer F.linear(·, W_next), from a given delta_next (the cost is "
    "sum(delta_next ⊙ z_next), whose gradient at z_next is delta_next): the layer's delta, "
    "or the gradient of its W or b. W is 0 and b the stored z, which give that z",
    z=Arg("number", doc="the layer's stored pre-activation"),
    a_prev=Arg("number"),
    W_next=Arg("number"),
    delta_next=Arg("number"),
    activation=Arg("text", options=("relu", "sigmoid", "tanh")),
    returns=Arg("text", options=("delta", "dW", "db")),
)
def _layer_backward(  # type: ignore[no-untyped-def]
    ctx: CheckContext, z, a_prev, W_next, delta_next, activation, returns
) -> list[str]:
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    n, d = np.asarray(z).size, np.asarray(a_prev).size
    W = Tensor(np.zeros((n, d)), requires_grad=True)
    b = Tensor(np.asarray(z, dtype=float).reshape(-1).copy(), requires_grad=True)
    pre = F.linear(Tensor(_row(a_prev)), W, b)
    z_next = F.linear(_activation(activation)(pre), Tensor(np.atleast_2d(W_next)))
    (z_next * Tensor(_row(delta_next))).sum().backward()
    got = {"delta": b.grad, "db": b.grad, "dW": W.grad}[returns]
    return ctx.agree(got, f"the engine's backward ({returns})")


@hook(
    "mlp_shape",
    "the key against the shape the engine gives when a batch (one example per row) goes "
    "through its MLP of these sizes with ReLU between the layers: a layer's activations H, "
    "the output O, a layer's weight, its bias (as stored, or as the notes' column), or the "
    "weight's gradient after backward",
    sizes=Arg("number", doc="the widths, input first"),
    batch=Arg("int"),
    what=Arg("text", options=("H", "O", "W", "b", "b-column", "dW")),
    layer=Arg("int", doc="which layer (1 = the first)"),
)
def _mlp_shape(
    ctx: CheckContext, sizes: np.ndarray, batch: int, what: str, layer: int
) -> list[str]:
    from dlquiz.engine import MLP, Tensor

    widths = [int(v) for v in sizes.reshape(-1)]
    net = MLP(widths, rng=0)
    if not 1 <= layer <= len(net.layers):
        return [f"no layer {layer} in an MLP of sizes {widths}"]
    a = Tensor(np.random.default_rng(0).standard_normal((batch, widths[0])))
    acts = []
    for i, lin in enumerate(net.layers):
        a = lin(a)
        a = a.relu() if i < len(net.layers) - 1 else a
        acts.append(a)
    a.sum().backward()
    lin = net.layers[layer - 1]
    assert lin.bias is not None and lin.weight.grad is not None
    shape = {
        "H": acts[layer - 1].shape,
        "O": acts[-1].shape,
        "W": lin.weight.shape,
        "b": lin.bias.shape,
        "b-column": (*lin.bias.shape, 1),  # the notes' column: the stored bias as (n, 1)
        "dW": lin.weight.grad.shape,
    }[what]
    return ctx.agree(shape, f"the engine's MLP{tuple(widths)} ({what} of layer {layer})")


@hook(
    "mlp_linear_collapse",
    "engine facts: the engine's MLP with the identity for Φ equals one Linear with "
    "W = W2 W1 and b = W2 b1 + b2 on random inputs (for random sizes), and with ReLU it is "
    "not affine",
)
def _mlp_linear_collapse(ctx: CheckContext) -> list[str]:
    from dlquiz.engine import MLP, Tensor
    from dlquiz.engine import functional as F

    rng = np.random.default_rng(ctx.seed)
    d, hidden, q = (int(v) for v in rng.integers(2, 9, size=3))
    x = Tensor(rng.standard_normal((16, d)))
    linear = MLP([d, hidden, q], activation=lambda t: t, rng=ctx.seed)
    (W1, b1), (W2, b2) = ((lin.weight.data, lin.bias.data) for lin in linear.layers)
    one = F.linear(x, Tensor(W2 @ W1), Tensor(W2 @ b1 + b2)).data
    failures = []
    if not np.allclose(linear(x).data, one, rtol=1e-10, atol=1e-12):
        failures.append("without a nonlinearity the engine's MLP is not the single layer W2 W1")
    relu = MLP([d, hidden, q], rng=ctx.seed)  # ReLU: f(x) + f(-x) = 2 f(0) fails
    pair = relu(x).data + relu(Tensor(-x.data)).data
    if np.allclose(pair, 2 * relu(Tensor(np.zeros((1, d)))).data, atol=1e-9):
        failures.append("with ReLU the engine's MLP behaved as an affine map")
    return failures


# --- ResNet blocks and chains of scalar layers (activations, resnet) ----------------------


@hook(
    "residual_block",
    "the key against the engine's basic ResNet block (3x3 conv with stride s and padding 1, "
    "BatchNorm, ReLU, 3x3 conv, and Residual's 1x1 projection on the shortcut): its output "
    "shape, the projection's weight shape, or a parameter count of its modules",
    n=Arg("int", doc="the batch size"),
    c_in=Arg("int"),
    c_out=Arg("int"),
    size=Arg("int", doc="the input's height and width"),
    stride=Arg("int"),
    bias=Arg("text", options=("yes", "no"), doc="whether every convolution has a bias"),
    want=Arg("text", options=("output", "weight", "projection", "first-conv", "block")),
)
def _residual_block(ctx: CheckContext, n, c_in, c_out, size, stride, bias, want) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import BatchNorm, Conv2d, Residual, Sequential, Tensor
    from dlquiz.engine import functional as F

    b = bias == "yes"
    first = Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=b, rng=0)
    body = Sequential(first, BatchNorm(c_out), F.relu, Conv2d(c_out, c_out, 3, padding=1, bias=b))
    projection = Conv2d(c_in, c_out, 1, stride=stride, bias=b, rng=2)
    if c_in == c_out and stride == 1:
        return [f"a block from {c_in} to {c_out} channels with stride 1 needs no projection"]
    block = Residual(body, projection=projection)
    batch = min(n, 2)  # the batch passes through; two images show that it does
    out = block(Tensor(np.zeros((batch, c_in, size, size)))).shape
    if out[0] != batch:
        return [f"the engine changed the batch size: {out}"]

    def count(m: Any) -> int:
        return sum(int(p.data.size) for p in m.parameters())

    reference = {
        "output": (n, *out[1:]),
        "weight": projection.weight.shape,
        "projection": count(projection),
        "first-conv": count(first),
        "block": count(block),
    }[want]
    return ctx.agree(reference, f"the engine's residual block ({want})")


def _chain(x: float, w: list[float], b: list[float], act: Callable[[float], float], residual: bool):  # type: ignore[no-untyped-def]
    """a_L of a_m = act(w_m a_(m-1) + b_m) (plus a_(m-1) when residual), in plain floats."""
    a = x
    for wm, bm in zip(w, b, strict=True):
        a = act(wm * a + bm) + (a if residual else 0.0)
    return a


@hook(
    "scalar_chain",
    "the key against a chain of scalar layers a_m = phi(w_m a_(m-1) + b_m) (plus a_(m-1) "
    "for residual blocks) written in plain Python floats: d a_L / d a_0 by central "
    "differences and by the product of the notes' closed-form factors, or the bound "
    "prod (|w_m| max phi') (the maximum of phi' found on a grid by differences)",
    w=Arg("number", doc="the weights, first layer first"),
    b=Arg("number", doc="the biases"),
    x=Arg("number", doc="the input a_0"),
    activation=Arg("text", options=("sigmoid", "relu", "tanh")),
    residual=Arg("text", options=("yes", "no")),
    returns=Arg("text", options=("gradient", "bound")),
)
def _scalar_chain(ctx: CheckContext, w, b, x, activation, residual, returns) -> list[str]:  # type: ignore[no-untyped-def]
    def sigmoid(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z))

    act, slope = {
        "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
        "tanh": (math.tanh, lambda z: 1.0 - math.tanh(z) ** 2),
        "relu": (lambda z: max(0.0, z), lambda z: 1.0 if z > 0 else 0.0),
    }[activation]
    ws = [float(v) for v in w.reshape(-1)]
    bs = [float(v) for v in b.reshape(-1)]
    if returns == "bound":
        h = 1e-5
        grid = [i / 100 for i in range(-1000, 1001)]
        top = max((act(z + h) - act(z - h)) / (2 * h) for z in grid)
        bound = math.prod(abs(v) * top for v in ws)  # each layer's factor at most |w_m| max phi'
        return ctx.agree(bound, "prod |w_m| max phi'", rtol=1e-6)
    a0 = float(x.flat[0])
    res = residual == "yes"
    factors, a = [], a0
    for wm, bm in zip(ws, bs, strict=True):
        z = wm * a + bm
        if activation == "relu" and abs(z) < 1e-3:
            return [f"a pre-activation {z:.3g} at ReLU's kink: the derivative is a convention"]
        factors.append((1.0 if res else 0.0) + wm * slope(z))
        a = act(z) + (a if res else 0.0)
    h = 1e-6
    difference = (_chain(a0 + h, ws, bs, act, res) - _chain(a0 - h, ws, bs, act, res)) / (2 * h)
    failures = ctx.agree(math.prod(factors), "the product of the closed-form factors")
    scale = max(1.0, abs(difference))
    if abs(float(np.asarray(ctx.key).flat[0]) - difference) > 1e-5 * scale:
        failures.append(f"the key {ctx.key} but central differences give {difference:.10g}")
    return failures


# --- convolution: dilation, "same" padding, a whole CNN --------------------------------------


def _dilated_kernel(k: int, d: int) -> np.ndarray:
    """A k x k kernel of ones with dilation d, as an ordinary kernel: d - 1 zeros between
    taps (the engine's conv2d has no dilation; this is what dilation does)."""
    span = d * (k - 1) + 1
    kernel = np.zeros((span, span))
    kernel[::d, ::d] = 1.0
    return kernel


def _field_of_stack(kernels: list[np.ndarray], strides: list[int]) -> int:
    """The side of the input square one output unit depends on: the support of its
    gradient through the engine's conv2d (ones in, so no tap cancels)."""
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    size = sum(kk.shape[0] for kk in kernels) * max(strides) * 2 + 4
    x = Tensor(np.ones((1, 1, size, size)), requires_grad=True)
    h = x
    for kk, s in zip(kernels, strides, strict=True):
        h = F.conv2d(h, Tensor(kk[None, None]), stride=s)
    h[0, 0, 0, 0].backward()
    assert x.grad is not None
    rows = np.nonzero(np.abs(x.grad[0, 0]).sum(axis=1) > 0)[0]
    return int(rows.max() - rows.min() + 1)


@hook(
    "dilated_conv",
    "the key against the engine's conv2d with a dilated kernel written out (d - 1 zeros "
    "between taps): the output height, or the receptive field of one unit (the support of "
    "its gradient) of the layer alone or followed by a second stride-1 layer of dilation d2",
    h=Arg("int", doc="the input height"),
    k=Arg("int"),
    d=Arg("int", doc="the dilation"),
    s=Arg("int"),
    p=Arg("int", doc="padding on each side"),
    want=Arg("text", options=("height", "field")),
    d2=Arg("int", required=False, doc="a second layer's dilation (want = field)"),
)
def _dilated_conv(ctx: CheckContext, h, k, d, s, p, want, d2=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    if want == "height":
        kernel = _dilated_kernel(k, d)[None, None]
        out = F.conv2d(Tensor(np.zeros((1, 1, h, h))), Tensor(kernel), stride=s, padding=p)
        return ctx.agree(out.shape[2], "the engine's conv2d with the dilated kernel")
    kernels, strides = [_dilated_kernel(k, d)], [s]
    if d2 is not None:
        kernels.append(_dilated_kernel(k, d2))
        strides.append(1)
    return ctx.agree(_field_of_stack(kernels, strides), "the engine's gradient support")


@hook(
    "same_padding",
    "the key (padding on each side, total padding, or the kernel size) against the engine's "
    "conv2d at stride 1: the output keeps the input's height and width, and one less "
    "padding does not",
    h=Arg("int"),
    k=Arg("int", required=False, doc="the kernel size, unless the key is it"),
    p=Arg("int", required=False, doc="padding per side, when the key is the kernel size"),
    d=Arg("int", required=False, doc="the dilation (default 1)"),
    ask=Arg("text", options=("per-side", "total", "kernel")),
)
def _same_padding(ctx: CheckContext, h, ask, k=None, p=None, d=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    key = int(np.asarray(ctx.key).flat[0])
    if ask == "kernel":
        k, pad = key, p
    else:
        pad = key if ask == "per-side" else key / 2
    if k is None or pad is None or pad != int(pad) or k < 1:
        return [f"the key {key} gives no whole padding per side"]
    kernel = _dilated_kernel(int(k), d or 1)[None, None]

    def size(padding: int) -> tuple[int, int]:
        out = F.conv2d(Tensor(np.zeros((1, 1, h, h + 1))), Tensor(kernel), padding=padding)
        return out.shape[2], out.shape[3]

    if size(int(pad)) != (h, h + 1):
        return [f"with padding {int(pad)} per side the engine's conv2d gives {size(int(pad))}"]
    if pad > 0 and size(int(pad) - 1) == (h, h + 1):
        return ["a smaller padding keeps the size too"]
    return []


@hook(
    "cnn_trace",
    "the key against the engine's network conv(k1, padding p1) -> 2x2 max-pool -> conv(k2, "
    "padding p2) -> 2x2 max-pool -> flatten -> Linear: the shape after a layer, a layer's "
    "parameter entries, or a conv layer's multiply-accumulates (the sum of its output with "
    "ones in, a ones kernel and no bias; the bias additions are not counted)",
    n=Arg("int"),
    c0=Arg("int"),
    h=Arg("int"),
    c1=Arg("int"),
    k1=Arg("int"),
    p1=Arg("int"),
    c2=Arg("int"),
    k2=Arg("int"),
    p2=Arg("int"),
    m=Arg("int", doc="the dense layer's outputs"),
    want=Arg(
        "text",
        options=(
            "conv1",
            "pool1",
            "conv2",
            "pool2",
            "flatten",
            "dense",
            "conv1-params",
            "conv2-params",
            "dense-params",
            "total-params",
            "conv1-macs",
            "conv2-macs",
        ),
    ),
)
def _cnn_trace(ctx: CheckContext, n, c0, h, c1, k1, p1, c2, k2, p2, m, want) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Conv2d, Linear, Tensor
    from dlquiz.engine import functional as F

    conv1, conv2 = Conv2d(c0, c1, k1, padding=p1, rng=0), Conv2d(c1, c2, k2, padding=p2, rng=0)
    shapes = {}
    x = Tensor(np.zeros((1, c0, h, h)))
    for name, layer in (
        ("conv1", conv1),
        ("pool1", lambda t: F.max_pool2d(t, 2)),
        ("conv2", conv2),
        ("pool2", lambda t: F.max_pool2d(t, 2)),
    ):
        x = layer(x)
        shapes[name] = (n, *x.shape[1:])
    flat = x.reshape(1, -1)
    dense = Linear(flat.shape[1], m, rng=0)
    shapes["flatten"] = (n, flat.shape[1])
    shapes["dense"] = (n, dense(flat).shape[1])
    if want in shapes:
        return ctx.agree(shapes[want], "the engine's network")
    layers = {"conv1": conv1, "conv2": conv2, "dense": dense}
    if want.endswith("-params"):
        chosen = list(layers.values()) if want == "total-params" else [layers[want[:-7]]]
        entries = sum(int(t.data.size) for lay in chosen for t in lay.parameters())
        return ctx.agree(entries, "the engine's parameters")
    conv, c_in, p, size = (
        (conv1, c0, p1, h) if want == "conv1-macs" else (conv2, c1, p2, shapes["pool1"][2])
    )
    ones = Tensor(np.ones((1, c_in, size + 2 * p, size + 2 * p)))  # the padding counted as taps
    macs = F.conv2d(ones, Tensor(np.ones(conv.weight.shape)), padding=0).data.sum()  # per image
    return ctx.agree(round(float(macs)), "the engine's conv2d with ones")


@hook(
    "conv2d_parameters",
    "the key against the parameter entries of the engine's Conv2d (its weight of shape "
    "(c_out, c_in, kh, kw) and, with bias = 1, one bias per output channel)",
    c_in=Arg("int"),
    c_out=Arg("int"),
    kh=Arg("int"),
    kw=Arg("int"),
    bias=Arg("int", doc="1 with a bias, 0 without"),
)
def _conv2d_parameters(ctx: CheckContext, c_in, c_out, kh, kw, bias) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Conv2d

    layer = Conv2d(c_in, c_out, (kh, kw), bias=bool(bias), rng=0)
    if layer.weight.shape != (c_out, c_in, kh, kw):
        return [f"unexpected engine weight shape {layer.weight.shape}"]
    entries = sum(int(t.data.size) for t in layer.parameters())
    return ctx.agree(entries, "the engine's Conv2d")


@hook(
    "pool2d_output",
    "the key against the output shape of the engine's max_pool2d or avg_pool2d (zeros of "
    "these sizes; without s, the engine's default stride)",
    n=Arg("int"),
    c=Arg("int"),
    h=Arg("int"),
    w=Arg("int"),
    k=Arg("int"),
    p=Arg("int", doc="padding on each side"),
    op=Arg("text", options=("max", "average")),
    s=Arg("int", required=False, doc="the stride; left out: the engine's default"),
)
def _pool2d_output(ctx: CheckContext, n, c, h, w, k, p, op, s=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    batch = min(n, 2)  # the batch passes through; two images show that it does
    pool = F.max_pool2d if op == "max" else F.avg_pool2d
    shape = pool(Tensor(np.zeros((batch, c, h, w))), k, stride=s, padding=p).shape
    if shape[0] != batch:
        return [f"the engine changed the batch size: {shape}"]
    return ctx.agree((n, *shape[1:]), f"the engine's {pool.__name__}")


# --- batch-norm statistics and backward (added for batch-norm/statistics, conv-statistics,
# running-average and backward) ---------------------------------------------------------


def _batch_channels(x: list[np.ndarray], n: int, c: int) -> np.ndarray:
    """The batch as (N, C, M): one (N, C) matrix, or the maps of each example's channels."""
    flat = np.concatenate([np.asarray(v, dtype=float).reshape(-1) for v in x])
    if flat.size % (n * c):
        raise ValueError(f"{flat.size} numbers are not {n} examples of {c} channels")
    return flat.reshape(n, c, -1)


@hook(
    "batch_norm_statistics",
    "the key against the statistics the engine's F.batch_norm computes in training mode "
    "over N (and H, W): the batch mean and variance (from running averages with momentum "
    "1, the unbiased one rescaled), the normalised batch with eps = 0, or PyTorch's running "
    "averages after one step (momentum, unbiased running variance)",
    x=Arg("numbers", doc="one (N, C) matrix, or the H x W maps of each example's channels"),
    n=Arg("int", doc="the examples N"),
    c=Arg("int", doc="the features or channels C"),
    returns=Arg(
        "text",
        options=(
            "stats",
            "mean",
            "variance",
            "std",
            "unbiased",
            "xhat",
            "running_mean",
            "running_var",
            "running",
        ),
    ),
    momentum=Arg("number", required=False, doc="of the running averages (default 0.1)"),
    running_mean=Arg("number", required=False, doc="before the step (default 0)"),
    running_var=Arg("number", required=False, doc="before the step (default 1)"),
)
def _batch_norm_statistics(  # type: ignore[no-untyped-def]
    ctx: CheckContext,
    x,
    n,
    c,
    returns,
    momentum=None,
    running_mean=None,
    running_var=None,
) -> list[str]:
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    try:
        batch = _batch_channels(x, n, c)
    except ValueError as exc:
        return [str(exc)]
    m = batch.shape[0] * batch.shape[2]
    mean, unbiased = np.zeros(c), np.zeros(c)
    F.batch_norm(Tensor(batch), running_mean=mean, running_var=unbiased, momentum=1.0)
    biased = unbiased * (m - 1) / m
    rm = np.zeros(c) if running_mean is None else np.asarray(running_mean, float).reshape(-1)
    rv = np.ones(c) if running_var is None else np.asarray(running_var, float).reshape(-1)
    rm, rv = np.broadcast_to(rm, (c,)).copy(), np.broadcast_to(rv, (c,)).copy()
    mom = 0.1 if momentum is None else float(np.asarray(momentum).flat[0])
    F.batch_norm(Tensor(batch), running_mean=rm, running_var=rv, momentum=mom)
    if returns == "xhat":
        xhat = F.batch_norm(Tensor(batch), training=True, eps=0.0).data
        # back to the layout of x: an (N, C) matrix, or the maps in order
        return ctx.agree(xhat.reshape(-1), "the engine's F.batch_norm with eps = 0")
    out = {
        "stats": np.concatenate([mean, biased]),
        "mean": mean,
        "variance": biased,
        "std": np.sqrt(biased),
        "unbiased": unbiased,
        "running_mean": rm,
        "running_var": rv,
        "running": np.concatenate([rm, rv]),
    }[returns]
    return ctx.agree(out, f"the engine's F.batch_norm ({returns})")


@hook(
    "batch_norm_backward",
    "the key against the engine's autograd through F.batch_norm in training mode (the "
    "notes' sigma_B + eps form rebuilt from its eps = 0 normalisation), for a given "
    "upstream gradient dL/dy: dL/dgamma, dL/dbeta or dL/dx",
    x=Arg("number", doc="the batch, one example per row"),
    gamma=Arg("number"),
    beta=Arg("number"),
    eps=Arg("number"),
    dy=Arg("number", doc="dL/dy, the layout of x"),
    wrt=Arg("text", options=("gamma", "beta", "x")),
    convention=Arg("text", options=("pytorch", "notes")),
)
def _batch_norm_backward(  # type: ignore[no-untyped-def]
    ctx: CheckContext, x, gamma, beta, eps, dy, wrt, convention
) -> list[str]:
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    features = x.shape[1]
    xs = Tensor(x.copy(), requires_grad=True)
    g = Tensor(np.broadcast_to(gamma.reshape(-1), (features,)).copy(), requires_grad=True)
    b = Tensor(np.broadcast_to(beta.reshape(-1), (features,)).copy(), requires_grad=True)
    e = float(eps.flat[0])
    if convention == "pytorch":
        y = F.batch_norm(xs, g, b, training=True, eps=e)
    else:
        xhat = F.batch_norm(xs, training=True, eps=0.0)  # (x - mu)/sigma
        centred = xs - xs.mean(axis=0, keepdims=True)
        sigma = ((centred * centred).mean(axis=0, keepdims=True)).sqrt()
        y = xhat * (sigma / (sigma + e)) * g + b
    (y * Tensor(np.asarray(dy, float).reshape(x.shape))).sum().backward()
    grad = {"gamma": g.grad, "beta": b.grad, "x": xs.grad}[wrt]
    return ctx.agree(grad, f"the engine's backward through F.batch_norm (dL/d{wrt})")


# --- optimizers: Adam, and momentum's steady state (added for optimizers/adam-steps,
# adam-first-step, adam-many-steps and momentum-steady-state) --------------------------


def _loss_gradient(ctx: CheckContext, loss: Any, param: str, data: np.ndarray) -> np.ndarray:
    """d loss/d param at ``data`` by the engine's backward (the other names at their draw)."""
    from dlquiz.core.autodiff import lower
    from dlquiz.engine import Tensor

    leaves = {n: Tensor(v[None]) for n, v in ctx.scope.numbers.items()}
    leaves[param] = Tensor(data[None], requires_grad=True)
    lower(loss, leaves, 1).sum().backward()
    return leaves[param].grad[0]


@hook(
    "adam",
    "the key against the engine's optim.Adam(lr, betas, eps) run for some steps, with the "
    "gradient of a loss (by the engine's backward) or given gradients: the parameter, the "
    "moments the optimizer keeps (m, v) or their bias-corrected estimates",
    theta0=Arg("number"),
    lr=Arg("number"),
    beta1=Arg("number"),
    beta2=Arg("number"),
    eps=Arg("number"),
    steps=Arg("int"),
    returns=Arg("text", options=("theta", "m", "v", "mhat", "vhat", "step", "uncorrected_step")),
    loss=Arg("formula", required=False, doc="a loss of the parameter named by param"),
    param=Arg("text", required=False),
    grads=Arg("numbers", required=False, doc="one gradient per step"),
)
def _adam(  # type: ignore[no-untyped-def]
    ctx: CheckContext,
    theta0,
    lr,
    beta1,
    beta2,
    eps,
    steps,
    returns,
    loss=None,
    param=None,
    grads=None,
) -> list[str]:
    from dlquiz.engine import Tensor, optim

    if (loss is None) == (grads is None) or (loss is not None and not param):
        return ["give either loss and param, or grads"]
    if grads is not None and len(grads) < steps:
        return [f"{steps} steps but {len(grads)} gradients"]
    shape = theta0.shape
    b1, b2 = float(beta1.flat[0]), float(beta2.flat[0])
    p = Tensor(theta0.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=float(lr.flat[0]), betas=(b1, b2), eps=float(eps.flat[0]))
    before = p.data.copy()
    for t in range(steps):
        opt.zero_grad()
        before = p.data.copy()
        if grads is not None:
            p.grad = np.asarray(grads[t], dtype=float).reshape(shape)
        else:
            p.grad = _loss_gradient(ctx, loss, param, p.data)
        opt.step()
    m, v = opt.m[0], opt.v[0]
    if m is None or v is None:
        return ["the engine's Adam took no step"]
    out = {
        "theta": p.data,
        "m": m,
        "v": v,
        "mhat": m / (1 - b1**steps),
        "vhat": v / (1 - b2**steps),
        "step": p.data - before,  # the last update, theta_t - theta_{t-1}
        # the last update had the moments not been bias-corrected
        "uncorrected_step": -float(lr.flat[0]) * m / (np.sqrt(v) + float(eps.flat[0])),
    }[returns]
    return ctx.agree(out, f"the engine's optim.Adam after {steps} steps ({returns})")


@hook(
    "momentum_steady_state",
    "the key against the engine's optim.SGD(lr, momentum) fed the same gradient g for as "
    "many steps as it takes the velocity to settle (momentum^t below 1e-13): the last "
    "step theta_t - theta_{t-1}, the velocity, or the factor step/(lr*g)",
    g=Arg("number"),
    lr=Arg("number"),
    momentum=Arg("number"),
    returns=Arg("text", options=("step", "velocity", "factor")),
)
def _momentum_steady_state(ctx: CheckContext, g, lr, momentum, returns) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor, optim

    beta = float(momentum.flat[0])
    if not 0 <= beta < 1:
        return [f"momentum {beta} has no steady state"]
    steps = 10 if beta == 0 else min(100_000, math.ceil(math.log(1e-13) / math.log(beta)) + 1)
    p = Tensor(np.zeros_like(g, dtype=float), requires_grad=True)
    opt = optim.SGD([p], lr=float(lr.flat[0]), momentum=beta)
    before = p.data.copy()
    for _ in range(steps):
        before = p.data.copy()
        p.grad = np.asarray(g, dtype=float).copy()
        opt.step()
    step = p.data - before
    velocity = opt.velocity[0]
    out = {
        "step": step,
        "velocity": velocity,
        "factor": np.abs(step) / (float(lr.flat[0]) * np.abs(np.asarray(g, dtype=float))),
    }[returns]
    return ctx.agree(out, f"the engine's optim.SGD after {steps} steps of the same gradient")


@hook(
    "batch_norm_parameters",
    "the key against the engine's BatchNorm of this width, run on a batch of the stated "
    "shape: its learnable parameters, or those and its running buffers",
    width=Arg("int", doc="features (dense) or channels (conv)"),
    layer=Arg("text", options=("dense", "conv")),
    count=Arg("text", options=("learnable", "stored")),
    size=Arg("int", doc="the height = width of a conv feature map"),
)
def _batch_norm_parameters(ctx: CheckContext, width, layer, count, size) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import BatchNorm, Tensor

    bn = BatchNorm(width)
    shape = (2, width) if layer == "dense" else (2, width, size, size)
    x = Tensor(np.random.default_rng(ctx.seed).normal(size=shape))
    if bn(x).shape != shape:
        return ["the engine's BatchNorm changed the shape"]
    learnable = sum(int(p.data.size) for p in bn.parameters())
    stored = learnable + int(bn.running_mean.size) + int(bn.running_var.size)
    return ctx.agree(learnable if count == "learnable" else stored, "the engine's BatchNorm")


# --- unrolled optimizer recursions (added for optimizers/momentum-unrolled and
# adam-bias-correction): an expression key against the engine's optimizer state -------


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _sampled(ctx: CheckContext, names: list[str], points: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(ctx.seed)
    env = {n: rng.uniform(-2.0, 2.0, size=(points, 1, 1)) for n in names}
    return env


def _coefficient(text: str, env: dict[str, np.ndarray], i: int) -> float:
    """A number written in the draw (0.9), or a variable's sampled value (beta)."""
    try:
        return float(text)
    except ValueError:
        return float(env[text.strip()][i, 0, 0])


@hook(
    "momentum_unrolled",
    "an expression key (the momentum velocity or parameter after some steps, in the "
    "gradients' names) evaluated at random gradients against the engine's "
    "optim.SGD(lr, momentum) fed the same gradients",
    grads=Arg("text", doc="the gradient of each step, by name: 'g1, g2, g3' or 'g, g, g'"),
    momentum=Arg("text", doc="a number, or the name of a variable (beta)"),
    returns=Arg("text", options=("velocity", "theta")),
    theta0=Arg("text", required=False, doc="the start's name (for theta)"),
    lr=Arg("text", required=False, doc="the learning rate's name (for theta)"),
    steps=Arg("int", required=False, doc="take only the first steps gradients"),
)
def _momentum_unrolled(  # type: ignore[no-untyped-def]
    ctx: CheckContext, grads, momentum, returns, theta0=None, lr=None, steps=None
) -> list[str]:
    from dlquiz.core.numeric import EvaluationError, evaluate
    from dlquiz.engine import Tensor, optim

    points = 4
    names_used = _names(grads)[:steps]
    names = sorted(set(names_used) | {n for n in (theta0, lr) if n})
    env = _sampled(ctx, names, points)
    try:
        float(momentum)
    except ValueError:
        env[momentum.strip()] = np.random.default_rng(ctx.seed + 1).uniform(
            0.1, 0.95, size=(points, 1, 1)
        )
    if lr:
        env[lr] = np.abs(env[lr]) / 4 + 0.01
    try:
        got = evaluate(ctx.key, env, points)[:, 0, 0]
    except EvaluationError as exc:
        return [f"the key cannot be evaluated: {exc}"]
    failures = []
    for i in range(points):
        start = float(env[theta0][i, 0, 0]) if theta0 else 0.0
        p = Tensor(np.array([start]), requires_grad=True)
        opt = optim.SGD(
            [p],
            lr=float(env[lr][i, 0, 0]) if lr else 0.1,
            momentum=_coefficient(momentum, env, i),
        )
        for name in names_used:
            p.grad = np.array([env[name][i, 0, 0]])
            opt.step()
        velocity = opt.velocity[0]
        assert velocity is not None
        engine = float(velocity[0]) if returns == "velocity" else float(p.data[0])
        if not math.isclose(got[i], engine, rel_tol=1e-8, abs_tol=1e-12):
            failures.append(f"at point {i} the key gives {got[i]}, the engine's SGD {engine}")
    return failures


@hook(
    "adam_unrolled",
    "an expression key (one of Adam's moments after some steps, in the gradients' names) "
    "evaluated at random gradients against the moments the engine's optim.Adam keeps",
    grads=Arg("text", doc="the gradient of each step, by name: 'g1, g2, g3' or 'g, g, g'"),
    beta1=Arg("number"),
    beta2=Arg("number"),
    returns=Arg("text", options=("m", "v", "mhat", "vhat")),
    steps=Arg("int", required=False, doc="take only the first steps gradients"),
)
def _adam_unrolled(ctx: CheckContext, grads, beta1, beta2, returns, steps=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.core.numeric import EvaluationError, evaluate
    from dlquiz.engine import Tensor, optim

    points = 4
    used = _names(grads)[:steps]
    env = _sampled(ctx, sorted(set(used)), points)
    b1, b2 = float(beta1.flat[0]), float(beta2.flat[0])
    try:
        got = evaluate(ctx.key, env, points)[:, 0, 0]
    except EvaluationError as exc:
        return [f"the key cannot be evaluated: {exc}"]
    failures = []
    t = len(used)
    for i in range(points):
        p = Tensor(np.array([0.5]), requires_grad=True)
        opt = optim.Adam([p], lr=0.1, betas=(b1, b2))
        for name in used:
            p.grad = np.array([env[name][i, 0, 0]])
            opt.step()
        m, v = opt.m[0], opt.v[0]
        assert m is not None and v is not None
        engine = {
            "m": float(m[0]),
            "v": float(v[0]),
            "mhat": float(m[0]) / (1 - b1**t),
            "vhat": float(v[0]) / (1 - b2**t),
        }[returns]
        if not math.isclose(got[i], engine, rel_tol=1e-8, abs_tol=1e-12):
            failures.append(f"at point {i} the key gives {got[i]}, the engine's Adam {engine}")
    return failures


# --- claims of a choice question's options, and linear layers' variances -----------------


def option_claims(ctx: CheckContext) -> list[tuple[dict[str, Any], float]]:
    """The shown options that state the ``value`` they claim, with that value."""
    out = []
    for entry in ctx.options:
        if "value" in entry:
            value = ctx.scope.number(str(entry["value"]), "options.value")
            out.append((entry, float(value.flat[0])))
    return out


def _claims_against(
    ctx: CheckContext, agrees: Callable[[float], bool], describe: Callable[[float], str]
) -> list[str]:
    """The right options' claims must agree with a reference, the distractors' must not."""
    failures = []
    for entry, value in option_claims(ctx):
        right = bool(entry.get("correct"))
        if right != agrees(value):
            failures.append(
                f"option '{entry['text']}' ({'right' if right else entry['tag']}): "
                + describe(value)
            )
    return failures


@hook(
    "linear_variance",
    "Monte Carlo on the engine (batched matmul, autograd) of a linear layer's variance "
    "under the notes' assumptions: forward Var(o_i) through depth layers, backward "
    "Var((dL/dx)_j), or their average; compared with the key, a value, or the options' "
    "claimed values (right ones must agree, distractors must not); with sigma-key the key "
    "is the weights' sigma, and the variance it gives must be the value",
    n_in=Arg("int"),
    n_out=Arg("int"),
    var_w=Arg("number", required=False, doc="the weights' variance (not with sigma-key)"),
    var_in=Arg("number", doc="Var(x_j) forward, Var of the upstream gradient backward"),
    direction=Arg("text", options=("forward", "backward", "average")),
    depth=Arg("int", required=False, doc="forward layers of width n_in (default 1)"),
    compare=Arg("text", options=("key", "value", "options", "sigma-key")),
    value=Arg("number", required=False, doc="the variance expected (value, sigma-key)"),
)
def _linear_variance(  # type: ignore[no-untyped-def]
    ctx: CheckContext,
    n_in,
    n_out,
    var_in,
    direction,
    compare,
    var_w=None,
    depth=None,
    value=None,
) -> list[str]:
    from dlquiz.bank.template.montecarlo import Estimate, mc_backward, mc_forward

    key = (
        float(np.asarray(ctx.key, dtype=float).flat[0]) if compare in ("key", "sigma-key") else 0.0
    )
    if compare == "sigma-key":  # the key is the weights' sigma: test the variance it gives
        var_w = np.array([[key * key]])
    if var_w is None:
        return ["linear_variance needs var_w (or compare = sigma-key)"]
    vw, vi = float(var_w.flat[0]), float(var_in.flat[0])
    layers = depth or 1
    if direction == "forward":
        # the first output depends on one row of the last layer: its width is immaterial
        est = mc_forward([n_in] * layers + [1], vw, vi, seed=ctx.seed)
    elif direction == "backward":
        est = mc_backward(n_in, n_out, vw, vi, seed=ctx.seed)
    else:
        fwd = mc_forward([n_in, 1], vw, vi, seed=ctx.seed)
        bwd = mc_backward(n_in, n_out, vw, vi, seed=ctx.seed + 1)
        est = Estimate((fwd.value + bwd.value) / 2, math.hypot(fwd.se, bwd.se) / 2)
    if compare == "options":
        return _claims_against(ctx, est.agrees, est.describe)
    if compare in ("value", "sigma-key"):
        if value is None:
            return [f"compare = {compare} needs a value"]
        claim = float(value.flat[0])
    else:
        claim = key
    return [] if est.agrees(claim) else [f"{direction}: {est.describe(claim)}"]


@hook(
    "dropout_test_time",
    "the engine's F.dropout in eval mode (classic: times 1 - p) against the right "
    "options' claimed values, and a Monte Carlo of its training mode: the test-time output "
    "equals the expected training output within 5 standard errors",
    h=Arg("number"),
    p=Arg("number"),
    scaling=Arg("text", options=("inverted", "classic")),
)
def _dropout_test_time(ctx: CheckContext, h, p, scaling) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    prob, unit = float(p.flat[0]), float(h.flat[0])
    units = Tensor(np.full(MC_SAMPLES, unit))
    train = F.dropout(units, prob, training=True, rng=ctx.seed).data
    test = F.dropout(units, prob, training=False).data
    if scaling == "classic":  # zeroing without rescaling; the classic rule scales at test time
        train = train * (1 - prob)
        test = test * (1 - prob)
    failures = []
    if not np.allclose(test, test[0]):
        failures.append("the engine's eval-mode dropout is not deterministic")
    mean, se = _estimate(train, "mean")
    if abs(mean - test[0]) > MC_SIGMAS * se + 1e-12:
        failures.append(f"the training mean {mean:.6g} ± {se:.2g} is not the test output {test[0]}")
    out = float(test[0])
    return failures + _claims_against(
        ctx,
        lambda v: math.isclose(v, out, rel_tol=EXACT_RTOL, abs_tol=1e-12),
        lambda v: f"claims {v:.6g}, the engine's test-time output is {out:.6g}",
    )


@hook(
    "conv_fans",
    "a convolution's fan-in and fan-out counted on the engine's F.conv2d: the inputs an "
    "interior output reads (the nonzero entries of its gradient) and the outputs an interior "
    "input reaches (a one-hot input's nonzero outputs), and init.fans of the weight's shape",
    c_in=Arg("int"),
    c_out=Arg("int"),
    k=Arg("int"),
    ask=Arg("text", options=("fan-in", "fan-out")),
)
def _conv_fans(ctx: CheckContext, c_in: int, c_out: int, k: int, ask: str) -> list[str]:
    from dlquiz.engine import Tensor, init
    from dlquiz.engine import functional as F

    rng = np.random.default_rng(ctx.seed)
    weight = rng.uniform(0.5, 1.5, (c_out, c_in, k, k))  # no zero weight hides a connection
    side = 3 * k
    x = Tensor(rng.normal(size=(1, c_in, side, side)), requires_grad=True)
    out = F.conv2d(x, Tensor(weight))
    centre = out.shape[2] // 2
    out[0, 0, centre, centre].sum().backward()  # one interior output
    assert x.grad is not None
    fan_in = int(np.count_nonzero(x.grad))
    onehot = np.zeros((1, c_in, side, side))
    onehot[0, 0, side // 2, side // 2] = 1.0
    fan_out = int(np.count_nonzero(F.conv2d(Tensor(onehot), Tensor(weight)).data))
    counted = fan_in if ask == "fan-in" else fan_out
    shape = init.fans(weight.shape)[0 if ask == "fan-in" else 1]
    failures = ctx.agree(counted, f"counting the connections of the engine's conv2d ({ask})")
    if shape != counted:
        failures.append(f"init.fans gives {shape}, the engine's conv2d connects {counted}")
    return failures


@hook(
    "kaiming_init",
    "He (Kaiming) initialization for ReLU, fan-in mode: the variance of the engine's "
    "init.kaiming_normal / kaiming_uniform(nonlinearity='relu') for a weight of shape "
    "(n_out, n_in) or (n_out, n_in, k, k), and a Monte Carlo on the engine that the key "
    "keeps the second moment through ReLU: E[o²] = 1 for o = Σ w_j ReLU(z_j), z ~ N(0, 1)",
    n_out=Arg("int", doc="output units or channels"),
    n_in=Arg("int", doc="input units or channels"),
    k=Arg("int", doc="the kernel side (1 for a dense layer)"),
    ask=Arg("text", options=("sigma", "sigma2", "bound")),
)
def _kaiming_init(ctx: CheckContext, n_out: int, n_in: int, k: int, ask: str) -> list[str]:
    from dlquiz.engine import Tensor, init

    key = float(np.asarray(ctx.key).flat[0])
    shape = (n_out, n_in) if k == 1 else (n_out, n_in, k, k)
    size = math.prod(shape)
    rng = np.random.default_rng(ctx.seed)
    make = init.kaiming_uniform if ask == "bound" else init.kaiming_normal
    w = np.concatenate(
        [make(shape, rng, nonlinearity="relu").ravel() for _ in range(max(1, 200_000 // size))]
    )
    var_w = {"sigma": key * key, "sigma2": key, "bound": key * key / 3}[ask]
    failures = []
    sq = w**2
    var, se = float(sq.mean()), float(sq.std(ddof=1) / math.sqrt(sq.size))
    if abs(var - var_w) > MC_SIGMAS * se:
        failures.append(
            f"the variance of the engine's {make.__name__} weights is {var:.6g} ± {se:.2g}; "
            f"the key implies {var_w:.6g}"
        )
    if ask == "bound" and not (0.99 * key < np.abs(w).max() <= key * (1 + 1e-12)):
        failures.append(f"kaiming_uniform's samples reach {np.abs(w).max():.6g}, not {key:.6g}")
    fan = init.fans(shape)[0]
    trials = max(2000, 4_000_000 // fan)
    z = Tensor(rng.normal(size=(trials, fan)))
    weights = Tensor(rng.normal(0.0, math.sqrt(var_w), size=(trials, fan)))
    o = (weights * z.relu()).sum(axis=1).data
    second = o**2
    m, m_se = float(second.mean()), float(second.std(ddof=1) / math.sqrt(trials))
    if abs(m - 1.0) > MC_SIGMAS * m_se:
        failures.append(
            f"through ReLU the key's weights give E[o²] = {m:.5g} ± {m_se:.2g}, not 1 "
            f"(fan-in {fan})"
        )
    return failures


@hook(
    "dropout_layer",
    "Monte Carlo with the engine's F.dropout on many copies of a vector h feeding a unit "
    "z = wᵀh': the mean or the variance of z (classic: without the 1/(1 - p)), or the "
    "ratio of its variances at the rates p2 and p, within 5 standard errors",
    h=Arg("number", doc="the activations, a vector"),
    w=Arg("number", doc="the next unit's weights, a vector"),
    p=Arg("number"),
    statistic=Arg("text", options=("mean", "variance", "variance-ratio")),
    scaling=Arg("text", options=("inverted", "classic")),
    p2=Arg("number", required=False, doc="the other rate, with variance-ratio"),
)
def _dropout_layer(ctx: CheckContext, h, w, p, statistic, scaling, p2=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor
    from dlquiz.engine import functional as F

    hv, wv = h.reshape(-1), w.reshape(-1)
    copies = MC_SAMPLES // max(1, hv.size)

    def z_samples(rate: float, seed: int) -> np.ndarray:
        units = Tensor(np.tile(hv, (copies, 1)))
        out = F.dropout(units, rate, training=True, rng=seed).data
        if scaling == "classic":
            out = out * (1 - rate)  # zeroing without the inverted scaling
        return out @ wv

    z = z_samples(float(p.flat[0]), ctx.seed)
    if statistic != "variance-ratio":
        value, se = _estimate(z, statistic)
        return _agrees_statistically(ctx, value, se, f"Monte Carlo over {copies} dropout draws")
    if p2 is None:
        return ["variance-ratio needs p2"]
    v1, se1 = _estimate(z, "variance")
    v2, se2 = _estimate(z_samples(float(p2.flat[0]), ctx.seed + 1), "variance")
    ratio = v2 / v1
    se = ratio * math.hypot(se1 / v1, se2 / v2)
    return _agrees_statistically(ctx, ratio, se, "the ratio of two Monte Carlo variances")


@hook(
    "ridge",
    "1-D least squares with the penalty λw², J(w) = Σ_i (w x_i - y_i)² + λw², solved apart "
    "from the template: NumPy's lstsq on the augmented system [x; √λ] w ≈ [y; 0], and the "
    "engine's autograd (dJ/dw = 0 at the solution); returns the minimiser, its ratio to the "
    "unregularized one, the λ giving a ratio, or a prediction",
    x=Arg("number", doc="the inputs, a vector"),
    y=Arg("number", doc="the targets, a vector"),
    lam=Arg("number"),
    returns=Arg("text", options=("w", "shrink", "lambda", "prediction")),
    x0=Arg("number", required=False, doc="the input of the prediction"),
    fraction=Arg("number", required=False, doc="w*_λ/w*_0, with returns = lambda"),
)
def _ridge(ctx: CheckContext, x, y, lam, returns, x0=None, fraction=None) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor

    xv, yv = x.reshape(-1), y.reshape(-1)

    def solve(penalty: float) -> float:
        a = np.append(xv, math.sqrt(penalty))[:, None]
        return float(np.linalg.lstsq(a, np.append(yv, 0.0), rcond=None)[0][0])

    key = float(np.asarray(ctx.key, dtype=float).flat[0])
    if returns == "lambda":
        if fraction is None:
            return ["returns = lambda needs fraction"]
        if key <= 0:
            return [f"the key λ = {key} is not positive"]
        ratio, want = solve(key) / solve(0.0), float(fraction.flat[0])
        if math.isclose(ratio, want, rel_tol=1e-8):
            return []
        return [f"with λ = {key} least squares gives w*_λ/w*_0 = {ratio}, not {want}"]
    penalty = float(lam.flat[0])
    w = solve(penalty)
    t = Tensor(np.array([w]), requires_grad=True)
    (((t * Tensor(xv) - Tensor(yv)) ** 2).sum() + (t * t).sum() * penalty).backward()
    failures = []
    assert t.grad is not None
    if abs(float(t.grad[0])) > 1e-8 * (1 + float(np.abs(xv * yv).sum())):
        failures.append(f"the engine's dJ/dw at the lstsq solution is {t.grad[0]}, not 0")
    if returns == "w":
        return failures + ctx.agree(w, "lstsq on the augmented system")
    if returns == "shrink":
        return failures + ctx.agree(w / solve(0.0), "the ratio of two lstsq solutions")
    if x0 is None:
        return ["returns = prediction needs x0"]
    return failures + ctx.agree(w * float(x0.flat[0]), "the lstsq solution's prediction")


def train_mlp(
    start: list[np.ndarray], x: np.ndarray, y: np.ndarray, activation: str, steps: int = 5
) -> list[np.ndarray]:
    """W1, b1, W2, b2 after gradient descent on the squared loss (the engine's autograd)."""
    from dlquiz.engine import Tensor

    params = [Tensor(p.copy(), requires_grad=True) for p in start]
    for _ in range(steps):
        w1, b1, w2, b2 = params
        z = Tensor(x) @ w1.T + b1
        h = z.tanh() if activation == "tanh" else z.relu()
        loss = ((h @ w2.T + b2 - Tensor(y)) ** 2).mean()
        loss.backward()
        # one scale for every gradient (equal gradients stay equal) keeps the steps small
        scale = 0.1 / max(1.0, max(float(np.abs(p.grad).max()) for p in params))
        params = [Tensor(p.data - scale * p.grad, requires_grad=True) for p in params]
    return [p.data for p in params]


@hook(
    "symmetric_init",
    "engine facts of an MLP h = Φ(W1 x + b1), o = W2 h + b2 with every parameter equal to c, "
    "trained by gradient descent (the engine's autograd) on random data: with c = 0 (tanh or "
    "ReLU) only b2 moves; with c ≠ 0 the weights move but the hidden units stay identical; "
    "a random initialization makes them differ (the check can tell)",
    c=Arg("number"),
    activation=Arg("text", options=("tanh", "relu")),
    d=Arg("int", doc="inputs"),
    n_h=Arg("int", doc="hidden units"),
)
def _symmetric_init(ctx: CheckContext, c, activation: str, d: int, n_h: int) -> list[str]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(ctx.seed)
    x, y = rng.normal(size=(16, d)), rng.normal(size=(16, 1))
    value = float(c.flat[0])

    def train(start: list[np.ndarray]) -> list[np.ndarray]:
        return train_mlp(start, x, y, activation)

    shapes = [(n_h, d), (n_h,), (1, n_h), (1,)]
    start = [np.full(s, value) for s in shapes]
    w1, b1, w2, b2 = train(start)
    failures = []
    identical = np.allclose(w1, w1[:1]) and np.allclose(b1, b1[0]) and np.allclose(w2, w2[0, 0])
    if not identical:
        failures.append("the hidden units of the constant initialization became different")
    if value == 0:
        if not all(np.allclose(p, 0) for p in (w1, b1, w2)):
            failures.append("with zero initialization a weight or b1 moved")
        if np.allclose(b2, 0):
            failures.append("with zero initialization b2 did not move either")
    elif np.allclose(w1, value) or np.allclose(w2, value):
        failures.append(f"with every parameter {value} the weights did not move")
    rw1, _, rw2, _ = train([rng.normal(0, 0.5, s) for s in shapes])
    if np.allclose(rw1, rw1[:1]) or np.allclose(rw2, rw2[0, 0]):
        failures.append("a random initialization kept the hidden units identical")
    return failures


@hook(
    "sgd_weight_decay",
    "one step of the engine's optim.SGD from theta0 with a data gradient g: PyTorch's "
    "weight_decay (added as weight_decay·θ to the gradient), or the penalty λ‖θ‖² (notes) "
    "or λ/2‖θ‖² (half) differentiated by the engine's autograd and plain SGD",
    theta0=Arg("number"),
    g=Arg("number", doc="the data loss's gradient at theta0"),
    lr=Arg("number"),
    lam=Arg("number", doc="λ, or PyTorch's weight_decay"),
    convention=Arg("text", options=("notes", "half", "pytorch")),
)
def _sgd_weight_decay(ctx: CheckContext, theta0, g, lr, lam, convention) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.engine import Tensor, optim

    w = Tensor(theta0.reshape(-1).copy(), requires_grad=True)
    grad = Tensor(g.reshape(-1).copy())
    rate, coeff = float(lr.flat[0]), float(lam.flat[0])
    data = (grad * w).sum()  # its gradient at w is exactly g
    if convention == "pytorch":
        opt = optim.SGD([w], lr=rate, weight_decay=coeff)
        loss = data
    else:
        opt = optim.SGD([w], lr=rate)
        loss = data + (w * w).sum() * (coeff if convention == "notes" else coeff / 2)
    loss.backward()
    opt.step()
    return ctx.agree(w.data, f"one step of the engine's optim.SGD ({convention})")


@hook(
    "variance_formula",
    "a variance formula in the fans (the key, an expression in n_in, n_out, n_h and sigma "
    "or a) evaluated at random fans and scale, against a Monte Carlo on the engine of that "
    "layer (forward, backward, or two layers) within 5 standard errors",
    direction=Arg("text", options=("forward", "backward", "two-layer")),
    distribution=Arg("text", options=("normal", "uniform")),
    c=Arg("number", doc="Var(x_j), or Var of the upstream gradient"),
    var_b=Arg("number", doc="the bias's variance (0: no bias)"),
)
def _variance_formula(ctx: CheckContext, direction, distribution, c, var_b) -> list[str]:  # type: ignore[no-untyped-def]
    from dlquiz.bank.template.montecarlo import mc_backward, mc_forward
    from dlquiz.core.numeric import evaluate

    rng = np.random.default_rng(ctx.seed)
    n_in, n_out, n_h = (int(v) for v in rng.integers(3, 13, 3))
    scale = float(rng.uniform(0.15, 0.45))
    values = {"n_in": n_in, "n_out": n_out, "n_h": n_h, "sigma": scale, "a": scale}
    env = {k: np.full((1, 1, 1), float(v)) for k, v in values.items()}
    value = float(evaluate(ctx.key, env, 1)[0, 0, 0])
    var_w = scale**2 / (1 if distribution == "normal" else 3)
    vc, vb = float(c.flat[0]), float(var_b.flat[0])
    if direction == "backward":
        est = mc_backward(n_in, n_out, var_w, vc, dist=distribution, seed=ctx.seed)
    else:
        widths = [n_in, 1] if direction == "forward" else [n_in, n_h, 1]
        est = mc_forward(widths, var_w, vc, var_b=vb, dist=distribution, seed=ctx.seed)
    if est.agrees(value):
        return []
    where = f"n_in={n_in}, n_out={n_out}, n_h={n_h}, scale={scale:.3f}"
    return [f"at {where}: {est.describe(value)}"]


# --- the order of the backward pass -------------------------------------------------------


def _notes_backward() -> tuple[dict[str, int], dict[str, set[str]]]:
    """The engine's backward pass of the notes' model, every tensor named as the notes do.

    Returns, per name, the step at which its gradient is complete (an operation's when its
    own backward runs; a leaf's after the last of its consumers' runs) and the names whose
    gradients it needs (the nodes on its way up to L, each a consumer of the one before).
    """
    from dlquiz.engine import Tensor

    rng = np.random.default_rng(0)

    def leaf(name: str, *shape: int) -> Tensor:
        return Tensor(rng.normal(size=shape), requires_grad=True, name=name)

    shapes = {"W_n": (3, 2), "x": (2, 1), "b_n": (3, 1), "W_o": (1, 3), "b_o": (1, 1)}
    t = {name: leaf(name, *shape) for name, shape in (shapes | {"y": (1, 1)}).items()}
    nodes: dict[str, Tensor] = {}
    nodes["m_h"] = t["W_n"] @ t["x"]
    nodes["z_h"] = nodes["m_h"] + t["b_n"]
    nodes["h"] = nodes["z_h"].relu()
    nodes["m_o"] = t["W_o"] @ nodes["h"]
    nodes["o"] = nodes["m_o"] + t["b_o"]
    nodes["r"] = t["y"] - nodes["o"]
    nodes["L"] = nodes["r"] ** 2
    t |= nodes
    name_of = {id(v): k for k, v in t.items()}
    ran: list[str] = []
    for name, node in nodes.items():
        inner = node._backward
        assert inner is not None

        def logged(g: np.ndarray, inner=inner, name=name) -> None:  # type: ignore[no-untyped-def]
            ran.append(name)
            inner(g)

        node._backward = logged
    nodes["L"].backward()
    complete = {name: ran.index(name) for name in nodes}
    needs: dict[str, set[str]] = {name: set() for name in t}
    for name, node in reversed(list(nodes.items())):  # from L down: a consumer first
        for parent in node._prev:
            p = name_of[id(parent)]
            needs[p] |= {name} | needs[name]
    for name in t:
        if name not in nodes:  # a leaf: complete once every consumer has run
            complete[name] = max(ran.index(c) for c in needs[name] if c in nodes) + 1
    return complete, needs


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


@hook(
    "backward_order",
    "the engine's backward pass of the notes' model h = ReLU(W_n x + b_n), o = W_o h + b_o, "
    "L = (y - o)^2 with every tensor named (m_h, z_h, h, m_o, o, r, L): the gradient it "
    "completes first, the gradients one needs, and orders it can or cannot follow",
    first=Arg("text", required=False, doc="the name whose gradient comes first after L"),
    of=Arg("text", required=False, doc="a name, with needs and not_needed"),
    needs=Arg("text", required=False, doc="names whose gradients 'of' needs (comma-separated)"),
    not_needed=Arg("text", required=False, doc="names whose gradients 'of' does not need"),
    possible=Arg("text", required=False, doc="orders ('a, b, c; ...') the pass can follow"),
    impossible=Arg("text", required=False, doc="orders it cannot follow"),
)
def _backward_order(
    ctx: CheckContext,
    first: str | None = None,
    of: str | None = None,
    needs: str | None = None,
    not_needed: str | None = None,
    possible: str | None = None,
    impossible: str | None = None,
) -> list[str]:
    from itertools import pairwise

    complete, needed = _notes_backward()
    failures = []
    unknown = {
        n
        for text in (first, of, needs, not_needed, possible, impossible)
        for n in _names((text or "").replace(";", ","))
    } - set(complete)
    if unknown:
        return [f"no node named {', '.join(sorted(unknown))} in the notes' model"]
    if first is not None:
        engine_first = min((n for n in complete if n != "L"), key=complete.__getitem__)
        if engine_first != first:
            failures.append(f"the engine's first gradient after L is {engine_first}, not {first}")
    if of is not None:
        for n in _names(needs or ""):
            if n not in needed[of] or complete[n] >= complete[of]:
                failures.append(f"the gradient of {of} does not need that of {n}")
        for n in _names(not_needed or ""):
            if n in needed[of]:
                failures.append(f"the gradient of {of} needs that of {n}")
    for text, can in ((possible, True), (impossible, False)):
        for order in (o for o in (text or "").split(";") if o.strip()):
            seq = _names(order)
            # an order is possible when each gradient needs the one before it
            follows = all(a in needed[b] for a, b in pairwise(seq))
            if follows != can:
                failures.append(f"the order {order.strip()} is {'not ' if can else ''}possible")
    return failures


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
