"""Resize-convolution (Odena, Dumoulin & Olah 2016): interpolate, then a stride-1 convolution."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..geometry import conv_out, conv_padding
from ..init import initialise
from ..layers import Interpolate, learned_layers, padded_conv
from .base import (
    ALIGN_CORNERS,
    INTERPOLATION_TAPS,
    KERNEL,
    MODE,
    PADDING,
    SCALE,
    Method,
    Size,
    derive_align_corners,
)
from .registry import register


@register
class ResizeConv(Method):
    """Interpolate by ``scale`` (``mode``, default nearest as in Odena et al.), then a
    ``kernel``×``kernel`` convolution C → C that keeps the size unless ``padding`` is given.

    Every output pixel sees the same number of input taps, so no uneven overlap: a constant input
    gives a constant output for any weights.
    """

    name = "resize_conv"
    summary = "interpolate, then convolve (Odena et al.'s checkerboard-free fix)"
    order = 30
    colour = "#029e73"
    variant_keys = ("mode", "align_corners", "init")
    params = (SCALE, MODE, ALIGN_CORNERS, KERNEL, PADDING)
    inits = ("random", "ones", "trained")

    @classmethod
    def derive(cls, values: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        derive_align_corners(values, given)
        return values

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        return params["kernel"] + INTERPOLATION_TAPS[params["mode"]]

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        pads = conv_padding(params["kernel"], params["padding"])
        h, w = (conv_out(n * params["scale"], params["kernel"], pads) for n in size)
        return h, w

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        block = nn.Sequential(
            Interpolate(params["scale"], params["mode"], params["align_corners"]),
            padded_conv(channels, channels, params["kernel"], params["padding"]),
        )
        initialise(learned_layers(block), params["init"], generator, params["scale"])
        return block
