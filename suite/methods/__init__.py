"""The registry of upsampling methods, keyed by the name a case file uses.

Add a method by writing a module in this package with a ``Method`` subclass decorated by
``@register``: the package imports every module in it, and every test parametrized from
``list_methods()`` then covers it. What the rest of the suite knows of a method (its place and
colour in the report, its reach, its bias, its variant keys, a small example) is declared on the
class (``base.Method``); nothing else lists methods (docs/contributing.md).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import torch
from torch import nn

from ..plugins import import_named_modules
from .base import Method, Param
from .registry import _REGISTRY, all_method_keys, get_method, list_methods, register
from .stage import Stage

#: The package's modules that define no method: the rest are imported to register theirs.
NOT_METHOD_MODULES = {"base", "registry", "stage"}


def create_upsampler(
    name: str, channels: int = 1, seed: int = 0, **params: Any
) -> tuple[nn.Module, Stage]:
    """Build one seeded upsampler from a name and case-file keys, as a case file would."""
    stage = Stage(name, get_method(name).resolve(params))
    return stage.build(channels, torch.Generator().manual_seed(seed)), stage


#: Modules (comma-separated import names) holding a team's own methods (``plugins.py``).
EXTRA_METHODS_ENV = "UPSAMPLING_BENCH_METHODS"


def _import_method_modules() -> None:
    """Import every module of this package, then the modules ``EXTRA_METHODS_ENV`` names:
    importing a method module registers it."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in NOT_METHOD_MODULES:
            importlib.import_module(f"{__name__}.{module.name}")
    import_named_modules(EXTRA_METHODS_ENV)


_import_method_modules()

__all__ = [
    "_REGISTRY",
    "Method",
    "Param",
    "Stage",
    "all_method_keys",
    "create_upsampler",
    "get_method",
    "list_methods",
    "register",
]
