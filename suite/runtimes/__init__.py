"""The registry of runtimes, keyed by the name results.json uses.

Add a runtime by writing a module in this package with a ``Runtime`` subclass decorated by
``@register``; what the rest of the suite knows of it (reference, timed, gated, marker, colour)
is declared on the class and recorded in each run's results.json (``run.runtimes``).
"""

from __future__ import annotations

import importlib
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


def _import_runtime_modules() -> str:
    """Import every module of this package (importing one registers its runtimes); return the
    reference's name."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    references = [name for name, runtime in _REGISTRY.items() if runtime.reference]
    if len(references) != 1:
        raise RuntimeError(f"exactly one runtime must be the reference, got {references}")
    return references[0]


#: The runtime parity is measured against.
REFERENCE = _import_runtime_modules()

__all__ = ["REFERENCE", "Loaded", "Prepared", "Runtime", "RuntimeSkipped", "get_runtime"]
