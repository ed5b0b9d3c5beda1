"""Transposed convolution ("deconvolution", "up-convolution"): ConvTranspose2d."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ParamError
from ..geometry import exact_scale_padding, transposed_out
from ..init import initialise
from .base import KERNEL, PADDING, Method, Param, Size
from .registry import register


@register
class Transposed(Method):
    """ConvTranspose2d(C, C, kernel, stride, padding, output_padding), no bias.

    ``stride`` defaults to ``scale`` and ``scale`` to ``stride`` (both 2 when neither is given; a
    case giving both must make them agree). Without ``padding`` the layer gets the padding and
    output_padding that make the output exactly ``scale`` × the input; with it, the output follows
    o = (i - 1)·s - 2p + k + output_padding, e.g. the lecture's 3x3, stride 2, padding 1 on 224
    gives 447, and 3x3, stride 1, padding 0 on 3 gives 5.
    """

    name = "transposed"
    summary = "ConvTranspose2d (checkerboard-prone when kernel is not a multiple of stride)"
    order = 10
    colour = "#0173b2"
    lecture_claim = "questioned"
    params = (
        KERNEL,
        Param("stride", "int", None, "stride of the transposed convolution; defaults to scale"),
        Param("scale", "int", None, "nominal upsampling factor; defaults to stride"),
        PADDING,
        Param(
            "output_padding",
            "int",
            None,
            "extra rows/columns on one side; derived with padding, else 0",
            minimum=0,
        ),
    )
    inits = ("random", "ones", "bilinear", "trained")

    @classmethod
    def derive(cls, values: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        stride, scale = values["stride"], values["scale"]
        if stride is not None and scale is not None and stride != scale:
            raise ParamError("scale", f"scale = {scale} disagrees with stride = {stride}")
        values["stride"] = values["scale"] = stride or scale or 2
        if values["padding"] is None:
            if values["output_padding"] is not None:
                raise ParamError("output_padding", "give padding too, or neither")
            values["padding"], values["output_padding"] = exact_scale_padding(
                values["kernel"], values["stride"]
            )
        elif values["output_padding"] is None:
            values["output_padding"] = 0
        return values

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        h, w = (
            transposed_out(
                n, params["kernel"], params["stride"], params["padding"], params["output_padding"]
            )
            for n in size
        )
        return h, w

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        layer = nn.ConvTranspose2d(
            channels,
            channels,
            params["kernel"],
            stride=params["stride"],
            padding=params["padding"],
            output_padding=params["output_padding"],
            bias=False,
        )
        initialise([layer], params["init"], generator, params["scale"])
        return layer
