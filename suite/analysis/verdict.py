"""A case's artifact verdict: ``artifact_free``, ``artifacts`` or ``undecided``, from stated
thresholds in each figure's own unit and the figures' 95% intervals.

Thresholds, justified by the calibration battery (``battery.py``; docs/metrics.md, "Calibration"):

- ``checkerboard_pct`` ≤ 1: a phase-locked pattern of at most 1% of the output's RMS. The battery
  reads an injected 1% pattern back as 0.99 to 1.00 at every size from 48 to 384 px, and clean
  interpolators (bilinear, bicubic, Lanczos) as under 0.02; a 1% gain mismatch between phases
  reads about 0.4. A 1% modulation at the checkerboard frequency is near the contrast threshold
  of human vision at those frequencies.
- ``flat_ripple`` ≤ 0.01: the same 1% on the flat field (std over RMS; exact for one weight
  seed, so no interval unless the case pools ``seeds``).
- ``phase_energy_pct`` ≤ 30: the phases' local detail energies differ by at most 30% (RMS).
  Linear interpolation itself reaches 24% at ×4 (its phases sit 1/8 and 3/8 of a pixel from the
  samples and smooth differently), bicubic and nearest ×4 7 to 8%; a Laplacian-sharpened phase
  reads over 100%, a random 3x3 transposed convolution 57%.

A figure decides ``artifacts`` when its interval lies wholly above its threshold (or, for the
exact flat ripple, its value does), ``artifact_free`` when every interval lies at or below, and
``undecided`` otherwise.
"""

from __future__ import annotations

from typing import Any

#: figure -> the largest value of an artifact-free case, in the figure's own unit
THRESHOLDS: dict[str, float] = {
    "flat_ripple": 0.01,
    "checkerboard_pct": 1.0,
    "phase_energy_pct": 30.0,
}
VERDICTS = ("artifact_free", "undecided", "artifacts")


def case_verdict(metrics: dict[str, Any]) -> dict[str, Any]:
    """``metrics.verdict``: the verdict, the figures (and intervals) it used, and why."""
    used: dict[str, Any] = {}
    above, unsure, missing = [], [], []
    for figure, limit in THRESHOLDS.items():
        value = metrics.get(figure)
        if value is None:
            missing.append(figure)
            continue
        low, high = metrics.get(f"{figure}_ci") or (value, value)
        used[figure] = {"value": value, "ci": [low, high], "threshold": limit}
        if low > limit:
            above.append(f"{figure} {_fmt(low)}–{_fmt(high)} > {limit:g}")
        elif high > limit:
            unsure.append(f"{figure} {_fmt(low)}–{_fmt(high)} straddles {limit:g}")
    if above:
        verdict, why = "artifacts", "; ".join(above)
    elif missing:
        verdict, why = None, f"no {', '.join(missing)} for this case"
    elif unsure:
        verdict, why = "undecided", "; ".join(unsure)
    else:
        verdict, why = "artifact_free", "every figure's interval is under its threshold"
    return {"verdict": verdict, "why": why, "figures": used}


def _fmt(value: float) -> str:
    return f"{value:.3g}"
