"""The local weighted sums that the guided upsamplers' custom CUDA kernels compute (CARAFE's
reassembly, SAPA's query-key and attention-value, FeatUp's AdaptiveConv), in plain torch ops.

Convention, as those kernels index it: neighbourhood tap t = dy·k + dx (row-major over the
k × k window) reads the low-resolution pixel (I // s + dy - k // 2, J // s + dx - k // 2) for
output pixel (I, J); outside the map it reads zero (CARAFE, SAPA) or the reflected pixel
(FeatUp, which reflect-pads before its AdaptiveConv).

Each sum is a loop over the k² taps of shifted slices of the padded low-resolution map. The
output's (s·h, s·w) grid is viewed as (h, s, w, s), so a low-resolution slice broadcasts over
its s × s block: no tap is ever upsampled or stacked, and the graph holds k² Slice, Mul and Add
nodes instead of an Unfold that would materialise k² copies of a large map.
"""

from __future__ import annotations

import functools
import operator

import torch
import torch.nn.functional as F  # noqa: N812

#: F.pad's modes by the name the methods use for what lies outside the map
PADDING = {"zeros": "constant", "reflect": "reflect"}


def taps(kernel: int) -> list[tuple[int, int]]:
    """(dy, dx) of each tap in the kernels' channel order, t = dy·k + dx."""
    if kernel % 2 == 0:
        raise ValueError(f"a local window is centred on a pixel: odd size, got {kernel}")
    return [(dy, dx) for dy in range(kernel) for dx in range(kernel)]


def _padded(x: torch.Tensor, kernel: int, padding: str) -> torch.Tensor:
    reach = kernel // 2
    return F.pad(x, (reach, reach, reach, reach), mode=PADDING[padding]) if reach else x


def _window(padded: torch.Tensor, dy: int, dx: int, height: int, width: int) -> torch.Tensor:
    """Tap (dy, dx) of every low-resolution pixel, shaped (N, C, h, 1, w, 1) to broadcast over
    the s × s output block each pixel owns."""
    return padded[:, :, dy : dy + height, None, dx : dx + width, None]


def reassemble(
    x: torch.Tensor, weights: torch.Tensor, kernel: int, scale: int, padding: str = "zeros"
) -> torch.Tensor:
    """out[n, c, I, J] = Σ_t weights[n, t, I, J] · x[n, c, tap t of (I // s, J // s)].

    x: (N, C, h, w); weights: (N, k², s·h, s·w); returns (N, C, s·h, s·w)."""
    batch, channels, height, width = x.shape
    padded = _padded(x, kernel, padding)
    blocks = weights.reshape(batch, kernel * kernel, height, scale, width, scale)
    terms = (
        _window(padded, dy, dx, height, width) * blocks[:, t : t + 1]
        for t, (dy, dx) in enumerate(taps(kernel))
    )
    return functools.reduce(operator.add, terms).reshape(
        batch, channels, height * scale, width * scale
    )


def affinity(
    query: torch.Tensor, key: torch.Tensor, kernel: int, scale: int, padding: str = "zeros"
) -> torch.Tensor:
    """logits[n, t, I, J] = Σ_e query[n, e, I, J] · key[n, e, tap t of (I // s, J // s)].

    query: (N, E, s·h, s·w); key: (N, E, h, w); returns (N, k², s·h, s·w). A zero-padded tap
    scores 0, as SAPA's kernel leaves it (it is not masked out of the softmax)."""
    batch, embedding, height, width = key.shape
    padded = _padded(key, kernel, padding)
    blocks = query.reshape(batch, embedding, height, scale, width, scale)
    logits = [
        (blocks * _window(padded, dy, dx, height, width)).sum(dim=1) for dy, dx in taps(kernel)
    ]
    return torch.stack(logits, dim=1).reshape(batch, kernel * kernel, height * scale, width * scale)
