"""What the registry knows about a guided upsampler, and the seeded initialisers they share."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

#: build(channels, guide_channels, scale, seed) -> a module called as module(x, guide)
Builder = Callable[[int, int, int, int], nn.Module]
GuideKind = Literal["encoder", "image"]


@dataclass(frozen=True)
class Reference:
    """Where a parameter count was read: the authors' repository, the file, the commit and its
    date, and the configuration (the constructor call) at which it holds."""

    repository: str
    file: str
    commit: str
    date: str
    constructor: str
    #: the configuration handed to our ``build``: channels, guide channels, scale
    channels: int
    guide_channels: int
    scale: int
    params: int


@dataclass(frozen=True)
class Guided:
    """One guided upsampler: its guide (``encoder``: high-resolution encoder features of
    ``guide_channels``; ``image``: the RGB image at the output size), the authors' default
    hyper-parameters it is built with, and its parameter count at the reference's configuration."""

    name: str
    summary: str
    guide: GuideKind
    defaults: dict[str, Any]
    reference: Reference
    build: Builder
    #: the scales it accepts (one ×2 layer per octave for the JBU stack)
    scales: tuple[int, ...] = field(default=(2, 4, 8))


def generator_of(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def torch_default_(module: nn.Module, generator: torch.Generator) -> None:
    """torch's own reset of every Conv2d and Linear in ``module``, drawn from ``generator``:
    weight and bias U(±1/sqrt(fan_in)) (Kaiming-uniform with a = sqrt(5))."""
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                bound = 1.0 / math.sqrt(layer.weight[0].numel())
                layer.weight.uniform_(-bound, bound, generator=generator)
                if layer.bias is not None:
                    layer.bias.uniform_(-bound, bound, generator=generator)


def xavier_uniform_(weight: torch.Tensor, generator: torch.Generator) -> None:
    """Glorot-uniform with gain 1: U(±sqrt(6 / (fan_in + fan_out)))."""
    area = weight[0, 0].numel() if weight.dim() > 2 else 1
    bound = math.sqrt(6.0 / (weight.shape[1] * area + weight.shape[0] * area))
    with torch.no_grad():
        weight.uniform_(-bound, bound, generator=generator)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def power_of_two(scale: int) -> int:
    """log2(scale), refused unless ``scale`` is a power of two of at least 2."""
    octaves = scale.bit_length() - 1
    if scale < 2 or 1 << octaves != scale:
        raise ValueError(f"scale must be a power of two (one ×2 layer each), got {scale}")
    return octaves
