"""Latency per case and runtime, and the fraction of the roofline each reaches."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..context import NoData, ReportContext
from .common import runtime_colours, tick_labels
from .readable import legend_outside, log_axis
from .registry import plot

#: the roofline: the least time the bound allows, as a fraction of the latency
ROOFLINE = 100.0


@plot(
    "latency",
    "Latency per method and runtime, and the fraction of the roofline",
    "{comparison}. Markers are the median round; whiskers span the fastest and the slowest "
    "timing process (each a fresh interpreter: the run's independent units), or, where one "
    "process timed the case (quick mode), its rounds' interquartile range, said under the "
    "plot. The roofline "
    "fraction is the least time the case needs over its latency: its fewest bytes at the copy "
    "bandwidth measured at its working-set size, or its FLOPs at the measured GEMM rate, "
    "whichever is larger (hatched: compute-bound). The solid line is 100%: a bar past it would "
    "mean the bound is wrong.",
    place=60,
)
def latency(ctx: ReportContext) -> plt.Figure:
    timed = ctx.runtimes.dropna(subset=["median_s"]).merge(
        ctx.comparison[["index", "family", "variant", "scale"]], on="index"
    )
    if timed.empty:
        raise NoData("no case in the comparison set was timed")
    order = list(dict.fromkeys(ctx.comparison["id"]))
    runtimes = list(dict.fromkeys(timed["runtime"]))
    height = 0.28 * len(order) * max(1, len(runtimes) / 1.5) + 1.8
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, height), sharey=True, gridspec_kw={"width_ratios": [3, 2]}
    )
    offsets = np.linspace(-0.2, 0.2, len(runtimes)) if len(runtimes) > 1 else [0.0]
    colours = runtime_colours(ctx)
    for k, runtime in enumerate(runtimes):
        rows = timed[timed["runtime"] == runtime].set_index("id").reindex(order)
        rows = rows.dropna(subset=["median_s"])
        y = np.array([order.index(i) for i in rows.index]) + offsets[k]
        look = {"color": colours[runtime], "label": runtime}
        _medians(left, rows, y, ctx.runtime_look[runtime].marker, look)
        _roofline(right, rows, y, 0.38 / len(runtimes) * 2, look)
    _axes(left, right, order)
    _notes(figure, left, right, timed)
    return figure


def _axes(left: plt.Axes, right: plt.Axes, order: list[str]) -> None:
    left.set_yticks(range(len(order)), tick_labels(order), fontsize=7)
    left.set_ylim(len(order) - 0.5, -0.5)
    log_axis(left, "x")
    left.set_xlabel("median latency per call (ms, log scale)")
    right.axvline(ROOFLINE, color="black", linewidth=1.2, zorder=4)
    right.set_xlim(0, max(ROOFLINE * 1.08, right.get_xlim()[1]))
    right.set_xlabel("roofline fraction (%)")


def _notes(figure: plt.Figure, left: plt.Axes, right: plt.Axes, timed: pd.DataFrame) -> None:
    """The legend, and what the plot cannot show or shows otherwise, said on it."""
    handles, _ = left.get_legend_handles_labels()
    handles += [
        Patch(facecolor="white", edgecolor="black", hatch="//", label="compute-bound"),
        Line2D([], [], color="black", linewidth=1.2, label="100% of the roofline"),
    ]
    legend_outside(right, handles)
    _say_omitted(right, timed)
    if _one_process(timed).any():
        figure.supxlabel(
            "whiskers: the rounds' IQR of the one process that timed a case (rounds of one "
            "process are not independent: a first look, not a spread between runs)",
            fontsize=7,
            color="0.3",
        )


def _say_omitted(ax: plt.Axes, timed: pd.DataFrame) -> None:
    """Where no bar could be drawn, the panel says why instead of standing empty."""
    if timed["roofline_fraction"].notna().any():
        return
    reasons = list(dict.fromkeys(timed["roofline_omitted"].dropna()))
    why = textwrap.fill(reasons[0] if reasons else "the run measured no ceilings", 40)
    more = f"\n(and {len(reasons) - 1} other reasons)" if len(reasons) > 1 else ""
    ax.text(
        0.5,
        0.5,
        f"roofline left out:\n{why}{more}",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=8,
        color="0.3",
        bbox={"facecolor": "white", "edgecolor": "none"},  # readable over the grid lines
    )


def _one_process(rows: pd.DataFrame) -> pd.Series:
    return rows["fastest_process_s"] == rows["slowest_process_s"]


def _medians(ax: plt.Axes, rows: pd.DataFrame, y: np.ndarray, marker: str, look: dict) -> None:
    median = rows["median_s"].to_numpy() * 1e3
    half_iqr = rows["iqr_s"].to_numpy(dtype=float) * 1e3 / 2
    one = _one_process(rows).to_numpy()
    error = np.vstack(
        [
            np.where(one, half_iqr, median - rows["fastest_process_s"].to_numpy() * 1e3),
            np.where(one, half_iqr, rows["slowest_process_s"].to_numpy() * 1e3 - median),
        ]
    )
    ax.errorbar(
        median, y, xerr=np.clip(error, 0, None), fmt=marker, capsize=2, markersize=4, **look
    )


def _roofline(ax: plt.Axes, rows: pd.DataFrame, y: np.ndarray, height: float, look: dict) -> None:
    ax.barh(
        y,
        rows["roofline_fraction"].to_numpy(dtype=float) * 100,  # None: left out, with why
        height=height,
        color=look["color"],
        hatch=["//" if bound == "compute" else "" for bound in rows["roofline_bound"]],
    )
