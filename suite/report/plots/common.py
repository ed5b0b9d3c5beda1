"""What several plots share: image display ranges, case ids as labels, grids of panels, and each
series' and runtime's colour and legend entry."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ..context import ReportContext
from ..style import distinct_colours


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


def without_keys(case_id: str, keys: tuple[str, ...]) -> str:
    """``mine[kernel=3,init=ones]`` without ``kernel``: ``mine[init=ones]`` (a plot whose axes
    are those keys shows the rest)."""
    base, _, inside = case_id.partition("[")
    kept = [t for t in inside.rstrip("]").split(",") if t and t.split("=")[0] not in keys]
    return base + (f"[{','.join(kept)}]" if kept else "")


def grid(count: int, columns: int, cell: float = 2.1, rows_per: int = 1):
    rows = -(-count // columns)
    figure, axes = plt.subplots(
        rows * rows_per, columns, figsize=(cell * columns, cell * rows * rows_per), squeeze=False
    )
    for ax in axes.flat:
        ax.set_axis_off()
    return figure, axes


def series_order(ctx: ReportContext, frame: pd.DataFrame) -> list[str]:
    """The series of ``frame`` in the families' order (a case of its own after its family's)."""
    ranked = frame.assign(_f=frame["family"].map({f: i for i, f in enumerate(ctx.families)}))
    return list(dict.fromkeys(ranked.sort_values(["_f", "index"])["series"]))


def label_order(ctx: ReportContext, frame: pd.DataFrame) -> list[str]:
    """The rows a plot shows per ``series_label``: by family, then by label."""
    order = []
    for series in series_order(ctx, frame):
        order += sorted(frame[frame["series"] == series]["series_label"].unique())
    return list(dict.fromkeys(order))


def series_handles(ctx: ReportContext, series: list[str]) -> list[Line2D]:
    """A legend entry per series in its colour, named as the series is: a family by its name,
    a case that is its own module by its id."""
    return [Line2D([], [], color=ctx.colours[s], marker="o", linestyle="", label=s) for s in series]


def runtime_colours(ctx: ReportContext) -> dict[str, Any]:
    """Each runtime that ran its colour: the one it declares where the palette has it free."""
    ran = list(dict.fromkeys(ctx.runtimes["runtime"])) if len(ctx.runtimes) else []
    return distinct_colours({name: ctx.runtime_look[name].colour for name in ran})


def hollow_runtime_handles(ctx: ReportContext, runtimes: list[str]) -> list[Line2D]:
    """Runtimes as shapes only (hollow, black): they must not read as a series' colour."""
    return [
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
