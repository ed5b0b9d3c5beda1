"""The plot registry: ``@plot`` records a draw function under a name that is also its PNG's file
name, so a name registered twice is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt

from ..context import ReportContext
from .readable import finish

Draw = Callable[[ReportContext], plt.Figure]


@dataclass(frozen=True)
class Plot:
    name: str
    title: str
    caption: str
    draw: Draw
    section: str = "comparison"
    #: where it stands on the page and in the PNGs' numbering (lower first; equal places keep
    #: the order they were registered in)
    place: int = 1000

    def render(self, ctx: ReportContext) -> plt.Figure:
        """The figure as the page shows it: drawn, titled, laid out, and then what waits for the
        layout (point labels placed where they collide with nothing)."""
        figure = self.draw(ctx)
        figure.suptitle(self.title, fontsize=11)  # every PNG carries its title
        finish(figure)
        return figure


PLOTS: list[Plot] = []


def plot(name: str, title: str, caption: str, section: str = "comparison", place: int = 1000):
    """Register a draw function; a name already taken is refused (it names the PNG)."""

    def register(draw: Draw) -> Draw:
        taken = next((p for p in PLOTS if p.name == name), None)
        if taken is not None:
            raise ValueError(
                f"plot {name!r} is registered twice: by {taken.draw.__module__}."
                f"{taken.draw.__qualname__} and by {draw.__module__}.{draw.__qualname__}"
            )
        PLOTS.append(Plot(name, title, caption, draw, section, place))
        PLOTS.sort(key=lambda p: p.place)  # stable: registration order within a place
        return draw

    return register
