"""AnyUp (Wimmer et al., "AnyUp: Universal Feature Upsampling", ICLR 2026): window attention
from image-encoded queries to keys built from the image and the features, which weighs the
raw features, in plain torch ops. Feature-agnostic: the same weights take any channel count."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from .base import Guided, Reference, generator_of, torch_default_, xavier_uniform_

DEFAULTS = {
    "qk_dim": 128,
    "heads": 4,
    "window_ratio": 0.1,
    "feature_kernel": 5,
    "groups": 8,
    "rope_theta": 100,
}


class ResBlock(nn.Module):
    """(GroupNorm, SiLU, 1x1 conv without bias) twice, plus the input."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.GroupNorm(groups, channels),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.GroupNorm(groups, channels),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def _encoder(first: nn.Module, channels: int, groups: int) -> nn.Sequential:
    return nn.Sequential(first, ResBlock(channels, groups), ResBlock(channels, groups))


def _conv(inputs: int, outputs: int, kernel: int) -> nn.Conv2d:
    return nn.Conv2d(
        inputs, outputs, kernel, padding=kernel // 2, padding_mode="reflect", bias=False
    )


class FeatureUnification(nn.Module):
    """Channel-count-agnostic key features: every channel convolved with the same bank of
    learned k × k filters (zero padding, divided by the number of taps inside the map), a
    softmax over the bank, the mean over channels. The reference's grouped convolution yields
    channel c's response to filter o at index c·O + o and reads it back as (O, C); that
    interleaving is kept, as it decides which responses share a softmax."""

    def __init__(self, filters: int, kernel: int):
        super().__init__()
        self.kernel = kernel
        self.basis = nn.Parameter(torch.empty(filters, 1, kernel, kernel))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        reach = self.kernel // 2
        responses = F.conv2d(
            x, self.basis.repeat(channels, 1, 1, 1), padding=reach, groups=channels
        )
        inside = F.conv2d(
            torch.ones(1, 1, height, width),
            torch.ones(1, 1, self.kernel, self.kernel),
            padding=reach,
        )
        responses = (responses / inside).reshape(
            batch, self.basis.shape[0], channels, height, width
        )
        return F.softmax(responses, dim=1).mean(dim=2)


def rope(x: torch.Tensor, frequencies: torch.Tensor) -> torch.Tensor:
    """Rotary position code on a (N, E, H, W) map: coordinates on [0, 1] per axis, angle =
    row · f_0 + column · f_1 per channel, rotating channel i with channel i + E/2."""
    _, _, height, width = x.shape
    rows = torch.linspace(0.0, 1.0, height)[:, None, None]
    cols = torch.linspace(0.0, 1.0, width)[None, :, None]
    angle = (rows * frequencies[0] + cols * frequencies[1]).permute(2, 0, 1)  # (E, H, W)
    first, second = x.chunk(2, dim=1)
    return x * angle.cos() + torch.cat([-second, first], dim=1) * angle.sin()


def rope_frequencies(dim: int, theta: float) -> torch.Tensor:
    """Rows then columns: each a geometric ladder θ^[0..-1] over dim/4 steps, twice, filling
    the first half of the channels for rows and the second half for columns; times 2π."""
    ladder = theta ** torch.linspace(0.0, -1.0, dim // 4)
    ladder = torch.cat([ladder, ladder])
    frequencies = torch.zeros(2, dim)
    frequencies[0, : dim // 2] = ladder
    frequencies[1, dim // 2 :] = ladder
    return frequencies * 2 * math.pi


def window_mask(out_size: tuple[int, int], in_size: tuple[int, int], ratio: float) -> torch.Tensor:
    """(H·W, h·w), True outside each query's window: the low-resolution rows (and columns)
    within ±ratio of the query's centre on [0, 1], clipped at the border, floor/ceil to pixels."""
    allowed = []
    for out, low in zip(out_size, in_size, strict=True):
        centre = (torch.arange(out, dtype=torch.float32) + 0.5) / out
        start = ((centre - ratio).clamp(0.0, 1.0) * low).floor()[:, None]
        stop = ((centre + ratio).clamp(0.0, 1.0) * low).ceil()[:, None]
        index = torch.arange(low, dtype=torch.float32)[None, :]
        allowed.append((index >= start) & (index < stop))
    rows, cols = allowed
    return ~(rows[:, None, :, None] & cols[None, :, None, :]).flatten(2).flatten(0, 1)


class RMSNorm(nn.Module):
    """x / sqrt(mean(x²) + ε) · weight over the last axis, ε float32's machine epsilon (what
    nn.RMSNorm takes when given none); written out, as opset 20 has no RMSNormalization."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = torch.finfo(torch.float32).eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=-1, keepdim=True) + self.eps) * self.weight


#: Scores (floats) computed at once in eager mode: past it, the queries go a block of rows at a
#: time (each row's softmax is its own), so a report's 64 → 256 sample does not take 13 GiB.
#: An export is always dense, as the reference computes it.
SCORES_AT_ONCE = 1 << 28


class WindowAttention(nn.Module):
    """Queries (a 3x3 conv of the query map) attend to keys within each query's window; the
    heads' attention maps, averaged, weigh the raw features. The reference keeps a full
    nn.MultiheadAttention and discards its output: its value and output projections are
    parameters that count but never act, and so they are here. The scores are dense, masked
    outside the window, as in the reference's default (non-NATTEN) path: heads · (s·h·s·w) ·
    (h·w) floats per image, 1 GiB at 32² → 256²; a windowed gather would avoid that."""

    def __init__(self, dim: int, heads: int, window_ratio: float):
        super().__init__()
        self.heads, self.window_ratio = heads, window_ratio
        self.conv2d = nn.Conv2d(dim, dim, 3, padding=1, bias=False)
        self.norm_q, self.norm_k = RMSNorm(dim), RMSNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)

    def _heads(self, tokens: torch.Tensor, norm: RMSNorm, part: int) -> torch.Tensor:
        dim = tokens.shape[-1]
        rows = slice(part * dim, (part + 1) * dim)
        weight, bias = self.attention.in_proj_weight[rows], self.attention.in_proj_bias[rows]
        projected = F.linear(norm(tokens), weight, bias)
        return projected.unflatten(-1, (self.heads, dim // self.heads)).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        query = self.conv2d(query)
        batch, _, height, width = query.shape
        queries = self._heads(query.flatten(2).transpose(1, 2), self.norm_q, 0)
        keys = self._heads(key.flatten(2).transpose(1, 2), self.norm_k, 1)
        mask = window_mask((height, width), tuple(key.shape[-2:]), self.window_ratio)
        values = value.flatten(2).transpose(1, 2)
        rows = max(1, SCORES_AT_ONCE // (self.heads * keys.shape[-2]))
        if torch.compiler.is_exporting() or queries.shape[-2] <= rows:
            out = self._attend(queries, keys, mask, values)
        else:  # eager, past a GiB of scores: the same rows' sums, a block of rows at a time
            blocks = range(0, queries.shape[-2], rows)
            parts = [
                self._attend(queries[..., i : i + rows, :], keys, mask[i : i + rows], values)
                for i in blocks
            ]
            out = torch.cat(parts, dim=1)
        return out.transpose(1, 2).reshape(batch, value.shape[1], height, width)

    @staticmethod
    def _attend(queries, keys, mask, values) -> torch.Tensor:
        """(N, rows, C): the heads' masked softmax attention, averaged, weighing ``values``."""
        scores = queries @ keys.transpose(-1, -2) / math.sqrt(queries.shape[-1])
        weights = F.softmax(scores.masked_fill(mask, float("-inf")), dim=-1).mean(dim=1)
        return weights @ values


class AnyUp(nn.Module):
    """Features x (N, C, h, w), image g (N, 3, s·h, s·w): the image encoded (1x1 conv and two
    ResBlocks) and given a rotary position code; queries from it at the output size; keys from
    it average-pooled to the input size, beside the unified features, merged by a 3x3 conv and
    two ResBlocks; window attention (±10 % of the image) weighs the features."""

    def __init__(self, guide_channels: int, scale: int, **defaults):
        super().__init__()
        dim, groups = defaults["qk_dim"], defaults["groups"]
        self.scale = scale
        self.image_encoder = _encoder(_conv(guide_channels, dim, 1), dim, groups)
        self.key_encoder = _encoder(_conv(dim, dim, 1), dim, groups)
        self.query_encoder = _encoder(_conv(dim, dim, 1), dim, groups)
        unification = FeatureUnification(dim, defaults["feature_kernel"])
        self.key_features_encoder = _encoder(unification, dim, groups)
        self.cross_decode = WindowAttention(dim, defaults["heads"], defaults["window_ratio"])
        self.aggregation = _encoder(_conv(2 * dim, dim, 3), dim, groups)
        self.rope_frequencies = nn.Parameter(rope_frequencies(dim, defaults["rope_theta"]))

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        encoded = rope(self.image_encoder(guide), self.rope_frequencies)
        image_keys = F.avg_pool2d(self.key_encoder(encoded), self.scale)
        feature_keys = self.key_features_encoder(F.normalize(x, dim=1))
        keys = self.aggregation(torch.cat([image_keys, feature_keys], dim=1))
        return self.cross_decode(self.query_encoder(encoded), keys, x)


def build(channels: int, guide_channels: int, scale: int, seed: int) -> AnyUp:
    """AnyUp at its defaults, from random weights as the reference builds it (``pretrained=
    False``): torch's default for the convolutions, Xavier-uniform query/key/value projections
    with zero biases, N(0, 1) filter bank. ``channels`` is free: nothing is sized by it."""
    module = AnyUp(guide_channels, scale, **DEFAULTS)
    generator = generator_of(seed)
    torch_default_(module, generator)
    attention = module.cross_decode.attention
    xavier_uniform_(attention.in_proj_weight, generator)
    with torch.no_grad():
        attention.in_proj_bias.zero_()
        attention.out_proj.bias.zero_()
        module.key_features_encoder[0].basis.normal_(generator=generator)
    return module.eval()


ANYUP = Guided(
    name="anyup",
    summary="AnyUp: window attention from image queries to image+feature keys, any channels",
    guide="image",
    defaults=DEFAULTS,
    reference=Reference(
        repository="wimmerth/anyup",
        file="anyup/model.py (class AnyUp; hubconf.anyup(pretrained=False))",
        commit="351807a9c4287368732cc247f26c7c81c9139af4",
        date="2026-04-17",
        constructor="AnyUp()  # qk_dim 128, 4 heads, window_ratio 0.1, kernel_size_lfu 5",
        channels=64,
        guide_channels=3,
        scale=2,
        # encoders: image 66,944, key 82,944, query 82,944, features 69,760; attention 213,760
        # (3x3 conv 147,456, MultiheadAttention 66,048, two RMSNorm 256); aggregation 361,472;
        # RoPE 256
        params=878_080,
    ),
    build=build,
)
