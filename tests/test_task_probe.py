"""The task probe (issue 35, item 3): scenes with exact masks, the closed-form probe and its
scores against hand-worked answers, its calibration rows (probe_battery.toml), its refusals and
its guides."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch.nn.functional import interpolate

from suite.analysis.errors import MetricError
from suite.analysis.probe_battery import probe_battery, row_tables
from suite.analysis.probe_scores import boundary_counts, boundary_f, confusion, fit_probe, miou
from suite.analysis.probe_scores import predict as predict_labels
from suite.analysis.scenes import CLASS_COLOURS, CLASSES, scene
from suite.analysis.task_probe import ProbeSettings, task_probe

#: Few scenes where a test checks plumbing, not figures.
SMALL = ProbeSettings(train_scenes=2, held_out_scenes=2)


def bilinear(features: torch.Tensor) -> torch.Tensor:
    return interpolate(features, scale_factor=2, mode="bilinear", align_corners=False)


def chroma(image: np.ndarray) -> np.ndarray:
    return image.max(axis=0) - image.min(axis=0)


def test_a_scene_is_the_same_from_the_same_seed_and_its_masks_are_exact() -> None:
    first, again, other = scene(96, 80, 3, 0), scene(96, 80, 3, 0), scene(96, 80, 3, 1)
    assert np.array_equal(first.image, again.image) and np.array_equal(first.labels, again.labels)
    assert not np.array_equal(first.labels, other.labels)
    assert first.image.shape == (3, 96, 80) and 0 <= first.image.min() <= first.image.max() <= 1
    # background: desaturated to 30% of the photograph's chroma (<= 0.3); every class pixel is
    # its class colour times a shade >= 0.75 (chroma >= 0.41), pointing along that colour
    labels = np.concatenate([scene(64, 64, 3, i).labels.ravel() for i in range(6)])
    images = np.concatenate([scene(64, 64, 3, i).image.reshape(3, -1) for i in range(6)], axis=1)
    assert set(np.unique(labels)) == set(range(CLASSES))
    assert chroma(images[:, labels == 0]).max() <= 0.3
    for label in range(1, CLASSES):
        pixels = images[:, labels == label]
        colour = CLASS_COLOURS[label - 1] / np.linalg.norm(CLASS_COLOURS[label - 1])
        cosines = colour @ pixels / np.linalg.norm(pixels, axis=0)
        assert cosines.min() > 1 - 1e-9 and chroma(pixels).min() >= 0.41


def test_scores_of_a_one_pixel_shifted_edge_are_the_worked_answers() -> None:
    # an 8x8 map, class 1 from column 4 on; the prediction moves the edge one column right
    truth = np.zeros((8, 8), dtype=np.int64)
    truth[:, 4:] = 1
    predicted = np.zeros_like(truth)
    predicted[:, 5:] = 1
    # IoU of class 1: 24 / 32; of class 0: 32 / 40
    assert miou(confusion(truth, predicted, 2)) == pytest.approx((24 / 32 + 32 / 40) / 2, abs=1e-12)
    # the boundary is column 3 against column 4: 8 pixels each, all 1 px apart
    assert list(boundary_counts(truth, predicted, 0.0)) == [0, 8, 0, 8]
    assert boundary_f(boundary_counts(truth, predicted, 0.0)) == 0.0
    assert boundary_f(boundary_counts(truth, predicted, 1.0)) == 1.0
    assert boundary_f(boundary_counts(truth, truth, 0.0)) == 1.0


def test_the_fit_reads_separable_features_exactly_and_ignores_gain() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, CLASSES, size=(16, 16))
    onehot = np.eye(CLASSES)[labels].transpose(2, 0, 1) + 0.01 * rng.standard_normal((5, 16, 16))
    weights = fit_probe([(onehot, labels)], CLASSES)
    assert np.array_equal(predict_labels(weights, onehot), labels)
    noisy = rng.standard_normal((6, 16, 16))
    gains = np.array([0.1, 100.0, 1.0, 3.0, 1e-3, 7.0])[:, None, None]
    plain = fit_probe([(noisy, labels)], CLASSES)
    scaled = fit_probe([(noisy * gains, labels)], CLASSES)
    # a gain g on a channel divides its weights by g and leaves the constant's as they were
    np.testing.assert_allclose(scaled[:-1] * gains[:, 0], plain[:-1], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(scaled[-1], plain[-1], rtol=1e-9)


@pytest.fixture(scope="module")
def battery_rows() -> list:
    return probe_battery()


def test_every_calibration_row_passes(battery_rows: list) -> None:
    # one row per (table, metric): ceiling 2, blur 3, shift 2, nearest/bilinear 4, gain 4, seed 2
    _, tables = row_tables()
    assert len(tables) == 11 and len(battery_rows) == 17
    failed = [
        f"{r.layer} {r.metric}: {r.measured} vs {r.expected}" for r in battery_rows if not r.passed
    ]
    assert not failed, failed


def test_the_ceiling_reads_one_and_a_shift_reads_lower(battery_rows: list) -> None:
    by_name = {(r.layer, r.metric): r.measured for r in battery_rows}
    ceiling = "identity on full-size features (the ceiling)"
    assert by_name[(ceiling, "probe_miou")] == pytest.approx(1.0, abs=0.005)
    assert by_name[(ceiling, "probe_boundary_f")] == pytest.approx(1.0, abs=0.005)
    shift = "a one-pixel shift of the ceiling's features lowers boundary F"
    assert by_name[(shift, "probe_boundary_f")] >= 0.25


def test_figures_carry_intervals_that_hold_them() -> None:
    found = task_probe(bilinear, 16, 2, 32, 0, settings=ProbeSettings(4, 6))
    for value, (low, high) in (
        (found.miou, found.miou_ci),
        (found.boundary_f, found.boundary_f_ci),
    ):
        assert 0 < low <= value <= high <= 1
    assert found.held_out_scenes == 6 and found.tolerance_px == 0.0
    assert set(found.record()) == {
        "probe_miou",
        "probe_miou_ci",
        "probe_boundary_f",
        "probe_boundary_f_ci",
    }


def test_a_numpy_answer_reads_as_the_tensor_answer() -> None:
    as_tensor = task_probe(bilinear, 8, 2, 32, 0, settings=SMALL)
    as_numpy = task_probe(lambda f: bilinear(f)[0].numpy(), 8, 2, 32, 0, settings=SMALL)
    assert as_tensor == as_numpy


@pytest.mark.parametrize(
    ("upsample", "message"),
    [
        (lambda f: f, r"the upsampler gave shape \(8, 16, 16\); the probe needs \(C, 32, 32\)"),
        (lambda f: bilinear(f) * np.inf, "the upsampler gave non-finite features"),
    ],
)
def test_a_wrong_answer_is_refused_in_one_line(upsample, message: str) -> None:
    with pytest.raises(MetricError, match=message):
        task_probe(upsample, 8, 2, 16, 0, settings=SMALL)


def test_guides_are_the_scene_itself_or_the_encoders_full_size_features() -> None:
    seen: dict[str, torch.Tensor] = {}

    def guided(name: str):
        def run(features: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
            seen.setdefault(name, guide)
            return bilinear(features)

        return run

    task_probe(guided("image"), 8, 2, 16, 0, "image", settings=SMALL)
    task_probe(guided("luma"), 8, 2, 16, 0, "image", guide_channels=1, settings=SMALL)
    task_probe(guided("encoder"), 8, 2, 16, 0, "encoder", settings=SMALL)
    first = torch.from_numpy(scene(32, 32, 0, 0).image).float()[None]
    assert torch.equal(seen["image"], first)
    luma = torch.tensor([0.299, 0.587, 0.114]) @ first[0].reshape(3, -1)
    assert torch.allclose(seen["luma"].reshape(-1), luma, atol=1e-6)
    assert seen["encoder"].shape == (1, 8, 32, 32)
    with pytest.raises(MetricError, match="unknown guide 'depth'; known: image, encoder"):
        task_probe(guided("depth"), 8, 2, 16, 0, "depth", settings=SMALL)


@pytest.mark.timing
def test_one_evaluation_of_a_64_channel_x2_case_at_64_px_takes_under_3_s() -> None:
    task_probe(bilinear, 64, 2, 64, 0)  # the encoded scenes of this geometry are cached
    start = time.perf_counter()
    task_probe(bilinear, 64, 2, 64, 0)
    assert time.perf_counter() - start < 3.0
