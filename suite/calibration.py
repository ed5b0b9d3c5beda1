"""Known-answer layers: upsamplers whose artifact is put there on purpose, with a known size.

Each is a factory a case file can name (``factory = "suite.calibration:injected_pattern"``), so
that a user can check the metrics on an artifact of their own choosing, and the calibration
battery (``suite/analysis/battery.py``) and the tests use the same layers.

- ``injected_pattern``: interpolation, then a periodic pattern of known size, added (its RMS is
  ``percent`` % of the output's RMS) or multiplied in (a modulation depth of ``percent`` %).
- ``laplacian_phase``: nearest ×2 whose (0, 0) phase is sharpened by a Laplacian: every phase
  keeps a flat field flat (equal DC gains), but one phase carries more detail than the others.
- ``lanczos``: Lanczos-a interpolation as a depthwise transposed convolution, each phase
  normalised to unit DC gain: close to an ideal interpolator.
- ``nearest_noise``: nearest upsampling plus fixed white noise of ``percent`` % of the output's
  RMS: no periodic pattern at all, the chance level's known answer (0).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

PATTERN_KINDS = ("add", "multiply")


def periodic_pattern(height: int, width: int, period: int) -> torch.Tensor:
    """cos(2π(x + y)/period), scaled to RMS 1 over whole periods: its power lies on the
    period's own frequencies (±1/period, ±1/period) only, never on a smaller period's."""
    y, x = np.mgrid[:height, :width]
    wave = np.cos(2 * np.pi * (x + y) / period)
    one_period = np.cos(2 * np.pi * np.add.outer(np.arange(period), np.arange(period)) / period)
    return torch.from_numpy(wave / np.sqrt((one_period**2).mean())).float()


class InjectedPattern(nn.Module):
    def __init__(self, scale: int, percent: float, period: int, kind: str, mode: str) -> None:
        super().__init__()
        if kind not in PATTERN_KINDS:
            raise ValueError(f"kind must be one of {', '.join(PATTERN_KINDS)}; got {kind!r}")
        if not 0 <= percent < 100:
            raise ValueError(f"percent must be in [0, 100); got {percent!r}")
        self.scale, self.fraction, self.period = scale, percent / 100, period
        self.kind, self.mode = kind, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.scale, mode=self.mode)
        pattern = periodic_pattern(*base.shape[-2:], self.period).to(base.dtype)
        if self.kind == "multiply":
            return base * (1 + self.fraction * pattern)
        # RMS of c·pattern over RMS of the sum = fraction, the pattern being orthogonal to a
        # clean interpolation's output up to chance: c = f·rms(base) / sqrt(1 - f²).
        level = base.square().mean().sqrt() * self.fraction / math.sqrt(1 - self.fraction**2)
        return base + level * pattern


def injected_pattern(
    channels: int,
    scale: int,
    percent: float = 1.0,
    period: int | None = None,
    kind: str = "add",
    mode: str = "nearest",
) -> nn.Module:
    """Interpolation ×scale (``mode``: nearest or bilinear), then a period-``period`` pattern
    (default: the scale) of ``percent`` % of the output's RMS (``kind = "add"``) or of that
    modulation depth (``"multiply"``)."""
    return InjectedPattern(scale, float(percent), period or scale, kind, mode)


class LaplacianPhase(nn.Module):
    def __init__(self, strength: float) -> None:
        super().__init__()
        laplacian = torch.tensor([[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]])
        self.register_buffer("kernel", laplacian[None, None] * strength)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=2, mode="nearest")
        channels = base.shape[1]
        padded = F.pad(base, (1, 1, 1, 1), mode="replicate")
        sharp = base + F.conv2d(padded, self.kernel.expand(channels, 1, 3, 3), groups=channels)
        phase = torch.zeros_like(base[:1, :1])
        phase[..., ::2, ::2] = 1.0
        return base + phase * (sharp - base)


def laplacian_phase(channels: int, scale: int = 2, strength: float = 1.0) -> nn.Module:
    """Nearest ×2 whose (0, 0) phase adds ``strength`` × the Laplacian of the output there."""
    if scale != 2:
        raise ValueError(f"laplacian_phase upsamples by 2 only; got scale {scale}")
    return LaplacianPhase(float(strength))


def lanczos_taps(scale: int, lobes: int) -> tuple[np.ndarray, int]:
    """The 1-D transposed-convolution kernel of Lanczos-``lobes`` interpolation ×scale with
    half-pixel centres (output j samples input coordinate (j + 0.5)/scale - 0.5), each phase
    normalised to sum 1; and the padding that makes the output exactly scale × the input."""
    padding = math.floor(lobes * scale - (scale - 1) / 2)
    offsets = (np.arange(scale + 2 * padding) - padding + 0.5) / scale - 0.5
    taps = np.sinc(offsets) * np.sinc(offsets / lobes) * (np.abs(offsets) < lobes)
    for phase in range(scale):
        taps[phase::scale] /= taps[phase::scale].sum()
    return taps, padding


class Lanczos(nn.Module):
    def __init__(self, channels: int, scale: int, lobes: int) -> None:
        super().__init__()
        taps, self.padding = lanczos_taps(scale, lobes)
        kernel = torch.from_numpy(np.outer(taps, taps)).float()
        self.register_buffer("weight", kernel.expand(channels, 1, *kernel.shape).clone())
        self.scale, self.channels = scale, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(
            x, self.weight, stride=self.scale, padding=self.padding, groups=self.channels
        )


def lanczos(channels: int, scale: int, lobes: int = 3) -> nn.Module:
    """Lanczos-``lobes`` interpolation ×scale, per channel."""
    return Lanczos(channels, scale, lobes)


class NearestNoise(nn.Module):
    def __init__(self, scale: int, fraction: float, seed: int) -> None:
        super().__init__()
        self.scale, self.fraction, self.seed = scale, fraction, seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(x, scale_factor=self.scale, mode="nearest")
        generator = torch.Generator().manual_seed(self.seed)
        noise = torch.randn(base.shape, generator=generator).to(base.dtype)
        level = base.square().mean().sqrt() * self.fraction / math.sqrt(1 - self.fraction**2)
        return base + level * noise


def nearest_noise(channels: int, scale: int, percent: float = 5.0, seed: int = 0) -> nn.Module:
    """Nearest ×scale plus fixed (seeded) white noise of ``percent`` % of the output's RMS."""
    return NearestNoise(scale, float(percent) / 100, seed)
