"""What keeps a plot readable: log axes with at least three labelled ticks, legends outside the
axes, point labels placed (after the layout) where they collide with no other label, and
bit-exact values on a band of their own beside a log axis."""

from __future__ import annotations

import textwrap
import weakref
from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from adjustText import adjust_text
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

#: a log axis shows at least this many labelled ticks
MIN_LOG_TICKS = 3
#: tick steps within a decade, tried in turn until enough ticks fall in view
LOG_STEPS = ((1.0,), (1.0, 2.0, 5.0), tuple(float(k) for k in range(1, 10)))

#: what waits for a figure's layout (``after_layout``), run by ``finish``
_PENDING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ReadableLogLocator(LogLocator):
    """Decades where three fall in view; else 1-2-5 steps; else every multiple within a decade;
    else four evenly spaced values: at least ``MIN_LOG_TICKS`` labelled ticks on any span."""

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        low, high = sorted((vmin, vmax))
        for subs in LOG_STEPS:
            ticks = LogLocator(subs=subs).tick_values(low, high)
            if np.count_nonzero((ticks >= low) & (ticks <= high)) >= MIN_LOG_TICKS:
                return ticks
        ticks = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
        return ticks[ticks > 0]


def readable_number(value: float, _position: int | None = None) -> str:
    """1, 20, 0.5 as written; past 10⁴ or below 10⁻³ as m×10ⁿ (10ⁿ alone for m = 1)."""
    if value <= 0:
        return "0"
    exponent = int(np.floor(np.log10(value) + 1e-9))
    if -3 <= exponent < 4:
        return f"{value:g}"
    mantissa = float(f"{value / 10.0**exponent:.3g}")
    power = f"10^{{{exponent}}}"
    return f"${power}$" if mantissa == 1 else f"${mantissa:g}\\times{power}$"


def log_axis(ax: plt.Axes, which: str = "x") -> None:
    """Put ``ax``'s ``which`` axis ("x" or "y") on a log scale whose every label is a major tick
    from ``ReadableLogLocator`` (minor ticks stay, unlabelled)."""
    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_locator(ReadableLogLocator())
    axis.set_major_formatter(FuncFormatter(readable_number))
    axis.set_minor_formatter(NullFormatter())


def legend_outside(ax: plt.Axes, handles: Sequence, **kwargs):
    """A legend beside ``ax``, right of it and level with its top: it covers no data, and the
    constrained layout counts it as part of the axes (so it meets no title either)."""
    return ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        fontsize=7,
        **kwargs,
    )


def name_left_out(figure: plt.Figure, why: str, names: Sequence[str], most: int = 8) -> None:
    """Say under the figure which cases it leaves out and why (a plot states what it ignores);
    nothing when none is. The constrained layout keeps room for it."""
    names = list(dict.fromkeys(names))
    if not names:
        return
    more = f" and {len(names) - most} more" if len(names) > most else ""
    shown = ", ".join(names[:most]) + more
    width = max(60, int(figure.get_figwidth() * 14))  # ~14 characters an inch at 7 pt
    figure.supxlabel(textwrap.fill(f"not shown ({why}): {shown}", width), fontsize=7, color="0.3")


def after_layout(figure: plt.Figure, step: Callable[[], None]) -> None:
    """Run ``step`` once the figure is titled and laid out (``finish``): label placement needs
    the axes' final size."""
    _PENDING.setdefault(figure, []).append(step)


def finish(figure: plt.Figure) -> None:
    """Lay the figure out, then run what waited for it."""
    figure.canvas.draw()
    for step in _PENDING.pop(figure, []):
        step()


def label_points(ax: plt.Axes, labels: Sequence[str], x: Sequence[float], y: Sequence[float]):
    """Label the points (x, y) with ``labels``, placed after the layout so that no label covers
    another or a point of the axes (adjustText, with a thin leader line where one moved)."""
    texts = [ax.text(px, py, label, fontsize=7) for label, px, py in zip(labels, x, y, strict=True)]
    after_layout(ax.figure, lambda: _place(ax, texts))
    return texts


def _place(ax: plt.Axes, texts: list) -> None:
    if not texts:
        return
    points = np.vstack([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    adjust_text(
        texts,
        x=points[:, 0],
        y=points[:, 1],
        ax=ax,
        expand=(1.4, 1.8),
        force_static=(0.6, 1.2),
        force_explode=(0.3, 0.8),
        max_move=(20, 20),
        force_text=(0.3, 0.5),
        arrowprops={"arrowstyle": "-", "color": "0.45", "linewidth": 0.5},
    )
