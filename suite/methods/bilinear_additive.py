"""Bilinear additive upsampling (Wojna et al., "The Devil is in the Decoder: Classification,
Regression and GANs", IJCV 2019)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import ParamError
from ..layers import Interpolate
from .base import INTERPOLATION_TAPS, SCALE, Method, Param, Size, times_scale
from .registry import register


class SumChannelGroups(nn.Module):
    """Sum every ``group`` consecutive channels: (B, C, H, W) -> (B, C / group, H, W)."""

    def __init__(self, group: int) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(1, (-1, self.group)).sum(dim=2)

    def extra_repr(self) -> str:
        return f"group={self.group}"


@register
class BilinearAdditive(Method):
    """Bilinear upsampling by ``scale`` (half-pixel centres, torch's ``align_corners=False``),
    then each group of ``reduction`` consecutive channels summed into one: C channels in,
    C / reduction out, no parameters. Wojna et al. use it in place of transposed convolution in
    decoders that also narrow the features; the paper's reduction is 4 (and 2 in some
    decoders). A later stage receives the narrower features."""

    name = "bilinear_additive"
    summary = "bilinear upsampling, then every `reduction` consecutive channels summed (no weights)"
    order = 50
    colour = "#cc78bc"
    #: 3 channels: the reduction must divide them
    example: ClassVar[dict[str, Any]] = {"reduction": 3}
    params = (
        SCALE,
        Param("reduction", "int", 4, "consecutive channels summed into one; must divide C"),
    )

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        return INTERPOLATION_TAPS["bilinear"]

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return times_scale(params, size)

    @classmethod
    def output_channels(cls, params: dict[str, Any], channels: int) -> int:
        if channels % params["reduction"]:
            raise ParamError(
                "reduction",
                f"{params['reduction']} does not divide the {channels} channels coming in",
            )
        return channels // params["reduction"]

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        return nn.Sequential(
            Interpolate(params["scale"], "bilinear", False), SumChannelGroups(params["reduction"])
        )
