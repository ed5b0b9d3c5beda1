"""Power spectra of images and the checkerboard bins of a period.

Conventions: images are (C, H, W) float arrays. A power spectrum is |FFT2|² of each channel,
summed over channels, after removing each channel's mean and its smooth component (Moisan's
periodic-plus-smooth decomposition), so that the jump between opposite borders of a non-periodic
image does not leak a cross of power along the axes, where half the checkerboard bins lie.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.fft

from ..finite import nonfinite
from .errors import MetricError

WORKERS = max(1, len(os.sched_getaffinity(0)))


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
    # the field is real: its half spectrum (rfft2) is all of it, at half the work
    q = np.arange(h)[:, None]
    r = np.arange(w // 2 + 1)[None, :]
    denominator = 2 * np.cos(2 * np.pi * q / h) + 2 * np.cos(2 * np.pi * r / w) - 4
    denominator[0, 0] = 1.0
    smooth_hat = scipy.fft.rfft2(boundary, workers=WORKERS) / denominator
    smooth_hat[..., 0, 0] = 0.0
    smooth = scipy.fft.irfft2(smooth_hat, s=(h, w), workers=WORKERS)
    return image - smooth


def power_spectrum(image: np.ndarray) -> np.ndarray:
    """Summed over channels, mean removed, periodic component: shape (H, W), DC at [0, 0]."""
    if problem := nonfinite(image):
        raise MetricError(f"the output {problem}")
    h, w = image.shape[-2:]
    centred = image - image.mean(axis=(-2, -1), keepdims=True)
    spectrum = scipy.fft.rfft2(periodic_component(centred), workers=WORKERS)
    half = (spectrum.real**2 + spectrum.imag**2).reshape(-1, h, w // 2 + 1).sum(axis=0)
    return _whole_plane(half, w)


def _whole_plane(half: np.ndarray, width: int) -> np.ndarray:
    """The (H, W) power of a real image from its half plane (H, W // 2 + 1): the power at
    (-u, -v) is the power at (u, v)."""
    height = half.shape[0]
    power = np.empty((height, width))
    kept = width // 2 + 1
    power[:, :kept] = half
    mirrored_rows = (-np.arange(height)) % height
    power[:, kept:] = half[mirrored_rows, width - kept : 0 : -1]
    return power


def grid_bins(shape: tuple[int, int], period: int) -> set[tuple[int, int]]:
    """Bins (i·H/p, j·W/p), 0 <= i, j < p, without DC: where a period-p pattern puts its power."""
    h, w = shape
    return {(i * h // period, j * w // period) for i in range(period) for j in range(period)} - {
        (0, 0)
    }
