"""The methods registered so far, keyed by the name a case file uses (``register`` refuses a
name twice). The package imports every method module, which fills it."""

from __future__ import annotations

from typing import TypeVar

from ..errors import ParamError
from .base import Method

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
