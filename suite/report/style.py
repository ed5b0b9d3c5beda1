"""The report's look: each series' colour (from the colour-blind-safe palette, in the place its
method or runtime declares), the theme, and how a figure becomes a PNG."""

from __future__ import annotations

import io
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the report is written on machines without a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import to_hex, to_rgb

DPI = 110
#: Within one family, variants differ by line style (colour is the family's).
LINE_STYLES = ("-", "--", "-.", ":")
#: A parity mismatch's cross: black, apart from every palette colour.
MISMATCH_COLOUR = "#000000"

#: Every series colour comes from seaborn's "colorblind" palette (ten colours told apart under
#: protanopia and deuteranopia); a method's or runtime's declared colour is its place in it.
PALETTE = tuple(sns.color_palette("colorblind").as_hex())
#: Past ten series in one run: the same ten, darker (no longer safe for colour-blind readers;
#: labels and markers still tell those series apart).
PALETTE_DARK = tuple(to_hex(np.array(to_rgb(c)) * 0.55) for c in PALETTE)
#: The least CIEDE2000 difference two series of one plot keep, in normal vision and in simulated
#: protanopia and deuteranopia: the palette's closest pair (light pink and sky blue under
#: protanopia) is 5.7.
MIN_DELTA_E = 5.0

#: Colour-vision deficiency as a linear-RGB matrix (Machado, Oliveira and Fernandes 2009,
#: severity 1).
VISION = {
    "normal": np.eye(3),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
}


def _seen(colour: Any, vision: str) -> np.ndarray:
    """``colour`` in CIELAB as a reader with ``vision`` sees it."""
    from skimage.color import rgb2lab  # only the tests and a palette check need it

    srgb = np.array(to_rgb(colour))
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(VISION[vision] @ linear, 0, 1)
    seen = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return rgb2lab(seen[None, None, :])[0, 0]


def colour_distance(a: Any, b: Any) -> float:
    """The least CIEDE2000 difference of two colours over normal vision, protanopia and
    deuteranopia (0 for the same colour; about 2 is just noticeable on large patches)."""
    from skimage.color import deltaE_ciede2000

    return min(float(deltaE_ciede2000(_seen(a, v), _seen(b, v))) for v in VISION)


def closest_pair(colours: Iterable[Any]) -> float:
    """The least ``colour_distance`` between two of ``colours`` (infinite for fewer than two)."""
    distinct = list(dict.fromkeys(to_hex(c) for c in colours))
    return min((colour_distance(a, b) for a, b in combinations(distinct, 2)), default=np.inf)


def distinct_colours(declared: dict[str, Any]) -> dict[str, str]:
    """Each name (in the given order) its declared colour where that is a palette colour no
    earlier name took; else the first free palette colour (a run recorded by an older suite, a
    team's method with a colour of its own, a case that is its own module)."""
    taken: dict[str, str] = {}
    for name, colour in declared.items():
        wanted = to_hex(colour) if isinstance(colour, str) else None
        if wanted in PALETTE and wanted not in taken.values():
            taken[name] = wanted
    for name in declared:
        if name not in taken:
            free = [c for c in PALETTE + PALETTE_DARK if c not in taken.values()]
            # past twenty series the colours repeat: their labels tell them apart
            taken[name] = free[0] if free else PALETTE[len(taken) % len(PALETTE)]
    return {name: taken[name] for name in declared}


def family_order(cases: pd.DataFrame) -> list[str]:
    """The families of ``cases`` (``data.cases_frame``) in their declared order, then by name."""
    if cases.empty:
        return []
    firsts = cases.drop_duplicates("family")
    return list(firsts.sort_values(["order", "family"])["family"])


def palette(cases: pd.DataFrame) -> dict[str, str]:
    """Each series' colour (``data.cases_frame``'s ``series``: a method's family, or a case that
    is its own module), in the families' declared order: the one its method declares where the
    palette has it free (``Method.colour``), so the same family has the same colour in every
    plot of every run; else a free one (``distinct_colours``)."""
    if cases.empty:
        return {}
    firsts = cases.drop_duplicates("series").sort_values(["order", "family", "index"])
    own = firsts["series"] != firsts["family"]
    declared = {
        row.series: None if is_own else row.colour
        for row, is_own in zip(firsts.itertuples(), own, strict=True)
    }
    return distinct_colours(declared)


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
