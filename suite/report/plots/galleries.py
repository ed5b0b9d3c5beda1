"""Pictures of the comparison set: each method's flat-field response, and one photograph crop
upsampled by each with its power spectrum."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..context import NoData, ReportContext
from .common import grid, log_power, stretch, wrapped
from .registry import plot


@plot(
    "flat-field-gallery",
    "Flat-field response: each method fed a constant input",
    "{comparison}. Grey is flat; a pattern repeating every stride pixels is uneven overlap "
    "(Odena's checkerboard), even with random weights.",
    place=20,
)
def flat_field_gallery(ctx: ReportContext) -> plt.Figure:
    group = ctx.comparison
    group = group[group["scale"] == group["scale"].min()]
    shown = [(row, ctx.sample(row["index"], "flat")) for _, row in group.iterrows()]
    shown = [(row, image) for row, image in shown if image is not None]
    if not shown:
        raise NoData("the run kept no flat-field samples")
    figure, axes = grid(len(shown), min(5, len(shown)), cell=2.3)
    for ax, (row, image) in zip(axes.flat, shown, strict=False):
        crop = image[:24, :24]
        rms = float(np.sqrt(np.mean(crop**2))) or 1.0
        shown_image = ax.imshow((crop - crop.mean()) / rms, cmap="RdBu_r", vmin=-1, vmax=1)
        ripple = "–" if pd.isna(row["flat_ripple"]) else f"{row['flat_ripple']:.3f}"
        ax.set_title(f"{wrapped(row['id'])}\nripple {ripple}", fontsize=8)
        for spine in ax.spines.values():
            spine.set_edgecolor(ctx.colours[row["series"]])
    figure.colorbar(
        shown_image, ax=axes.ravel().tolist(), shrink=0.6, label="(y − mean) / rms, 24×24 px"
    )
    return figure


@plot(
    "photo-gallery",
    "The same photograph crop upsampled by every method, with its log power spectrum",
    "{comparison}, the smallest scale. Bright dots on a regular grid in a spectrum are the "
    "checkerboard's frequencies; the high-resolution original is first.",
    place=30,
)
def photo_gallery(ctx: ReportContext) -> plt.Figure:
    group = ctx.comparison
    group = group[group["scale"] == group["scale"].min()]
    shown, first = [], None
    for _, row in group.iterrows():
        image = ctx.sample(row["index"], "gallery_output")
        if image is not None:
            shown.append((wrapped(row["id"]), image))
            first = first if first is not None else row["index"]
    if not shown:
        raise NoData("the run kept no gallery samples")
    shown.insert(0, ("original (high resolution)", ctx.sample(first, "gallery_original")))
    columns = min(5, len(shown))
    figure, axes = grid(len(shown), columns, cell=2.2, rows_per=2)
    for k, (title, image) in enumerate(shown):
        row, column = divmod(k, columns)
        ax_image, ax_spectrum = axes[2 * row, column], axes[2 * row + 1, column]
        ax_image.imshow(stretch(image), cmap="gray")
        ax_image.set_title(title, fontsize=8)
        ax_spectrum.imshow(log_power(image), cmap="magma")
        ax_spectrum.set_title("log₁₀ power", fontsize=7)
    return figure
