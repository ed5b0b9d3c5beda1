"""Each comparison case's power spectrum in square rings against the high-resolution original."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..context import NoData, ReportContext
from ..style import LINE_STYLES
from .readable import legend_outside
from .registry import plot


def line_styles(group: pd.DataFrame) -> dict[str, str]:
    """Each row label its line style: the series' colour is shared, so the labels of one
    series take the styles in turn."""
    styles: dict[str, str] = {}
    for _, row in group.iterrows():
        taken = sum(1 for s in styles.values() if s[1] == row["series"])
        styles.setdefault(
            row["series_label"], (LINE_STYLES[taken % len(LINE_STYLES)], row["series"])
        )
    return {label: style for label, (style, _) in styles.items()}


@plot(
    "azimuthal-spectra",
    "Power spectra in square rings against the high-resolution original",
    "{comparison}. Power relative to each spectrum's own lowest band (up to a quarter of the "
    "input's sampling rate, where every upsampler passes the signal). Light grey: the fidelity "
    "band (spectral_fidelity_db, signed: below the dashed original is detail lost); darker "
    "grey, past the input's Nyquist: the leakage band (spectral_leakage_db: above the original "
    "is imaging, energy the input could not hold).",
    place=40,
)
def azimuthal_spectra(ctx: ReportContext) -> plt.Figure:
    group = ctx.comparison
    scales = sorted(group["scale"].unique())
    figure, axes = plt.subplots(1, len(scales), figsize=(5 * len(scales) + 2.6, 4.2), squeeze=False)
    styles = line_styles(group)
    drawn = False
    for ax, scale in zip(axes[0], scales, strict=True):
        drawn |= _panel(ctx, ax, group[group["scale"] == scale], styles)
        nyquist = 1 / (2 * scale)
        ax.axvspan(nyquist / 2, nyquist, color="0.93", zorder=0)
        ax.axvspan(nyquist, 0.5, color="0.85", zorder=0)
        ax.axvline(nyquist, color="0.4", linewidth=0.8)
        ax.set_title(f"scale {scale}: fidelity band | leakage band (input Nyquist {nyquist:g})")
        ax.set_xlabel("spatial frequency, square rings max(|fy|, |fx|) (cycles/pixel)")
        ax.set_ylabel("power relative to the lowest band (dB)")
    if not drawn:
        raise NoData("no case has spectral curves")
    handles = {}
    for ax in axes[0]:
        handles.update(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    handles["original"] = handles.pop("original")  # the dashed reference last
    legend_outside(axes[0][-1], list(handles.values()))
    return figure


def _panel(ctx: ReportContext, ax: plt.Axes, rows: pd.DataFrame, styles: dict[str, str]) -> bool:
    reference = None
    for _, row in rows.iterrows():
        curves = ctx.records[row["index"]].metrics.get("spectral_curves")
        if not curves:
            continue
        ax.plot(
            curves["frequency"],
            curves["output_db"],
            color=ctx.colours[row["series"]],
            linestyle=styles[row["series_label"]],
            alpha=0.9,
            linewidth=1.3,
            label=row["series_label"],
        )
        reference = curves
    if reference:
        ax.plot(
            reference["frequency"],
            reference["reference_db"],
            color="black",
            linestyle="--",
            linewidth=1.6,
            label="original",
        )
    return reference is not None
