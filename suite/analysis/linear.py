"""Exact analysis of linear upsamplers.

A model that is linear in its input and moves its output by s pixels when its input moves by one
(s the case's total scale) is exactly a zero-insertion by s followed by one filter g per (output,
input) channel pair: y_o = Σ_i (x_i ↑ s) * g_oi. Both properties are decided numerically (by
superposition on random inputs, and by moving an impulse), never by a method's name; g is read
off the responses to impulses. A block with biases is affine, f = L + f(0): its figures are
those of its linear part L, f(x) - f(0), and it is recorded as ``affine`` with the RMS of f(0)
(``affine.py``). From its spectrum G_oi(f), in output cycles per pixel:

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

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.fft
import torch
from torch import nn

from ..case import Case
from .affine import LinearPart, constant_rms
from .errors import MetricError
from .spectrum import WORKERS

#: Relative superposition error below which a model counts as linear (float64 arithmetic; a
#: float32-only model is checked at FLOAT32_TOLERANCE).
FLOAT64_TOLERANCE = 1e-9
FLOAT32_TOLERANCE = 1e-4
#: Largest change of the impulse response (relative to its peak) when the impulse moves by one
#: pixel for which the centre's filter still stands for the layer (flagged not exact).
LOCAL_DRIFT = 0.1
#: Taps smaller than this fraction of the largest are outside the effective kernel's support.
SUPPORT_FRACTION = 1e-9
#: Frequency samples per axis of each polyphase filter's magnitude response, at least.
GRID_PER_NYQUIST = 8
#: Input channels probed with impulses in one forward pass (bounds the memory).
IMPULSE_BATCH = 16


def _as_float64(model: nn.Module, shape) -> tuple[nn.Module, torch.dtype]:
    """A float64 copy where the model runs in float64 (a factory's module may not)."""
    try:
        double = copy.deepcopy(model).double()
        _run(double, torch.zeros(shape, dtype=torch.float64))
    except Exception:
        return model, torch.float32
    return double, torch.float64


def _run(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model(x).to(torch.float64).numpy()


def superposition_error(model: nn.Module, shape, seed: int, dtype) -> tuple[float, float]:
    """(relative error of f(a·x1 + b·x2) against a·f(x1) + b·f(x2), |f(0)| / |f(x1)|)."""
    generator = torch.Generator().manual_seed(seed ^ 0x11EA)
    x1 = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
    x2 = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
    a, b = 0.7, -1.3
    y1, y2 = _run(model, x1), _run(model, x2)
    mixed = _run(model, a * x1 + b * x2)
    scale = abs(a) * np.linalg.norm(y1) + abs(b) * np.linalg.norm(y2)
    if scale == 0:
        return 0.0, 0.0
    error = float(np.linalg.norm(mixed - a * y1 - b * y2) / scale)
    offset = float(np.linalg.norm(_run(model, torch.zeros(shape, dtype=dtype)))) / max(
        float(np.linalg.norm(y1)), 1e-300
    )
    return error, offset


@dataclass(frozen=True)
class Responses:
    """Impulse responses (C_in, C_out, h, w) cut to the smallest box that holds every nonzero
    (or NaN) value of the (H', W') output: outside it they are exactly 0, so every figure read
    from the box equals the whole output's, and a wide layer's responses (64 x 64 channel pairs
    of 128 x 128 pixels: 0.5 GB in float64) stay the size of its filter."""

    values: np.ndarray
    #: output pixel of ``values[..., 0, 0]``
    origin: tuple[int, int]
    #: the whole output's (H', W')
    shape: tuple[int, int]

    def within(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """The responses on ``box`` (top, left, bottom, right in output pixels), 0 outside."""
        top, left, bottom, right = box
        out = np.zeros((*self.values.shape[:2], bottom - top, right - left))
        y, x = self.origin[0] - top, self.origin[1] - left
        out[..., y : y + self.values.shape[-2], x : x + self.values.shape[-1]] = self.values
        return out

    def box(self) -> tuple[int, int, int, int]:
        return (
            *self.origin,
            self.origin[0] + self.values.shape[-2],
            self.origin[1] + self.values.shape[-1],
        )


def _nonzero_box(values: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the pixels where any channel pair is not 0 (NaN counts)."""
    held = (values != 0).any(axis=(0, 1))
    rows, cols = np.flatnonzero(held.any(axis=1)), np.flatnonzero(held.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def impulse_responses(model: nn.Module, case: Case, dtype, at: tuple[int, int]) -> Responses:
    """The responses to a unit impulse at input pixel ``at`` of each input channel (a batch of
    ``IMPULSE_BATCH`` channels per forward pass), each batch cut to its nonzero box at once."""
    channels = case.channels
    parts: list[Responses] = []
    for first in range(0, channels, IMPULSE_BATCH):
        batch = range(first, min(channels, first + IMPULSE_BATCH))
        x = torch.zeros((len(batch), channels, *case.size), dtype=dtype)
        x[torch.arange(len(batch)), torch.tensor(batch), at[0], at[1]] = 1.0
        response = _run(model, x)
        shape = response.shape[-2:]
        box = _nonzero_box(response) or (0, 0, 1, 1)
        parts.append(
            Responses(response[..., box[0] : box[2], box[1] : box[3]].copy(), box[:2], shape)
        )
    union = _union([part.box() for part in parts])
    values = np.concatenate([part.within(union) for part in parts])
    return Responses(values, union[:2], parts[0].shape)


def probing_cases(case: Case, reach: int) -> list[Case]:
    """The case on smaller inputs where the model takes one (float64 convolutions are slow): an
    impulse at the centre stays ``reach`` input pixels (plus a margin) from every edge. The
    second, larger one is for align_corners-style resampling, whose phase drifts by ~1/size."""
    found = []
    for least in (16, 32):
        side = max(least, 2 * (reach + 2))
        size = (min(case.size[0], side), min(case.size[1], side))
        if size != case.size and all(size != c.size for c in found):
            found.append(replace(case, size=size))
    return found


def effective_filter(model: nn.Module, case: Case, reach: int | None = None) -> dict[str, Any]:
    """g (C_out, C_in, kh, kw) with the output offset of its first tap from s·(impulse), or the
    reason there is none (``linear`` false, or not shift-equivariant). ``reach`` (input pixels
    the response can spread) lets the probing run on a smaller input."""
    for smaller in probing_cases(case, reach) if reach is not None else []:
        try:
            found = effective_filter(model, smaller)
        except Exception:  # a model bound to its input size: probe at the case's own
            break
        # align_corners-style resampling drifts less on a larger input: try the next
        if not found["linear"] or "filter" in found:
            return found
    double, dtype = _as_float64(model, case.input_shape)
    tolerance = FLOAT64_TOLERANCE if dtype == torch.float64 else FLOAT32_TOLERANCE
    error, offset = superposition_error(double, case.input_shape, case.seed, dtype)
    if not (np.isfinite(error) and np.isfinite(offset)):
        raise MetricError("the output holds NaN or Inf values on random inputs")
    if offset > tolerance:
        return _affine_filter(double, case, dtype, tolerance, offset)
    if error > tolerance:
        return {"linear": False, "why": f"superposition fails (relative error {error:.2g})"}
    return {**_impulse_filter(double, case, dtype, tolerance, error), "affine": False}


def _affine_filter(double, case: Case, dtype, tolerance: float, offset: float) -> dict[str, Any]:
    """f(0) is not 0: the filter of the linear part f(x) - f(0) where that is linear (the block
    is affine, ``affine.py``), else why the block is neither linear nor affine."""
    part = LinearPart(double)
    error, _ = superposition_error(part, case.input_shape, case.seed, dtype)
    if not error <= tolerance:  # NaN included
        return {
            "linear": False,
            "why": f"not affine: f(0) is not 0 (|f(0)| / |f(x)| = {offset:.2g}) and "
            f"superposition fails on f(x) - f(0) (relative error {error:.2g})",
        }
    return {**_impulse_filter(part, case, dtype, tolerance, error), "affine": True}


def _nearly(drift: float, s: int) -> dict[str, Any]:
    """align_corners-style resampling: the phase drifts slowly across the image, so the layer
    is a transposed convolution locally, not exactly; the figures are the centre's."""
    return {
        "exact": False,
        "why": f"nearly shift-equivariant (moving the input by 1 px moves the output by {s} px "
        f"to within {drift:.2g} of the peak, as align_corners resampling does): the figures "
        "are those of the filter at the image's centre",
    }


def _impulse_filter(double, case: Case, dtype, tolerance: float, error: float) -> dict[str, Any]:
    """The filter of a linear layer from its impulse responses, and whether it is exact
    (the same at every position: a transposed convolution)."""
    s = case.scale
    height, width = case.size
    centre = (height // 2, width // 2)
    first = impulse_responses(double, case, dtype, centre)
    result: dict[str, Any] = {"linear": True, "superposition_error": error}
    if height < 2 or width < 2:
        return {**result, "exact": False, "why": "input too small to move an impulse"}
    moved = impulse_responses(double, case, dtype, (centre[0] - 1, centre[1] - 1))
    # moved by s output pixels, what falls past the output's bottom right edge dropped
    top, left, *_ = moved.box()
    full_h, full_w = first.shape
    shifted = Responses(
        moved.values[..., : max(0, full_h - s - top), : max(0, full_w - s - left)],
        (top + s, left + s),
        first.shape,
    )
    values = first.values
    peak = np.abs(values).max()
    if not np.isfinite(values).all():
        raise MetricError("the impulse response holds NaN or Inf values")
    if peak == 0:
        return {**result, "exact": False, "why": "the impulse response is zero"}
    union = _union([first.box(), shifted.box()])
    drift = float(np.abs(shifted.within(union) - first.within(union)).max() / peak)
    if drift > LOCAL_DRIFT:
        return {
            **result,
            "exact": False,
            "why": f"not shift-equivariant: moving the input by 1 px does not move the output by "
            f"{s} px (difference {drift:.2g} of the peak)",
        }
    if drift > max(tolerance, 1e-6):
        result.update(_nearly(drift, s))
    g = values.transpose(1, 0, 2, 3)  # (C_out, C_in, h, w)
    support = np.abs(g).max(axis=(0, 1)) > SUPPORT_FRACTION * peak
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    g = g[..., rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    origin = (
        first.origin[0] + int(rows[0]) - s * centre[0],
        first.origin[1] + int(cols[0]) - s * centre[1],
    )
    return {"exact": True, **result, "filter": g, "origin": origin, "scale": s}


def exact_figures(found: dict[str, Any], case: Case) -> dict[str, Any]:
    """The figures of the module docstring from ``effective_filter``'s result."""
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


def linear_analysis(case: Case, model: nn.Module, reach: int | None = None) -> dict[str, Any]:
    """``metrics.linear``: whether the case is linear (and why not), and its exact figures
    (the equivalent layer's FLOPs at the case's own input size); an affine case's are its
    linear part's, with ``affine`` and ``constant_rms`` (the RMS of f(0))."""
    found = effective_filter(model, case, reach)
    if found.get("affine"):  # the constant's size at the case's own input size
        found["constant_rms"] = constant_rms(model, case.input_shape)
    if "filter" not in found:
        return found
    figures = exact_figures(found, case)
    for key in ("superposition_error", "why", "affine", "constant_rms"):
        if key in found:
            figures[key] = found[key]
    return figures
