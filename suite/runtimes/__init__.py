"""The registry of runtimes, keyed by the name results.json uses (``torch-cpu``, ``ort-cpu``...)."""

from __future__ import annotations

from typing import TypeVar

from .base import Loaded, Prepared, Runtime, RuntimeSkipped

_REGISTRY: dict[str, Runtime] = {}
R = TypeVar("R", bound=type[Runtime])

#: The reference that parity is measured against.
REFERENCE = "torch-cpu"


def register(runtime: R) -> R:
    if runtime.name in _REGISTRY:
        raise ValueError(f"runtime {runtime.name!r} is registered twice")
    _REGISTRY[runtime.name] = runtime()
    return runtime


def list_runtimes() -> list[str]:
    """Registered runtimes, reference first, in registration order."""
    return list(_REGISTRY)


def get_runtime(name: str) -> Runtime:
    return _REGISTRY[name]


# Import order is registration order, which is the order results list them: reference first.
from . import torch_eager  # noqa: E402, F401, I001
from . import ort  # noqa: E402, F401
from . import onnx_reference  # noqa: E402, F401

__all__ = ["REFERENCE", "Loaded", "Prepared", "Runtime", "RuntimeSkipped", "get_runtime"]
