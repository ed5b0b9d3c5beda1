"""The report's plots. Each module of this package draws one plot or a small family of them and
registers it with ``@plot`` (``registry``); the package imports every module it holds, so a new
plot is a new file and no list is edited. A team's own plots can stay in the team's package:
``UPSAMPLING_BENCH_PLOTS=package.module[,other]`` imports those modules after the suite's.

A draw function returns a matplotlib figure or raises ``NoData`` with the reason; captions say
in one line what to see and may name the comparison set with ``{comparison}``."""

from __future__ import annotations

import importlib
import pkgutil

from ...plugins import import_named_modules
from .common import fold, log_power, short, stretch, tick_labels, wrapped
from .registry import PLOTS, Plot, plot

#: Modules (comma-separated import names) holding a team's own plots (``plugins.py``).
EXTRA_PLOTS_ENV = "UPSAMPLING_BENCH_PLOTS"


def _import_every_module() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    import_named_modules(EXTRA_PLOTS_ENV)


_import_every_module()

from .cost import pareto_front  # noqa: E402  (re-exported; registered by the walk above)

__all__ = [
    "EXTRA_PLOTS_ENV",
    "PLOTS",
    "Plot",
    "fold",
    "log_power",
    "pareto_front",
    "plot",
    "short",
    "stretch",
    "tick_labels",
    "wrapped",
]
