"""Fidelity against cost: hypercolumn PSNR against latency, with the Pareto front labelled."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..context import NoData, ReportContext
from .common import hollow_runtime_handles, series_handles, series_order
from .readable import label_points, legend_outside, log_axis, name_left_out
from .registry import plot


def pareto_front(points: pd.DataFrame) -> pd.DataFrame:
    """The points no other point beats on both latency (lower) and PSNR (higher)."""
    ordered = points.sort_values(["median_s", "hypercolumn_psnr_db"], ascending=[True, False])
    front, best = [], -np.inf
    for index, row in ordered.iterrows():
        if row["hypercolumn_psnr_db"] > best:
            front.append(index)
            best = row["hypercolumn_psnr_db"]
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
    columns = ["index", "family", "series", "series_label", "scale", "hypercolumn_psnr_db"]
    columns.append("verdict")
    timed = ctx.runtimes.dropna(subset=["median_s"]).merge(ctx.comparison[columns], on="index")
    points = timed.dropna(subset=["hypercolumn_psnr_db"])
    if points.empty:
        raise NoData("no timed case has a hypercolumn PSNR")
    scales = sorted(points["scale"].unique())
    figure, axes = plt.subplots(1, len(scales), figsize=(6 * len(scales) + 1.5, 5.4), squeeze=False)
    for ax, scale in zip(axes[0], scales, strict=True):
        _panel(ctx, ax, points[points["scale"] == scale])
        ax.set_title(f"scale {scale}")
    handles = series_handles(ctx, series_order(ctx, points))
    runtimes = list(dict.fromkeys(points["runtime"]))
    fronts = [_front_handle(r, k) for k, r in enumerate(runtimes)]
    legend_outside(axes[0][-1], handles + hollow_runtime_handles(ctx, runtimes) + fronts)
    unscored = timed[~timed["index"].isin(points["index"])]
    name_left_out(figure, "no hypercolumn PSNR", unscored["id"])
    return figure


def _panel(ctx: ReportContext, ax: plt.Axes, subset: pd.DataFrame) -> None:
    for runtime, rows in subset.groupby("runtime", sort=False):
        ax.scatter(
            rows["median_s"] * 1e3,
            rows["hypercolumn_psnr_db"],
            color=[ctx.colours[s] for s in rows["series"]],
            marker=ctx.runtime_look[runtime].marker,
            s=46,
            edgecolor="black",
            linewidth=0.4,
            zorder=3,
        )
    fronts = []
    for k, (_, rows) in enumerate(subset.groupby("runtime", sort=False)):
        front = pareto_front(rows[rows["verdict"] == "artifact_free"])
        ax.plot(front["median_s"] * 1e3, front["hypercolumn_psnr_db"], zorder=2, **_line(k))
        fronts.append(front)
    log_axis(ax, "x")
    ax.set_xlabel("median latency (ms, log scale)")
    ax.set_ylabel("hypercolumn PSNR (dB)")
    # each layer on a front labelled once, at its first point (the marker says the runtime)
    front = pd.concat(fronts).drop_duplicates("series_label") if fronts else subset.iloc[:0]
    label_points(
        ax, list(front["series_label"]), front["median_s"] * 1e3, front["hypercolumn_psnr_db"]
    )


#: each runtime's front: grey, told apart by the line's dashes (colour is the method's)
FRONT_DASHES = ("-", "--", ":", "-.")


def _line(k: int) -> dict:
    return {"color": "0.3", "linestyle": FRONT_DASHES[k % len(FRONT_DASHES)], "linewidth": 1.2}


def _front_handle(runtime: str, k: int) -> Line2D:
    return Line2D([], [], label=f"front on {runtime}", **_line(k))
