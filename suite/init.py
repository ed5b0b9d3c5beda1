"""Weight initialisations, keyed by the case-file value of ``init``.

Every initialiser draws from an explicit ``torch.Generator`` (CPU Mersenne twister), so a case's
weights are the same on every machine, whatever else the process did before.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

Initialiser = Callable[[nn.Module, torch.Generator, int], None]
INITIALISERS: dict[str, Initialiser] = {}


def register_init(name: str) -> Callable[[Initialiser], Initialiser]:
    def add(fn: Initialiser) -> Initialiser:
        if name in INITIALISERS:
            raise ValueError(f"initialiser {name!r} is registered twice")
        INITIALISERS[name] = fn
        return fn

    return add


def initialise(layers: list[nn.Module], init: str, generator: torch.Generator, scale: int) -> None:
    """Apply ``init`` to each learned layer, in order (the order fixes the random stream)."""
    for layer in layers:
        with torch.no_grad():
            INITIALISERS[init](layer, generator, scale)


def _fan_in(weight: torch.Tensor) -> int:
    # torch's own convention for Conv2d and ConvTranspose2d alike: dim 1 times the kernel area.
    return weight.shape[1] * weight[0, 0].numel()


@register_init("random")
def random_init(layer: nn.Module, generator: torch.Generator, scale: int) -> None:
    """torch's default: Kaiming-uniform with a = sqrt(5), that is U(±1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(_fan_in(layer.weight))
    layer.weight.uniform_(-bound, bound, generator=generator)


@register_init("ones")
def ones_init(layer: nn.Module, generator: torch.Generator, scale: int) -> None:
    """All weights 1: the flat-field probe of Odena et al. (uneven overlap shows as ripple)."""
    layer.weight.fill_(1.0)


def bilinear_kernel(kernel: int) -> torch.Tensor:
    """The FCN bilinear-upsampling kernel (Long et al. 2015): a k×k tent, separable.

    factor = ceil(k / 2); centre = factor - 1 for odd k, factor - 0.5 for even k;
    w(x) = 1 - |x - centre| / factor. For k = 4 that is [0.25, 0.75, 0.75, 0.25] per axis.
    """
    factor = (kernel + 1) // 2
    centre = factor - 1 if kernel % 2 == 1 else factor - 0.5
    taps = 1 - (torch.arange(kernel, dtype=torch.float64) - centre).abs() / factor
    return torch.outer(taps, taps).float()


@register_init("bilinear")
def bilinear_init(layer: nn.Module, generator: torch.Generator, scale: int) -> None:
    """Each channel upsampled on its own by the FCN bilinear kernel; no mixing between channels."""
    weight = layer.weight
    if weight.shape[0] != weight.shape[1]:
        raise ValueError(
            f"bilinear init needs as many inputs as outputs, got {tuple(weight.shape)}"
        )
    weight.zero_()
    kernel = bilinear_kernel(weight.shape[-1])
    for channel in range(weight.shape[0]):
        weight[channel, channel] = kernel


@register_init("icnr")
def icnr_init(layer: nn.Module, generator: torch.Generator, scale: int) -> None:
    """ICNR (Aitken et al. 2017): draw a random kernel for C outputs, then give each of the s²
    sub-pixel outputs of a channel the same kernel, so that conv + PixelShuffle starts out as
    nearest-neighbour upsampling of one convolution: no checkerboard at initialisation."""
    weight = layer.weight
    sub_pixels = scale * scale
    if weight.shape[0] % sub_pixels:
        raise ValueError(f"icnr needs a multiple of {sub_pixels} output channels")
    base = torch.empty(weight.shape[0] // sub_pixels, *weight.shape[1:])
    bound = 1.0 / math.sqrt(_fan_in(base))
    base.uniform_(-bound, bound, generator=generator)
    # PixelShuffle reads channel c·s² + i as sub-pixel i of output channel c.
    weight.copy_(base.repeat_interleave(sub_pixels, dim=0))


@register_init("trained")
def trained_init(layer: nn.Module, generator: torch.Generator, scale: int) -> None:
    """Starts as ``random``; ``Case.build`` then fits the whole model (see suite/training.py)."""
    random_init(layer, generator, scale)
