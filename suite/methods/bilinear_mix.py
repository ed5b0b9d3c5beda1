"""The lecture's block: convolve to many channels, upsample bilinearly, mix back with a 1x1 conv."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..init import initialise
from ..layers import Interpolate, learned_layers, padded_conv
from .base import INTERPOLATION_TAPS, KERNEL, PADDING, SCALE, Method, Param, Size, conv_then_scale
from .registry import register


@register
class BilinearMix(Method):
    """Conv2d(C, hidden, kernel) → bilinear upsampling by ``scale`` → Conv2d(hidden, C, 1).

    The lecture's instance: 1 → 64 → 1 channels, 3x3 kernel with padding 1, scale 2 with
    align_corners=True, on 224×224, giving 448×448. The 1x1 convolution mixes the upsampled
    feature maps (hypercolumn-style channel mixing); interpolation spreads every input pixel
    evenly, so there is no checkerboard.
    """

    name = "bilinear_mix"
    summary = "conv to `hidden` channels, bilinear upsampling, 1x1 conv back (the lecture's block)"
    order = 70
    colour = "#fbafe4"
    lecture_claim = "proposed"
    variant_keys = ("align_corners", "init")
    params = (
        SCALE,
        KERNEL,
        PADDING,
        Param("hidden", "int", 64, "channels between the two convolutions"),
        Param("align_corners", "bool", True, "align_corners of the bilinear upsampling"),
    )
    inits = ("random", "ones", "trained")

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        return params["kernel"] + INTERPOLATION_TAPS["bilinear"]

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return conv_then_scale(params, size)

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        hidden = params["hidden"]
        block = nn.Sequential(
            padded_conv(channels, hidden, params["kernel"], params["padding"]),
            Interpolate(params["scale"], "bilinear", params["align_corners"]),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )
        initialise(learned_layers(block), params["init"], generator, params["scale"])
        return block
