"""The comparison plots, one function each, in a registry: (name, title, caption, draw).

A draw function returns a matplotlib figure or raises ``NoData`` with the reason; captions say
in one line what to see and may name the comparison set with ``{comparison}``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from ..analysis.verdict import THRESHOLDS
from .context import NoData, ReportContext
from .style import LINE_STYLES, MISMATCH_COLOUR

CHECKERBOARD_LIMIT = THRESHOLDS["checkerboard_pct"]

Draw = Callable[[ReportContext], plt.Figure]


@dataclass(frozen=True)
class Plot:
    name: str
    title: str
    caption: str
    draw: Draw
    section: str = "comparison"


PLOTS: list[Plot] = []


def plot(name: str, title: str, caption: str, section: str = "comparison"):
    def register(draw: Draw) -> Draw:
        PLOTS.append(Plot(name, title, caption, draw, section))
        return draw

    return register


# -- helpers -------------------------------------------------------------------------------------


def stretch(image: np.ndarray) -> np.ndarray:
    """Display range: the 1st to 99th percentile mapped to [0, 1] (random weights give any
    scale and sign, so every picture is stretched on its own)."""
    low, high = np.percentile(image, [1, 99])
    return np.clip((image - low) / (high - low or 1.0), 0, 1)


def log_power(image: np.ndarray) -> np.ndarray:
    """log10 power spectrum, centred, of the mean-removed, Hann-windowed image."""
    h, w = image.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    spectrum = np.fft.fftshift(np.abs(np.fft.fft2((image - image.mean()) * window)) ** 2)
    return np.log10(spectrum + spectrum.max() * 1e-12)


def short(case_id: str, limit: int = 34) -> str:
    return case_id if len(case_id) <= limit else case_id[: limit - 1] + "…"


def fold(case_id: str, width: int = 34) -> str:
    """The whole case id on lines of about ``width``: the base id, then its expansion keys,
    breaking after commas (nothing cut, so distinct ids stay distinct)."""
    base, bracket, keys = case_id.partition("[")
    lines = [base]
    for token in (bracket + keys).split(","):
        if len(lines) > 1 and len(lines[-1]) + len(token) + 1 <= width:
            lines[-1] += "," + token
        else:
            lines.append(("," if len(lines) > 1 else "") + token)
    return "\n".join(line for line in lines if line)


def tick_labels(case_ids: list[str], limit: int = 34) -> list[str]:
    """One line per case where the cut ids stay distinct; else every id folded whole."""
    labels = [short(case_id, limit) for case_id in case_ids]
    if len(set(labels)) == len(set(case_ids)):
        return labels
    return [fold(case_id, limit) for case_id in case_ids]


def wrapped(case_id: str, width: int = 24) -> str:
    """A case id on a few short lines: the expansion keys go under the base id."""
    base, _, keys = case_id.partition("[")
    lines = [short(base, width)]
    if keys:
        lines.append(short("[" + keys, width))
    return "\n".join(lines)


def _grid(count: int, columns: int, cell: float = 2.1, rows_per: int = 1):
    rows = -(-count // columns)
    figure, axes = plt.subplots(
        rows * rows_per, columns, figsize=(cell * columns, cell * rows * rows_per), squeeze=False
    )
    for ax in axes.flat:
        ax.set_axis_off()
    return figure, axes


def _legend_families(ctx: ReportContext, families: list[str]) -> list[Line2D]:
    return [
        Line2D([], [], color=ctx.colours[f], marker="o", linestyle="", label=f) for f in families
    ]


# -- 1. Odena's grid -----------------------------------------------------------------------------


@plot(
    "checkerboard-heatmap",
    "Checkerboard pattern: method and init against kernel and stride",
    "Odena's grid: the phase-locked pattern on photographs, % of the output's RMS (log colour "
    f"scale). Cells above {CHECKERBOARD_LIMIT:g}% have a checkerboard by the verdict's threshold; "
    "random transposed convolutions have one at every kernel, resize-convolutions at none.",
)
def checkerboard_heatmap(ctx: ReportContext) -> plt.Figure:
    cases = ctx.cases
    grid = cases[(cases["stages"] == 1) & cases["kernel"].notna() & (cases["scale"] > 1)]
    grid = grid.dropna(subset=["checkerboard_pct"])
    if grid.empty:
        raise NoData("no single-stage case with a kernel has a checkerboard pattern figure")
    # Odena's grid is one case file's kernels × strides: take the file with the most cells.
    cells = grid.groupby("file").apply(
        lambda g: len(g.drop_duplicates(["variant", "kernel", "scale"])), include_groups=False
    )
    source = cells.idxmax()
    grid = grid[grid["file"] == source].drop_duplicates(["variant", "kernel", "scale"])
    scales = sorted(grid["scale"].unique())
    order = [v for f in ctx.families for v in sorted(grid[grid["family"] == f]["variant"].unique())]
    top = max(float(grid["checkerboard_pct"].max()), 10 * CHECKERBOARD_LIMIT)
    figure, axes = plt.subplots(
        1, len(scales), figsize=(4.2 * len(scales) + 1, 0.55 * len(order) + 1.6), squeeze=False
    )
    for ax, scale in zip(axes[0], scales, strict=True):
        table = grid[grid["scale"] == scale].pivot_table(
            index="variant", columns="kernel", values="checkerboard_pct", aggfunc="first"
        )
        table = table.reindex(order)  # every panel has every row, so the rows line up
        table.columns = [int(c) for c in table.columns]
        with warnings.catch_warnings():
            # seaborn 0.13 sets the colormap's "bad" colour in place, which matplotlib >= 3.11
            # deprecates; nothing of ours to change.
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            sns.heatmap(
                table,
                ax=ax,
                annot=True,
                fmt=".2g",
                cmap="vlag",
                # log scale around the threshold, floored where the pattern is below chance
                norm=LogNorm(vmin=CHECKERBOARD_LIMIT**2 / top, vmax=top, clip=True),
                cbar=ax is axes[0][-1],
                cbar_kws={"label": "checkerboard pattern (% of RMS)"},
                linewidths=0.5,
            )
        ax.grid(False)
        ax.set_title(f"stride / scale {scale}" + (f"  ({source})" if ax is axes[0][0] else ""))
        ax.set_xlabel("kernel size (px)")
        ax.set_ylabel("method · init" if ax is axes[0][0] else "")
        if ax is not axes[0][0]:
            ax.set_yticklabels([])
    return figure


# -- 2. flat field -------------------------------------------------------------------------------


@plot(
    "flat-field-gallery",
    "Flat-field response: each method fed a constant input",
    "{comparison}. Grey is flat; a pattern repeating every stride pixels is uneven overlap "
    "(Odena's checkerboard), even with random weights.",
)
def flat_field_gallery(ctx: ReportContext) -> plt.Figure:
    group = ctx.comparison
    group = group[group["scale"] == group["scale"].min()]
    shown = [(row, ctx.sample(row["index"], "flat")) for _, row in group.iterrows()]
    shown = [(row, image) for row, image in shown if image is not None]
    if not shown:
        raise NoData("the run kept no flat-field samples")
    figure, axes = _grid(len(shown), min(5, len(shown)), cell=2.3)
    for ax, (row, image) in zip(axes.flat, shown, strict=False):
        crop = image[:24, :24]
        rms = float(np.sqrt(np.mean(crop**2))) or 1.0
        shown_image = ax.imshow((crop - crop.mean()) / rms, cmap="RdBu_r", vmin=-1, vmax=1)
        ripple = "–" if pd.isna(row["flat_ripple"]) else f"{row['flat_ripple']:.3f}"
        ax.set_title(f"{wrapped(row['id'])}\nripple {ripple}", fontsize=8)
        for spine in ax.spines.values():
            spine.set_edgecolor(ctx.colours[row["family"]])
    figure.colorbar(
        shown_image, ax=axes.ravel().tolist(), shrink=0.6, label="(y − mean) / rms, 24×24 px"
    )
    return figure


# -- 3. photographs ------------------------------------------------------------------------------


@plot(
    "photo-gallery",
    "The same photograph crop upsampled by every method, with its log power spectrum",
    "{comparison}, the smallest scale. Bright dots on a regular grid in a spectrum are the "
    "checkerboard's frequencies; the high-resolution original is first.",
)
def photo_gallery(ctx: ReportContext) -> plt.Figure:
    group = ctx.comparison
    group = group[group["scale"] == group["scale"].min()]
    shown = []
    first = None
    for _, row in group.iterrows():
        image = ctx.sample(row["index"], "gallery_output")
        if image is not None:
            shown.append((wrapped(row["id"]), image))
            first = first if first is not None else row["index"]
    if not shown:
        raise NoData("the run kept no gallery samples")
    original = ctx.sample(first, "gallery_original")
    shown.insert(0, ("original (high resolution)", original))
    columns = min(5, len(shown))
    figure, axes = _grid(len(shown), columns, cell=2.2, rows_per=2)
    for k, (title, image) in enumerate(shown):
        row, column = divmod(k, columns)
        ax_image, ax_spectrum = axes[2 * row, column], axes[2 * row + 1, column]
        ax_image.imshow(stretch(image), cmap="gray")
        ax_image.set_title(title, fontsize=8)
        ax_spectrum.imshow(log_power(image), cmap="magma")
        ax_spectrum.set_title("log₁₀ power", fontsize=7)
    return figure


# -- 4. azimuthal spectra ------------------------------------------------------------------------


@plot(
    "azimuthal-spectra",
    "Power spectra in square rings against the high-resolution original",
    "{comparison}. Power relative to each spectrum's own lowest band (up to a quarter of the "
    "input's sampling rate, where every upsampler passes the signal). Light grey: the fidelity "
    "band (spectral_fidelity_db, signed: below the dashed original is detail lost); darker "
    "grey, past the input's Nyquist: the leakage band (spectral_leakage_db: above the original "
    "is imaging, energy the input could not hold).",
)
def azimuthal_spectra(ctx: ReportContext) -> plt.Figure:
    group = ctx.comparison
    scales = sorted(group["scale"].unique())
    figure, axes = plt.subplots(1, len(scales), figsize=(5 * len(scales) + 2.6, 4.2), squeeze=False)
    drawn = False
    styles: dict[str, str] = {}
    for _, row in group.iterrows():
        taken = sum(1 for v in styles if v.split(" ")[0] == row["variant"].split(" ")[0])
        styles.setdefault(row["variant"], LINE_STYLES[taken % len(LINE_STYLES)])
    for ax, scale in zip(axes[0], scales, strict=True):
        reference = None
        for _, row in group[group["scale"] == scale].iterrows():
            curves = ctx.records[row["index"]].metrics.get("spectral_curves")
            if not curves:
                continue
            drawn = True
            ax.plot(
                curves["frequency"],
                curves["output_db"],
                color=ctx.colours[row["family"]],
                linestyle=styles[row["variant"]],
                alpha=0.9,
                linewidth=1.3,
                label=row["variant"],
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
        nyquist = 1 / (2 * scale)
        ax.axvspan(nyquist / 2, nyquist, color="0.93", zorder=0)
        ax.axvspan(nyquist, 0.5, color="0.85", zorder=0)
        ax.axvline(nyquist, color="0.4", linewidth=0.8)
        ax.set_title(f"scale {scale}: fidelity band | leakage band (input Nyquist {nyquist:g})")
        ax.set_xlabel("spatial frequency, square rings max(|fy|, |fx|) (cycles/pixel)")
        ax.set_ylabel("power relative to the lowest band (dB)")
    handles, labels = axes[0][-1].get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    figure.legend(unique.values(), unique.keys(), fontsize=7, loc="outside right center")
    if not drawn:
        raise NoData("no case has spectral curves")
    return figure


# -- 5. fidelity against cost --------------------------------------------------------------------


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
    "{comparison}; one point per case and runtime. The line is the Pareto front: nothing is "
    "both faster and more faithful than a point on it.",
)
def psnr_vs_latency(ctx: ReportContext) -> plt.Figure:
    points = ctx.runtimes.dropna(subset=["median_s"]).merge(
        ctx.comparison[["index", "family", "variant", "scale", "hypercolumn_psnr_db"]], on="index"
    )
    points = points.dropna(subset=["hypercolumn_psnr_db"])
    if points.empty:
        raise NoData("no timed case has a hypercolumn PSNR")
    scales = sorted(points["scale"].unique())
    figure, axes = plt.subplots(1, len(scales), figsize=(6 * len(scales), 4.8), squeeze=False)
    for ax, scale in zip(axes[0], scales, strict=True):
        subset = points[points["scale"] == scale]
        for _, row in subset.iterrows():
            ax.scatter(
                row["median_s"] * 1e3,
                row["hypercolumn_psnr_db"],
                color=ctx.colours[row["family"]],
                marker=ctx.runtime_look[row["runtime"]].marker,
                s=46,
                edgecolor="black",
                linewidth=0.4,
            )
        front = pareto_front(subset)
        ax.plot(front["median_s"] * 1e3, front["hypercolumn_psnr_db"], color="0.3", zorder=0)
        for _, row in front.iterrows():
            ax.annotate(
                f"{row['variant']} ({row['runtime']})",
                (row["median_s"] * 1e3, row["hypercolumn_psnr_db"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels collide
        ax.set_title(f"scale {scale}")
        ax.set_xlabel("median latency (ms, log scale)")
        ax.set_ylabel("hypercolumn PSNR (dB)")
    families = [f for f in ctx.families if f in set(points["family"])]
    runtimes = list(dict.fromkeys(points["runtime"]))
    handles = _legend_families(ctx, families) + [
        # hollow: the runtimes' shapes must not read as a family's colour
        Line2D(
            [],
            [],
            marker=ctx.runtime_look[r].marker,
            linestyle="",
            label=r,
            markerfacecolor="none",
            markeredgecolor="black",
        )
        for r in runtimes
    ]
    axes[0][-1].legend(handles=handles, fontsize=7, loc="lower right")
    return figure


# -- 6. latency and the roofline -----------------------------------------------------------------


@plot(
    "latency",
    "Latency per method and runtime, and the fraction of the roofline",
    "{comparison}. Markers are the median round; whiskers span the fastest and the slowest "
    "timing process (each a fresh interpreter: the run's independent units). The roofline "
    "fraction is the least time the case needs over its latency: its fewest bytes at the copy "
    "bandwidth measured at its working-set size, or its FLOPs at the measured GEMM rate, "
    "whichever is larger (hatched: compute-bound). Over 100% would mean the bound is wrong.",
)
def latency(ctx: ReportContext) -> plt.Figure:
    timed = ctx.runtimes.dropna(subset=["median_s"]).merge(
        ctx.comparison[["index", "family", "variant", "scale"]], on="index"
    )
    if timed.empty:
        raise NoData("no case in the comparison set was timed")
    order = list(dict.fromkeys(ctx.comparison["id"]))
    runtimes = list(dict.fromkeys(timed["runtime"]))
    height = 0.28 * len(order) * max(1, len(runtimes) / 1.5) + 1.5
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, height), sharey=True, gridspec_kw={"width_ratios": [3, 2]}
    )
    offsets = np.linspace(-0.2, 0.2, len(runtimes)) if len(runtimes) > 1 else [0.0]
    for k, runtime in enumerate(runtimes):
        look = ctx.runtime_look[runtime]
        rows = (
            timed[timed["runtime"] == runtime]
            .set_index("id")
            .reindex(order)
            .dropna(subset=["median_s"])
        )
        y = np.array([order.index(i) for i in rows.index]) + offsets[k]
        median = rows["median_s"].to_numpy() * 1e3
        error = np.vstack(
            [
                median - rows["fastest_process_s"].to_numpy() * 1e3,
                rows["slowest_process_s"].to_numpy() * 1e3 - median,
            ]
        )
        left.errorbar(
            median,
            y,
            xerr=np.clip(error, 0, None),
            fmt=look.marker,
            color=look.colour,
            label=runtime,
            capsize=2,
            markersize=4,
        )
        right.barh(
            y,
            rows["roofline_fraction"].to_numpy(dtype=float) * 100,  # None: left out, with why
            height=0.38 / len(runtimes) * 2,
            color=look.colour,
            hatch=["//" if bound == "compute" else "" for bound in rows["roofline_bound"]],
        )
    left.set_yticks(range(len(order)), tick_labels(order), fontsize=7)
    for label, case_id in zip(left.get_yticklabels(), order, strict=True):
        family = ctx.comparison.set_index("id").loc[case_id, "family"]
        label.set_color(ctx.colours[family])
    left.invert_yaxis()
    left.set_xscale("log")
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel("median latency per call (ms, log scale)")
    left.legend(fontsize=7)
    right.set_xlabel("roofline fraction (%)")
    return figure


# -- 7. export parity ----------------------------------------------------------------------------

#: Where a bit-exact result (error 0) is drawn on the log axis.
EXACT_FLOOR = 1e-10


@plot(
    "parity",
    "Export parity: each runtime's largest error against torch",
    "Every case. Relative error = max|y − torch| / max|torch|; points at the left edge are "
    "bit-exact; a red cross is over its tolerance (a mismatch).",
)
def parity(ctx: ReportContext) -> plt.Figure:
    rows = ctx.runtimes[~ctx.runtimes["reference"]].dropna(subset=["max_rel_err"])
    if rows.empty:
        raise NoData("no runtime other than the reference ran")
    rows = rows.merge(ctx.cases[["index", "family", "variant"]], on="index")
    rows["error"] = rows["max_rel_err"].clip(lower=EXACT_FLOOR)
    order = [v for f in ctx.families for v in sorted(rows[rows["family"] == f]["variant"].unique())]
    figure, ax = plt.subplots(figsize=(9, 0.32 * len(order) + 1.6))
    ax.set_xscale("log")
    runtimes = list(dict.fromkeys(rows["runtime"]))
    offsets = np.linspace(-0.22, 0.22, len(runtimes)) if len(runtimes) > 1 else [0.0]
    for k, runtime in enumerate(runtimes):
        subset = rows[rows["runtime"] == runtime]
        y = np.array([order.index(v) for v in subset["variant"]], dtype=float) + offsets[k]
        colour = ctx.runtime_look[runtime].colour
        ax.scatter(subset["error"], y, s=18, color=colour, label=runtime, zorder=3)
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(len(order) - 0.5, -0.5)
    bad = rows[rows["status"] == "mismatch"]
    if len(bad):
        ax.scatter(
            bad["error"],
            [order.index(v) for v in bad["variant"]],
            marker="x",
            s=80,
            color=MISMATCH_COLOUR,
            label="mismatch",
            zorder=5,
        )
    default_rtol = rows["rtol"].mode().iloc[0] if rows["rtol"].notna().any() else None
    if default_rtol:
        ax.axvline(
            default_rtol,
            color=MISMATCH_COLOUR,
            linestyle=":",
            label=f"default rtol {default_rtol:g}",
        )
        # A case with its own tolerance (an override with a reason): its bound on its own row.
        own = rows[rows["rtol"].notna() & (rows["rtol"] != default_rtol)]
        own = own.drop_duplicates(["variant", "rtol"])
        if len(own):
            ax.scatter(
                own["rtol"],
                [order.index(v) for v in own["variant"]],
                marker="|",
                s=220,
                color=MISMATCH_COLOUR,
                label="a case's own rtol (override)",
                zorder=4,
            )
    ax.axvline(EXACT_FLOOR, color="0.5", linewidth=0.8)
    top = max(rows["error"].max(), rows["rtol"].max() if rows["rtol"].notna().any() else 0)
    ax.set_xlim(EXACT_FLOOR / 3, max(top, EXACT_FLOOR) * 5)  # also when every point is exact
    ax.set_xlabel("max relative error against torch (log scale; left edge: bit-exact)")
    ax.set_ylabel("method")
    ax.legend(fontsize=7, loc="lower right")
    return figure


# -- calibration ---------------------------------------------------------------------------------


@plot(
    "calibration",
    "Calibration: injected pattern against measured checkerboard %",
    "The run's calibration battery: bilinear interpolation with a periodic pattern of known "
    "size added (periods 2, 3, 4) or multiplied in, measured by checkerboard_pct; the line is "
    "measured = expected, the band the stated tolerance (10%, at least 0.1 pp). Layers with no "
    "pattern (Lanczos, a Laplacian-sharpened phase, noise, the all-ones decoder) sit at 0.",
)
def calibration_plot(ctx: ReportContext) -> plt.Figure:
    rows = [
        r for r in ctx.results["run"].get("calibration") or [] if r["metric"] == "checkerboard_pct"
    ]
    injected = [r for r in rows if r.get("period") and r["measured"] is not None]
    if not injected:
        raise NoData("the run has no calibration battery (run with this version of the suite)")
    figure, ax = plt.subplots(figsize=(6.4, 4.6))
    expected = np.array(sorted({r["expected"] for r in injected}))
    span = np.geomspace(min(expected) / 1.5, max(expected) * 1.5, 50)
    band = np.maximum(0.1, 0.1 * span)
    ax.fill_between(span, span - band, span + band, color="0.9", label="tolerance")
    ax.plot(span, span, color="0.3", linewidth=1, label="measured = expected")
    markers = {"added": "o", "multiplied": "s"}
    for r in injected:
        ax.scatter(
            r["expected"],
            max(r["measured"], 0.01),
            marker=markers[r["kind"]],
            color=plt.cm.tab10(r["period"]),
            s=28,
            zorder=3,
        )
    for kind, marker in markers.items():
        ax.scatter([], [], marker=marker, color="0.4", label=f"pattern {kind}")
    for period in (2, 3, 4):
        ax.scatter([], [], marker="o", color=plt.cm.tab10(period), label=f"period {period}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("expected pattern (% of the output's RMS)")
    ax.set_ylabel("measured checkerboard_pct (%)")
    ax.legend(fontsize=7, loc="upper left")
    return figure
