"""The power spectrum against a direct computation: ``power_spectrum`` takes the half plane of a
real image's FFT (rfft2) and mirrors it, which must give what the whole complex FFT gives."""

from __future__ import annotations

import numpy as np
import pytest

from suite.analysis.spectrum import periodic_component, power_spectrum


def whole_fft_periodic(image: np.ndarray) -> np.ndarray:
    """Moisan's periodic component with the complex FFT over the whole plane (numpy's)."""
    h, w = image.shape[-2:]
    boundary = np.zeros_like(image)
    vertical, horizontal = image[..., -1, :] - image[..., 0, :], image[..., -1] - image[..., 0]
    boundary[..., 0, :] += vertical
    boundary[..., -1, :] -= vertical
    boundary[..., :, 0] += horizontal
    boundary[..., :, -1] -= horizontal
    q, r = np.arange(h)[:, None], np.arange(w)[None, :]
    denominator = 2 * np.cos(2 * np.pi * q / h) + 2 * np.cos(2 * np.pi * r / w) - 4
    denominator[0, 0] = 1.0
    smooth_hat = np.fft.fft2(boundary) / denominator
    smooth_hat[..., 0, 0] = 0.0
    return image - np.fft.ifft2(smooth_hat).real


# even and odd sides, one channel or several, a stack of probes
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 7, 9), (2, 16, 5), (4, 2, 12, 10), (1, 2, 3)])
def test_the_half_plane_spectrum_is_the_whole_planes(shape):
    image = np.random.default_rng(sum(shape)).random(shape)
    centred = image - image.mean(axis=(-2, -1), keepdims=True)
    expected = (np.abs(np.fft.fft2(whole_fft_periodic(centred))) ** 2).reshape(-1, *shape[-2:])
    found = power_spectrum(image)
    assert found.shape == shape[-2:]
    np.testing.assert_allclose(found, expected.sum(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(periodic_component(image), whole_fft_periodic(image), atol=1e-12)


def test_a_ramp_leaves_no_cross_of_power_on_the_axes():
    # a ramp's wrap-around jump is all border discontinuity: the periodic component removes it,
    # where the raw FFT would put nearly all of the power on the two axes
    ramp = np.add.outer(np.arange(32.0), np.arange(32.0))[None]
    centred = ramp - ramp.mean()
    raw = np.abs(np.fft.fft2(centred[0])) ** 2
    assert power_spectrum(ramp).sum() < 1e-3 * raw.sum()
