"""The artifact metrics against closed-form facts computed here, not numbers copied from a run."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scipy.ndimage
import torch
from stage_cases import one_stage_case

from suite.analysis.analyse import border, image_metrics, periods, reference_metrics
from suite.analysis.errors import MetricError
from suite.analysis.metrics import flat_ripple, spectral_bands
from suite.analysis.periodic import pattern_percent, phase_tiles
from suite.case import Case
from suite.casefile import load_cases
from suite.methods import create_upsampler, get_method, list_methods
from suite.photos import area_downsample, list_probes, probe, to_channels

single = partial(one_stage_case, size=32, channels=2)


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


def test_flat_ripple_is_energy_weighted_over_channels_not_the_worst():
    flat = np.ones((4, 4))
    rippled = np.array([[4.0, 2.0] * 2, [2.0, 1.0] * 2] * 2)
    output = np.stack([flat, flat, flat, rippled])
    # sqrt(Σ var / Σ mean square) over the four channels
    expected = np.sqrt(rippled.var() / (3 * 1.0 + (rippled**2).mean()))
    assert flat_ripple(output, border=0) == pytest.approx(expected, abs=1e-12)
    assert expected < ripple_of([4, 2, 2, 1])  # the old figure took the worst channel


def _pink(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = np.hypot(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :])
    f[0, 0] = np.inf
    return np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) / f))


@pytest.mark.parametrize("pattern_period", [2, 4])
def test_injected_pattern_lands_in_its_family_with_its_size(pattern_period):
    size = 128
    y, x = np.mgrid[:size, :size]
    # A period-4 pattern with odd harmonics only (cos(2π(x + y)/4)) has no period-2 component.
    pattern = np.cos(2 * np.pi * (x + y) / pattern_period)
    pattern /= np.sqrt((pattern**2).mean())
    # three "photographs": pink noise (1/f, like natural images) around a mean of 1
    bases = np.stack([1.0 + _pink(size, seed) / _pink(size, seed).std() * 0.2 for seed in range(3)])
    for percent in (0.5, 2.0, 8.0):
        level = percent / 100 * np.sqrt((bases**2).mean())
        outputs = (bases + level * pattern)[:, None]
        found = pattern_percent(phase_tiles(outputs, [2, 4], border=0))
        # the pattern's RMS over the output's RMS (the pattern is orthogonal to the rest)
        expected = 100 * level / np.sqrt((outputs**2).mean())
        assert found[pattern_period] == pytest.approx(expected, rel=0.1, abs=0.1)
        assert found[6 - pattern_period] < 0.2 * expected


def test_bicubic_interpolation_of_photographs_reads_no_pattern():
    case = single("interpolate", size=48, channels=1, mode="bicubic", scale=2)
    metrics, _ = image_metrics(case, torch_infer(case.build()), intervals=True)
    assert metrics["checkerboard_pct"] < 0.2
    assert metrics["checkerboard_pct_ci"][1] < 1.0
    transposed = single("transposed", size=48, channels=1, kernel=3, stride=2)
    worse, _ = image_metrics(transposed, torch_infer(transposed.build()), intervals=True)
    assert worse["checkerboard_pct"] > 20 and worse["checkerboard_pct_ci"][0] > 10


@pytest.mark.slow
def test_lecture_decoders_show_frequency_2_and_4():
    cases = {c.id: c for c in load_cases(["cases/seed.toml"])}
    families = {}
    for name in ("deconv-last-two", "deconv-last", "resize-conv"):
        case = cases[f"lecture-decoder-{name}"]
        families[name], _ = image_metrics(case, torch_infer(case.build()))
    two, last, none = (families[n]["checkerboard_families"] for n in families)
    assert periods(cases["lecture-decoder-deconv-last-two"]) == [2, 4, 8]
    assert two["2"] > 10 and two["4"] > 10 and two["8"] < 3
    assert last["2"] > 10 and last["4"] < 3 and last["8"] < 3
    assert max(none.values()) < 3


def test_spectral_bands_of_the_original_itself_are_zero_and_ignore_gain():
    image = to_channels(probe("astronaut", 64, 64), 1, 0)
    same = spectral_bands(image, image, scale=2)
    assert same["fidelity_db"] == pytest.approx(0.0, abs=1e-9)
    assert same["leakage_db"] == pytest.approx(0.0, abs=1e-9)
    blurred = scipy.ndimage.gaussian_filter(image, (0, 1.5, 1.5))
    for gain in (0.1, 10.0):
        scaled = spectral_bands(gain * blurred, image, scale=2)
        plain = spectral_bands(blurred, image, scale=2)
        assert scaled["fidelity_db"] == pytest.approx(plain["fidelity_db"], abs=1e-9)
        assert scaled["leakage_db"] == pytest.approx(plain["leakage_db"], abs=1e-9)
    # A blur loses detail: both bands below the original, the higher one more.
    assert plain["leakage_db"] < plain["fidelity_db"] < -1


def test_spectral_signs_separate_imaging_from_lost_detail():
    nearest = single("interpolate", size=48, channels=1, mode="nearest")
    bilinear = single("interpolate", size=48, channels=1, mode="bilinear")
    near, _ = image_metrics(nearest, torch_infer(nearest.build()))
    smooth, _ = image_metrics(bilinear, torch_infer(bilinear.build()))
    # nearest's images put more energy above the input's Nyquist than bilinear's
    assert near["spectral_leakage_db"] > smooth["spectral_leakage_db"] + 5
    assert smooth["spectral_leakage_db"] < 0


def test_bad_probe_is_recorded_not_raised():
    case = single("interpolate")
    metrics, _ = image_metrics(case, torch_infer(case.build()), probes=("nope",))
    note = metrics["notes"]["checkerboard_families"]
    assert note.startswith("failed: unknown probe 'nope'; known: astronaut, coffee")
    assert metrics["checkerboard_pct"] is None and metrics["flat_ripple"] == pytest.approx(0.0)


def test_an_output_too_small_for_its_period_is_a_null_with_the_reason():
    with pytest.raises(MetricError, match="fewer than two blocks of whole periods of 4"):
        phase_tiles(np.zeros((1, 1, 12, 12)), [4], border=3)
    case = single("interpolate", size=4, channels=1)
    metrics, _ = image_metrics(case, torch_infer(case.build()))
    assert metrics["checkerboard_pct"] is None
    assert "fewer than two blocks" in metrics["notes"]["checkerboard_families"]


def test_an_interior_smaller_than_ssims_window_skips_the_fit_and_keeps_the_other_figures():
    # transposed k4s2 at 16² in: a 32² output whose interior, once the border is cut, is wider
    # than the old 8 px floor but narrower than SSIM's 11 px window (this crashed the analysis)
    case = single("transposed", size=16, channels=4, kernel=4, stride=2)
    model = case.build()
    metrics, _, _ = reference_metrics(case, model, torch_infer(model))
    assert "SSIM's window" in metrics["notes"]["hypercolumn"]
    assert metrics["hypercolumn_psnr_db"] is None
    assert "analysis" not in metrics["notes"]
    assert metrics["flat_ripple"] is not None


def test_constant_output_is_recorded():
    with pytest.raises(MetricError, match="no detail"):
        phase_tiles(np.ones((2, 1, 32, 32)), [2], border=0)
    with pytest.raises(MetricError, match="zero on a constant input"):
        flat_ripple(np.zeros((1, 32, 32)), border=2)


def test_nan_output_is_recorded_for_every_metric():
    case = single("interpolate")

    def poisoned(x: np.ndarray) -> np.ndarray:
        return np.full((1, 2, 64, 64), np.nan, dtype=np.float32)

    metrics, _ = image_metrics(case, poisoned)
    for name in ("flat_ripple", "checkerboard_families", "spectral"):
        assert "NaN" in metrics["notes"][name]
    for name in ("flat_ripple", "checkerboard_pct", "phase_energy_pct", "spectral_fidelity_db"):
        assert metrics[name] is None


def test_probes_are_deterministic_rgb_in_unit_range():
    for name in list_probes():
        image = probe(name, 24, 40)
        assert image.shape == (3, 24, 40)
        assert image.min() >= 0.0 and image.max() <= 1.0
        np.testing.assert_array_equal(image, probe(name, 24, 40))
    mixed = to_channels(probe("astronaut", 8, 8), 5, seed=3)
    assert mixed.shape == (5, 8, 8) and mixed.min() >= 0.0 and mixed.max() <= 1.0
    np.testing.assert_allclose(area_downsample(np.ones((1, 4, 4)), 2), np.ones((1, 2, 2)))


def edge_reach(case: Case, pad: int = 12) -> int:
    """Measured, not derived: output pixels (from the edge) that differ between the case's
    output and the same region of its output for a larger input holding that one in its centre,
    i.e. the pixels that the input's edge (zero padding, clamped sampling) reaches."""
    model = case.build()
    h, w = case.size
    generator = torch.Generator().manual_seed(1)
    large = torch.randn(1, case.channels, h + 2 * pad, w + 2 * pad, generator=generator)
    small = large[..., pad : pad + h, pad : pad + w]
    offset = pad * case.scale
    large_guide, small_guide = (), ()
    if case.guide is not None:  # a guide of the larger scene, and its crop for the smaller
        sides = [case.scale * (side + 2 * pad) for side in (h, w)]
        large_guide = (torch.rand(1, case.guide.channels, *sides, generator=generator),)
        crop = np.s_[..., offset : offset + case.scale * h, offset : offset + case.scale * w]
        small_guide = (large_guide[0][crop],)
    with torch.no_grad():
        out_small = model(small, *small_guide).numpy()[0]
        out_large = model(large, *large_guide).numpy()[0]
    oh, ow = out_small.shape[-2:]
    region = out_large[:, offset : offset + oh, offset : offset + ow]
    # above float32 rounding of a resampling grid normalised by the input's size (~1e-5 of the
    # range, seen in DySample's grid_sample), far below what an edge does (~1e-1)
    rows, cols = np.nonzero(np.abs(out_small - region).max(axis=0) > 1e-4 * np.abs(region).max())
    if not len(rows):
        return 0
    return int(np.minimum.reduce([rows, cols, oh - 1 - rows, ow - 1 - cols]).max()) + 1


def _equivariant(name: str) -> dict:
    """The method's example, with align_corners off where it defaults on: align_corners ties the
    sampling grid to the input's size, so a larger input moves every pixel, not the edge's."""
    spec = get_method(name)
    on = "align_corners" in spec.keys() and spec.param("align_corners").default is True
    return {**spec.example, **({"align_corners": False} if on else {})}


EQUIVARIANT = [(name, _equivariant(name)) for name in list_methods()]
#: Wide windows, where the edge reaches past any fixed margin.
WIDE = {"kernel": 7}
EQUIVARIANT += [
    (name, {**_equivariant(name), **WIDE})
    for name in list_methods()
    if "kernel" in get_method(name).keys()
] + [("carafe", {"up_kernel": 9})]


@pytest.mark.parametrize(
    ("method", "params"), EQUIVARIANT, ids=[f"{m}-{p}" for m, p in EQUIVARIANT]
)
def test_border_covers_every_output_pixel_the_input_edge_reaches(method, params):
    params = {**params, **({"mode": "bilinear"} if method == "interpolate" else {})}
    case = single(method, size=20, channels=max(3, get_method(method).example_channels), **params)
    reached = edge_reach(case)
    if get_method(method).whole_image:  # what it declares: the edge reaches the whole output
        assert 2 * reached >= min(case.output_shape[-2:]), (method, reached)
        return
    assert border(case) >= reached, (border(case), reached)
    # and not wildly more: the cut costs the figures their pixels
    assert border(case) <= 3 * reached + 8 * case.scale, (border(case), reached)


def test_border_covers_a_decoder_of_several_stages():
    (dec,) = [c for c in load_cases(["cases/seed.toml"]) if c.id == "lecture-decoder-deconv-last"]
    small = Case(dec.id, dec.file, dec.stages, size=(12, 12), channels=dec.channels)
    reached = edge_reach(small)
    assert reached > 0 and border(small) >= reached, (border(small), reached)


def test_photo_sets_are_disjoint_and_training_uses_the_fit_set():
    from suite import training
    from suite.analysis.analyse import SPECTRAL_PROBES
    from suite.analysis.hypercolumn import TEST_PROBES, TRAIN_PROBES

    fit, artifact, held_out = set(TRAIN_PROBES), set(SPECTRAL_PROBES), set(TEST_PROBES)
    assert not (fit & artifact) and not (fit & held_out) and not (artifact & held_out)
    assert set(training.PROBES) == fit and len(held_out) >= 5


def test_hypercolumn_figures_ignore_the_upsamplers_gain():
    case = single("interpolate", size=32, channels=1, mode="bilinear")
    model = case.build()
    plain, _, _ = reference_metrics(case, model, torch_infer(model))
    for gain in (0.1, 100.0):
        scaled = torch.nn.Sequential(model, Gain(gain))
        figures, _, _ = reference_metrics(case, scaled, torch_infer(scaled))
        assert figures["hypercolumn_psnr_db"] == pytest.approx(
            plain["hypercolumn_psnr_db"], abs=0.1
        )
        assert figures["hypercolumn_ssim"] == pytest.approx(plain["hypercolumn_ssim"], abs=1e-3)
    low, high = plain["hypercolumn_psnr_db_ci"]
    assert low <= plain["hypercolumn_psnr_db"] <= high


class Gain(torch.nn.Module):
    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, x):
        return self.gain * x


def test_hypercolumns_beat_predicting_the_mean():
    case = single("interpolate", size=32, channels=1, mode="bilinear")
    model = case.build()
    metrics, _, pictures = reference_metrics(case, model, torch_infer(model))
    assert metrics["hypercolumn_psnr_db"] > 18
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


def test_a_sample_past_float16s_range_saturates_instead_of_turning_to_inf():
    """Samples are kept as float16; an untrained deep decoder's output can reach 1e5 (the
    reference bench warned "overflow encountered in cast" and kept inf)."""
    import warnings

    from suite.analysis.samples import _keep

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = _keep(np.array([[-1e6, 1.5, 7e4]], dtype=np.float32))
    assert kept.dtype == np.float16
    assert kept.tolist() == [[-65504.0, 1.5, 65504.0]]
