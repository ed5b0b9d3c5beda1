"""Sub-pixel convolution (Shi et al. 2016): conv to C·s² channels, then PixelShuffle."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..init import initialise
from ..layers import learned_layers, padded_conv
from .base import KERNEL, PADDING, SCALE, Method, Size, conv_then_scale
from .registry import register


@register
class PixelShuffle(Method):
    """Conv2d(C, C·s², kernel) then PixelShuffle(s): channel c·s² + (i·s + j) becomes the pixel at
    offset (i, j) of channel c (ONNX DepthToSpace, mode CRD). ``init = icnr`` (Aitken et al. 2017)
    starts it out as nearest-neighbour upsampling of one convolution."""

    name = "pixel_shuffle"
    summary = "sub-pixel convolution: conv to C·s² channels, then PixelShuffle"
    order = 60
    colour = "#ca9161"
    params = (SCALE, KERNEL, PADDING)
    inits = ("random", "ones", "icnr", "trained")

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return conv_then_scale(params, size)

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        scale = params["scale"]
        block = nn.Sequential(
            padded_conv(channels, channels * scale * scale, params["kernel"], params["padding"]),
            nn.PixelShuffle(scale),
        )
        initialise(learned_layers(block), params["init"], generator, scale)
        return block
