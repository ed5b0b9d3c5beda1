"""The registry of upsampling methods, keyed by the name a case file uses.

Add a method by writing a module in this package with a ``Method`` subclass decorated by
``@register``: the package imports every module in it, and every test parametrized from
``list_methods()`` then covers it. What the rest of the suite knows of a method (its place and
colour in the report, its reach, its bias, its variant keys, a small example) is declared on the
class (``base.Method``); nothing else lists methods (docs/contributing.md).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Any, TypeVar

import torch
from torch import nn

from ..errors import ParamError
from .base import Method, Param, Stage

_REGISTRY: dict[str, type[Method]] = {}
M = TypeVar("M", bound=type[Method])


def register(method: M) -> M:
    if method.name in _REGISTRY:
        raise ValueError(f"method {method.name!r} is registered twice")
    _REGISTRY[method.name] = method
    return method


def list_methods() -> list[str]:
    return sorted(_REGISTRY)


def get_method(name: str) -> type[Method]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ParamError(
            "method", f"unknown method {name!r}; registered: {', '.join(list_methods())}"
        ) from None


def all_method_keys() -> set[str]:
    return {key for method in _REGISTRY.values() for key in method.keys()}


def create_upsampler(
    name: str, channels: int = 1, seed: int = 0, **params: Any
) -> tuple[nn.Module, Stage]:
    """Build one seeded upsampler from a name and case-file keys, as a case file would."""
    stage = Stage(name, get_method(name).resolve(params))
    return stage.build(channels, torch.Generator().manual_seed(seed)), stage


#: Modules (comma-separated import names) holding a team's own methods, imported after the
#: suite's: they register like the suite's own, in every process of a run (timing processes
#: inherit the variable), without a file of the suite edited.
EXTRA_METHODS_ENV = "UPSAMPLING_BENCH_METHODS"


def _import_method_modules() -> None:
    """Import every module of this package, then the modules ``EXTRA_METHODS_ENV`` names:
    importing a method module registers it."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    for name in filter(None, (n.strip() for n in os.environ.get(EXTRA_METHODS_ENV, "").split(","))):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"{EXTRA_METHODS_ENV}: cannot import {name!r}: {exc}") from exc


_import_method_modules()

__all__ = ["Method", "Param", "Stage", "all_method_keys", "create_upsampler", "get_method"]
