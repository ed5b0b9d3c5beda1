"""Flat-field ripple and the spectral figures, each a function of arrays (the registry,
``suite/analysis/registry.py``, holds their units, directions and meanings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..finite import nonfinite
from ..stats import percentile_interval, resample_counts
from .errors import MetricError
from .spectrum import grid_bins, power_spectrum

#: A ring's log-power difference is floored here: an ideal interpolator puts no power above the
#: input's Nyquist, and one empty ring must not make the mean -inf.
FLOOR_DB = -60.0
#: Points kept of each 1-D spectrum for the plots.
CURVE_POINTS = 64


def _finite(output: np.ndarray) -> None:
    if problem := nonfinite(output):
        raise MetricError(f"the output {problem}")


def flat_ripple(output: np.ndarray, border: int, periods: list[int] | None = None) -> float:
    """Odena's uneven overlap, seen on a constant input: on the interior (``border`` pixels cut
    on each side, beyond the reach of zero padding, then cropped to whole periods), the RMS of
    each channel's deviation from its mean over the RMS of the channel, energy weighted over
    channels: sqrt(Σ var / Σ mean square). 0: flat; a 2-D pattern alternating 4 : 2 : 2 : 1
    gives 0.436. For a linear case it equals ``linear.flat_ripple`` exactly."""
    variance, mean_square = ripple_parts(output, border, periods)
    return float(np.sqrt(variance / mean_square))


def ripple_parts(
    output: np.ndarray, border: int, periods: list[int] | None = None
) -> tuple[float, float]:
    """(Σ variance, Σ mean square) over the channels of the interior: the ripple's parts, which
    pool over weight seeds by summing."""
    _finite(output)
    interior = output[..., border : output.shape[-2] - border, border : output.shape[-1] - border]
    if interior.shape[-1] < 2 or interior.shape[-2] < 2:
        raise MetricError(
            f"output {output.shape[-2]}x{output.shape[-1]} has no interior once a border of "
            f"{border} is cut"
        )
    if periods:
        interior = crop_to_periods(interior, periods)
    channels = interior.reshape(-1, *interior.shape[-2:]).astype(np.float64)
    mean_square = float((channels**2).mean(axis=(1, 2)).sum())
    if mean_square <= 0:
        raise MetricError("the output is zero on a constant input: ripple is undefined")
    return float(channels.var(axis=(1, 2)).sum()), mean_square


def crop_to_periods(image: np.ndarray, periods: list[int]) -> np.ndarray:
    """Top-left crop to whole periods of every family (their least common multiple)."""
    whole = int(np.lcm.reduce(periods)) if periods else 1
    h, w = image.shape[-2:]
    if h < whole or w < whole:
        raise MetricError(f"output {h}x{w} is smaller than one period {whole}")
    return image[..., : h - h % whole, : w - w % whole]


def spectral_bands(
    output: np.ndarray, reference: np.ndarray, scale: int, units: int = 1, replicates: int = 0
) -> dict[str, Any]:
    """Signed spectral figures against the high-resolution original (whose area-downsampled copy
    was the input), from power spectra summed over channels and probes and averaged over square
    rings (max(|fy|, |fx|) in output cycles per pixel, so that the rings reach the corners and
    the input's Nyquist 1/(2·scale) is a ring's edge):

    - each spectrum is first divided by its own mean over the lower half of the band the input
      represents (up to 1/(4·scale)), where every upsampler passes the signal: the figures ignore
      the layer's gain;
    - ``fidelity_db``: the mean over the rings of the upper half of that band (1/(4·scale) to
      1/(2·scale)) of 10·log10(output / original): detail kept (0), lost (< 0) or boosted (> 0);
    - ``leakage_db``: the same above the input's Nyquist, out to the corners: imaging, energy the
      input could not know about (> 0: more than the original had there; < 0: less).

    ``units`` splits the stacks into equal parts (probes); with ``replicates`` the parts are
    resampled with replacement for 95% percentile intervals (``fidelity_ci``, ``leakage_ci``)."""
    _finite(output)
    h = min(output.shape[-2], reference.shape[-2])
    w = min(output.shape[-1], reference.shape[-1])
    out_parts = np.split(output[..., :h, :w], units)
    ref_parts = np.split(reference[..., :h, :w], units)
    out_spectra = [square_rings(power_spectrum(part)) for part in out_parts]
    freq = out_spectra[0][0]
    out_rings = np.stack([rings for _, rings in out_spectra])
    ref_rings = np.stack([square_rings(power_spectrum(part))[1] for part in ref_parts])
    bands = _Bands(
        freq <= 1 / (4 * scale),
        (freq > 1 / (4 * scale)) & (freq <= 1 / (2 * scale)),
        freq > 1 / (2 * scale),
    )
    if not (bands.anchor.any() and bands.upper.any() and bands.above.any()):
        raise MetricError(f"output {h}x{w} is too small to split its spectrum at scale {scale}")
    fidelity, leakage, out_db, ref_db = bands.figures(out_rings.sum(axis=0), ref_rings.sum(axis=0))
    intervals = _band_intervals(bands, out_rings, ref_rings, units, replicates)
    curves = _curves(freq, out_db, ref_db, scale)
    return {"fidelity_db": fidelity, "leakage_db": leakage, **intervals, "curves": curves}


def _curves(freq: np.ndarray, out_db: np.ndarray, ref_db: np.ndarray, scale: int) -> dict:
    """Both spectra in dB over their anchors, thinned to about CURVE_POINTS, for the plots."""
    step = max(1, len(freq) // CURVE_POINTS)
    return {
        "frequency": [round(float(f), 5) for f in freq[::step]],
        "output_db": [round(float(v), 3) for v in np.maximum(out_db, -300)[::step]],
        "reference_db": [round(float(v), 3) for v in ref_db[::step]],
        "input_nyquist": 1 / (2 * scale),
    }


@dataclass(frozen=True)
class _Bands:
    """The rings each figure reads: the gain anchor, the input band's upper half, and above the
    input's Nyquist (``spectral_bands``)."""

    anchor: np.ndarray
    upper: np.ndarray
    above: np.ndarray

    def figures(
        self, out_power: np.ndarray, ref_power: np.ndarray
    ) -> tuple[float, float, np.ndarray, np.ndarray]:
        """fidelity dB, leakage dB, and both curves in dB over their anchors."""
        if not (out_power[self.anchor] > 0).all() or not (ref_power > 0).all():
            raise MetricError("a spectrum has no power in a ring: the log ratio is undefined")
        out_db = 10 * np.log10(np.maximum(out_power, 1e-30) / out_power[self.anchor].mean())
        ref_db = 10 * np.log10(ref_power / ref_power[self.anchor].mean())
        difference = np.maximum(out_db - ref_db, FLOOR_DB)
        return (
            float(difference[self.upper].mean()),
            float(difference[self.above].mean()),
            out_db,
            ref_db,
        )


def _band_intervals(
    bands: _Bands, out_rings: np.ndarray, ref_rings: np.ndarray, units: int, replicates: int
) -> dict[str, list[float]]:
    """95% percentile intervals of both figures, the units resampled with replacement."""
    if not replicates:
        return {}
    weights = resample_counts(np.random.default_rng(0), units, replicates)
    draws = np.array([bands.figures(w @ out_rings, w @ ref_rings)[:2] for w in weights])
    return {
        f"{name}_ci": percentile_interval(d)
        for name, d in zip(("fidelity", "leakage"), draws.T, strict=True)
    }


def square_rings(power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean power in square rings of width 1/min(H, W) (max(|fy|, |fx|)), from the first ring
    above DC to the corners: (frequency at the ring's centre, mean power)."""
    h, w = power.shape
    width = 1.0 / min(h, w)
    radius = np.maximum(np.abs(np.fft.fftfreq(h))[:, None], np.abs(np.fft.fftfreq(w))[None, :])
    ring = np.floor(radius / width + 0.5).astype(int)
    count = int(ring.max())
    sums = np.bincount(ring.ravel(), weights=power.ravel(), minlength=count + 1)
    numbers = np.bincount(ring.ravel(), minlength=count + 1)
    rings = np.arange(1, count + 1)
    return rings * width, sums[rings] / np.maximum(numbers[rings], 1)


def checkerboard_energy_fraction(residual: np.ndarray, periods: list[int]) -> float:
    """Share of a residual's power (mean removed) on the checkerboard bins of every family."""
    residual = crop_to_periods(residual, periods)
    power = power_spectrum(residual)
    total = float(power.sum())
    if total <= 0:
        return 0.0
    bins = set().union(*(grid_bins(power.shape, p) for p in periods))
    return float(sum(power[u, v] for u, v in bins) / total)
