"""Weight initialisations, checked against what they are meant to be equivalent to."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from suite.init import bilinear_kernel
from suite.methods import create_upsampler


def test_fcn_bilinear_kernel_of_size_4():
    taps = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_allclose(bilinear_kernel(4).numpy(), np.outer(taps, taps))


def test_transposed_with_bilinear_init_is_bilinear_upsampling_inside():
    """FCN's claim: a 4x4 stride-2 transposed conv with the bilinear kernel upsamples like
    bilinear interpolation with half-pixel centres (away from the zero-padded border)."""
    model, _ = create_upsampler("transposed", channels=3, kernel=4, stride=2, init="bilinear")
    x = torch.randn(1, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    out = model(x).detach()
    expected = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    torch.testing.assert_close(out[..., 2:-2, 2:-2], expected[..., 2:-2, 2:-2], atol=1e-6, rtol=0)


def test_icnr_pixel_shuffle_is_nearest_upsampling_of_one_convolution():
    scale = 3
    model, _ = create_upsampler("pixel_shuffle", channels=2, scale=scale, init="icnr", seed=4)
    conv = model[0]
    base = conv.weight[:: scale * scale]  # one kernel per output channel, shared by its sub-pixels
    x = torch.randn(1, 2, 6, 6, generator=torch.Generator().manual_seed(2))
    expected = F.interpolate(F.conv2d(x, base, padding=1), scale_factor=scale, mode="nearest")
    torch.testing.assert_close(model(x), expected, atol=1e-6, rtol=0)


def test_random_init_is_torch_default_distribution_and_seeded():
    model, _ = create_upsampler("resize_conv", channels=8, kernel=3, seed=3)
    weight = model[1].weight
    bound = 1 / math.sqrt(8 * 3 * 3)
    assert weight.abs().max() <= bound
    assert weight.abs().max() > 0.9 * bound  # uniform over the whole range, not a narrower one
    again, _ = create_upsampler("resize_conv", channels=8, kernel=3, seed=3)
    assert torch.equal(weight, again[1].weight)


def test_ones_init_sets_every_weight():
    model, _ = create_upsampler("bilinear_mix", channels=2, hidden=4, init="ones")
    assert all(bool((p == 1).all()) for p in model.parameters())
