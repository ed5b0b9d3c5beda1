"""The conv arithmetic, checked against torch's own layers (an independent implementation)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from suite.errors import ParamError
from suite.geometry import conv_out, exact_scale_padding, same_padding, transposed_out


@pytest.mark.parametrize(
    ("length", "kernel", "stride", "padding", "output_padding"),
    [
        (224, 3, 2, 1, 0),  # the lecture: 447
        (3, 3, 1, 0, 0),  # the lecture: 5
        (7, 4, 2, 1, 1),
        (5, 5, 3, 2, 2),
        (1, 2, 2, 0, 0),
    ],
)
def test_transposed_out_matches_torch(length, kernel, stride, padding, output_padding):
    layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding)
    expected = layer(torch.zeros(1, 1, length, length)).shape[-1]
    assert transposed_out(length, kernel, stride, padding, output_padding) == expected


def test_lecture_sizes():
    assert transposed_out(224, 3, 2, 1, 0) == 447
    assert transposed_out(3, 3, 1, 0, 0) == 5


EXACT = [(k, s) for k, s in itertools.product(range(1, 9), range(1, 5)) if s > 1 or k % 2]


@pytest.mark.parametrize(("kernel", "stride"), EXACT)
def test_exact_scale_padding_gives_exactly_scale_times_input(kernel, stride):
    padding, output_padding = exact_scale_padding(kernel, stride)
    assert padding >= 0
    assert 0 <= output_padding < stride
    layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding)
    for length in (1, 5, 16):
        assert layer(torch.zeros(1, 1, length, length)).shape[-1] == stride * length


@pytest.mark.parametrize("kernel", range(1, 8))
def test_same_padding_keeps_size(kernel):
    before, after = same_padding(kernel)
    assert conv_out(10, kernel, (before, after)) == 10


def test_output_padding_must_be_below_stride():
    with pytest.raises(ParamError) as err:
        transposed_out(8, 3, 2, 1, 2)
    assert err.value.key == "output_padding"


def test_impossible_transposed_geometry_quotes_the_formula():
    with pytest.raises(ParamError) as err:
        transposed_out(3, 3, 1, 5, 0)
    assert err.value.key == "padding"
    assert "(3 - 1)·1 - 2·5 + 3 + 0 = -5" in err.value.message


def test_kernel_larger_than_padded_input():
    with pytest.raises(ParamError) as err:
        conv_out(2, 5, (0, 0))
    assert err.value.key == "kernel"


@pytest.mark.parametrize("kernel", [2, 4, 6])
def test_even_kernel_at_stride_1_has_no_exact_padding(kernel):
    with pytest.raises(ParamError) as err:
        exact_scale_padding(kernel, 1)
    assert err.value.key == "padding"
