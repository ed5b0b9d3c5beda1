"""What a case costs in principle: FLOPs and the fewest bytes it must move (what the machine can
do, its ceilings, is measured in ``timing/ceilings.py``)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

aten = torch.ops.aten
BYTES_PER_ELEMENT = 4  # float32 throughout

#: Interpolation: multiply-adds per output element (taps), as 2 FLOPs each. torch's counter has no
#: formula for these ops, so we give one: nearest reads 1 tap and computes nothing.
_TAPS = {
    aten.upsample_nearest2d: 0,
    aten.upsample_bilinear2d: 4,
    aten.upsample_bicubic2d: 16,
}


def _interpolation_formula(taps: int):
    def flops(*args: Any, out_shape: Any = None, **kwargs: Any) -> int:
        elements = 1
        for dim in out_shape:
            elements *= dim
        return 2 * taps * elements

    return flops


def count_flops(model: nn.Module, *inputs: torch.Tensor) -> int:
    """FLOPs of one forward pass on ``inputs`` (a guided layer's work on its guide included):
    convolutions and matrix products by torch's own counter (2 per multiply-add), interpolation
    by the taps above. Reshuffles (PixelShuffle, padding) and elementwise ops count as zero."""
    # The counter looks formulas up by overload packet (aten.op, not aten.op.vec).
    mapping = {packet: _interpolation_formula(taps) for packet, taps in _TAPS.items()}
    counter = FlopCounterMode(display=False, custom_mapping=mapping)
    with counter, torch.no_grad():
        model(*inputs)
    return int(counter.get_total_flops())


def count_bytes(
    model: nn.Module,
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    guide_shape: tuple[int, ...] | None = None,
):
    """The fewest bytes a pass must move through memory: read the input (and a guided layer's
    guide) and the weights once, write the output once. Intermediate tensors are left out: a
    fused kernel need not spill them."""
    weights = sum(p.numel() for p in model.parameters())
    elements = {"input": _numel(input_shape), "output": _numel(output_shape), "weights": weights}
    if guide_shape is not None:
        elements["guide"] = _numel(guide_shape)
    return {name: BYTES_PER_ELEMENT * n for name, n in elements.items()}


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total
