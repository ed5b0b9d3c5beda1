"""Export parity: each runtime's largest error against torch, bit-exact results on a band of
their own beside the log axis."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..context import NoData, ReportContext
from ..style import MISMATCH_COLOUR
from .common import label_order, runtime_colours
from .readable import legend_outside, log_axis
from .registry import plot

#: the tolerance lines' colour: apart from every runtime's
TOLERANCE_COLOUR = "0.35"


@plot(
    "parity",
    "Export parity: each runtime's largest error against torch",
    "Every case. Relative error = max|y − torch| / max|torch|; the band on the left holds the "
    "bit-exact results (error exactly 0), which a log axis cannot show; a black cross is over "
    "its tolerance (a mismatch).",
    place=70,
)
def parity(ctx: ReportContext) -> plt.Figure:
    rows = ctx.runtimes[~ctx.runtimes["reference"]].dropna(subset=["max_rel_err"])
    if rows.empty:
        raise NoData("no runtime other than the reference ran")
    rows = rows.merge(ctx.cases[["index", "family", "series", "series_label"]], on="index")
    order = label_order(ctx, rows)
    rows["y"] = rows["series_label"].map(order.index).astype(float)
    figure, (exact, ax) = plt.subplots(
        1,
        2,
        figsize=(9.5, 0.32 * len(order) + 1.8),
        sharey=True,
        gridspec_kw={"width_ratios": [1, 10], "wspace": 0.02},
    )
    runtimes = list(dict.fromkeys(rows["runtime"]))
    offsets = np.linspace(-0.22, 0.22, len(runtimes)) if len(runtimes) > 1 else [0.0]
    colours = runtime_colours(ctx)
    for offset, runtime in zip(offsets, runtimes, strict=True):
        subset = rows[rows["runtime"] == runtime]
        _scatter(
            exact, ax, subset, subset["y"] + offset, s=18, color=colours[runtime], label=runtime
        )
    bad = rows[rows["status"] == "mismatch"]
    if len(bad):
        look = {"marker": "x", "s": 80, "color": MISMATCH_COLOUR, "label": "mismatch"}
        _scatter(exact, ax, bad, bad["y"], zorder=5, **look)
    _tolerances(ax, rows)
    _axes(exact, ax, rows, order)
    legend_outside(ax, _unique_handles(exact, ax))
    return figure


def _scatter(exact: plt.Axes, ax: plt.Axes, rows: pd.DataFrame, y: pd.Series, **look) -> None:
    """Errors of exactly 0 on the exact band, the others on the log axis."""
    zero = (rows["max_rel_err"] == 0).to_numpy()
    look.setdefault("zorder", 3)
    exact.scatter(np.zeros(zero.sum()), y[zero], **look)
    ax.scatter(rows["max_rel_err"][~zero], y[~zero], **look)


def _tolerances(ax: plt.Axes, rows: pd.DataFrame) -> None:
    """The default rtol as a line; a case's own (an override with a reason) on its own row."""
    if not rows["rtol"].notna().any():
        return
    default = rows["rtol"].mode().iloc[0]
    ax.axvline(default, color=TOLERANCE_COLOUR, linestyle=":", label=f"default rtol {default:g}")
    own = rows[rows["rtol"].notna() & (rows["rtol"] != default)].drop_duplicates(["y", "rtol"])
    if len(own):
        ax.scatter(
            own["rtol"],
            own["y"],
            marker="|",
            s=220,
            color=TOLERANCE_COLOUR,
            zorder=4,
            label="a case's own rtol (override)",
        )


def _axes(exact: plt.Axes, ax: plt.Axes, rows: pd.DataFrame, order: list[str]) -> None:
    errors = rows["max_rel_err"][rows["max_rel_err"] > 0]
    bounds = pd.concat([errors, rows["rtol"].dropna()])
    low, high = (bounds.min(), bounds.max()) if len(bounds) else (1e-8, 1e-5)
    log_axis(ax, "x")
    ax.set_xlim(low / 3, high * 5)
    ax.set_xlabel("max relative error against torch (log scale)")
    exact.set_xlim(-1, 1)
    exact.set_xticks([0], ["exact\n(0)"])
    exact.set_yticks(range(len(order)), order)
    exact.set_ylim(len(order) - 0.5, -0.5)
    exact.set_ylabel("method, or a case of its own")
    exact.set_facecolor("0.96")
    exact.grid(False, axis="x")


def _unique_handles(*axes: plt.Axes) -> list:
    handles = {}
    for ax in axes:
        handles.update(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    return list(handles.values())
