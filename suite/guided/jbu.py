"""FeatUp's JBU stack (Fu et al., "FeatUp: A Model-Agnostic Framework for Features at Any
Resolution", ICLR 2024): learned joint-bilateral ×2 layers guided by the image, in plain torch
ops (its AdaptiveConv CUDA kernel is a local weighted sum)."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .base import Guided, Reference, generator_of, power_of_two, torch_default_
from .local import affinity, reassemble

DEFAULTS = {"radius": 3, "key_dim": 32, "layer_scale": 2, "fixup_gain": 0.1, "dropout": (0.1, 0.2)}


def _projection(inputs: int, hidden: int, outputs: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, hidden, 1),
        nn.GELU(),
        nn.Dropout2d(dropout),
        nn.Conv2d(hidden, outputs, 1),
    )


class JointBilateral(nn.Module):
    """One ×2 layer: features upsampled bicubically to the guide's size, then each pixel the
    weighted sum of its (2r + 1)² window (reflect-padded). The weights: a spatial Gaussian of
    learned σ over the window on [-1, 1]², times a range kernel (softmax, at a learned
    temperature, of the inner products of a projected guide with its neighbours), normalised,
    plus 0.1 × a learned correction from the kernel and the guide."""

    def __init__(self, guide_channels: int, key_dim: int, radius: int, dropout: float):
        super().__init__()
        self.diameter = 2 * radius + 1
        taps = self.diameter**2
        self.range_temp = nn.Parameter(torch.tensor(0.0))
        self.range_proj = _projection(guide_channels, key_dim, key_dim, dropout)
        self.fixup_proj = _projection(guide_channels + taps, taps, taps, dropout)
        self.sigma_spatial = nn.Parameter(torch.tensor(1.0))

    def spatial(self) -> torch.Tensor:
        steps = torch.linspace(-1.0, 1.0, self.diameter)
        squared = steps[:, None].square() + steps[None, :].square()  # (dy, dx), t = dy·d + dx
        return torch.exp(-squared / (2 * self.sigma_spatial**2)).reshape(1, -1, 1, 1)

    def range(self, guide: torch.Tensor) -> torch.Tensor:
        projected = self.range_proj(guide)
        similarity = affinity(projected, projected, self.diameter, 1, padding="reflect")
        temperature = self.range_temp.exp().clamp(1e-4, 1e4)
        return F.softmax(temperature * similarity, dim=1)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        kernel = self.range(guide) * self.spatial()
        kernel = kernel / kernel.sum(dim=1, keepdim=True).clamp(min=1e-7)
        kernel = kernel + 0.1 * self.fixup_proj(torch.cat([kernel, guide], dim=1))
        upsampled = F.interpolate(x, size=guide.shape[-2:], mode="bicubic", align_corners=False)
        return reassemble(upsampled, kernel, self.diameter, 1, padding="reflect")


class JbuStack(nn.Module):
    """log2(s) joint-bilateral ×2 layers (FeatUp's stack is four: ×16), each guided by the
    image average-pooled to its output size, then a residual 1x1 correction at gain 0.1.
    Features x (N, C, h, w), image g (N, 3, s·h, s·w)."""

    def __init__(self, channels: int, guide_channels: int, scale: int, **defaults):
        super().__init__()
        self.scale = scale
        self.fixup_gain = defaults["fixup_gain"]
        layer_dropout, stack_dropout = defaults["dropout"]
        self.layers = nn.ModuleList(
            JointBilateral(guide_channels, defaults["key_dim"], defaults["radius"], layer_dropout)
            for _ in range(power_of_two(scale))
        )
        self.fixup_proj = nn.Sequential(
            nn.Dropout2d(stack_dropout), nn.Conv2d(channels, channels, 1)
        )

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        for depth, layer in enumerate(self.layers, start=1):
            pool = self.scale >> depth  # the guide at this layer's output size
            x = layer(x, F.avg_pool2d(guide, pool) if pool > 1 else guide)
        return x + self.fixup_gain * self.fixup_proj(x)


def build(channels: int, guide_channels: int, scale: int, seed: int) -> JbuStack:
    """The stack at FeatUp's defaults, initialised as the reference leaves it: torch's default
    for every convolution, temperature exp(0) = 1, σ = 1. In eval mode (dropout off)."""
    module = JbuStack(channels, guide_channels, scale, **DEFAULTS)
    torch_default_(module, generator_of(seed))
    return module.eval()


JBU = Guided(
    name="jbu",
    summary="FeatUp's JBU stack: learned joint-bilateral ×2 layers guided by the image",
    guide="image",
    defaults=DEFAULTS,
    reference=Reference(
        repository="mhamilton723/FeatUp",
        file="featup/upsamplers.py (class JBUStack, four JBULearnedRange(3, dim, 32, radius=3))",
        commit="6b5a6c0e91f75e69194807128dcbc39c3084a30d",
        date="2024-04-23",
        constructor="JBUStack(feat_dim=64)  # ×16: four ×2 layers",
        channels=64,
        guide_channels=3,
        scale=16,
        # per layer 1 + (3·32 + 32 + 32·32 + 32) + (52·49 + 49 + 49·49 + 49) + 1 = 6,233;
        # four of them and the stack's 1x1 (64·64 + 64)
        params=29_092,
    ),
    build=build,
    scales=(2, 4, 8, 16),
)
