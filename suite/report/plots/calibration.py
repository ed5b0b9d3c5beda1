"""Calibration: patterns of known size injected, read back by the checkerboard figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..context import NoData, ReportContext
from ..style import PALETTE
from .readable import legend_outside, log_axis
from .registry import plot

KINDS = {"added": "o", "multiplied": "s"}


@plot(
    "calibration",
    "Calibration: injected pattern against measured checkerboard %",
    "The run's calibration battery: bilinear interpolation with a periodic pattern of known "
    "size added (periods 2, 3, 4, drawn large to small on each other) or multiplied in, "
    "measured by checkerboard_pct; the line is measured = expected, the band the stated "
    "tolerance (10%, at least 0.1 pp). Layers with no pattern (Lanczos, a Laplacian-sharpened "
    "phase, noise, the all-ones decoder) sit at 0.",
    place=80,
)
def calibration_plot(ctx: ReportContext) -> plt.Figure:
    rows = [
        r for r in ctx.results["run"].get("calibration") or [] if r["metric"] == "checkerboard_pct"
    ]
    injected = [r for r in rows if r.get("period") and r["measured"] is not None]
    if not injected:
        raise NoData("the run has no calibration battery (run with this version of the suite)")
    figure, ax = plt.subplots(figsize=(7.4, 4.6))
    expected = np.array(sorted({r["expected"] for r in injected}))
    span = np.geomspace(min(expected) / 1.5, max(expected) * 1.5, 50)
    band = np.maximum(0.1, 0.1 * span)
    ax.fill_between(span, span - band, span + band, color="0.9", label="tolerance")
    ax.plot(span, span, color="0.3", linewidth=1, label="measured = expected")
    # each period its colour and size: the points of one expected value sit on each other, so
    # the smaller ones are drawn over the larger
    periods = sorted({r["period"] for r in injected})
    sizes = np.linspace(90, 12, len(periods))
    looks = {p: (PALETTE[k % len(PALETTE)], sizes[k]) for k, p in enumerate(periods)}
    for r in sorted(injected, key=lambda r: -looks[r["period"]][1]):
        colour, size = looks[r["period"]]
        ax.scatter(
            r["expected"],
            max(r["measured"], 0.01),
            marker=KINDS[r["kind"]],
            color=colour,
            s=size,
            edgecolor="white",
            linewidth=0.5,
            zorder=3,
        )
    for kind, marker in KINDS.items():
        ax.scatter([], [], marker=marker, color="0.4", label=f"pattern {kind}")
    for period, (colour, _) in looks.items():
        ax.scatter([], [], marker="o", color=colour, label=f"period {period}")
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set_xlabel("expected pattern (% of the output's RMS)")
    ax.set_ylabel("measured checkerboard_pct (%)")
    legend_outside(ax, ax.get_legend_handles_labels()[0])
    return figure
