"""What of the course notes each family practises: the README's coverage table.

Every sub-point and formula of the notes (shared/seeds/midterm-review.md) is a row,
under the topic it belongs to, with the ids of the families that practise it. A test
holds that every id exists, every topic and every point has a family, and that the
README's table is ``markdown()``; a point beyond the notes is marked so (its problems
say so in their statement).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    topic: str
    point: str  # the notes' sub-point or formula, as the notes put it
    families: tuple[str, ...]
    beyond: bool = False  # not in the notes: an exam on them may still ask it


POINTS: tuple[Point, ...] = (
    # --- autograd ---------------------------------------------------------------------
    Point(
        "autograd",
        "decomposing a model into atomic operations: its computational graph",
        ("autograd/operations", "autograd/backward-values", "autograd/softmax-cross-entropy"),
    ),
    Point(
        "autograd",
        "the backward pass: each node's local gradient times the upstream one",
        (
            "autograd/local-gradient",
            "autograd/backward-values",
            "autograd/softmax-cross-entropy",
            "autograd/backward-order",
        ),
    ),
    Point(
        "autograd",
        "h = ReLU(W_n x + b_n), o = W_o h + b_o, L = (y - o)², and dL/dW_n by the chain rule",
        ("autograd/weight-gradient",),
    ),
    Point(
        "autograd",
        "a variable used twice (tied or shared weights, a skip connection): the backward pass "
        "adds the gradients of its uses",
        ("autograd/reused-variable",),
        beyond=True,
    ),
    # --- linear regression ----------------------------------------------------------------
    Point(
        "linear-regression",
        "ŷ = wᵀx + b",
        ("linear-regression/dw-vector", "linear-regression/dw-scalar"),
    ),
    Point(
        "linear-regression",
        "L = ½(ŷ - y)² and dL/dw = dL/dŷ dŷ/dw = (ŷ - y)x",
        (
            "linear-regression/dw-scalar",
            "linear-regression/dw-vector",
            "linear-regression/batch-gradient",
        ),
    ),
    Point(
        "linear-regression",
        "w ← w - η∇_w L",
        ("linear-regression/sgd-update", "linear-regression/sgd-steps"),
    ),
    # --- softmax regression ---------------------------------------------------------------
    Point(
        "softmax-regression",
        "o = Wx + b, ŷ = softmax(o), ŷ_i = exp(o_i)/Σ_k exp(o_k)",
        ("softmax-regression/probabilities",),
    ),
    Point(
        "softmax-regression",
        "L = -Σ_i y_i log ŷ_i = -log ŷ_c (one-hot label)",
        ("softmax-regression/loss-value",),
    ),
    Point(
        "softmax-regression",
        "dL/do_i = softmax(o)_i - y_i",
        (
            "softmax-regression/dl-do",
            "softmax-regression/gradients",
            "softmax-regression/weight-gradient",
        ),
    ),
    Point(
        "softmax-regression",
        "behind dL/do_i = softmax(o)_i - y_i: the Jacobian dŷ/do = diag(ŷ) - ŷŷᵀ",
        ("softmax-regression/jacobian", "softmax-regression/jacobian-matrix"),
    ),
    Point(
        "softmax-regression",
        "softmax(o + c) = softmax(o), and log Σ_k exp(o_k) = m + log Σ_k exp(o_k - m) "
        "with m the largest score",
        ("softmax-regression/log-sum-exp",),
    ),
    Point(
        "softmax-regression",
        "cross-entropy with label smoothing, y_smooth = (1 - ε)y + ε/K, and dL/do = ŷ - y_smooth",
        ("softmax-regression/label-smoothing",),
        beyond=True,
    ),
    Point(
        "softmax-regression",
        "(logistic): two classes, ŷ = sigmoid(z) with the binary cross-entropy, dL/dz = σ(z) - y",
        ("softmax-regression/logistic", "softmax-regression/logistic-gradient"),
    ),
    # --- activations ----------------------------------------------------------------------
    Point(
        "activations",
        "sigmoid(x) = 1/(1 + exp(-x)) and d sigmoid/dx = sigmoid(x)(1 - sigmoid(x))",
        ("activations/composition", "activations/derivative-values", "activations/identify"),
    ),
    Point(
        "activations",
        "ReLU(x) = max(0, x) and dReLU/dx = 1 for x > 0, 0 for x ≤ 0",
        ("activations/derivative-values", "activations/neuron-derivative"),
    ),
    Point(
        "activations",
        "vanishing gradients: through L sigmoid layers a product of w_m sigmoid'(z_m), at most "
        "prod |w_m|/4 ((1/4)^L with unit weights), against ReLU's factor 1",
        ("activations/vanishing-gradient",),
    ),
    # --- MLP -------------------------------------------------------------------------------
    Point(
        "mlp",
        "h = Φ(W₁x + b₁), O = W₂h + b₂ (feed forward, dense, fully connected)",
        ("mlp/forward", "mlp/backward", "mlp/shapes", "mlp/parameter-count"),
    ),
    Point(
        "mlp",
        "the hidden representation's non-linearity Φ (without it the layers collapse into "
        "one affine map)",
        ("mlp/nonlinearity", "mlp/forward"),
    ),
    # --- backprop -------------------------------------------------------------------------
    Point(
        "backprop",
        "z_m = w_m a_{m-1} + b_m, a_m = φ_m(z_m)",
        ("backprop/two-layer", "backprop/numeric-delta"),
    ),
    Point(
        "backprop",
        "dL/dw_m = dL/dz_m a_{m-1}ᵀ",
        ("backprop/dl-dw", "backprop/numeric-delta"),
    ),
    Point(
        "backprop",
        "the recursion dL/dz_m = (w_{m+1}ᵀ dL/dz_{m+1}) ⊙ da_m/dz_m",
        ("backprop/recursion", "backprop/numeric-delta"),
    ),
    # --- initialization -------------------------------------------------------------------
    Point(
        "initialization",
        "x ~ N(0, I), w ~ N(0, σ²I), nonlinearities ignored: the variance of a layer",
        ("initialization/output-variance", "initialization/variance-formula"),
    ),
    Point(
        "initialization",
        "σ = sqrt(2/(n_in + n_out)) (Xavier)",
        ("initialization/xavier", "initialization/why-xavier"),
    ),
    Point(
        "initialization",
        "the fans of a convolution: n_in = C_in·k², n_out = C_out·k²",
        ("initialization/conv-fans",),
        beyond=True,
    ),
    Point(
        "initialization",
        "He (Kaiming) for ReLU: σ² = 2/n_in",
        ("initialization/he-init",),
        beyond=True,
    ),
    Point(
        "initialization",
        "random initial weights: zero or constant weights leave the hidden units symmetric",
        ("initialization/symmetry",),
        beyond=True,
    ),
    # --- regularization -------------------------------------------------------------------
    Point(
        "regularization",
        "weight decay: add the loss term λ‖w‖²",
        (
            "regularization/weight-decay-gradient",
            "regularization/weight-decay-update",
            "regularization/weight-decay-step",
        ),
    ),
    Point(
        "regularization",
        "the effect of λ on the solution: 1-D least squares with λw² shrinks w* toward 0",
        ("regularization/ridge-shrinkage",),
    ),
    Point(
        "regularization",
        "dropout: h' = 0 with probability p, h/(1 - p) with probability 1 - p",
        (
            "regularization/dropout-expectation",
            "regularization/dropout-output",
            "regularization/dropout-test-time",
        ),
    ),
    Point(
        "regularization",
        "the dropout rate p and what the next layer receives: E[wᵀh'] and Var(wᵀh')",
        ("regularization/dropout-rate",),
    ),
    # --- optimizers -----------------------------------------------------------------------
    Point(
        "optimizers",
        "momentum: v_t ← βv_{t-1} + g_t, Θ_t ← Θ_{t-1} - ηv_t",
        ("optimizers/momentum-steps", "optimizers/momentum-unrolled"),
    ),
    Point(
        "optimizers",
        "momentum on a constant gradient g: v → g/(1 - β), a steady step ηg/(1 - β)",
        ("optimizers/momentum-steady-state",),
    ),
    Point(
        "optimizers",
        "Adam: η v̂_t/(sqrt(ŝ_t) + ε) with bias-corrected moments",
        (
            "optimizers/adam-steps",
            "optimizers/adam-bias-correction",
            "optimizers/adam-many-steps",
        ),
    ),
    Point(
        "optimizers",
        "Adam's first step: with bias correction v̂₁ = g₁, ŝ₁ = g₁², a step ≈ η·sign(g₁)",
        ("optimizers/adam-first-step",),
    ),
    # --- convolution ----------------------------------------------------------------------
    Point(
        "convolution",
        "H_ijd = Σ_a Σ_b Σ_c V_abcd X_{i+a, j+b, c}",
        ("convolution/output-entry", "convolution/output-map", "convolution/gradient"),
    ),
    Point(
        "convolution",
        "padding and striding",
        ("convolution/output-size", "convolution/output-shape", "convolution/same-padding"),
    ),
    Point(
        "convolution",
        "multiple input and output channels",
        ("convolution/output-shape", "convolution/param-count"),
    ),
    Point("convolution", "receptive field", ("convolution/receptive-field",)),
    Point(
        "convolution",
        "ConvNet ingredients: convolutions, pooling, dense layers (a whole CNN's shapes, "
        "parameters and multiply-accumulates)",
        ("convolution/cnn-shapes", "convolution/cnn-counts"),
    ),
    Point(
        "convolution",
        "dilation: the output size and the receptive field of a dilated kernel",
        ("convolution/dilation",),
        beyond=True,
    ),
    # --- pooling --------------------------------------------------------------------------
    Point(
        "pooling",
        "pooling: a reduction over a region of the input (max, average)",
        (
            "pooling/max-pool-output",
            "pooling/avg-pool-output",
            "pooling/max-pool-gradient",
            "pooling/output-size",
        ),
    ),
    Point(
        "pooling",
        "the backward pass of pooling: max routes each window's gradient to its maximum, "
        "average shares it equally",
        ("pooling/max-pool-gradient", "pooling/avg-pool-gradient", "pooling/max-pool-overlap"),
    ),
    # --- batch norm -----------------------------------------------------------------------
    Point(
        "batch-norm",
        "μ_B = (1/|B|) Σ x and σ_B² = (1/|B|) Σ (x - μ_B)²",
        ("batch-norm/statistics",),
    ),
    Point(
        "batch-norm",
        "BatchNorm(x) = γ ⊙ (x - μ_B)/(σ_B + ε) + β",
        ("batch-norm/output-notes", "batch-norm/output-pytorch", "batch-norm/test-time"),
    ),
    Point(
        "batch-norm",
        "backward through BatchNorm(x): ∂L/∂γ, ∂L/∂β and ∂L/∂x (through μ_B and σ_B)",
        ("batch-norm/backward",),
    ),
    Point(
        "batch-norm",
        "γ, β learnable parameters, the same shape as x",
        ("batch-norm/parameters",),
    ),
    Point(
        "batch-norm",
        "running averages of the batch statistics for test time (PyTorch: momentum 0.1, "
        "unbiased running variance)",
        ("batch-norm/running-average", "batch-norm/test-time"),
        beyond=True,
    ),
    Point(
        "batch-norm",
        "after a convolution: one γ, β and one μ_B, σ_B² per channel, over N, H and W",
        ("batch-norm/conv-statistics", "batch-norm/parameters"),
        beyond=True,
    ),
    # --- resnet ---------------------------------------------------------------------------
    Point(
        "resnet",
        "a residual connection f(x) + x",
        ("resnet/residual-grad-scalar", "resnet/residual-grad-vector", "resnet/purpose"),
    ),
    Point(
        "resnet",
        "gradients through L residual blocks: the product of (1 + f'_m), against the plain "
        "stack's product of f'_m",
        ("resnet/gradient-through-blocks",),
    ),
    Point(
        "resnet",
        "processing x to match the shape: a 1x1 convolution",
        ("resnet/block-shape", "resnet/projection-params"),
    ),
)


def markdown() -> str:
    """The README's coverage table."""
    lines = ["| topic | the notes | families |", "|---|---|---|"]
    for p in POINTS:
        point = p.point.replace("|", "\\|") + (" (beyond the notes)" if p.beyond else "")
        ids = ", ".join(f"`{f}`" for f in p.families)
        lines.append(f"| {p.topic} | {point} | {ids} |")
    return "\n".join(lines)
