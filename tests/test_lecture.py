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
    """The slide's worked point (x, y) = (0.6, 0.7) on the unit square of Q (rows are y, columns
    x), sampled by the suite's bilinear upsampler itself. With align_corners, output pixel i of
    an n-pixel side scaled by s sits at i·(n - 1)/(n·s - 1); n = s = 9 makes that i/10, so output
    pixel (7, 6) is exactly (y, x) = (0.7, 0.6) with Q in the input's top-left corner."""
    q = np.array([[10.0, 20.0], [30.0, 40.0]])
    image = np.zeros((9, 9))
    image[:2, :2] = q
    model, _ = create_upsampler("interpolate", mode="bilinear", align_corners=True, scale=9)
    out = model(torch.tensor(image, dtype=torch.float32)[None, None])[0, 0].numpy()
    # The slide: f = [1 - w_y, w_y] Q [1 - w_x, w_x]^T = 0.3·0.4·10 + 0.3·0.6·20 + 0.7·0.4·30
    # + 0.7·0.6·40 = 1.2 + 3.6 + 8.4 + 16.8 = 30.
    assert out[7, 6] == pytest.approx(30.0, abs=1e-4)
    assert out[0, 0] == 10.0 and out[0, 10] == 20.0 and out[10, 0] == 30.0 and out[10, 10] == 40.0


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
