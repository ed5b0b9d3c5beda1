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


#: Elementwise arithmetic, 1 FLOP per output element: the local weighted sums of CARAFE, FADE,
#: SAPA and FeatUp's JBU are multiplies and adds of shifted slices (``guided/local.py``), the work
#: their authors' CUDA kernels do and count; torch's counter sees none of it.
_ELEMENTWISE = (aten.mul, aten.add, aten.sub, aten.div)


def _floating(tensor: Any) -> bool:
    """Arithmetic on feature maps (float, 3 dimensions or more), not on the coordinate vectors an
    op computes for itself (nearest interpolation's source rows and columns, for one)."""
    return isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and tensor.dim() >= 3


def _elementwise_flops(*args: Any, out_val: Any = None, **kwargs: Any) -> int:
    return out_val.numel() if _floating(out_val) else 0


def _sum_flops(source: Any, *args: Any, out_val: Any = None, **kwargs: Any) -> int:
    """A reduction adds every element it reads into the one it writes: in - out additions."""
    return source.numel() - out_val.numel() if _floating(out_val) else 0


# the counter hands these the tensors themselves, not their shapes
_elementwise_flops._get_raw = True  # type: ignore[attr-defined]
_sum_flops._get_raw = True  # type: ignore[attr-defined]


def count_flops(model: nn.Module, *inputs: torch.Tensor) -> int:
    """FLOPs of one forward pass on ``inputs`` (a guided layer's work on its guide included):
    convolutions and matrix products by torch's own counter (2 per multiply-add), interpolation
    by the taps above, elementwise arithmetic and sums 1 per element. Reshuffles (PixelShuffle,
    padding, slices), activations and softmax count as zero."""
    # The counter looks formulas up by overload packet (aten.op, not aten.op.vec).
    mapping = {packet: _interpolation_formula(taps) for packet, taps in _TAPS.items()}
    mapping.update({packet: _elementwise_flops for packet in _ELEMENTWISE})
    mapping[aten.sum] = _sum_flops
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
