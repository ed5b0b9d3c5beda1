"""The exact figures of a linear upsampler from its filters g_oi, one per (output, input)
channel pair after a zero-insertion by the scale s (``linear.py`` finds them). From their
spectra G_oi(f), in output cycles per pixel:

- ``checkerboard_gain``: the largest over the checkerboard frequencies f (the nonzero multiples
  of 1/s per axis) of sqrt(Σ |G_oi(f)|² / Σ |G_oi(0)|²), summed over channel pairs (energy
  weighted). 0 exactly when every pair keeps a flat field flat (Sugawara et al.): all-ones 3x3
  stride 2 gives 1/3, 5x5 gives 1/5, 4x4 gives 0.
- ``imaging_ratio``: Σ |G|² above the input's Nyquist (max(|fy|, |fx|) > 1/(2s)) over Σ |G|²
  below it: the energy the layer puts where the input holds nothing.
- ``flat_ripple``: the flat-field ripple (std / rms of the response to an all-ones input,
  energy weighted over output channels) in closed form, from Σ_i G_oi at the checkerboard
  frequencies.
- ``phase_response_spread``: how much the s² polyphase filters (output phase φ's filter in
  input coordinates) differ in their magnitude responses: sqrt(Σ (|G_φ| - mean_φ |G_φ|)² /
  Σ |G_φ|²). 0 for phases that mirror each other (nearest, bilinear at ×2); it sees what the
  checkerboard gain cannot: phases of equal DC gain but different shapes.
- the **equivalent single layer**: one transposed convolution of stride s with g's support as
  its kernel, on the channel pairs g couples, with its parameters and FLOPs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft

from ..case import Case
from .spectrum import WORKERS

#: Frequency samples per axis of each polyphase filter's magnitude response, at least.
GRID_PER_NYQUIST = 8


def exact_figures(found: dict[str, Any], case: Case) -> dict[str, Any]:
    """The figures of the module docstring from ``linear.effective_filter``'s result."""
    g, s, origin = found["filter"], found["scale"], found["origin"]
    kh, kw = g.shape[-2:]
    coupled = int((np.abs(g).max(axis=(2, 3)) > 0).sum())
    height, width = case.size
    figures: dict[str, Any] = {
        "linear": True,
        "exact": found["exact"],
        "equivalent": {
            "layer": "transposed convolution" if s > 1 else "convolution",
            "kernel": [kh, kw],
            "stride": s,
            "channel_pairs": coupled,
            "parameters": coupled * kh * kw,
            "flops": 2 * coupled * kh * kw * height * width,
        },
    }
    if s < 2:
        reason = "the case does not upsample: no checkerboard frequency"
        return {**figures, "checkerboard_gain": None, "imaging_ratio": None, "why": reason}
    # G at the checkerboard frequencies (i/s, j/s) is the s x s DFT of the taps folded by phase
    folded = _fold(g, s, origin)
    checker = (np.abs(np.fft.fft2(folded)) ** 2).sum(axis=(0, 1))
    dc = checker[0, 0]
    checker[0, 0] = 0.0
    low, total = _band_energies(g, s)
    figures["checkerboard_gain"] = float(np.sqrt(max(0.0, checker.max()) / dc)) if dc > 0 else None
    figures["imaging_ratio"] = (total - low) / low if low > 0 else None
    figures["flat_ripple"] = _flat_ripple(g, s, origin)
    figures["phase_response_spread"] = _phase_spread(g, s, origin)
    if dc <= 0:
        figures["why"] = "zero gain at DC: the checkerboard gain is undefined"
    return figures


def _band_energies(g: np.ndarray, s: int) -> tuple[float, float]:
    """∫ Σ|G|² over the square below the input's Nyquist a = 1/(2s), and over the whole band,
    in closed form: ∫_{-a}^{a} e^{-2πi f m} df = 2a·sinc(2a·m); over the whole band it is R(0)."""
    lags, autocorrelation = summed_autocorrelation(g)
    edge = 1 / (2 * s)
    window_y, window_x = (
        2 * edge * np.sinc(2 * edge * lags[0]),
        2 * edge * np.sinc(2 * edge * lags[1]),
    )
    low = float(window_y @ autocorrelation @ window_x)
    total = float(autocorrelation[np.ix_(lags[0] == 0, lags[1] == 0)].sum())
    return low, total


def summed_autocorrelation(g: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """(lags per axis, R) with R(m) = Σ_pairs Σ_n g[n]·g[n + m]: the inverse transform of
    Σ |G(f)|², so that any band's energy has a closed form."""
    kh, kw = g.shape[-2:]
    size = (2 * kh, 2 * kw)
    power = np.zeros(size)
    for o in range(g.shape[0]):  # one output channel at a time bounds the memory
        spectrum = scipy.fft.fft2(g[o], s=size, workers=WORKERS)
        power += (np.abs(spectrum) ** 2).sum(axis=0)
    autocorrelation = np.real(scipy.fft.ifft2(power))
    lags = (np.rint(np.fft.fftfreq(size[0]) * size[0]), np.rint(np.fft.fftfreq(size[1]) * size[1]))
    return lags, autocorrelation


def _fold(g: np.ndarray, s: int, origin: tuple[int, int]) -> np.ndarray:
    """(..., s, s): the sum of the taps at each output phase (the polyphase DC gains)."""
    tile = np.zeros((*g.shape[:-2], s, s))
    for y in range(g.shape[-2]):
        for x in range(g.shape[-1]):
            tile[..., (origin[0] + y) % s, (origin[1] + x) % s] += g[..., y, x]
    return tile


def _flat_ripple(g: np.ndarray, s: int, origin: tuple[int, int]) -> float | None:
    """The response to an all-ones input is, per output channel, the period-s tile of the
    polyphase DC gains of Σ_inputs g: its std over its RMS, energy weighted over channels."""
    tile = _fold(g.sum(axis=1), s, origin)
    total = float((tile**2).sum())
    if total == 0:
        return None
    return float(np.sqrt(max(0.0, tile.var(axis=(1, 2)).sum() * s * s / total)))


def _phase_spread(g: np.ndarray, s: int, origin: tuple[int, int]) -> float | None:
    """sqrt(Σ_pairs,φ,f (|G_φ(f)| - mean_φ |G_φ(f)|)² / Σ |G_φ(f)|²) over input frequencies."""
    size = 2 * max(GRID_PER_NYQUIST, int(np.ceil(max(g.shape[-2:]) / s)))
    magnitudes = []
    for py in range(s):
        for px in range(s):
            # output rows n = origin + index with n ≡ phase (mod s): the phase's own taps
            first_y, first_x = (py - origin[0]) % s, (px - origin[1]) % s
            taps = g[..., first_y::s, first_x::s]
            padded = np.zeros((*g.shape[:2], size, size))
            padded[..., : taps.shape[-2], : taps.shape[-1]] = taps
            magnitudes.append(np.abs(scipy.fft.rfft2(padded, workers=WORKERS)))
    stack = np.stack(magnitudes)
    total = float((stack**2).sum())
    if total == 0:
        return None
    return float(np.sqrt(((stack - stack.mean(axis=0)) ** 2).sum() / total))
