"""Plain interpolation: no weights, so no learned artifacts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import nn

from ..layers import Interpolate as InterpolateLayer
from .base import (
    ALIGN_CORNERS,
    INTERPOLATION_TAPS,
    MODE,
    SCALE,
    Method,
    Size,
    derive_align_corners,
    times_scale,
)
from .registry import register


@register
class Interpolate(Method):
    """``F.interpolate(x, scale_factor=scale, mode=mode, align_corners=align_corners)``.

    The lecture's example: [[10, 20], [30, 40]] to 4×4, bilinear, align_corners=True, gives rows
    10, 13.33, 16.67, 20 / ... / 30, 33.33, 36.67, 40.
    """

    name = "interpolate"
    summary = "interpolation alone: nearest, bilinear or bicubic"
    order = 40
    colour = "#d55e00"
    variant_keys = ("mode", "align_corners")
    params = (SCALE, replace(MODE, default="bilinear"), ALIGN_CORNERS)

    @classmethod
    def derive(cls, values: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        derive_align_corners(values, given)
        return values

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        return INTERPOLATION_TAPS[params["mode"]]

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return times_scale(params, size)

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        return InterpolateLayer(params["scale"], params["mode"], params["align_corners"])
