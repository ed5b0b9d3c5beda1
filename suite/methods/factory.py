"""A case's own torch module: ``factory = "package.module:function"`` instead of a method.

The function is imported and called with the case's keys (``channels``, ``scale`` and any other
key the case gives) and must return a ``torch.nn.Module`` mapping (1, C, H, W) to
(1, C, scale·H, scale·W). The loader probes it once with the case's own channels and size
(``probe``), so that a factory that cannot be imported, raises, returns something else, maps to
other channels or another size, or returns NaN is one line naming the case before any work.
This runs code named by the case file: case files must come from a trusted source.
"""

from __future__ import annotations

import importlib
import inspect
import time
from functools import cache
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import ParamError, first_line
from .base import SCALE, Method, Size, times_scale
from .registry import register

FACTORY = "factory"
#: seconds a factory may take to build its module and run it once on the probe input at the
#: case's size; past it the case is refused at load time (a run would build it in every
#: prepare and timing process)
PROBE_LIMIT_S = 30.0


@cache
def load_factory(spec: str):
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise ParamError(FACTORY, f"must be 'package.module:function', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a user's module: any error on import is one line, not a trace
        raise ParamError(FACTORY, f"cannot import {module_name!r}: {_said(exc)}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ParamError(FACTORY, f"{module_name!r} has no callable {function_name!r}")
    return function


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {first_line(exc)}"


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
    def default_keys(cls, given: dict[str, Any]) -> set[str]:
        """``scale``, and every key the named function takes (all, if it takes ``**kwargs``)."""
        try:
            function = load_factory(given[FACTORY])
        except (KeyError, TypeError, ParamError):
            return set(cls.keys())  # the case itself reports the problem
        parameters = inspect.signature(function).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in parameters):
            return {"*"}
        return {*cls.keys(), *(p.name for p in parameters if p.name != "channels")}

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
        """What the factory declares by its ``scale``; ``probe`` checks the module keeps it."""
        return times_scale(params, size)

    @classmethod
    def probe(cls, params: dict[str, Any], channels: int, size: Size) -> None:
        _probe(tuple(sorted(params.items())), channels, size)

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        module = _made(params, channels, generator)
        if not isinstance(module, nn.Module):
            raise TypeError(_not_a_module(params, module))
        return module


def _made(params: dict[str, Any], channels: int, generator: torch.Generator) -> Any:
    """What the factory returns for these keys, drawn from torch's default stream seeded from
    the case's generator."""
    function = load_factory(params[FACTORY])
    kwargs = {k: v for k, v in params.items() if k != FACTORY}
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return function(channels=channels, **kwargs)


def _not_a_module(params: dict[str, Any], made: Any) -> str:
    return f"{params[FACTORY]} returned {type(made).__name__}, not a torch.nn.Module"


@cache
def _probe(items: tuple, channels: int, size: Size) -> None:
    """Build the module with the case's channels and run it once on a seeded random input of the
    case's size: its code, not a formula, must keep the declared channels and scale."""
    params = dict(items)
    spec, began = params[FACTORY], time.perf_counter()
    keys = ", ".join(f"{k}={v!r}" for k, v in params.items() if k != FACTORY)
    try:
        module = _made(params, channels, torch.Generator().manual_seed(0))
    except Exception as exc:  # the user's code: whatever it raises is one line
        message = f"{spec}(channels={channels}, {keys}) raised {_said(exc)}"
        raise ParamError(FACTORY, message) from None
    if not isinstance(module, nn.Module):
        raise ParamError(FACTORY, _not_a_module(params, module))
    given = probe_shape(channels, size)
    try:
        with torch.no_grad():
            out = module.eval()(torch.randn(given, generator=torch.Generator().manual_seed(0)))
    except Exception as exc:
        raise ParamError(
            FACTORY, f"{spec}: its module failed on a {_shape(given)} input: {_said(exc)}"
        ) from None
    expected = probe_shape(channels, times_scale(params, size))
    if problem := _output_problem(out, expected, time.perf_counter() - began):
        raise ParamError(FACTORY, f"{spec}: on a {_shape(given)} input its module {problem}")


def probe_shape(channels: int, size: Size) -> tuple[int, ...]:
    return (1, channels, *size)


def _shape(shape) -> str:
    return "×".join(map(str, shape))


def _output_problem(out: Any, expected: tuple[int, ...], took: float) -> str | None:
    if not isinstance(out, torch.Tensor):
        return f"returned {type(out).__name__}, not a tensor"
    if tuple(out.shape) != expected:
        return (
            f"returned {_shape(out.shape)}, not {_shape(expected)} (the same channels, "
            "scale × the size)"
        )
    if not torch.isfinite(out).all():
        nan, inf = int(torch.isnan(out).sum()), int(torch.isinf(out).sum())
        return f"returned {nan} NaN and {inf} Inf values"
    if took > PROBE_LIMIT_S:
        return f"took {took:.0f} s to build and run once (limit {PROBE_LIMIT_S:g} s)"
    return None


def nearest_then_conv(channels: int, scale: int, kernel: int = 3) -> nn.Module:
    """A factory as a case file names one (``factory = "suite.methods.factory:nearest_then_conv"``):
    nearest ×scale, then a ``kernel``×``kernel`` convolution without bias. The method's example."""
    return nn.Sequential(
        nn.Upsample(scale_factor=scale, mode="nearest"),
        nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False),
    )
