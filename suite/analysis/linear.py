"""Exact analysis of linear upsamplers.

A model that is linear in its input and moves its output by s pixels when its input moves by one
(s the case's total scale) is exactly a zero-insertion by s followed by one filter g per (output,
input) channel pair: y_o = Σ_i (x_i ↑ s) * g_oi. Both properties are decided numerically (by
superposition on random inputs, and by moving an impulse), never by a method's name; g is read
off the responses to impulses. A block with biases is affine, f = L + f(0): its figures are
those of its linear part L, f(x) - f(0), and it is recorded as ``affine`` with the RMS of f(0)
(``affine.py``). Its figures are computed from g in ``filter_figures.py``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from ..case import Case
from .affine import LinearPart, constant_rms
from .errors import MetricError, MetricSkipped
from .filter_figures import exact_figures

#: Relative superposition error below which a model counts as linear (float64 arithmetic; a
#: float32-only model is checked at FLOAT32_TOLERANCE).
FLOAT64_TOLERANCE = 1e-9
FLOAT32_TOLERANCE = 1e-4
#: Largest change of the impulse response (relative to its peak) when the impulse moves by one
#: pixel for which the centre's filter still stands for the layer (flagged not exact).
LOCAL_DRIFT = 0.1
#: Taps smaller than this fraction of the largest are outside the effective kernel's support.
SUPPORT_FRACTION = 1e-9
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
    shifted = _moved_back(moved, first.shape, s)
    peak = np.abs(first.values).max()
    if not np.isfinite(first.values).all():
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
    return {"exact": True, **result, **_supported_filter(first, centre, s, peak)}


def _moved_back(moved: Responses, shape: tuple[int, int], s: int) -> Responses:
    """The responses to the impulse moved up and left by one input pixel, moved back down and
    right by s output pixels, what falls past the output's bottom right edge dropped."""
    top, left, *_ = moved.box()
    full_h, full_w = shape
    kept = moved.values[..., : max(0, full_h - s - top), : max(0, full_w - s - left)]
    return Responses(kept, (top + s, left + s), shape)


def _supported_filter(
    first: Responses, centre: tuple[int, int], s: int, peak: float
) -> dict[str, Any]:
    """g as (C_out, C_in, h, w), cut to its support, and where its first tap lies relative to
    the impulse at ``centre`` (in output pixels)."""
    g = first.values.transpose(1, 0, 2, 3)
    support = np.abs(g).max(axis=(0, 1)) > SUPPORT_FRACTION * peak
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    g = g[..., rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    origin = (
        first.origin[0] + int(rows[0]) - s * centre[0],
        first.origin[1] + int(cols[0]) - s * centre[1],
    )
    return {"filter": g, "origin": origin, "scale": s}


def linear_analysis(case: Case, model: nn.Module, reach: int | None = None) -> dict[str, Any]:
    """``metrics.linear``: whether the case is linear (and why not), and its exact figures
    (the equivalent layer's FLOPs at the case's own input size); an affine case's are its
    linear part's, with ``affine`` and ``constant_rms`` (the RMS of f(0))."""
    if case.guide is not None:
        raise MetricSkipped(
            f"{case.method} takes a guide: its kernels come from the guide, so it has no one "
            "filter of its input alone"
        )
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
