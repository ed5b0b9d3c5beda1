"""The report's look: each family's colour and place as the run's methods declare them, the
theme, and how a figure becomes a PNG."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the report is written on machines without a display

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

DPI = 110
#: Within one family, variants differ by line style (colour is the family's).
LINE_STYLES = ("-", "--", "-.", ":")
MISMATCH_COLOUR = "#d62728"


def family_order(cases: pd.DataFrame) -> list[str]:
    """The families of ``cases`` (``data.cases_frame``) in their declared order, then by name."""
    if cases.empty:
        return []
    firsts = cases.drop_duplicates("family")
    return list(firsts.sort_values(["order", "family"])["family"])


def palette(cases: pd.DataFrame) -> dict[str, Any]:
    """Each family's colour: the one its method declares (``Method.colour``), so the same family
    has the same colour in every plot of every run; a family that declares none gets one of
    Set2's, in order."""
    if cases.empty:
        return {}
    spare = iter(sns.color_palette("Set2", 8) * 4)
    return {
        row.family: row.colour if isinstance(row.colour, str) else next(spare)
        for row in cases.drop_duplicates("family").sort_values(["order", "family"]).itertuples()
    }


def apply_theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)
    plt.rcParams.update(
        {
            "figure.dpi": DPI,
            "figure.constrained_layout.use": True,  # titles, colorbars and legends never collide
            "savefig.bbox": "tight",
            "image.interpolation": "nearest",
        }
    )


def save_png(figure: plt.Figure, path: Path) -> bytes:
    """Write ``figure`` as PNG to ``path`` and return the bytes (for embedding)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    plt.close(figure)
    data = buffer.getvalue()
    path.write_bytes(data)
    return data
