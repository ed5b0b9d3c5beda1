"""Fidelity against cost: hypercolumn PSNR, and the task probe's boundary F, against latency,
with each runtime's Pareto front labelled."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..context import NoData, ReportContext
from .common import hollow_runtime_handles, series_handles, series_order
from .readable import label_points, legend_outside, log_axis, name_left_out
from .registry import plot

PSNR, BOUNDARY_F = "hypercolumn_psnr_db", "probe_boundary_f"
#: each plotted figure's axis label
AXIS = {PSNR: "hypercolumn PSNR (dB)", BOUNDARY_F: "probe boundary F (0-1)"}


def pareto_front(points: pd.DataFrame, figure: str = PSNR) -> pd.DataFrame:
    """The points no other point beats on both latency (lower) and ``figure`` (higher)."""
    ordered = points.sort_values(["median_s", figure], ascending=[True, False])
    front, best = [], -np.inf
    for index, row in ordered.iterrows():
        if row[figure] > best:
            front.append(index)
            best = row[figure]
    return ordered.loc[front]


@plot(
    "psnr-vs-latency",
    "Hypercolumn-reconstruction PSNR against latency",
    "{comparison}; one point per case and runtime. Each line is one runtime's Pareto front of "
    "artifact-free layers, as the decision reads it: nothing artifact-free is both faster and "
    "more faithful than a point on it. Layers with artifacts or no verdict are drawn, never on it.",
    place=50,
)
def psnr_vs_latency(ctx: ReportContext) -> plt.Figure:
    return figure_vs_latency(ctx, PSNR, "a hypercolumn PSNR")


@plot(
    "boundary-f-vs-latency",
    "Task-probe boundary F against latency",
    "{comparison}; one point per case and runtime, for the cases scored by the task probe "
    "(`probe = true`): how well a linear probe on the upsampled features puts class edges where "
    "the scenes' exact masks have them. Guided layers were given the scene as their guide. Each "
    "line is one runtime's Pareto front of artifact-free layers.",
    place=51,
)
def boundary_f_vs_latency(ctx: ReportContext) -> plt.Figure:
    return figure_vs_latency(ctx, BOUNDARY_F, "a probe boundary F")


def figure_vs_latency(ctx: ReportContext, name: str, having: str) -> plt.Figure:
    """One panel per scale: ``name`` against median latency, each runtime's front drawn."""
    columns = ["index", "family", "series", "series_label", "scale", name, "verdict"]
    timed = ctx.runtimes.dropna(subset=["median_s"]).merge(ctx.comparison[columns], on="index")
    points = timed.dropna(subset=[name])
    if points.empty:
        raise NoData(f"no timed case has {having}")
    scales = sorted(points["scale"].unique())
    figure, axes = plt.subplots(1, len(scales), figsize=(6 * len(scales) + 1.5, 5.4), squeeze=False)
    for ax, scale in zip(axes[0], scales, strict=True):
        _panel(ctx, ax, points[points["scale"] == scale], name)
        ax.set_title(f"scale {scale}")
    handles = series_handles(ctx, series_order(ctx, points))
    runtimes = list(dict.fromkeys(points["runtime"]))
    fronts = [_front_handle(r, k) for k, r in enumerate(runtimes)]
    legend_outside(axes[0][-1], handles + hollow_runtime_handles(ctx, runtimes) + fronts)
    unscored = timed[~timed["index"].isin(points["index"])]
    name_left_out(figure, f"no {AXIS[name].split(' (')[0]}", unscored["id"])
    return figure


def _panel(ctx: ReportContext, ax: plt.Axes, subset: pd.DataFrame, name: str) -> None:
    for runtime, rows in subset.groupby("runtime", sort=False):
        ax.scatter(
            rows["median_s"] * 1e3,
            rows[name],
            color=[ctx.colours[s] for s in rows["series"]],
            marker=ctx.runtime_look[runtime].marker,
            s=46,
            edgecolor="black",
            linewidth=0.4,
            zorder=3,
        )
    fronts = []
    for k, (_, rows) in enumerate(subset.groupby("runtime", sort=False)):
        front = pareto_front(rows[rows["verdict"] == "artifact_free"], name)
        ax.plot(front["median_s"] * 1e3, front[name], zorder=2, **_line(k))
        fronts.append(front)
    log_axis(ax, "x")
    ax.set_xlabel("median latency (ms, log scale)")
    ax.set_ylabel(AXIS[name])
    # each layer on a front labelled once, at its first point (the marker says the runtime)
    front = pd.concat(fronts).drop_duplicates("series_label") if fronts else subset.iloc[:0]
    label_points(ax, list(front["series_label"]), front["median_s"] * 1e3, front[name])


#: each runtime's front: grey, told apart by the line's dashes (colour is the method's)
FRONT_DASHES = ("-", "--", ":", "-.")


def _line(k: int) -> dict:
    return {"color": "0.3", "linestyle": FRONT_DASHES[k % len(FRONT_DASHES)], "linewidth": 1.2}


def _front_handle(runtime: str, k: int) -> Line2D:
    return Line2D([], [], label=f"front on {runtime}", **_line(k))
