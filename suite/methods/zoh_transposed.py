"""Transposed convolution followed by a fixed zero-order hold (Sugawara et al., "Super-resolution
using convolutional neural networks without any checkerboard artifacts", ICIP 2018, and
"Checkerboard artifacts free convolutional neural networks", APSIPA TSIP 2019)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..geometry import conv_padding
from .registry import register
from .transposed import Transposed


class ZeroOrderHold(nn.Module):
    """A fixed s × s mean filter per channel (stride 1, "same" size; the even kernel takes its
    extra zero after). Its frequency response is zero at every multiple of 1/s cycles per pixel
    except DC: exactly where a stride-s layer's periodic pattern lives, so whatever the layer
    before it learns, a constant input gives a constant interior. Not a learned layer."""

    def __init__(self, channels: int, scale: int) -> None:
        super().__init__()
        self.scale = scale
        kernel = torch.full((channels, 1, scale, scale), 1.0 / (scale * scale))
        self.register_buffer("kernel", kernel)
        self.padding = conv_padding(scale, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        before, after = self.padding
        padded = F.pad(x, (before, after, before, after))
        return F.conv2d(padded, self.kernel, groups=self.kernel.shape[0])

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


@register
class ZohTransposed(Transposed):
    """ConvTranspose2d as in ``transposed`` (same keys and geometry), then the fixed zero-order
    hold of the stride (``ZeroOrderHold``): free of checkerboard artifacts by construction, with
    the transposed convolution's parameters only."""

    name = "zoh_transposed"
    summary = "transposed conv, then a fixed s×s zero-order hold (checkerboard-free by design)"
    order = 20
    colour = "#de8f05"
    lecture_claim = None  # a Transposed subclass, but not the claim's layer

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        return params["kernel"] + 1  # the hold averages one more input pixel's worth

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        transposed = Transposed.build(params, channels, generator)
        return nn.Sequential(transposed, ZeroOrderHold(channels, params["stride"]))
