"""A case's artifact verdict: ``artifact_free``, ``artifacts`` or ``undecided``, from stated
thresholds in each figure's own unit and the figures' 95% intervals.

The thresholds are the registered figures' own (``threshold`` in ``registry.Metric``; the suite's
are justified in ``figures/core.py``); a figure without one does not decide the verdict.

A figure decides ``artifacts`` when its interval lies wholly above its threshold (or, for the
exact flat ripple, its value does), ``artifact_free`` when every interval lies at or below, and
``undecided`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Thresholds

#: figure -> the largest value of an artifact-free case, in the figure's own unit (a live view
#: of the registry)
THRESHOLDS: Mapping[str, float] = Thresholds()
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
