"""The registry of runtimes, keyed by the name results.json uses.

Add a runtime by writing a module in this package with a ``Runtime`` subclass decorated by
``@register`` (or in a team's own package, named by ``UPSAMPLING_BENCH_RUNTIMES``); what the rest
of the suite knows of it (reference, timed, gated, device, marker, colour) is declared on the
class and recorded in each run's results.json (``run.runtimes``).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import TypeVar

from .base import Loaded, Prepared, Runtime, RuntimeSkipped

_REGISTRY: dict[str, Runtime] = {}
R = TypeVar("R", bound=type[Runtime])


def register(runtime: R) -> R:
    if runtime.name in _REGISTRY:
        raise ValueError(f"runtime {runtime.name!r} is registered twice")
    _REGISTRY[runtime.name] = runtime()
    return runtime


def list_runtimes() -> list[str]:
    """Registered runtimes, the reference first, then by ``Runtime.order``: the order results
    list them in."""
    return sorted(_REGISTRY, key=lambda n: (not _REGISTRY[n].reference, _REGISTRY[n].order, n))


def get_runtime(name: str) -> Runtime:
    return _REGISTRY[name]


#: Modules (comma-separated import names) holding a team's own runtimes, imported after the
#: suite's: they register like the suite's own, in every process of a run (timing processes
#: inherit the variable), without a file of the suite edited.
EXTRA_RUNTIMES_ENV = "UPSAMPLING_BENCH_RUNTIMES"


def _import_runtime_modules() -> str:
    """Import every module of this package, then the modules ``EXTRA_RUNTIMES_ENV`` names
    (importing one registers its runtimes); return the reference's name."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    for name in filter(
        None, (n.strip() for n in os.environ.get(EXTRA_RUNTIMES_ENV, "").split(","))
    ):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"{EXTRA_RUNTIMES_ENV}: cannot import {name!r}: {exc}") from exc
    references = [name for name, runtime in _REGISTRY.items() if runtime.reference]
    if len(references) != 1:
        raise RuntimeError(f"exactly one runtime must be the reference, got {references}")
    return references[0]


#: The runtime parity is measured against.
REFERENCE = _import_runtime_modules()

__all__ = [
    "EXTRA_RUNTIMES_ENV",
    "REFERENCE",
    "Loaded",
    "Prepared",
    "Runtime",
    "RuntimeSkipped",
    "get_runtime",
]
