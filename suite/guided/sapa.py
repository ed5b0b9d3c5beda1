"""SAPA-B (Lu et al., "SAPA: Similarity-Aware Point Affiliation for Feature Upsampling",
NeurIPS 2022), the base variant, in plain torch ops."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .base import Guided, Reference, generator_of
from .local import affinity, reassemble

DEFAULTS = {"up_kernel": 5, "embedding": 32, "qkv_bias": True, "norm": True, "groups": 32}


class Sapa(nn.Module):
    """Decoder features x (N, C, h, w), encoder features g (N, C_g, s·h, s·w).

    Each output pixel's query (a 1x1 projection of the GroupNorm-ed encoder feature there) is
    compared with the keys (a 1x1 projection of the GroupNorm-ed decoder features) in the
    k × k window of its input pixel; the softmax of those k² inner products weighs the
    un-normalised decoder features of the same window. Outside the map a key scores 0 and a
    value is 0, as the reference's CUDA kernels leave them."""

    def __init__(
        self,
        channels: int,
        guide_channels: int,
        scale: int,
        up_kernel: int,
        embedding: int,
        qkv_bias: bool,
        norm: bool,
        groups: int,
    ):
        super().__init__()
        self.scale, self.up_kernel = scale, up_kernel
        self.norm_guide = nn.GroupNorm(groups, guide_channels) if norm else nn.Identity()
        self.norm_input = nn.GroupNorm(groups, channels) if norm else nn.Identity()
        self.query = nn.Conv2d(guide_channels, embedding, 1, bias=qkv_bias)
        self.key = nn.Conv2d(channels, embedding, 1, bias=qkv_bias)

    def attention(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        query = self.query(self.norm_guide(guide))
        key = self.key(self.norm_input(x))
        return F.softmax(affinity(query, key, self.up_kernel, self.scale), dim=1)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        return reassemble(x, self.attention(x, guide), self.up_kernel, self.scale)


def build(channels: int, guide_channels: int, scale: int, seed: int) -> Sapa:
    """SAPA-B at its defaults; the reference's init: projections N(0, 0.02²), zero biases,
    GroupNorm's identity affine."""
    groups = DEFAULTS["groups"]
    for name, count in (("channels", channels), ("guide channels", guide_channels)):
        if count % groups:
            raise ValueError(f"SAPA's GroupNorm({groups}) needs {name} a multiple of {groups}")
    module = Sapa(channels, guide_channels, scale, **DEFAULTS)
    generator = generator_of(seed)
    with torch.no_grad():
        for layer in (module.query, module.key):
            layer.weight.normal_(0.0, 0.02, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
    return module.eval()


SAPA = Guided(
    name="sapa",
    summary="SAPA-B: softmax of encoder-query / decoder-key similarity weighs a k×k window",
    guide="encoder",
    defaults=DEFAULTS,
    reference=Reference(
        repository="tiny-smart/sapa",
        file="sapa_base.py (class SAPA)",
        commit="a5acd520895c69886ce7175010d50a71d50b5a0e",
        date="2023-07-18",
        constructor="SAPA(dim_y=64)  # dim_x = 64, up_factor 2, up_kernel_size 5, embedding 32",
        channels=64,
        guide_channels=64,
        scale=2,
        # two GroupNorm(32, 64): 2·128; q and k: 2·(64·32 + 32)
        params=4_416,
    ),
    build=build,
)
