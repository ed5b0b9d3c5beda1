"""A trained case is fitted once, where it is prepared, and its weights travel to every timing
process: the timing process builds the same model without fitting it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from suite.bench.weights import fitted_weights, read_weights, write_weights
from suite.casefile import load_cases
from suite.timing import process as worker

pytestmark = pytest.mark.slow

CASES = """
[[case]]
id = "t"
method = "transposed"
kernel = 4
stride = 2
channels = 1
size = 16
init = "trained"
"""


def _no_fitting(*args, **kwargs):
    raise AssertionError("fitted again")


def test_a_trained_case_built_from_travelled_weights_is_the_fitted_model_unfitted(
    write_cases, tmp_path, monkeypatch
):
    (case,) = load_cases([write_cases(CASES)])
    fitted = case.build()
    write_weights(tmp_path, {case.id: fitted_weights(fitted)})
    monkeypatch.setattr("suite.training.fit_super_resolution", _no_fitting)
    again = case.build(read_weights(tmp_path, case.id))
    assert again.training_record == fitted.training_record
    assert again.state_dict().keys() == fitted.state_dict().keys()
    for name, tensor in fitted.state_dict().items():
        assert torch.equal(again.state_dict()[name], tensor), name
    assert read_weights(tmp_path, "another case") is None


def test_a_timing_process_times_the_fitted_weights_without_fitting(
    write_cases, run_suite, export_cache, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    path = write_cases(CASES)
    assert run_suite(str(path), "--quick", "--out", str(out), "--cache", str(export_cache)) == 0
    spec = json.loads((out / "timing" / "process1.spec.json").read_text())
    assert len(list(Path(spec["weights_dir"]).iterdir())) == 1
    # the run's first timing process again, here, where fitting raises
    monkeypatch.setattr("suite.training.fit_super_resolution", _no_fitting)

    def timed(spec: dict, name: str) -> int:
        spec = {**spec, "result": str(tmp_path / f"{name}.json")}
        spec["benchmark_json"] = str(tmp_path / f"{name}-benchmark.json")
        spec_path = tmp_path / f"{name}.spec.json"
        spec_path.write_text(json.dumps(spec))
        return worker.main([str(spec_path)])

    assert timed(spec, "with-weights") == 0
    latencies = json.loads((tmp_path / "with-weights.json").read_text())["latencies"]
    assert latencies["t"]["torch-cpu"]["median_s"] > 0
    # without its weights the timing process must fit, and here it cannot: a case the run
    # prepared fails in the timing process, which fails saying so rather than time without it
    capsys.readouterr()
    assert timed({**spec, "weights_dir": None}, "without-weights") == 1
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said == "prepared by the run, failed in this timing process: t: build: fitted again"
    assert not (tmp_path / "without-weights.json").exists()
