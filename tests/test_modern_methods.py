"""The upsamplers people use today, each checked against closed-form facts: parameter counts,
what a constant input becomes, and what each reduces to at its reference initialisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from suite.analysis.metrics import flat_ripple
from suite.casefile import load_cases
from suite.errors import UsageError
from suite.export import export_case
from suite.methods import create_upsampler


def parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def scramble(model: torch.nn.Module, seed: int) -> None:
    """Any weights at all: standard normal, large enough to make the kernels far from uniform."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))


# -- CARAFE --------------------------------------------------------------------------------------


def test_carafe_has_the_reference_parameter_count_at_256_channels():
    model, stage = create_upsampler("carafe", channels=256, scale=2)
    assert (stage.params["up_kernel"], stage.params["encoder_kernel"]) == (5, 3)
    assert stage.params["compressed"] == 64
    compressor = 256 * 64 + 64
    encoder = 64 * (2 * 2 * 5 * 5) * 3 * 3 + 2 * 2 * 5 * 5
    assert parameters(model) == compressor + encoder == 74_148


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("scale", [2, 3])
def test_carafe_keeps_a_constant_for_any_weights(seed, scale):
    """Each reassembly kernel is a softmax: it sums to 1, so a constant comes out unchanged
    wherever the 5x5 neighbourhood stays inside the image (zero outside, as the reference)."""
    model, _ = create_upsampler("carafe", channels=4, scale=scale, seed=seed)
    scramble(model, seed)
    out = model(torch.full((1, 4, 12, 12), 0.7)).detach().numpy()
    inside = out[..., 2 * scale : -2 * scale, 2 * scale : -2 * scale]
    np.testing.assert_allclose(inside, 0.7, atol=1e-6)


def test_carafe_at_its_reference_init_is_a_box_filter_over_nearest_upsampling():
    """With the encoder's weights at zero every kernel is uniform (1/25): the output is the 5x5
    mean (zero padded) of the input, repeated by nearest upsampling."""
    model, _ = create_upsampler("carafe", channels=3, scale=2)
    with torch.no_grad():
        model.encode.weight.zero_()
    x = torch.randn(1, 3, 9, 9, generator=torch.Generator().manual_seed(3))
    box = F.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=True)
    expected = F.interpolate(box, scale_factor=2, mode="nearest")
    torch.testing.assert_close(model(x), expected, atol=1e-6, rtol=1e-5)


def test_carafe_refuses_an_even_kernel(write_cases):
    path = write_cases('[[case]]\nid = "c"\nmethod = "carafe"\nup_kernel = 4\n')
    with pytest.raises(UsageError) as caught:
        load_cases([path])
    assert caught.value.lines == [
        f"{path}: case 'c': up_kernel: must be odd (centred on a pixel), got 4"
    ]


# -- DySample ------------------------------------------------------------------------------------


def test_dysample_lp_has_8192_weights_and_32_biases_at_256_channels():
    model, stage = create_upsampler("dysample", channels=256, scale=2)
    assert stage.params["groups"] == 4
    # 2 coordinates × 4 groups × 2² sub-pixels = 32 offsets per input pixel, from 256 channels.
    assert tuple(model.offset.weight.shape) == (32, 256, 1, 1)
    assert model.offset.weight.numel() == 8_192 and model.offset.bias.numel() == 32
    assert parameters(model) == 8_192 + 32


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dysample_keeps_a_constant_everywhere_for_any_weights(seed):
    model, _ = create_upsampler("dysample", channels=8, scale=2, seed=seed)
    scramble(model, seed)  # offsets of several pixels: far outside the image at the borders
    out = model(torch.full((1, 8, 10, 10), -1.3)).detach().numpy()
    np.testing.assert_allclose(out, -1.3, atol=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_dysample_with_zero_offsets_is_bilinear_upsampling(scale):
    """The static initial positions are the sub-pixel centres: with the offset layer at zero
    DySample samples exactly where half-pixel bilinear interpolation does (edges clamped)."""
    model, _ = create_upsampler("dysample", channels=4, scale=scale)
    with torch.no_grad():
        model.offset.weight.zero_()
    x = torch.randn(1, 4, 7, 9, generator=torch.Generator().manual_seed(1))
    expected = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.export
def test_dysample_exports_as_grid_sample(write_cases, export_cache):
    path = write_cases('[[case]]\nid = "d"\nmethod = "dysample"\nchannels = 4\nsize = 8\n')
    (case,) = load_cases([path])
    exported = export_case(case, case.build(), case.make_input(), export_cache)
    assert "GridSample" in exported.describe()["ops"]


def test_dysample_groups_must_divide_the_channels(write_cases):
    path = write_cases('[[case]]\nid = "d"\nmethod = "dysample"\nchannels = 6\n')
    with pytest.raises(UsageError) as caught:
        load_cases([path])
    assert caught.value.lines == [
        f"{path}: case 'd': groups: 4 does not divide the 6 channels coming in"
    ]


# -- zero-order hold -----------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("init", ["random", "ones"])
@pytest.mark.parametrize("scale", [2, 3])
def test_zero_order_hold_has_zero_flat_field_ripple(kernel, init, scale):
    """The s x s hold averages one whole period of the stride-s pattern: flat for any weights,
    where the same transposed convolution alone ripples."""
    plain, _ = create_upsampler("transposed", channels=2, kernel=kernel, stride=scale, init=init)
    held, _ = create_upsampler("zoh_transposed", channels=2, kernel=kernel, stride=scale, init=init)
    x = torch.ones(1, 2, 24, 24)
    border = (kernel + scale) * scale  # what zero padding can reach
    assert flat_ripple(held(x).detach().numpy()[0], border) < 1e-6
    if init == "random" or kernel % scale:  # all-ones kernels a multiple of the stride tile evenly
        assert flat_ripple(plain(x).detach().numpy()[0], border) > 0.05


def test_zero_order_hold_adds_no_parameters():
    plain, _ = create_upsampler("transposed", channels=8, kernel=3)
    held, _ = create_upsampler("zoh_transposed", channels=8, kernel=3)
    assert parameters(held) == parameters(plain) == 8 * 8 * 3 * 3


# -- bilinear additive ---------------------------------------------------------------------------


def test_bilinear_additive_is_bilinear_then_group_sums():
    model, _ = create_upsampler("bilinear_additive", channels=8, scale=2, reduction=4)
    assert parameters(model) == 0
    x = torch.randn(1, 8, 5, 6, generator=torch.Generator().manual_seed(2))
    up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    expected = torch.stack([up[:, 0:4].sum(1), up[:, 4:8].sum(1)], dim=1)
    torch.testing.assert_close(model(x), expected)
    # A constant c in every channel sums to reduction × c.
    np.testing.assert_allclose(model(torch.full((1, 8, 4, 4), 0.5)).numpy(), 2.0, atol=1e-6)


def test_bilinear_additive_narrows_the_features_for_the_next_stage(write_cases):
    path = write_cases(
        """
        [[case]]
        id = "narrowing-decoder"
        channels = 16
        size = 8
        [[case.stage]]
        method = "bilinear_additive"
        [[case.stage]]
        method = "transposed"
        kernel = 4
        """
    )
    (case,) = load_cases([path])
    assert case.stage_channels == [16, 4, 4]
    assert case.output_shape == (1, 4, 32, 32)
    assert tuple(case.build()(case.make_input()).shape) == case.output_shape


def test_bilinear_additive_reduction_must_divide_the_channels(write_cases):
    path = write_cases('[[case]]\nid = "b"\nmethod = "bilinear_additive"\nchannels = 6\n')
    with pytest.raises(UsageError) as caught:
        load_cases([path])
    assert caught.value.lines == [
        f"{path}: case 'b': reduction: 4 does not divide the 6 channels coming in"
    ]
