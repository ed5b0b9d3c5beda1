"""The lecture's examples, with expected numbers computed here from first principles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.casefile import load_cases
from suite.methods import create_upsampler

SEED_CASES = {case.id: case for case in load_cases(["cases/seed.toml"])}


def test_transposed_224_gives_447():
    case = SEED_CASES["lecture-transposed-447"]
    assert case.output_shape == (1, 1, 447, 447)
    assert case.build()(case.make_input()).shape == (1, 1, 447, 447)


def test_upconvolution_3x3_stride_1_gives_5x5_with_overlap_counts():
    case = SEED_CASES["lecture-upconv-5x5[init=ones]"]
    out = case.build()(torch.ones(case.input_shape)).detach().numpy()[0, 0]
    # Each output pixel sums the 3x3 kernel taps that reach it: along one axis 1, 2, 3, 2, 1.
    counts = np.array([1, 2, 3, 2, 1])
    np.testing.assert_array_equal(out, np.outer(counts, counts))


def bilinear_align_corners(image: np.ndarray, out_size: int) -> np.ndarray:
    """The lecture's formula f(x, y) = [1 - w_x, w_x] Q [1 - w_y, w_y]^T, with align_corners
    mapping output pixel i to source coordinate i·(n - 1)/(out - 1)."""
    n = image.shape[0]
    coords = np.arange(out_size) * (n - 1) / (out_size - 1)
    out = np.empty((out_size, out_size))
    for i, y in enumerate(coords):
        for j, x in enumerate(coords):
            y0, x0 = min(int(y), n - 2), min(int(x), n - 2)
            wy, wx = y - y0, x - x0
            q = image[y0 : y0 + 2, x0 : x0 + 2]
            out[i, j] = np.array([1 - wy, wy]) @ q @ np.array([1 - wx, wx])
    return out


def test_bilinear_2x2_to_4x4_gives_the_lecture_values():
    case = SEED_CASES["lecture-bilinear-2x2"]
    q = np.array([[10.0, 20.0], [30.0, 40.0]])
    out = case.build()(torch.tensor(q, dtype=torch.float32)[None, None]).numpy()[0, 0]
    expected = bilinear_align_corners(q, 4)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-5)
    # The corners keep their values and the first row runs 10, 13.33, 16.67, 20.
    np.testing.assert_allclose(out[0], [10, 40 / 3, 50 / 3, 20], atol=1e-5)
    assert out[3, 3] == 40.0


def test_lecture_target_point():
    """The slide's worked point (x, y) = (0.6, 0.7) on the unit square of Q (image convention:
    rows are y, columns x), by the slide's formula and by the suite's bilinear upsampler."""
    q = np.array([[10.0, 20.0], [30.0, 40.0]])
    wx, wy = 0.6, 0.7
    by_formula = np.array([1 - wy, wy]) @ q @ np.array([1 - wx, wx])
    assert by_formula == pytest.approx(10 + 10 * wx + 20 * wy)  # = 30 for this Q
    model, _ = create_upsampler("interpolate", mode="bilinear", align_corners=True, scale=10)
    # A 2x2 input scaled to 20x20 with align_corners: output pixel i sits at i/19, so use
    # scale 10 on 2 pixels = 20 outputs and compare at the exact coordinates instead.
    out = model(torch.tensor(q, dtype=torch.float32)[None, None])[0, 0].numpy()
    coords = np.arange(20) / 19
    for i, j in [(13, 11), (7, 5)]:
        expected = np.array([1 - coords[i], coords[i]]) @ q @ np.array([1 - coords[j], coords[j]])
        assert out[i, j] == pytest.approx(expected, abs=1e-5)


def test_bilinear_mix_1_to_64_to_1_on_224_gives_448():
    case = SEED_CASES["lecture-bilinear-mix-448"]
    model = case.build()
    assert case.output_shape == (1, 1, 448, 448)
    assert model(case.make_input()).shape == (1, 1, 448, 448)
    # Conv2d(1, 64, 3x3) and Conv2d(64, 1, 1x1), no biases, as on the slide.
    assert sum(p.numel() for p in model.parameters()) == 64 * 9 + 64


def test_checkerboard_decoders_reach_448():
    for name in ("deconv-last-two", "deconv-last", "resize-conv"):
        case = SEED_CASES[f"lecture-decoder-{name}"]
        assert case.output_shape == (1, 8, 448, 448)
        assert len(case.stages) == 3
