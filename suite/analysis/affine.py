"""Affine blocks: a linear part plus a constant.

Blocks as people write them carry biases: Stable Diffusion's upsampler is nearest ×2 and a 3×3
convolution with a bias, so f(0) is the bias image, not 0, and f fails superposition
(f(a·x1 + b·x2) = L(a·x1 + b·x2) + c, but a·f(x1) + b·f(x2) adds (a + b)·c). Such an f is
L + c with c = f(0): ``linear.effective_filter`` tests superposition on ``LinearPart`` (f(x) -
f(0)) and reads the impulse responses off it, so the exact figures are L's, and the block is
recorded as affine with the size of its constant. A block with a nonlinearity (a ReLU) fails
superposition on f(x) - f(0) too, and stays "not linear".
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class LinearPart(nn.Module):
    """f(x) - f(0), with f(0) taken at the input's own shape, batch included: the same kernels
    run on both, so that the output pixels the input does not reach cancel exactly (the impulse
    responses are cut to the box where they are not 0)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self._at_zero: dict[tuple, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), x.dtype)
        if key not in self._at_zero:
            self._at_zero[key] = self.model(torch.zeros_like(x))
        return self.model(x) - self._at_zero[key]


def constant_rms(model: nn.Module, shape: tuple[int, ...]) -> float:
    """The RMS of f(0) over the output at the input ``shape``: the size of an affine block's
    constant (for a convolution's bias b on a zero-padded input, sqrt(mean(b²)))."""
    with torch.no_grad():
        constant = model(torch.zeros(shape)).to(torch.float64).numpy()
    return float(np.sqrt(np.mean(constant**2)))
