"""ResNets: the 1x1 projection that makes a residual's shapes match, block shapes, and why.

The notes: a residual connection computes f(x) + x, "optionally processing x to match
shape" with a 1x1 convolution. When the branch f changes the number of channels (or, with
stride s, the spatial size), the shortcut is a 1x1 convolution with C_out filters and the
same stride. The gradient of f(x) + x (the TOML families residual-grad-*) carries the +1
that lets gradients through deep stacks; the concept question's key fact is checked with
the engine (gradients through stacked plain and residual blocks).

Sizes follow PyTorch's floor((n + 2p - k)/s) + 1 and are verified against the engine's
actual Conv2d/Residual outputs; parameter counts against the engine's Conv2d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlquiz.bank.coded.common import (
    distinct_shapes,
    out_size,
    tuple_text,
)
from dlquiz.bank.family import Family, dims, register
from dlquiz.bank.problem import Problem
from dlquiz.bank.rand import Draw


@dataclass(frozen=True)
class _Block:
    """A basic ResNet block: 3x3 conv (stride s, padding 1), BN, ReLU, 3x3 conv, + shortcut."""

    n: int
    c_in: int
    c_out: int
    size: int  # height = width of the input
    stride: int
    bias: bool  # whether the 1x1 projection has a bias

    @property
    def out_size(self) -> int:
        return out_size(out_size(self.size, 3, self.stride, 1), 3, 1, 1)

    def describe(self) -> str:
        return (
            f"conv 3x3 with {self.c_out} filters, stride {self.stride}, padding 1; batch norm; "
            f"ReLU; conv 3x3 with {self.c_out} filters, stride 1, padding 1"
        )

    def engine(self, batch: int = 1) -> tuple[tuple[int, ...], int]:
        """The block's output shape and its projection's parameter count, from the engine.

        The shortcut is the engine's own Residual, which makes a 1x1 convolution with this
        stride when the shapes differ (with a bias: counted again without it when asked).
        """
        from dlquiz.engine import BatchNorm, Conv2d, Residual, Sequential, Tensor
        from dlquiz.engine import functional as F

        body = Sequential(
            Conv2d(self.c_in, self.c_out, 3, stride=self.stride, padding=1, rng=0),
            BatchNorm(self.c_out),
            F.relu,
            Conv2d(self.c_out, self.c_out, 3, stride=1, padding=1, rng=1),
        )
        block = Residual(body, self.c_in, self.c_out, stride=self.stride, rng=2)
        x = Tensor(np.random.default_rng(0).normal(size=(batch, self.c_in, self.size, self.size)))
        out = block(x).shape
        assert block.projection is not None
        proj = block.projection
        if not self.bias:
            proj = Conv2d(self.c_in, self.c_out, 1, stride=self.stride, bias=False, rng=3)
        if proj(x).shape != out:
            raise AssertionError("the 1x1 projection does not match the branch's shape")
        return out, sum(p.data.size for p in proj.parameters())


def _draw_block(draw: Draw, *, small: bool = False) -> _Block:
    """A block that changes the shape (more channels, or a stride), so it needs a projection."""
    while True:
        c_in = draw.choice([16, 32, 64] if small else [16, 32, 64, 128, 256])
        c_out = draw.choice([c_in, 2 * c_in, 2 * c_in, c_in // 2 if c_in > 16 else 3 * c_in])
        stride = draw.choice([1, 2, 2])
        if c_out != c_in or stride != 1:
            break
    size = draw.choice([8, 14, 16, 28, 32] if small else [7, 14, 28, 32, 56, 64])
    return _Block(
        draw.choice([1, 8, 32, 64]), c_in, c_out, size, stride, draw.choice([True, False])
    )


# --- shapes in a block ---------------------------------------------------------------------
@register
class BlockShape(Family):
    id = "resnet/block-shape"
    topic = "resnet"
    title = "Shapes in a residual block with stride: its output and its 1x1 projection"
    kind = "shape"
    kinds = dims(ask=("output", "weight"))

    def question_kind(self, seed: int) -> dict[str, str]:
        return {"ask": self.setup(seed)[1]}

    def setup(self, seed: int) -> tuple[_Block, str]:
        draw = Draw(self.id, seed)
        return _draw_block(draw, small=True), draw.choice(["output", "weight"])

    def generate(self, seed: int) -> Problem:
        b, ask = self.setup(seed)
        ho = b.out_size
        mid = out_size(b.size, 3, b.stride, 1)
        if ask == "output":
            key: tuple[int, ...] = (b.n, b.c_out, ho, ho)
            question = "What is the shape of the block's output f(x) + x (NCHW)?"
        else:
            key = (b.c_out, b.c_in, 1, 1)
            question = (
                "What is the shape of the weight tensor of the 1x1 convolution on the "
                "shortcut (PyTorch's order: out channels, in channels, kernel height, kernel "
                "width)?"
            )
        statement = (
            "A residual block receives a batch $x$ of shape "
            f"{tuple_text((b.n, b.c_in, b.size, b.size))} (NCHW). Its branch f is: {b.describe()}. "
            "Because f changes the shape, the "
            f"shortcut is a 1x1 convolution with stride {b.stride}. {question}"
        )
        solution = (
            f"The first conv: floor(({b.size} + 2 - 3)/{b.stride}) + 1 = {mid}, with "
            f"{b.c_out} channels; the second conv (stride 1, padding 1) keeps {mid}x{mid}. So "
            f"f(x) has shape {tuple_text((b.n, b.c_out, ho, ho))}. The shortcut must produce the "
            f"same shape from {b.c_in} channels of size {b.size}x{b.size}: a 1x1 convolution "
            f"with {b.c_out} filters and stride {b.stride}, whose weight has shape "
            f"{tuple_text((b.c_out, b.c_in, 1, 1))}. "
            + (
                f"The sum f(x) + x has the shape of f(x): {tuple_text(key)}."
                if ask == "output"
                else f"So the weight's shape is {tuple_text(key)}."
            )
        )
        if ask == "output":
            candidates = [
                (
                    "stride-ignored",
                    (b.n, b.c_out, b.size, b.size),
                    f"The first conv's stride {b.stride} shrinks height and width.",
                ),
                (
                    "in-channels",
                    (b.n, b.c_in, ho, ho),
                    f"The branch ends with {b.c_out} "
                    "filters, and the projected shortcut matches them.",
                ),
                (
                    "stride-twice",
                    (b.n, b.c_out, out_size(mid, 3, b.stride, 1), out_size(mid, 3, b.stride, 1)),
                    "Only the first conv has the stride; the second has stride 1.",
                ),
            ]
        else:
            candidates = [
                (
                    "transposed-weight",
                    (b.c_in, b.c_out, 1, 1),
                    "PyTorch orders a conv weight (out channels, in channels, kh, kw).",
                ),
                ("kernel-3x3", (b.c_out, b.c_in, 3, 3), "The projection is a 1x1 convolution."),
                (
                    "no-kernel-dims",
                    (b.c_out, b.c_in),
                    "A conv weight has four dimensions, the last two the 1x1 kernel.",
                ),
            ]
        return self.problem(
            seed,
            statement=statement,
            answer=tuple_text(key),
            hints=[
                "Follow height and width through each conv with floor((n + 2p - k)/s) + 1.",
                "The shortcut must produce exactly the shape of f(x).",
            ],
            solution=solution,
            mistakes=distinct_shapes(key, candidates),
        )

    def verify(self, problem: Problem) -> list[str]:
        """The engine's Residual with this body: its output and its projection's weight."""
        from dlquiz.engine import Conv2d

        b, ask = self.setup(problem.seed)
        batch = min(b.n, 2)  # the batch passes through; two images show that it does
        shape, _ = b.engine(batch)
        if shape[0] != batch:
            return [f"the engine changed the batch size: {shape}"]
        if ask == "output":
            engine = (b.n, *shape[1:])
        else:
            engine = Conv2d(b.c_in, b.c_out, 1, stride=b.stride, rng=0).weight.shape
        if tuple_text(engine) != problem.answer:
            return [f"the key {problem.answer} but the engine gives {tuple_text(engine)}"]
        return []
