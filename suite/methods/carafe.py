"""CARAFE: content-aware reassembly of features (Wang et al., ICCV 2019), in plain torch
operations that export to ONNX (no custom kernel)."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..errors import ParamError
from .base import SCALE, Method, Param, Size, times_scale
from .registry import register


class Carafe(nn.Module):
    """Kernel prediction, then reassembly.

    1. A 1x1 convolution compresses C channels to ``compressed``; a ``encoder_kernel`` ×
       ``encoder_kernel`` convolution predicts s²·k_up² values per input pixel; PixelShuffle(s)
       spreads them to k_up² per output pixel, and a softmax over those k_up² normalises each
       output pixel's reassembly kernel (it sums to 1).
    2. Output pixel (i, j) is the kernel-weighted sum of the k_up × k_up neighbourhood of input
       pixel (i // s, j // s), channel by channel (zero outside the image, as the reference
       kernel). The neighbourhoods are k_up² shifted slices of the zero-padded input, repeated
       by nearest upsampling: plain Pad, Slice, Concat and Resize in ONNX.
    """

    def __init__(
        self, channels: int, scale: int, up_kernel: int, encoder_kernel: int, compressed: int
    ) -> None:
        super().__init__()
        self.scale, self.up_kernel = scale, up_kernel
        self.compress = nn.Conv2d(channels, compressed, 1)
        self.encode = nn.Conv2d(
            compressed,
            scale * scale * up_kernel * up_kernel,
            encoder_kernel,
            padding=encoder_kernel // 2,
        )
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, channels, height, width = x.shape
        k, reach = self.up_kernel, self.up_kernel // 2
        kernels = F.softmax(self.shuffle(self.encode(self.compress(x))), dim=1)  # (B, k², sH, sW)
        padded = F.pad(x, (reach, reach, reach, reach))
        patches = torch.stack(
            [padded[:, :, dy : dy + height, dx : dx + width] for dy in range(k) for dx in range(k)],
            dim=2,
        )  # (B, C, k², H, W)
        patches = F.interpolate(patches.flatten(1, 2), scale_factor=self.scale, mode="nearest")
        patches = patches.unflatten(1, (channels, k * k))  # (B, C, k², sH, sW)
        return (patches * kernels.unsqueeze(1)).sum(dim=2)


@register
class CarafeMethod(Method):
    """CARAFE with the reference defaults: up-kernel 5, encoder kernel 3, 64 compressed
    channels, both convolutions with a bias; 256 channels at scale 2 have
    256·64 + 64 + 64·100·9 + 100 = 74,148 parameters. ``init = "random"`` is the reference
    implementation's (mmcv's CARAFEPack): Xavier-uniform compressor, N(0, 0.001²) encoder, zero
    biases, drawn from the case's generator; at that start every reassembly kernel is nearly
    uniform (a k_up × k_up box over nearest upsampling)."""

    name = "carafe"
    summary = (
        "content-aware reassembly: predicted, softmax-normalised k_up² kernels per output pixel"
    )
    order = 80
    colour = "#949494"
    has_bias = True
    params = (
        SCALE,
        Param("up_kernel", "int", 5, "reassembly kernel size k_up (odd)"),
        Param("encoder_kernel", "int", 3, "kernel size of the content encoder (odd)"),
        Param("compressed", "int", 64, "channels after the 1x1 channel compressor"),
    )
    inits = ("random", "trained")

    @classmethod
    def derive(cls, values: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        for key in ("up_kernel", "encoder_kernel"):
            if values[key] % 2 == 0:
                raise ParamError(key, f"must be odd (centred on a pixel), got {values[key]}")
        return values

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        # the encoder predicts each kernel from its window, and the kernel reassembles its own
        return params["up_kernel"] + params["encoder_kernel"]

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return times_scale(params, size)

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        block = Carafe(
            channels,
            params["scale"],
            params["up_kernel"],
            params["encoder_kernel"],
            params["compressed"],
        )
        with torch.no_grad():
            weight = block.compress.weight
            fan_in, fan_out = weight.shape[1], weight.shape[0]  # 1x1: no kernel area
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            weight.uniform_(-bound, bound, generator=generator)
            block.encode.weight.normal_(0.0, 0.001, generator=generator)
            block.compress.bias.zero_()
            block.encode.bias.zero_()
        return block
