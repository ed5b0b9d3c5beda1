"""DySample (Liu et al., "Learning to Upsample by Learning to Sample", ICCV 2023)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..errors import ParamError
from .base import INTERPOLATION_TAPS, SCALE, Method, Param, Size, times_scale
from .registry import register


def initial_positions(scale: int, groups: int) -> torch.Tensor:
    """The static sampling offsets of the "lp" style: the s² sub-pixel centres of each input pixel,
    ±(s - 1) / (2s) around it ([-0.25, 0.25] at s = 2), the same for every group;
    shape (1, 2·groups·s², 1, 1), x offsets first."""
    steps = torch.arange((-scale + 1) / 2, (scale - 1) / 2 + 1) / scale
    grid = torch.stack(torch.meshgrid(steps, steps, indexing="ij")).transpose(1, 2)
    return grid.repeat(1, groups, 1).reshape(1, -1, 1, 1)


class DySample(nn.Module):
    """The "lp" style with a static scope: offsets = 0.25 · Conv1x1(x) + the initial positions,
    then bilinear ``grid_sample`` (half-pixel centres, border padding) of each channel group at
    its own s² offsets per input pixel, arranged by pixel shuffle. ONNX: GridSample."""

    def __init__(self, channels: int, scale: int, groups: int) -> None:
        super().__init__()
        self.scale, self.groups = scale, groups
        self.offset = nn.Conv2d(channels, 2 * groups * scale * scale, 1)
        self.register_buffer("init_pos", initial_positions(scale, groups))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        s, g = self.scale, self.groups
        offset = (self.offset(x) * 0.25 + self.init_pos).view(batch, 2, -1, height, width)
        xs = torch.arange(width, dtype=x.dtype) + 0.5
        ys = torch.arange(height, dtype=x.dtype) + 0.5
        centres = torch.stack(torch.meshgrid(xs, ys, indexing="ij")).transpose(1, 2)
        normaliser = torch.tensor([width, height], dtype=x.dtype).view(1, 2, 1, 1, 1)
        coords = 2 * (centres[None, :, None] + offset) / normaliser - 1
        coords = F.pixel_shuffle(coords.reshape(batch, -1, height, width), s)
        coords = coords.view(batch, 2, g, s * height, s * width).permute(0, 2, 3, 4, 1)
        sampled = F.grid_sample(
            x.reshape(batch * g, channels // g, height, width),
            coords.flatten(0, 1),
            mode="bilinear",
            padding_mode="border",
            align_corners=False,
        )
        return sampled.view(batch, channels, s * height, s * width)


@register
class DySampleMethod(Method):
    """DySample, the static-scope "lp" variant: a 1x1 convolution (with bias) predicts 2·g·s²
    offsets per input pixel; 256 channels, scale 2 and 4 groups give 8,192 weights and 32
    biases. ``init = "random"`` is the reference implementation's: weights N(0, 0.001²), zero
    bias, so it starts out as (nearly) bilinear upsampling. A constant input stays that constant
    for any weights: bilinear sampling with border padding only ever mixes equal values."""

    name = "dysample"
    summary = "learned offsets from a 1x1 conv, bilinear grid_sample (the static-scope lp style)"
    order = 90
    colour = "#ece133"
    has_bias = True
    #: 3 channels: the groups must divide them
    example: ClassVar[dict[str, Any]] = {"groups": 3}
    params = (SCALE, Param("groups", "int", 4, "channel groups, each with its own offsets"))
    inits = ("random", "trained")

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        # bilinear taps around a sampling point the offsets move by up to about a pixel
        return INTERPOLATION_TAPS["bilinear"] + 2

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return times_scale(params, size)

    @classmethod
    def output_channels(cls, params: dict[str, Any], channels: int) -> int:
        if channels % params["groups"]:
            raise ParamError(
                "groups", f"{params['groups']} does not divide the {channels} channels coming in"
            )
        return channels

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        block = DySample(channels, params["scale"], params["groups"])
        with torch.no_grad():
            block.offset.weight.normal_(0.0, 0.001, generator=generator)
            block.offset.bias.zero_()
        return block
