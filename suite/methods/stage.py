"""A resolved upsampling layer: a registered method's name and its keys' values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .base import Method, Size
from .registry import get_method


@dataclass(frozen=True)
class Stage:
    """One resolved upsampling layer: a registered method and every one of its keys' values."""

    method: str
    params: dict[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", dict(self.params))

    @property
    def spec(self) -> Method:
        return get_method(self.method)

    @property
    def scale(self) -> int:
        return self.params["scale"]

    def output_size(self, size: Size) -> Size:
        return self.spec.output_size(self.params, size)

    def output_channels(self, channels: int) -> int:
        return self.spec.output_channels(self.params, channels)

    @property
    def reach(self) -> int:
        return self.spec.reach(self.params)

    def build(self, channels: int, generator: torch.Generator) -> nn.Module:
        return self.spec.build(self.params, channels, generator)
