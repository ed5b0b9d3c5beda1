"""The registry of upsampling methods, keyed by the name a case file uses.

Add a method by writing a module with a ``Method`` subclass decorated by ``@register`` and
importing it below; every test parametrized from ``list_methods()`` then covers it.
"""

from __future__ import annotations

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


# Importing a method module registers it.
from . import (  # noqa: E402
    bilinear_additive,  # noqa: F401
    bilinear_mix,  # noqa: F401
    carafe,  # noqa: F401
    dysample,  # noqa: F401
    factory,  # noqa: F401
    interpolate,  # noqa: F401
    pixel_shuffle,  # noqa: F401
    resize_conv,  # noqa: F401
    transposed,  # noqa: F401
    zoh_transposed,  # noqa: F401
)

__all__ = ["Method", "Param", "Stage", "all_method_keys", "create_upsampler", "get_method"]
