"""One palette and one method order for every plot, and how a figure becomes a PNG."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the report is written on machines without a display

import matplotlib.pyplot as plt
import seaborn as sns

#: The order methods appear in everywhere: the lecture's story, from the artifact-prone classic
#: to the alternatives; anything not named here (a team's factory) follows, alphabetically.
FAMILY_ORDER = (
    "transposed",
    "zoh_transposed",
    "resize_conv",
    "interpolate",
    "bilinear_additive",
    "pixel_shuffle",
    "bilinear_mix",
    "carafe",
    "dysample",
    "decoder",
    "factory",
)
DPI = 110
#: Within one family, variants differ by line style (colour is the family's).
LINE_STYLES = ("-", "--", "-.", ":")
RUNTIME_MARKERS = {"torch-cpu": "o", "ort-cpu": "s", "torch-cuda": "^", "ort-cuda": "D"}
MISMATCH_COLOUR = "#d62728"


def family_order(families: list[str]) -> list[str]:
    known = [f for f in FAMILY_ORDER if f in families]
    return known + sorted(set(families) - set(known))


def palette(families: list[str]) -> dict[str, tuple[float, float, float]]:
    """A fixed colour per method family: the same family has the same colour in every plot,
    whichever families a run has (the colour follows the position in ``FAMILY_ORDER``)."""
    ordered = list(FAMILY_ORDER) + sorted(set(families) - set(FAMILY_ORDER))
    # tab10's ten hues are the most distinct; a team's own families beyond them get Set2's.
    colours = [*sns.color_palette("tab10", 10), (0.5, 0.5, 0.5), *sns.color_palette("Set2", 8)]
    return {name: colours[i % len(colours)] for i, name in enumerate(ordered)}


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
