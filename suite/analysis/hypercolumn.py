"""Hypercolumn-reconstruction error (Hariharan et al., CVPR 2015; the lecture's "combining
hypercolumns is a common use of 1x1 convolutions").

A fixed, seeded feature pyramid of a probe image: level l is the image (mapped to the case's C
channels) area-downsampled by S^l, through a fixed 3x3 convolution C → C and a tanh. Every level
goes back to full resolution through the case's own upsampler (l times), the levels are stacked
into hypercolumns, and a 1x1 convolution (channel mixing, with a bias) from the hypercolumns to
the full-resolution luminance is fitted in closed form on training photographs, then evaluated
on held-out ones with scikit-image's metrics.

Gain-invariant by construction: every hypercolumn feature is standardised on the training pixels
(zero mean, unit variance) and the intercept is not penalised, so an upsampler multiplied by any
gain reconstructs exactly the same image (only the small ridge on the standardised weights is
left, and it is the same for every gain). A border that zero padding can reach is cut before
fitting and scoring. The held-out photographs are never used to fit anything: not the readout,
not a ``trained`` case, and not as a checkerboard or spectral probe (``photos.py``). SSIM uses
Wang et al.'s settings: an 11x11 Gaussian window of σ = 1.5, population covariances.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from ..photos import FIT_PHOTOS, HELD_OUT_PHOTOS, LUMA, area_downsample, probe, to_channels
from .errors import MetricSkipped
from .metrics import checkerboard_energy_fraction

TRAIN_PROBES = FIT_PHOTOS
TEST_PROBES = HELD_OUT_PHOTOS
MAX_LEVELS = 2
#: Ridge strength per standardised feature, relative to the number of training pixels.
RIDGE = 1e-3
#: Wang et al. (2004): Gaussian window σ = 1.5, population (not sample) covariances.
SSIM_SETTINGS = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}
#: The side of SSIM's Gaussian window under those settings (scikit-image: 2·⌊3.5σ + ½⌋ + 1):
#: an interior smaller than this has no SSIM.
SSIM_WINDOW = 2 * int(3.5 * SSIM_SETTINGS["sigma"] + 0.5) + 1
#: The smallest level kept, in pixels per side.
MIN_LEVEL_SIZE = 4


def _filters(channels: int, levels: list[int], seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed + 0xC01)
    return [
        torch.randn(channels, channels, 3, 3, generator=generator) / (3 * channels**0.5)
        for _ in levels
    ]


def _hypercolumns(
    model: nn.Module,
    image: np.ndarray,
    scale: int,
    levels,
    filters,
    pictures: dict | None = None,
    guide: tuple[np.ndarray, ...] = (),
) -> np.ndarray:
    """The (features, H, W) hypercolumns; ``pictures`` (when given) receives channel 0 of
    each level before and after upsampling. ``guide``: what each call passes after the
    features (a guided layer's guide of the image's scene: level 1 only)."""
    after = tuple(torch.from_numpy(np.asarray(g, np.float32)) for g in guide)
    height, width = image.shape[-2:]
    stacked = []
    with torch.no_grad():
        for level, weight in zip(levels, filters, strict=True):
            low = torch.from_numpy(area_downsample(image, scale**level)).float()[None]
            features = torch.tanh(F.conv2d(low, weight, padding=1))
            if pictures is not None:
                pictures[f"level{level}"] = features[0, 0].numpy().copy()
            for _ in range(level):
                features = model(features, *after)
            if tuple(features.shape[-2:]) != (height, width):
                raise MetricSkipped(
                    f"the upsampler maps level {level} to {tuple(features.shape[-2:])}, "
                    f"not {(height, width)}"
                )
            if pictures is not None:
                pictures[f"level{level}_upsampled"] = features[0, 0].numpy().copy()
            stacked.append(features[0].numpy().astype(np.float64))
    return np.concatenate(stacked)


def pyramid_levels(size: tuple[int, int], scale: int, repeatable: bool) -> list[int]:
    """The levels whose input is a whole, large enough image: level l goes through the
    upsampler l times; one that changes the channel count gets level 1 only."""
    height, width = size
    return [
        level
        for level in range(1, MAX_LEVELS + 1)
        if height % scale**level == 0
        and width % scale**level == 0
        and min(height, width) // scale**level >= MIN_LEVEL_SIZE
        and (repeatable or level == 1)
    ]


def _levels_or_skip(size: tuple[int, int], scale: int, repeatable: bool, border: int) -> list[int]:
    height, width = size
    levels = pyramid_levels(size, scale, repeatable)
    if scale < 2 or not levels:
        raise MetricSkipped(f"no pyramid level fits {height}x{width} at scale {scale}")
    if min(height, width) - 2 * border < SSIM_WINDOW:
        raise MetricSkipped(
            f"output {height}x{width} has no interior of {SSIM_WINDOW}x{SSIM_WINDOW} px (SSIM's "
            f"window) once a border of {border} px is cut"
        )
    return levels


def hypercolumn_metrics(
    model: nn.Module,
    channels: int,
    size: tuple[int, int],
    scale: int,
    seed: int,
    periods: list[int],
    repeatable: bool = True,
    border: int = 0,
    guide_of: Callable[[np.ndarray], tuple[np.ndarray, ...]] = lambda rgb: (),
) -> dict:
    """MSE, PSNR (dB, higher is better) and SSIM (higher is better) of the held-out
    reconstructions, averaged over the held-out probes (``per_probe`` keeps each one's, for the
    interval), and the share of the residual's energy on the checkerboard bins (lower is
    better). ``size`` is the full (output) resolution; ``border`` pixels are cut on each side;
    ``guide_of`` gives a guided layer's guide from a probe's RGB. ``pictures`` holds the first
    held-out probe's target, its reconstruction and each level's channel 0, for the report."""
    height, width = size
    levels = _levels_or_skip(size, scale, repeatable, border)
    filters = _filters(channels, levels, seed)
    inner = np.s_[..., border : height - border, border : width - border]

    def sample(name: str, keep: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        rgb = probe(name, height, width)
        target = np.einsum("r,rhw->hw", LUMA, rgb)
        image, guide = to_channels(rgb, channels, seed), guide_of(rgb)
        return _hypercolumns(model, image, scale, levels, filters, keep, guide), target

    train = [sample(name) for name in TRAIN_PROBES]
    x = np.hstack([columns[inner].reshape(len(columns), -1) for columns, _ in train]).T
    y = np.concatenate([target[inner].ravel() for _, target in train])
    figures, pictures = _score(_fit(x, y), sample, size, inner, periods)
    return {
        **{key: float(np.mean(values)) for key, values in figures.items()},
        "per_probe": {key: [float(v) for v in values] for key, values in figures.items()},
        "levels": levels,
        "train_probes": list(TRAIN_PROBES),
        "test_probes": list(TEST_PROBES),
        "pictures": pictures,
    }


def _score(readout, sample, size, inner, periods) -> tuple[dict[str, list], dict]:
    """Each held-out probe's figures under ``readout``; the first one's pictures."""
    # here, not at the top: skimage.metrics brings scipy.stats, half a second of every timing
    # process's start, which imports this module and scores nothing
    from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

    height, width = size
    pictures: dict[str, np.ndarray] = {}
    figures: dict[str, list] = {"mse": [], "psnr_db": [], "ssim": [], "checkerboard_energy": []}
    for index, name in enumerate(TEST_PROBES):
        keep = pictures if index == 0 else None  # the report's illustration: the first probe
        columns, target = sample(name, keep)
        prediction = readout(columns.reshape(len(columns), -1).T).reshape(height, width)
        if keep is not None:
            pictures.update(target=target, prediction=prediction)
        target, prediction = target[inner], prediction[inner]
        figures["mse"].append(mean_squared_error(target, prediction))
        figures["psnr_db"].append(peak_signal_noise_ratio(target, prediction, data_range=1.0))
        figures["ssim"].append(
            structural_similarity(target, prediction, data_range=1.0, **SSIM_SETTINGS)
        )
        figures["checkerboard_energy"].append(
            checkerboard_energy_fraction((prediction - target)[None], periods)
        )
    return figures, pictures


def _fit(x: np.ndarray, y: np.ndarray):
    """Ridge regression on standardised features with an unpenalised intercept; returns the
    prediction function. Constant features (no variance) are left out."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    keep = std > 1e-12 * max(float(std.max()), 1e-300)
    z = (x[:, keep] - mean[keep]) / std[keep]
    gram = z.T @ z
    weights = np.linalg.solve(gram + RIDGE * len(z) * np.eye(len(gram)), z.T @ (y - y.mean()))
    intercept = y.mean()

    def predict(columns: np.ndarray) -> np.ndarray:
        return (columns[:, keep] - mean[keep]) / std[keep] @ weights + intercept

    return predict
