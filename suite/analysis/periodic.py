"""The phase-locked (periodic) pattern of upsampled outputs, with the estimator's chance level
removed and a bootstrap interval.

An upsampler by s places output pixel n at phase n mod s of its input grid. Whatever it does
differently at each phase repeats with period s (period s·t for a stage followed by another of
scale t), and averaging the output over every position of the same phase keeps exactly that part:
the *phase-locked pattern*. Two figures come from it, each per period family:

- ``checkerboard_pct`` (first order, ``pattern_percent``): the pattern's RMS as a percentage of the
  output's RMS. A 3x3 stride-2 transposed convolution whose phases have unequal gains shows here; a
  pattern of a% of the signal's RMS added to a clean output reads a%.
- ``phase_energy_pct`` (second order, ``phase_energy_percent``): the local detail energy (the output
  minus a Gaussian blur, squared) averaged per phase, its RMS deviation from the mean over phases,
  in percent of the mean. Signal-dependent patterns show here even when every phase keeps a flat
  field flat: a phase sharpened by a Laplacian carries more detail energy than the others. This is
  the periodic-correlation idea of the resampling-detection literature (Popescu & Farid 2005;
  Kirchner 2008) reduced to one number. Interpolators whose phases mirror each other (nearest,
  bilinear and bicubic with half-pixel centres) keep the phases' energies equal.

Size-invariance: at a finite size, content that is not periodic leaves a small phase-locked
average of its own (a photograph's edges and gradients, which a nearest-neighbour staircase
turns into a phase-locked average), which would make a clean layer look striped at small sizes
and fade as the image grows. It differs from photograph to photograph (in sign too), while a
pattern of the layer does not: the photograph is the unit of replication, and the energy of the
tile averaged over the P photographs minus the spread between them over P is an unbiased
estimate of the true pattern's energy (E|mean|² = |pattern|² + var / P). With one photograph,
blocks (crops of whole periods) stand in for them. A gradient would also leak through the phase
average, so each output first loses its smooth part (minus a Gaussian blur of σ = the longest
period, whose gain at every checkerboard frequency is 1 to within 3e-9).

Families: the tile of one period L (the least common multiple of the case's periods) is
transformed by a 2-D DFT; the family of period p holds the bins (i·L/p, j·L/p) that no smaller
period of the case dividing p already holds, as in ``spectrum.checkerboard_families``.

Intervals: a percentile bootstrap over the weight seeds (each a different layer: their pattern
energies are pooled, never their tiles averaged), the photographs inside each, and the blocks
inside each photograph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.ndimage

from ..finite import nonfinite
from ..stats import BOOTSTRAP_REPLICATES, resample_counts
from .errors import MetricError

#: Blocks per side at most: 16 blocks give the spread between blocks 15 degrees of freedom.
MAX_BLOCKS_PER_SIDE = 4


@dataclass(frozen=True)
class PhaseTiles:
    """Sufficient statistics of the phase-locked tiles. Outputs come in groups (weight seeds: a
    different layer each), each of P probe photographs, each cut into B blocks. Per period
    family and group: the Gram matrix (P·B x P·B) of the blocks' tiles on the family's DFT bins
    (first order: the detail tile (C, L, L); second: the detail-energy tile (L, L) over its
    block's mean), so that any resampling of photographs and blocks, as count vectors, gives
    the energy of the averaged tile as vᵀ G v. And each output's mean square (G, P)."""

    pattern: dict[int, np.ndarray]  # period -> (G, P·B, P·B)
    energy: dict[int, np.ndarray]  # period -> (G, P·B, P·B)
    mean_square: np.ndarray  # (G, P)
    blocks: tuple[int, int]

    @property
    def groups(self) -> int:
        return self.mean_square.shape[0]

    @property
    def photos(self) -> int:
        return self.mean_square.shape[1]

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


#: Detail below this fraction of the output's largest value is the blur's rounding, not content.
ROUNDING_RESIDUE = 1e-12


def detail(stack: np.ndarray, sigma: float) -> np.ndarray:
    """Each image minus its Gaussian blur (reflected edges): the smooth part removed, every
    checkerboard frequency kept."""
    sigmas = (0,) * (stack.ndim - 2) + (sigma, sigma)
    return stack - scipy.ndimage.gaussian_filter(stack, sigma=sigmas, mode="reflect")


def phase_tiles(
    outputs: np.ndarray, periods: list[int], border: int, groups: int = 1
) -> PhaseTiles:
    """``outputs`` is (G·P, C, H, W): P probe outputs for each of G groups, group by group. The
    border is cut after the detail is taken, the interior split into blocks of whole periods."""
    if problem := nonfinite(outputs):
        raise MetricError(f"the output {problem}")
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
    # A flat block's detail is rounding residue of the blur (scipy's kernels leave ~1e-16 of the
    # field's value), not zero: below this floor there is nothing to compare.
    floor = (ROUNDING_RESIDUE * float(np.abs(stack).max(initial=0.0))) ** 2
    if not (level > floor).all():
        raise MetricError("the output has no detail in a block: the phases cannot be compared")
    return PhaseTiles(
        _grams(scipy.fft.fft2(pattern), masks, groups),
        _grams(scipy.fft.fft2(energy / level), masks, groups),
        mean_square.reshape(groups, -1),
        (by, bx),
    )


def _grams(spectra: np.ndarray, masks: dict[int, np.ndarray], groups: int) -> dict[int, np.ndarray]:
    """Per family: (G, P·B, P·B) inner products between the blocks of each group's photographs
    on the family's bins, over the channels, in units of mean square (Parseval: / L⁴)."""
    tile = spectra.shape[-1]
    grams = {}
    for period, mask in masks.items():
        bins = spectra[..., mask].reshape(spectra.shape[0], spectra.shape[1], -1)
        units = bins.reshape(groups, -1, bins.shape[-1])  # (G, P·B, K)
        grams[period] = np.real(np.einsum("gik,gjk->gij", units, units.conj())) / tile**4
    return grams


def _excess(
    gram: np.ndarray, photos: np.ndarray, blocks: np.ndarray, resampled: bool
) -> np.ndarray:
    """Per group: the energy of the tile averaged over its photographs (``photos`` (..., G, P):
    how often each was drawn) and their blocks (``blocks`` (..., G, P, B)), minus the chance
    level. The unit of replication is the photograph: content that is not periodic (a
    photograph's edges and gradients, which a nearest-neighbour staircase turns into a
    phase-locked average of either sign) differs between photographs, a pattern of the layer
    does not, so E|mean|² = |pattern|² + var_between_photographs / P. With one photograph the
    blocks stand in for them. Units drawn with replacement understate their spread by
    (n - 1)/n: ``resampled`` corrects it."""
    g, pb, _ = gram.shape
    p = photos.shape[-1]
    b = pb // p
    weights = photos[..., None] * blocks  # (..., G, P, B)
    flat = weights.reshape(*weights.shape[:-2], pb)
    total = np.einsum("...gi,gij,...gj->...g", flat, gram, flat) / (p * b) ** 2
    diagonal = gram.reshape(g, p, b, p, b)[:, np.arange(p), :, np.arange(p), :]  # (P, G, B, B)
    if p > 1:
        units = p
        per_photo = np.einsum("...gpb,pgbc,...gpc->...gp", blocks, diagonal, blocks) / b**2
        squares = (photos * per_photo).sum(axis=-1) / p  # mean energy of a photograph's tile
    else:  # one photograph: its blocks are the units
        units = b
        squares = np.einsum("...gpb,pgbb->...gp", blocks, diagonal)[..., 0] / b
    spread = (squares - total) * units / (units - 1)  # the units' sample variance
    if resampled:
        spread = spread * units / (units - 1)
    return total - spread / units


def pattern_percent(tiles: PhaseTiles, draw: Draw | None = None) -> dict[int, np.ndarray | float]:
    """First order, per family: 100 · sqrt(pattern energy / output mean square), energies and
    mean squares pooled over the groups; an estimate at or below chance reads 0. ``draw``
    weights groups, photographs and blocks for the bootstrap."""
    draw = draw or Draw.whole(tiles)
    mean_square = (draw.photos * tiles.mean_square).sum(axis=-1) / tiles.photos
    total = (draw.groups * mean_square).sum(axis=-1)
    if not (total > 0).all():
        raise MetricError("the output is zero on every probe")
    found = {}
    for period, gram in tiles.pattern.items():
        excess = _excess(gram, draw.photos, draw.blocks, draw.resampled)
        pooled = (draw.groups * excess).sum(axis=-1)
        found[period] = 100.0 * np.sqrt(np.maximum(0.0, pooled / total))
    return found


def phase_energy_percent(
    tiles: PhaseTiles, draw: Draw | None = None
) -> dict[int, np.ndarray | float]:
    """Second order, per family: 100 · RMS deviation of the per-phase detail energy from its
    mean (each block normalised by its own mean energy), averaged over the groups."""
    draw = draw or Draw.whole(tiles)
    found = {}
    for period, gram in tiles.energy.items():
        excess = _excess(gram, draw.photos, draw.blocks, draw.resampled)
        pooled = (draw.groups * excess).sum(axis=-1) / tiles.groups
        found[period] = 100.0 * np.sqrt(np.maximum(0.0, pooled))
    return found


@dataclass(frozen=True)
class Draw:
    """How often each group (G), photograph (G, P) and block (G, P, B) was drawn, with any
    leading axes for many draws at once."""

    groups: np.ndarray
    photos: np.ndarray
    blocks: np.ndarray
    resampled: bool

    @classmethod
    def whole(cls, tiles: PhaseTiles) -> Draw:
        g, p, b = tiles.groups, tiles.photos, tiles.block_count
        return cls(np.ones(g), np.ones((g, p)), np.ones((g, p, b)), False)

    @classmethod
    def bootstrap(cls, tiles: PhaseTiles, replicates: int, seed: int) -> Draw:
        rng = np.random.default_rng(seed)
        g, p, b = tiles.groups, tiles.photos, tiles.block_count

        def counts(n: int, size: tuple[int, ...]) -> np.ndarray:
            return resample_counts(rng, n, size).astype(np.float64)

        groups = counts(g, (replicates,)) if g > 1 else np.ones((replicates, 1))
        return cls(groups, counts(p, (replicates, g)), counts(b, (replicates, g, p)), True)


def bootstrap_draws(
    tiles: PhaseTiles, statistic, seed: int = 0, replicates: int = BOOTSTRAP_REPLICATES
) -> dict[int, np.ndarray]:
    """``statistic`` per family over ``replicates`` resamples: groups (weight seeds), then the
    photographs inside each, then the blocks inside each photograph, with replacement."""
    return statistic(tiles, Draw.bootstrap(tiles, replicates, seed))
