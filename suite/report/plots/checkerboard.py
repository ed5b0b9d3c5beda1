"""Odena's grid: the checkerboard pattern of each method and init against kernel and stride."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.colors import LogNorm

from ...analysis.verdict import THRESHOLDS
from ..context import NoData, ReportContext
from .common import series_order, without_keys
from .readable import name_left_out
from .registry import plot

CHECKERBOARD_LIMIT = THRESHOLDS["checkerboard_pct"]
#: the grid's axes: a case of its own is one row across them
GRID_KEYS = ("kernel", "stride", "scale")
#: the column of a case of its own that declares no kernel (a factory's block)
NO_KERNEL = "undeclared"


def grid_cases(ctx: ReportContext) -> tuple[pd.DataFrame, str | None]:
    """The single-stage cases with a kernel and a pattern figure: the registered methods' from
    the case file with the most cells (one file's kernels × strides), and every case that is its
    own module, from any file, each its own row. Also the file's name."""
    cases = ctx.cases
    own = cases["series"] != cases["family"]
    # a case of its own is shown with or without a kernel (its own column "none" without)
    grid = cases[(cases["stages"] == 1) & (cases["kernel"].notna() | own) & (cases["scale"] > 1)]
    grid = grid.dropna(subset=["checkerboard_pct"])
    own = grid["series"] != grid["family"]
    grid = grid.assign(
        row=grid["variant"].where(~own, grid["id"].map(_own_row)),
        column=grid["kernel"].map(lambda k: NO_KERNEL if pd.isna(k) else str(int(k))),
    )
    registered = grid[~own]
    source = None
    if len(registered):
        cells = registered.drop_duplicates(["file", "row", "kernel", "scale"])
        source = cells.groupby("file").size().idxmax()
    grid = pd.concat([registered[registered["file"] == source], grid[own]])
    if grid.empty:
        raise NoData("no single-stage case with a kernel has a checkerboard pattern figure")
    return grid.drop_duplicates(["row", "column", "scale"]), source


def _own_row(case_id: str) -> str:
    return without_keys(case_id, GRID_KEYS)


@plot(
    "checkerboard-heatmap",
    "Checkerboard pattern: method and init against kernel and stride",
    "Odena's grid: the phase-locked pattern on photographs, % of the output's RMS (log colour "
    f"scale). Cells above {CHECKERBOARD_LIMIT:g}% have a checkerboard by the verdict's threshold; "
    "random transposed convolutions have one at every kernel, resize-convolutions at none. A "
    "case that is its own module (a factory) is a row of its own, named by its id, in the column "
    f"'{NO_KERNEL}' where it declares no kernel. Layers without a kernel (plain interpolation) "
    "are named under the grid.",
    place=10,
)
def checkerboard_heatmap(ctx: ReportContext) -> plt.Figure:
    grid, source = grid_cases(ctx)
    scales = sorted(grid["scale"].unique())
    order = []
    for series in series_order(ctx, grid):
        order += sorted(grid[grid["series"] == series]["row"].unique())
    top = max(float(grid["checkerboard_pct"].max()), 10 * CHECKERBOARD_LIMIT)
    # at least as wide as the title and as tall as the colour bar's label, whatever the rows
    width, height = max(7.0, 4.2 * len(scales) + 1), max(4.2, 0.55 * len(order) + 1.6)
    figure, axes = plt.subplots(1, len(scales), figsize=(width, height), squeeze=False)
    for ax, scale in zip(axes[0], scales, strict=True):
        _panel(ax, grid[grid["scale"] == scale], order, top, last=ax is axes[0][-1])
        title = f"stride / scale {scale}"
        # the file's name, not its path: a compare's case file sits deep in its run folder
        named = f"\n({Path(source).name})" if ax is axes[0][0] and source else ""
        ax.set_title(title + named)
        ax.set_ylabel("method · init" if ax is axes[0][0] else "")
        if ax is not axes[0][0]:
            ax.set_yticklabels([])
    name_left_out(figure, "no kernel", _kernelless(ctx, source))
    return figure


def _kernelless(ctx: ReportContext, source: str | None) -> list[str]:
    """The grid file's registered single-stage upsamplers that have no kernel to place."""
    cases = ctx.cases
    found = cases[
        (cases["file"] == source)
        & (cases["stages"] == 1)
        & (cases["scale"] > 1)
        & cases["kernel"].isna()
        & (cases["series"] == cases["family"])
    ]
    return list(found.dropna(subset=["checkerboard_pct"])["id"])


def _panel(ax: plt.Axes, cells: pd.DataFrame, order: list[str], top: float, last: bool) -> None:
    table = cells.pivot_table(
        index="row", columns="column", values="checkerboard_pct", aggfunc="first"
    )
    table = table.reindex(order)  # every panel has every row, so the rows line up
    columns = sorted(table.columns, key=lambda c: (c == NO_KERNEL, int(c) if c.isdigit() else 0))
    table = table[columns]
    table.index.name = table.columns.name = None
    with warnings.catch_warnings():
        # seaborn 0.13 sets the colormap's "bad" colour in place, which matplotlib >= 3.11
        # deprecates; nothing of ours to change.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(
            table,
            ax=ax,
            annot=table.map(_cell_text),
            fmt="",
            cmap="vlag",
            # log scale around the threshold, floored where the pattern is below chance
            norm=LogNorm(vmin=CHECKERBOARD_LIMIT**2 / top, vmax=top, clip=True),
            cbar=last,
            cbar_kws={"label": "checkerboard pattern (% of RMS)"},
            linewidths=0.5,
        )
    ax.grid(False)
    ax.set_xlabel("kernel size (px)")


def _cell_text(value: float) -> str:
    """Two significant figures, and what lies far below the threshold as ``<0.01`` (it fits the
    cell, and its digits mean nothing there)."""
    if pd.isna(value):
        return ""
    if 0 < value < CHECKERBOARD_LIMIT / 100:
        return f"<{CHECKERBOARD_LIMIT / 100:g}"
    return f"{value:.2g}"
