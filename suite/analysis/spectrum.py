"""Power spectra of images, the checkerboard score and the azimuthal average.

Conventions: images are (C, H, W) float arrays. A power spectrum is |FFT2|² of each channel,
summed over channels, after removing each channel's mean and its smooth component (Moisan's
periodic-plus-smooth decomposition), so that the jump between opposite borders of a non-periodic
image does not leak a cross of power along the axes, where half the checkerboard bins lie.
"""

from __future__ import annotations

import math
import os

import numpy as np
import scipy.fft
import scipy.ndimage

from .errors import MetricError

WORKERS = max(1, len(os.sched_getaffinity(0)))
#: Bins around a checkerboard bin whose median is the local floor: Chebyshev distance 3 to 5,
#: leaving out the two nearest rings, where the Hann window spreads a peak's own power.
FLOOR_ANNULUS = (3, 5)
#: A floor of exactly zero (an artificially clean spectrum) is raised to this fraction of the
#: mean power, which caps the score at about +120 dB instead of dividing by zero.
FLOOR_EPSILON = 1e-12


def periodic_component(image: np.ndarray) -> np.ndarray:
    """Moisan (2011): the image minus the smooth field that carries its border discontinuities."""
    h, w = image.shape[-2:]
    boundary = np.zeros_like(image, dtype=np.float64)
    vertical = image[..., -1, :] - image[..., 0, :]
    horizontal = image[..., :, -1] - image[..., :, 0]
    boundary[..., 0, :] += vertical
    boundary[..., -1, :] -= vertical
    boundary[..., :, 0] += horizontal
    boundary[..., :, -1] -= horizontal
    q = np.arange(h)[:, None]
    r = np.arange(w)[None, :]
    denominator = 2 * np.cos(2 * np.pi * q / h) + 2 * np.cos(2 * np.pi * r / w) - 4
    denominator[0, 0] = 1.0
    smooth_hat = scipy.fft.fft2(boundary, workers=WORKERS) / denominator
    smooth_hat[..., 0, 0] = 0.0
    smooth = np.real(scipy.fft.ifft2(smooth_hat, workers=WORKERS))
    return image - smooth


def power_spectrum(image: np.ndarray) -> np.ndarray:
    """Summed over channels, mean removed, periodic component: shape (H, W), DC at [0, 0]."""
    if not np.isfinite(image).all():
        raise MetricError("the output holds NaN or Inf values")
    centred = image - image.mean(axis=(-2, -1), keepdims=True)
    spectrum = scipy.fft.fft2(periodic_component(centred), workers=WORKERS)
    return (np.abs(spectrum) ** 2).reshape(-1, *image.shape[-2:]).sum(axis=0)


def grid_bins(shape: tuple[int, int], period: int) -> set[tuple[int, int]]:
    """Bins (i·H/p, j·W/p), 0 <= i, j < p, without DC: where a period-p pattern puts its power."""
    h, w = shape
    return {(i * h // period, j * w // period) for i in range(period) for j in range(period)} - {
        (0, 0)
    }


def check_periods(shape: tuple[int, int], periods: list[int]) -> None:
    for period in periods:
        for axis, size in zip(("height", "width"), shape, strict=True):
            if size % period:
                raise MetricError(f"{axis} {size} is not a multiple of the period {period}")


def checkerboard_families(
    image: np.ndarray, periods: list[int], radius: tuple[int, int] = FLOOR_ANNULUS
) -> dict[int, float]:
    """Checkerboard score per period family, in dB: higher is worse; about 0 or below is none.

    ``image`` is (N, H, W): channels, or the outputs for several probes stacked; their power
    spectra are summed (averaging out any one image's own content). H and W must be multiples of
    every period. The family of period p is the set of bins (i·H/p, j·W/p) that no smaller period
    in ``periods`` dividing p already holds (for periods 2 and 4, the period-4 family is the bins
    with an odd multiple of H/4 or W/4). Its score is 10·log10 of the summed power on its bins
    over the summed local floors of those bins (see ``_local_floor``).

    Before the FFT each image loses its low frequencies (minus a Gaussian blur of σ = the largest
    period, whose gain at every checkerboard frequency is 1 to within e^-19) and is Hann-windowed:
    the low-frequency bulk of a photograph would otherwise leak through the window's edges onto
    the checkerboard bins and make a clean upsampler look striped.
    """
    shape = image.shape[-2:]
    check_periods(shape, periods)
    if not np.isfinite(image).all():
        raise MetricError("the output holds NaN or Inf values")
    stack = image.reshape(-1, *shape).astype(np.float64)
    sigma = max(periods)
    detail = stack - scipy.ndimage.gaussian_filter(stack, sigma=(0, sigma, sigma), mode="reflect")
    window = np.outer(np.hanning(shape[0]), np.hanning(shape[1]))
    detail = (detail - detail.mean(axis=(-2, -1), keepdims=True)) * window
    power = (np.abs(scipy.fft.fft2(detail, workers=WORKERS)) ** 2).sum(axis=0)
    total = float(power.mean())
    if total <= 0.0:
        raise MetricError("the output is constant: it has no power to compare")
    every_grid_bin = set().union(*(grid_bins(shape, p) for p in periods)) | {(0, 0)}
    excluded = np.zeros(shape, dtype=bool)
    for u, v in every_grid_bin:
        excluded[u, v] = True
    scores = {}
    for period in sorted(periods):
        explained = set().union(
            *(grid_bins(shape, q) for q in periods if q < period and period % q == 0)
        )
        family = sorted(grid_bins(shape, period) - explained)
        peak = sum(power[u, v] for u, v in family)
        floor = sum(_local_floor(power, excluded, u, v, radius) for u, v in family)
        floor = max(floor, FLOOR_EPSILON * total * len(family))
        scores[period] = 10 * math.log10(max(peak, FLOOR_EPSILON * total) / floor)
    return scores


def _local_floor(
    power: np.ndarray, excluded: np.ndarray, u: int, v: int, radius: tuple[int, int]
) -> float:
    """Median power of the bins around (u, v) at Chebyshev distance radius[0]..radius[1] that
    belong to no family. A bin on an axis is compared with its neighbours on that axis only:
    photographs put extra power on the axes (their horizontal and vertical edges)."""
    h, w = power.shape
    inner, outer = radius
    offsets = np.arange(-outer, outer + 1)
    ring = np.maximum(np.abs(offsets)[:, None], np.abs(offsets)[None, :]) >= inner
    rows, cols = (u + offsets) % h, (v + offsets) % w
    if u == 0 or v == 0:
        along = (offsets == 0)[:, None] if u == 0 else (offsets == 0)[None, :]
        keep = ring & along
    else:
        keep = ring & (rows != 0)[:, None] & (cols != 0)[None, :]
    keep &= ~excluded[np.ix_(rows, cols)]
    values = power[np.ix_(rows, cols)][keep]
    if values.size == 0:
        raise MetricError(f"the {h}x{w} spectrum is too small to have a floor around its peaks")
    return float(np.median(values))


def radial_profile(power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthal average: mean power in rings of width 1/min(H, W) cycles per pixel, from the
    first ring above DC up to Nyquist (0.5). Returns (frequency at ring centre, mean power)."""
    h, w = power.shape
    width = 1.0 / min(h, w)
    radius = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    ring = np.floor(radius / width + 0.5).astype(int)
    count = int(0.5 / width)
    inside = (ring >= 1) & (ring <= count)
    sums = np.bincount(ring[inside], weights=power[inside], minlength=count + 1)
    numbers = np.bincount(ring[inside], minlength=count + 1)
    rings = np.arange(1, count + 1)
    return rings * width, sums[rings] / np.maximum(numbers[rings], 1)
