"""The phase-locked (periodic) pattern of upsampled outputs, with the estimator's chance level
removed and a bootstrap interval.

An upsampler by s places output pixel n at phase n mod s of its input grid. Whatever it does
differently at each phase repeats with period s (period s·t for a stage followed by another of
scale t), and averaging the output over every position of the same phase keeps exactly that part:
the *phase-locked pattern*. Two figures come from it, each per period family:

- ``pattern_pct`` (first order): the pattern's RMS as a percentage of the output's RMS. A 3x3
  stride-2 transposed convolution whose phases have unequal gains shows here; a pattern of a% of
  the signal's RMS added to a clean output reads a%.
- ``phase_energy_pct`` (second order): the local detail energy (the output minus a Gaussian blur,
  squared) averaged per phase, its RMS deviation from the mean over phases, in percent of the
  mean. Signal-dependent patterns show here even when every phase keeps a flat field flat: a
  phase sharpened by a Laplacian carries more detail energy than the others. This is the
  periodic-correlation idea of the resampling-detection literature (Popescu & Farid 2005;
  Kirchner 2008) reduced to one number. Interpolators whose phases mirror each other (nearest,
  bilinear and bicubic with half-pixel centres) keep the phases' energies equal.

Size-invariance: the averages are taken in blocks (crops) of whole periods. At a finite size,
content that is not periodic leaves a small phase-locked average of its own, which would make a
clean layer look striped at small sizes and fade as the image grows. The blocks give an unbiased
estimate of the true pattern's energy: the energy of the mean over blocks minus the spread
between blocks over their number (E|mean|² = |pattern|² + var / B). A gradient common to every
block would survive that, so each output first loses its smooth part (minus a Gaussian blur of
σ = the longest period, whose gain at every checkerboard frequency is 1 to within 3e-9).

Families: the tile of one period L (the least common multiple of the case's periods) is
transformed by a 2-D DFT; the family of period p holds the bins (i·L/p, j·L/p) that no smaller
period of the case dividing p already holds, as in ``spectrum.checkerboard_families``.

Intervals: a percentile bootstrap over the units (one probe photograph, or one probe under one
weight seed) and, inside each, over the blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage

from .errors import MetricError

#: Blocks per side at most: 16 blocks give the spread between blocks 15 degrees of freedom.
MAX_BLOCKS_PER_SIDE = 4
BOOTSTRAP_REPLICATES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class PhaseTiles:
    """Sufficient statistics of the phase-locked tiles, per unit (probe) and period family: the
    Gram matrices between blocks of the tiles' energies on the family's DFT bins (for the first
    order, the detail tile (C, L, L); for the second, the detail-energy tile (L, L) divided by
    its block's mean), and the output's mean square per unit. Any resampling of blocks is a
    count vector k, and the energy of the summed tiles is kᵀ G k."""

    pattern: dict[int, np.ndarray]  # period -> (N, B, B)
    energy: dict[int, np.ndarray]  # period -> (N, B, B)
    mean_square: np.ndarray  # (N,)
    blocks: tuple[int, int]

    @property
    def units(self) -> int:
        return len(self.mean_square)

    @property
    def block_count(self) -> int:
        return self.blocks[0] * self.blocks[1]


def family_masks(periods: list[int]) -> tuple[int, dict[int, np.ndarray]]:
    """(L, {period: bins of its family in the L x L DFT}) for the case's periods."""
    tile = int(np.lcm.reduce(periods))
    u = np.arange(tile)
    masks = {}
    for period in sorted(periods):
        step = tile // period
        grid = (u[:, None] % step == 0) & (u[None, :] % step == 0)
        for smaller in periods:
            if smaller < period and period % smaller == 0:
                coarse = tile // smaller
                grid &= ~((u[:, None] % coarse == 0) & (u[None, :] % coarse == 0))
        grid[0, 0] = False
        masks[period] = grid
    return tile, masks


def detail(stack: np.ndarray, sigma: float) -> np.ndarray:
    """Each image minus its Gaussian blur (reflected edges): the smooth part removed, every
    checkerboard frequency kept."""
    sigmas = (0,) * (stack.ndim - 2) + (sigma, sigma)
    return stack - scipy.ndimage.gaussian_filter(stack, sigma=sigmas, mode="reflect")


def phase_tiles(outputs: np.ndarray, periods: list[int], border: int) -> PhaseTiles:
    """``outputs`` is (N, C, H, W): one output per unit. The border is cut after the detail is
    taken, the interior split into blocks of whole periods."""
    if not np.isfinite(outputs).all():
        raise MetricError("the output holds NaN or Inf values")
    tile, masks = family_masks(periods)
    stack = outputs.astype(np.float64)
    high = detail(stack, float(tile))
    h, w = stack.shape[-2:]
    rows, cols = (h - 2 * border) // tile, (w - 2 * border) // tile
    by, bx = min(MAX_BLOCKS_PER_SIDE, rows), min(MAX_BLOCKS_PER_SIDE, cols)
    if by < 1 or bx < 1 or by * bx < 2:
        raise MetricError(
            f"output {h}x{w} holds fewer than two blocks of whole periods of {tile} once a "
            f"border of {border} is cut"
        )
    bh, bw = rows // by * tile, cols // bx * tile
    n, c = stack.shape[:2]
    inner = np.s_[..., border : border + by * bh, border : border + bx * bw]
    mean_square = (stack[inner] ** 2).mean(axis=(-2, -1)).sum(axis=1)
    # (N, C, by, bh/L, L, bx, bw/L, L): a block, its periods, the phase within a period
    blocks = high[inner].reshape(n, c, by, bh // tile, tile, bx, bw // tile, tile)
    pattern = blocks.mean(axis=(3, 6)).transpose(0, 2, 4, 1, 3, 5)  # (N, by, bx, C, L, L)
    pattern = pattern.reshape(n, by * bx, c, tile, tile)
    energy = (blocks**2).sum(axis=1).mean(axis=(2, 5))  # (N, by, L, bx, L)
    energy = energy.transpose(0, 1, 3, 2, 4).reshape(n, by * bx, 1, tile, tile)
    level = energy.mean(axis=(-2, -1), keepdims=True)
    if not (level > 0).all():
        raise MetricError("the output has no detail in a block: the phases cannot be compared")
    return PhaseTiles(
        _grams(scipy.fft.fft2(pattern), masks),
        _grams(scipy.fft.fft2(energy / level), masks),
        mean_square,
        (by, bx),
    )


def _grams(spectra: np.ndarray, masks: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Per family: (N, B, B) inner products between blocks of the (N, B, C, L, L) spectra on
    the family's bins, over the channels, in units of mean square (Parseval: / L⁴)."""
    tile = spectra.shape[-1]
    grams = {}
    for period, mask in masks.items():
        bins = spectra[..., mask].reshape(*spectra.shape[:2], -1)
        grams[period] = np.real(np.einsum("nbk,nck->nbc", bins, bins.conj())) / tile**4
    return grams


def _excess(gram: np.ndarray, counts: np.ndarray, resampled: bool) -> np.ndarray:
    """Per unit: the energy of the mean tile over the chosen blocks (``counts`` (..., N, B),
    summing to B) minus the chance level, the spread between blocks over their number
    (E|mean|² = |pattern|² + var / B). Blocks drawn with replacement understate their spread
    by (B - 1)/B: ``resampled`` corrects it."""
    blocks = gram.shape[-1]
    summed = np.einsum("...nb,nbc,...nc->...n", counts, gram, counts)
    squares = np.einsum("...nb,nb->...n", counts, np.diagonal(gram, axis1=1, axis2=2))
    spread = (squares - summed / blocks) / (blocks - 1)
    if resampled:
        spread = spread * blocks / (blocks - 1)
    return summed / blocks**2 - spread / blocks


def pattern_percent(
    tiles: PhaseTiles, units: np.ndarray | None = None, counts: np.ndarray | None = None
) -> dict[int, np.ndarray | float]:
    """First order, per family: 100 · sqrt(pattern energy / output mean square), pooled over
    the units (energies summed); an estimate at or below chance reads 0. ``units`` (..., N)
    and ``counts`` (..., N, B) weight units and blocks for the bootstrap."""
    weights, block_counts = _weights(tiles, units, counts)
    total = (weights * tiles.mean_square).sum(axis=-1)
    if not (total > 0).all():
        raise MetricError("the output is zero on every probe")
    found = {}
    for period, gram in tiles.pattern.items():
        excess = (weights * _excess(gram, block_counts, counts is not None)).sum(axis=-1)
        found[period] = 100.0 * np.sqrt(np.maximum(0.0, excess / total))
    return found


def phase_energy_percent(
    tiles: PhaseTiles, units: np.ndarray | None = None, counts: np.ndarray | None = None
) -> dict[int, np.ndarray | float]:
    """Second order, per family: 100 · RMS deviation of the per-phase detail energy from its
    mean (each block normalised by its own mean energy), averaged over the units."""
    weights, block_counts = _weights(tiles, units, counts)
    found = {}
    for period, gram in tiles.energy.items():
        excess = (weights * _excess(gram, block_counts, counts is not None)).sum(axis=-1)
        found[period] = 100.0 * np.sqrt(np.maximum(0.0, excess / tiles.units))
    return found


def _weights(tiles: PhaseTiles, units, counts) -> tuple[np.ndarray, np.ndarray]:
    weights = np.ones(tiles.units) if units is None else units
    if counts is None:
        counts = np.ones((tiles.units, tiles.block_count))
    return weights, counts


def bootstrap_draws(
    tiles: PhaseTiles, statistic, seed: int = 0, replicates: int = BOOTSTRAP_REPLICATES
) -> dict[int, np.ndarray]:
    """``statistic`` per family over ``replicates`` resamples: units drawn with replacement,
    then blocks inside each unit (as counts: how often each was drawn)."""
    rng = np.random.default_rng(seed)
    n, b = tiles.units, tiles.block_count
    units = rng.multinomial(n, np.full(n, 1 / n), size=replicates).astype(np.float64)
    counts = rng.multinomial(b, np.full(b, 1 / b), size=(replicates, n)).astype(np.float64)
    return statistic(tiles, units, counts)


def percentile_interval(draws: np.ndarray) -> list[float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    return [float(np.percentile(draws, tail)), float(np.percentile(draws, 100 - tail))]
