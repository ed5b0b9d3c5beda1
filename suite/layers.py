"""Small torch building blocks shared by the methods."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .geometry import conv_padding


class Interpolate(nn.Module):
    """``F.interpolate`` by an integer factor.

    ``align_corners=True`` maps the corner pixels' centres onto each other (source coordinate
    x_in = x_out · (in - 1) / (out - 1)); ``False`` maps pixel edges
    (x_in = (x_out + 0.5) / s - 0.5), which is ONNX Resize's ``half_pixel``. ``nearest`` picks
    floor(x_out / s) (ONNX ``asymmetric``).
    """

    def __init__(self, scale: int, mode: str, align_corners: bool | None) -> None:
        super().__init__()
        self.scale = scale
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(
            x, scale_factor=self.scale, mode=self.mode, align_corners=self.align_corners
        )

    def extra_repr(self) -> str:
        return f"scale={self.scale}, mode={self.mode}, align_corners={self.align_corners}"


def padded_conv(in_channels: int, out_channels: int, kernel: int, padding: int | None) -> nn.Module:
    """A stride-1, bias-free convolution; ``padding=None`` keeps the spatial size ("same").

    Even kernels need one more zero after than before; that is an explicit ``ZeroPad2d`` so that
    torch and the ONNX graph both say so plainly.
    """
    before, after = conv_padding(kernel, padding)
    if before == after:
        return nn.Conv2d(in_channels, out_channels, kernel, padding=before, bias=False)
    return nn.Sequential(
        nn.ZeroPad2d((before, after, before, after)),
        nn.Conv2d(in_channels, out_channels, kernel, padding=0, bias=False),
    )


def learned_layers(module: nn.Module) -> list[nn.Module]:
    """Convolutions and transposed convolutions, in definition order."""
    return [m for m in module.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
