"""Drawing the report's plots: each registered plot rendered and saved as a PNG, a plot without
data left out with the reason, a broken one reported in its place.

The plots are independent, and matplotlib's layout and rasterising take most of a report's time
(about 30 s for the default run's 15, one after another). So they are drawn on as many forked
processes as the machine has cores: a child inherits the run's records and samples as they
are, and hands back only its ``Figure`` (the PNG is on disk and embedded in it)."""

from __future__ import annotations

import base64
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .context import NoData, ReportContext
from .plots import PLOTS, Plot
from .style import save_png

PLOTS_DIR = "plots"


@dataclass
class Figure:
    name: str
    title: str
    caption: str
    section: str
    file: str | None = None
    data_uri: str | None = None
    missing: str | None = None
    #: the samples it was drawn from
    sample_keys: frozenset[str] = frozenset()

    @property
    def shown(self) -> bool:
        """On the page: drawn, or failed (a bug is reported in its place); a plot this run has
        no data for is left out."""
        return self.data_uri is not None or (self.missing or "").startswith("failed")


def comparison_name(ctx: ReportContext) -> str:
    try:
        return f"Comparison set: {ctx.comparison_name}"
    except NoData:
        return "No comparison set"


def draw(plot: Plot, ctx: ReportContext, folder: Path, number: int) -> Figure:
    """``plot`` drawn from ``ctx`` and saved in ``folder``'s plots as its ``number``-th PNG."""
    caption = plot.caption.format(comparison=comparison_name(ctx))
    figure = Figure(plot.name, plot.title, caption, plot.section)
    ctx.used.clear()
    try:
        drawn = plot.render(ctx)
    except NoData as exc:
        figure.missing = str(exc)
        return figure
    except Exception as exc:  # a bug in one plot must not lose the others; it is reported
        figure.missing = (
            f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        return figure
    figure.sample_keys = frozenset(ctx.used)
    name = f"{number:02d}-{plot.name}.png"
    data = save_png(drawn, folder / PLOTS_DIR / name)
    figure.file = f"{PLOTS_DIR}/{name}"
    figure.data_uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return figure


#: What a forked child draws from: set in the parent just before the pool forks.
_INHERITED: list[tuple[ReportContext, Path]] = []


def _draw_inherited(number: int) -> Figure:
    ctx, folder = _INHERITED[0]
    return draw(PLOTS[number - 1], ctx, folder, number)


def draw_all(
    ctx: ReportContext, folder: Path, on_plot: Callable[[str], None] | None = None
) -> list[Figure]:
    """Every registered plot, in order; ``on_plot`` is told each one's title as it is done."""
    numbers = range(1, len(PLOTS) + 1)
    processes = min(len(PLOTS), len(os.sched_getaffinity(0)))
    if processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_reported(draw(PLOTS[n - 1], ctx, folder, n), on_plot) for n in numbers]
    _INHERITED[:] = [(ctx, folder)]
    try:
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(processes, mp_context=fork) as pool:
            return [_reported(f, on_plot) for f in pool.map(_draw_inherited, numbers)]
    finally:
        _INHERITED.clear()


def _reported(figure: Figure, on_plot: Callable[[str], None] | None) -> Figure:
    if on_plot:
        on_plot(figure.title)
    return figure
