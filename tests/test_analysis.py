"""The artifact metrics against closed-form facts computed here, not numbers copied from a run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.analysis.analyse import border, image_metrics, periods, reference_metrics
from suite.analysis.errors import MetricError
from suite.analysis.metrics import flat_ripple, spectral_deviation
from suite.analysis.probes import area_downsample, list_probes, probe, to_channels
from suite.analysis.spectrum import checkerboard_families
from suite.case import Case
from suite.casefile import load_cases
from suite.methods import Stage, create_upsampler, get_method


def single(method: str, size: int = 32, channels: int = 2, **params) -> Case:
    stage = Stage(method, get_method(method).resolve(params))
    return Case(id=method, file="test", stages=(stage,), size=(size, size), channels=channels)


def torch_infer(model):
    def infer(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(np.asarray(x, np.float32))).numpy()

    return infer


def ripple_of(values: list[float]) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(values.std() / np.sqrt((values**2).mean()))


def test_ones_3x3_stride_2_alternates_4_2_2_1():
    model, _ = create_upsampler("transposed", channels=1, kernel=3, stride=2, init="ones")
    out = model(torch.ones(1, 1, 16, 16)).detach().numpy()[0, 0, 4:-4, 4:-4]
    # Uneven overlap: a 3-tap kernel at stride 2 covers output pixels alternately 2 and 1 times
    # per axis, so the 2-D interior takes the values 2·2, 2·1, 1·2, 1·1.
    assert sorted(np.unique(out).tolist()) == [1.0, 2.0, 4.0]
    expected = ripple_of([4, 2, 2, 1])
    assert expected == pytest.approx(0.4359, abs=1e-4)
    assert flat_ripple(out[None], border=0) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("transposed", {"kernel": 3, "stride": 2, "init": "ones"}, ripple_of([4, 2, 2, 1])),
        ("transposed", {"kernel": 4, "stride": 2, "init": "ones"}, 0.0),
        ("resize_conv", {"kernel": 3, "init": "random"}, 0.0),
        ("resize_conv", {"kernel": 4, "mode": "bilinear", "init": "random"}, 0.0),
        ("pixel_shuffle", {"init": "icnr"}, 0.0),
    ],
)
def test_flat_field_ripple_in_the_suite(method, params, expected):
    case = single(method, **params)
    metrics, _ = image_metrics(case, torch_infer(case.build()))
    assert metrics["flat_ripple"] == pytest.approx(expected, abs=1e-5)


def _pink(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :])
    f[0, 0] = np.inf
    return np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) / f))


@pytest.mark.parametrize("pattern_period", [2, 4])
def test_injected_pattern_lands_in_its_family_and_grows_with_amplitude(pattern_period):
    size = 128
    y, x = np.mgrid[:size, :size]
    # A period-4 pattern with odd harmonics only (cos(2πx/4)) has no period-2 component.
    pattern = (
        np.cos(2 * np.pi * (x + y) / pattern_period) if pattern_period == 4 else (-1.0) ** (x + y)
    )
    base = _pink(size, 0)
    base /= base.std()
    scores = [
        checkerboard_families((base + a * pattern)[None], [2, 4]) for a in (0.0, 0.05, 0.2, 1.0)
    ]
    own = [s[pattern_period] for s in scores]
    other = [s[6 - pattern_period] for s in scores]
    assert own == sorted(own) and own[-1] > own[0] + 20
    assert max(other) < 6 and own[-1] > 20


def test_bicubic_interpolation_of_photographs_scores_near_the_floor():
    case = single("interpolate", size=48, channels=1, mode="bicubic", scale=2)
    metrics, _ = image_metrics(case, torch_infer(case.build()))
    assert metrics["checkerboard_db"] < 3.0
    transposed = single("transposed", size=48, channels=1, kernel=3, stride=2)
    worse, _ = image_metrics(transposed, torch_infer(transposed.build()))
    assert worse["checkerboard_db"] > metrics["checkerboard_db"] + 15


@pytest.mark.slow
def test_lecture_decoders_show_frequency_2_and_4():
    cases = {c.id: c for c in load_cases(["cases/seed.toml"])}
    families = {}
    for name in ("deconv-last-two", "deconv-last", "resize-conv"):
        case = cases[f"lecture-decoder-{name}"]
        families[name], _ = image_metrics(case, torch_infer(case.build()))
    two, last, none = (families[n]["checkerboard_families"] for n in families)
    assert periods(cases["lecture-decoder-deconv-last-two"]) == [2, 4, 8]
    assert two["2"] > 15 and two["4"] > 15 and two["8"] < 5
    assert last["2"] > 15 and last["4"] < 5 and last["8"] < 5
    assert max(none.values()) < 5


def test_spectral_deviation_of_the_original_itself_is_zero():
    image = to_channels(probe("astronaut", 64, 64), 1, 0)
    assert spectral_deviation(image, image)["deviation_db"] == pytest.approx(0.0, abs=1e-9)


def test_bad_probe_is_recorded_not_raised():
    case = single("interpolate")
    metrics, _ = image_metrics(case, torch_infer(case.build()), probes=("nope",))
    note = metrics["notes"]["checkerboard_families"]
    assert note.startswith("failed: unknown probe 'nope'; known: constant, zone_plate")
    assert metrics["checkerboard_db"] is None and metrics["flat_ripple"] == pytest.approx(0.0)


def test_size_not_divisible_by_the_period():
    with pytest.raises(MetricError, match="height 30 is not a multiple of the period 4"):
        checkerboard_families(np.zeros((1, 30, 32)), [4])


def test_constant_output_has_no_power():
    with pytest.raises(MetricError, match="constant"):
        checkerboard_families(np.ones((1, 32, 32)), [2])
    with pytest.raises(MetricError, match="zero on a constant input"):
        flat_ripple(np.zeros((1, 32, 32)), border=2)


def test_nan_output_is_recorded_for_every_metric():
    case = single("interpolate")

    def poisoned(x: np.ndarray) -> np.ndarray:
        return np.full((1, 2, 64, 64), np.nan, dtype=np.float32)

    metrics, _ = image_metrics(case, poisoned)
    for name in ("flat_ripple", "checkerboard_families", "spectral_deviation_db"):
        assert metrics[name] is None
        assert "NaN" in metrics["notes"][name]


def test_probes_are_deterministic_rgb_in_unit_range():
    for name in list_probes():
        image = probe(name, 24, 40)
        assert image.shape == (3, 24, 40)
        assert image.min() >= 0.0 and image.max() <= 1.0
        np.testing.assert_array_equal(image, probe(name, 24, 40))
    mixed = to_channels(probe("astronaut", 8, 8), 5, seed=3)
    assert mixed.shape == (5, 8, 8) and mixed.min() >= 0.0 and mixed.max() <= 1.0
    np.testing.assert_allclose(area_downsample(np.ones((1, 4, 4)), 2), np.ones((1, 2, 2)))


def test_border_grows_with_each_stage():
    (dec,) = [c for c in load_cases(["cases/seed.toml"]) if c.id == "lecture-decoder-deconv-last"]
    assert border(dec) == (((0 + 3 + 2) * 2 + 3 + 2) * 2 + 3 + 2) * 2


def test_hypercolumns_beat_predicting_the_mean():
    case = single("interpolate", size=32, channels=1, mode="bilinear")
    model = case.build()
    metrics, _, pictures = reference_metrics(case, model, torch_infer(model))
    assert metrics["hypercolumn_psnr_db"] > 20
    assert 0.0 < metrics["hypercolumn_ssim"] <= 1.0
    assert 0.0 <= metrics["hypercolumn_checkerboard_energy"] < 0.05
    assert metrics["probes"]["hypercolumn"]["levels"] == [1, 2]
    # The illustration: each level at its own size and back at the output size (64 = 32 x 2).
    assert pictures["level1"].shape == (32, 32) and pictures["level2"].shape == (16, 16)
    assert pictures["level1_upsampled"].shape == pictures["level2_upsampled"].shape == (64, 64)
    residual = pictures["prediction"] - pictures["target"]
    assert 10 * np.log10(1.0 / np.mean(residual**2)) > 20  # the first held-out probe, as above


def test_trained_init_is_seeded_and_lowers_the_loss():
    torch.set_num_threads(1)
    case = single("transposed", size=16, channels=1, kernel=4, stride=2, init="trained")
    first, second = case.build(), case.build()
    record = first.training_record
    assert record["steps"] > 0 and record["loss_final"] < record["loss_initial"]
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)
