"""Guided layers as cases (issue 35): the guide keys and their refusals, the export of two
inputs, parity and IO binding on every CPU runtime, the analysis on each scene's own guide, the
guide's cost, and the task probe as a figure of the cases that ask for it."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from suite.analysis.analyse import reference_metrics, torch_infer
from suite.bench.errorlog import ErrorLog
from suite.bench.pipeline import Settings, prepare_case
from suite.casefile import load_text
from suite.errors import UsageError
from suite.export import export_case
from suite.parity import compare
from suite.parity_bound import bound_for
from suite.runtimes import REFERENCE, get_runtime

CPU_RUNTIMES = ("torch-cpu", "ort-cpu", REFERENCE)


def _toml(value) -> str:
    return str(value).lower() if isinstance(value, bool) else repr(value).replace("'", '"')


def case_of(text: str, **keys):
    body = "\n".join(f"{k} = {_toml(v)}" for k, v in keys.items())
    return load_text(f'[[case]]\nid = "a"\n{body}\n{text}', "g.toml")


@pytest.mark.parametrize(
    ("keys", "key", "says"),
    [
        ({"method": "interpolate", "guide": "image"}, "guide", "takes no guide"),
        ({"method": "fade", "channels": 8}, "guide", 'give guide = "encoder"'),
        (
            {"method": "fade", "guide": "encoder", "channels": 8, "guide_channels": 4},
            "guide_channels",
            "must be equal, got 8 and 4",
        ),
        ({"method": "sapa", "guide": "encoder", "channels": 48}, "guide_channels", "of 32"),
        ({"method": "jbu", "guide": "image", "scale": 3}, "scale", "by 2, 4, 8, 16, not 3"),
        ({"method": "fade", "guide": "mask"}, "guide", "must be one of image, encoder"),
        ({"method": "fade", "guide": "encoder", "precision": "int8"}, "precision", "fp32"),
        ({"method": "jbu", "guide": "image", "probe": 1}, "probe", "true or false"),
    ],
)
def test_a_guide_that_does_not_suit_is_refused_in_one_line_naming_file_and_key(keys, key, says):
    with pytest.raises(UsageError) as refused:
        case_of("", **keys)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"g.toml: case 'a': {key}: "), message
    assert says.replace('"', "'") in message.replace('"', "'"), message


def test_a_guided_layer_is_its_case_only_stage():
    stages = (
        '[[case.stage]]\nmethod = "fade"\nguide = "encoder"\n[[case.stage]]\nmethod = "interpolate"'
    )
    with pytest.raises(UsageError, match=r"stage\[0\]\.method: fade takes a guide .* only stage"):
        case_of(stages, channels=8)


def test_the_guide_defaults_follow_its_kind_and_the_case_records_it():
    (encoder,) = case_of("", method="fade", guide="encoder", channels=8, size=6)
    (image,) = case_of("", method="jbu", guide="image", channels=8, size=6, scale=4)
    assert (encoder.guide.channels, image.guide.channels) == (8, 3)
    assert encoder.describe()["guide"] == {"kind": "encoder", "channels": 8}
    assert [tuple(t.shape) for t in image.make_inputs()] == [(1, 8, 6, 6), (1, 3, 24, 24)]
    (plain,) = case_of("", method="interpolate", channels=8)
    assert plain.guide is None and len(plain.make_inputs()) == 1
    assert plain.describe()["guide"] is None


@pytest.fixture(scope="module")
def guided(tmp_path_factory):
    """A small FADE case prepared as a run prepares it (build, cost, export, reference)."""
    (case,) = case_of("", method="fade", guide="encoder", channels=8, size=8)
    settings = Settings(tmp_path_factory.mktemp("cache"), threads=1, analyse=False)
    work = prepare_case(case, settings, ErrorLog(tmp_path_factory.mktemp("log") / "errors.log"))
    assert work.error is None, work.error
    return work


def test_the_export_has_the_guide_as_its_second_input_and_a_plain_case_one_input(guided, tmp_path):
    graph = onnx.load(guided.prepared.onnx_path).graph
    assert [i.name for i in graph.input] == ["input", "guide"]
    dims = [d.dim_value for d in graph.input[1].type.tensor_type.shape.dim]
    assert dims == [1, 8, 16, 16]
    (plain,) = case_of("", method="interpolate", channels=2, size=4)
    exported = export_case(plain, plain.build(), plain.make_input(), tmp_path)
    assert [i.name for i in onnx.load(exported.path).graph.input] == ["input"]


@pytest.mark.parametrize("name", CPU_RUNTIMES)
def test_every_cpu_runtime_runs_both_inputs_and_agrees_with_torch(guided, name):
    loaded = get_runtime(name).load(guided.prepared)
    parity = compare(loaded.output(), guided.reference, bound_for(name, None))
    assert parity["within_tolerance"], parity
    # the guide is an input, not a constant: another guide, another output
    other = np.random.default_rng(0).random(guided.prepared.guide.shape, dtype=np.float32)
    assert np.abs(loaded.infer(loaded.example, other) - loaded.output()).max() > 1e-3
    if loaded.bound_output is not None:  # IO binding binds the guide too, bit for bit
        assert np.array_equal(loaded.bound_output(), loaded.output())


def test_the_guide_is_counted_in_bytes_and_flops(guided):
    cost = guided.record["cost"]
    assert cost["bytes"]["guide"] == 4 * 8 * 16 * 16
    assert cost["bytes"]["total"] == sum(v for k, v in cost["bytes"].items() if k != "total")
    # FADE's guide path: a 1x1 compressor (8 -> 64) and the 3x3 content encoder (64 -> 25) at
    # the output size, 2 FLOPs a multiply-add
    guide_path = 2 * 16 * 16 * (8 * 64 + 64 * 25 * 9)
    assert cost["flops"] > guide_path


def test_the_analysis_shows_a_guided_layer_each_scene_as_its_guide():
    (case,) = case_of("", method="fade", guide="encoder", channels=8, size=32)
    model = case.build()
    metrics, _, _ = reference_metrics(case, model, torch_infer(model))
    assert metrics["checkerboard_pct"] is not None and metrics["spectral_fidelity_db"] is not None
    # FADE's gate passes the encoder's features of a flat scene: a flat output
    assert metrics["flat_ripple"] < 1e-4
    assert metrics["probes"]["hypercolumn"]["levels"] == [1]  # its guide fits level 1 only
    assert metrics["notes"]["linear"].startswith("skipped: fade takes a guide")
    assert metrics["probe_miou"] is None and "probe = true" in metrics["notes"]["probe_miou"]


@pytest.mark.parametrize("method", ["fade", "interpolate"])
def test_the_task_probe_scores_a_case_that_asks_with_intervals(method):
    keys = {"guide": "encoder"} if method == "fade" else {"mode": "bilinear"}
    (case,) = case_of("", method=method, channels=8, size=16, probe=True, **keys)
    model = case.build()
    metrics, _, _ = reference_metrics(case, model, torch_infer(model))
    for name in ("probe_miou", "probe_boundary_f"):
        low, high = metrics[f"{name}_ci"]
        assert 0 < low <= metrics[name] <= high <= 1, (name, metrics[name], low, high)


class GuidePassedThrough(torch.nn.Module):
    """Returns its guide times a learned gain: where the guide is the target's own patch (an RGB
    image guide of RGB features), the fit starts and stays at zero loss."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(()))

    def forward(self, low: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        assert guide.shape[-2:] == (low.shape[-2] * 2, low.shape[-1] * 2)
        return self.gain * guide


def test_a_guided_fit_gets_each_patchs_guide_cut_where_the_patch_is_cut(monkeypatch):
    from suite import training
    from suite.guides import IMAGE, Guide

    monkeypatch.setattr(training, "STEPS", 3)
    record = training.fit_super_resolution(GuidePassedThrough(), 3, 2, 7, Guide(IMAGE, 3))
    assert record["loss_initial"] == pytest.approx(0.0, abs=1e-12)
    assert record["loss_final"] == pytest.approx(0.0, abs=1e-12)
    assert record["guide"] == {"kind": IMAGE, "channels": 3}


def test_a_trained_guided_case_is_fitted_with_its_guide_and_fits_the_same_twice(monkeypatch):
    from suite import training

    monkeypatch.setattr(training, "STEPS", 12)
    torch.set_num_threads(1)
    keys = {"guide": "image", "channels": 4, "size": 8}
    (case,) = case_of('method = "jbu"', init="trained", **keys)
    (untrained,) = case_of('method = "jbu"', init="random", **keys)
    first, second = case.build(), case.build()
    assert first.training_record["guide"] == {"kind": "image", "channels": 3}
    assert first.training_record["steps"] == 12
    pairs = zip(
        first.parameters(), second.parameters(), untrained.build().parameters(), strict=True
    )
    moved = False
    for a, b, start in pairs:
        assert torch.equal(a, b)
        moved |= not torch.equal(a, start)
    assert moved, "the fit left the authors' initialisation where it was"
