"""A case's own torch module: ``factory = "package.module:function"`` instead of a method.

The function is imported and called with the case's keys (``channels``, ``scale`` and any other
key the case gives) and must return a ``torch.nn.Module`` mapping (1, C, H, W) to (1, C, H', W').
This runs code named by the case file: case files must come from a trusted source.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import ParamError
from . import register
from .base import SCALE, Method, Size

FACTORY = "factory"


@cache
def load_factory(spec: str):
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise ParamError(FACTORY, f"must be 'package.module:function', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ParamError(FACTORY, f"cannot import {module_name!r}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ParamError(FACTORY, f"{module_name!r} has no callable {function_name!r}")
    return function


@register
class Factory(Method):
    """Keys are open: everything but ``factory`` is passed to the function, which refuses what it
    does not take (reported as a case-file error naming the key)."""

    name = FACTORY
    summary = "a torch module from the case's own factory function"
    order = 1000
    colour = "#222222"
    example: ClassVar[dict[str, Any]] = {"factory": "suite.methods.factory:nearest_then_conv"}
    params = (SCALE,)
    open_keys = True

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return (FACTORY, "scale")

    @classmethod
    def resolve(cls, given: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(given.get(FACTORY), str):
            raise ParamError(FACTORY, "must be a string 'package.module:function'")
        function = load_factory(given[FACTORY])
        values = {"scale": SCALE.check(given.get("scale", SCALE.default)), **given}
        kwargs = {k: v for k, v in values.items() if k != FACTORY}
        try:
            inspect.signature(function).bind(channels=1, **kwargs)
        except TypeError as exc:
            raise ParamError(FACTORY, f"{given[FACTORY]} does not take these keys: {exc}") from None
        return values

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        """Unknown code: a generous window unless the factory takes a ``kernel``."""
        return params.get("kernel") or 4

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return _output_size(tuple(sorted(params.items())), size)

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        function = load_factory(params[FACTORY])
        kwargs = {k: v for k, v in params.items() if k != FACTORY}
        # The factory draws from torch's default stream: seed it from the case's generator.
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            module = function(channels=channels, **kwargs)
        if not isinstance(module, nn.Module):
            raise TypeError(f"{params[FACTORY]} returned {type(module).__name__}, not a Module")
        return module


@cache
def _output_size(items: tuple, size: Size) -> Size:
    """Run the module once on zeros: its code, not a formula, decides its geometry."""
    params = dict(items)
    module = Factory.build(params, 1, torch.Generator().manual_seed(0)).eval()
    with torch.no_grad():
        out = module(torch.zeros(1, 1, *size))
    return int(out.shape[-2]), int(out.shape[-1])


def nearest_then_conv(channels: int, scale: int, kernel: int = 3) -> nn.Module:
    """A factory as a case file names one (``factory = "suite.methods.factory:nearest_then_conv"``):
    nearest ×scale, then a ``kernel``×``kernel`` convolution without bias. The method's example."""
    return nn.Sequential(
        nn.Upsample(scale_factor=scale, mode="nearest"),
        nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False),
    )
