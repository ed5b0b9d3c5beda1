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
    if problem := nonfinite(image):
        raise MetricError(f"the output {problem}")
    centred = image - image.mean(axis=(-2, -1), keepdims=True)
    spectrum = scipy.fft.fft2(periodic_component(centred), workers=WORKERS)
    return (np.abs(spectrum) ** 2).reshape(-1, *image.shape[-2:]).sum(axis=0)


def grid_bins(shape: tuple[int, int], period: int) -> set[tuple[int, int]]:
    """Bins (i·H/p, j·W/p), 0 <= i, j < p, without DC: where a period-p pattern puts its power."""
    h, w = shape
    return {(i * h // period, j * w // period) for i in range(period) for j in range(period)} - {
        (0, 0)
    }
