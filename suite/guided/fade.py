"""FADE (Lu et al., "FADE: Fusing the Assets of Decoder and Encoder for Task-Agnostic
Upsampling", ECCV 2022), the L2H variant its SegFormer experiments use, in plain torch ops."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .base import Guided, Reference, generator_of, xavier_uniform_
from .local import reassemble

DEFAULTS = {"up_kernel": 5, "embedding": 64, "encoder_kernel": 3}


class Fade(nn.Module):
    """Decoder features x (N, C, h, w), encoder features g (N, C, s·h, s·w) of equal channels.

    1. Kernels from both: a 1x1 compressor each (the decoder's without bias) to ``embedding``
       channels, one shared 3x3 content encoder to k² logits on each, the decoder's brought to
       the output grid by nearest upsampling ("semi-shift"); their sum, softmax over the k² taps.
    2. The kernels reassemble x (CARAFE: each output pixel a k × k window of its input pixel).
    3. A gate, sigmoid of a 1x1 conv of x upsampled by nearest, mixes encoder and reassembly:
       gate · g + (1 - gate) · reassembled. That mix is why the channels must be equal.

    The reference hard-codes the nearest upsampling at ×2; here it follows the scale."""

    def __init__(
        self, channels: int, scale: int, up_kernel: int, embedding: int, encoder_kernel: int
    ):
        super().__init__()
        self.scale, self.up_kernel = scale, up_kernel
        self.gate = nn.Conv2d(channels, 1, 1)
        self.compress_guide = nn.Conv2d(channels, embedding, 1)
        self.compress_input = nn.Conv2d(channels, embedding, 1, bias=False)
        self.content = nn.Conv2d(
            embedding, up_kernel * up_kernel, encoder_kernel, padding=encoder_kernel // 2
        )

    def _nearest(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.scale, mode="nearest")

    def kernels(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        from_guide = self.content(self.compress_guide(guide))
        from_input = self._nearest(self.content(self.compress_input(x)))
        return F.softmax(from_guide + from_input, dim=1)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self._nearest(self.gate(x)))
        reassembled = reassemble(x, self.kernels(x, guide), self.up_kernel, self.scale)
        return gate * guide + (1 - gate) * reassembled


def build(channels: int, guide_channels: int, scale: int, seed: int) -> Fade:
    """FADE at its defaults; the reference's init: Xavier-uniform weights, zero biases."""
    if guide_channels != channels:
        raise ValueError(
            f"FADE gates between the encoder's and the decoder's features: their channels must "
            f"be equal, got {channels} and {guide_channels}"
        )
    module = Fade(channels, scale, **DEFAULTS)
    generator = generator_of(seed)
    for layer in (module.gate, module.compress_guide, module.compress_input, module.content):
        xavier_uniform_(layer.weight, generator)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return module.eval()


FADE = Guided(
    name="fade",
    summary="CARAFE reassembly with kernels from decoder and encoder (semi-shift), gated mix",
    guide="encoder",
    defaults=DEFAULTS,
    reference=Reference(
        repository="poppinace/fade",
        file="FADE_L2H.py (class FADE; the SegFormer head builds FADE(embedding_dim))",
        commit="e4de4dbc85304d659807656fc909207282b1bc25",
        date="2024-11-22",
        constructor="FADE(in_channels_en=64)  # in_channels_de = 64, scale 2, up_kernel_size 5",
        channels=64,
        guide_channels=64,
        scale=2,
        # gate 64 + 1; compressor_en 64·64 + 64; compressor_de 64·64; content 64·25·9 + 25
        params=22_746,
    ),
    build=build,
)
