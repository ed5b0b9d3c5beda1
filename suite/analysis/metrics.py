"""The artifact metrics, each a function of arrays with its unit and direction.

- ``flat_ripple``: unitless in [0, 1], 0 is flat (better).
- ``checkerboard_db``: dB per period family, higher is worse; at or below 0 means no peak.
- ``spectral_deviation_db``: dB, mean |Δ log-power| over the upper half band; lower is better.
"""

from __future__ import annotations

import numpy as np

from .errors import MetricError
from .spectrum import checkerboard_families, power_spectrum, radial_profile

#: The band over which spectra are compared (cycles per pixel): its upper half, where
#: upsamplers differ (Durall et al. 2020 compare the high-frequency end of the spectrum).
UPPER_BAND = (0.25, 0.5)
#: Points kept of each 1-D spectrum for the plots.
CURVE_POINTS = 64


def _finite(output: np.ndarray) -> None:
    nan, inf = int(np.isnan(output).sum()), int(np.isinf(output).sum())
    if nan or inf:
        raise MetricError(f"the output holds {nan} NaN and {inf} Inf values")


def flat_ripple(output: np.ndarray, border: int) -> float:
    """Odena's uneven overlap, seen on a constant input: on the interior (``border`` pixels cut
    on each side, beyond the reach of zero padding), std / rms per channel, the largest over
    channels. 0: flat; a 2-D pattern alternating 4 : 2 : 2 : 1 gives 0.436."""
    _finite(output)
    interior = output[..., border : output.shape[-2] - border, border : output.shape[-1] - border]
    if interior.shape[-1] < 2 or interior.shape[-2] < 2:
        raise MetricError(
            f"output {output.shape[-2]}x{output.shape[-1]} has no interior once a border of "
            f"{border} is cut"
        )
    channels = interior.reshape(-1, *interior.shape[-2:]).astype(np.float64)
    rms = np.sqrt((channels**2).mean(axis=(1, 2)))
    if not (rms > 0).any():
        raise MetricError("the output is zero on a constant input: ripple is undefined")
    std = channels.std(axis=(1, 2))
    ratios = np.where(rms > 0, std / np.where(rms > 0, rms, 1.0), 0.0)
    return float(ratios.max())


def crop_to_periods(image: np.ndarray, periods: list[int]) -> np.ndarray:
    """Top-left crop to whole periods of every family (their least common multiple)."""
    whole = int(np.lcm.reduce(periods)) if periods else 1
    h, w = image.shape[-2:]
    if h < whole or w < whole:
        raise MetricError(f"output {h}x{w} is smaller than one period {whole}")
    return image[..., : h - h % whole, : w - w % whole]


def checkerboard(output: np.ndarray, periods: list[int]) -> dict[int, float]:
    _finite(output)
    return checkerboard_families(crop_to_periods(output, periods), periods)


def spectral_deviation(output: np.ndarray, reference: np.ndarray) -> dict:
    """After Durall et al. (CVPR 2020): azimuthally averaged power spectra of the upsampled output
    and of the high-resolution original (whose area-downsampled copy was the input), each in dB
    relative to its own mean over the lower half band; the mean absolute difference over the
    upper half (0.25 to 0.5 cycles per pixel). Both cropped to a common size. Lower is better."""
    _finite(output)
    h = min(output.shape[-2], reference.shape[-2])
    w = min(output.shape[-1], reference.shape[-1])
    freq, out_power = radial_profile(power_spectrum(output[..., :h, :w]))
    _, ref_power = radial_profile(power_spectrum(reference[..., :h, :w]))
    if not (out_power > 0).all() or not (ref_power > 0).all():
        raise MetricError("a spectrum has a ring of zero power: the log difference is undefined")
    # Each curve relative to its own lower half band: the deviation is about the spectrum's shape
    # at high frequencies, not about the overall gain (arbitrary for a randomly initialised layer).
    lower = freq < UPPER_BAND[0]
    band = (freq >= UPPER_BAND[0]) & (freq <= UPPER_BAND[1])
    if not lower.any() or not band.any():
        raise MetricError(f"output {h}x{w} is too small for a spectrum with both half bands")
    out_db = 10 * np.log10(out_power / out_power[lower].mean())
    ref_db = 10 * np.log10(ref_power / ref_power[lower].mean())
    step = max(1, len(freq) // CURVE_POINTS)
    return {
        "deviation_db": float(np.abs(out_db[band] - ref_db[band]).mean()),
        "curves": {
            "frequency": [round(float(f), 5) for f in freq[::step]],
            "output_db": [round(float(v), 3) for v in out_db[::step]],
            "reference_db": [round(float(v), 3) for v in ref_db[::step]],
        },
    }


def checkerboard_energy_fraction(residual: np.ndarray, periods: list[int]) -> float:
    """Share of a residual's power (mean removed) on the checkerboard bins of every family."""
    from .spectrum import grid_bins

    residual = crop_to_periods(residual, periods)
    power = power_spectrum(residual)
    total = float(power.sum())
    if total <= 0:
        return 0.0
    bins = set().union(*(grid_bins(power.shape, p) for p in periods))
    return float(sum(power[u, v] for u, v in bins) / total)
