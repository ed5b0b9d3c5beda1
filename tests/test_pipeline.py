"""Preparing a case on its own (``bench.pipeline.prepare_case``): plain data in and out, no
session, and a failure named by the stage it happened in."""

from __future__ import annotations

import numpy as np
import pytest
from stage_cases import one_stage_case

from suite.bench import pipeline
from suite.bench.errorlog import ErrorLog
from suite.bench.pipeline import STAGES, Settings, prepare_case
from suite.case import Case


def small(method: str = "resize_conv", **params) -> Case:
    return one_stage_case(method, size=8, channels=2, case_id="p", **params)


def test_the_stages_are_named_once_in_order():
    names = [stage.name for stage in STAGES]
    assert names == ["build", "cost", "export", "reference", "analysis", "samples"]
    assert [s.name for s in STAGES if not s.fatal] == ["analysis", "samples"]


@pytest.mark.export
def test_a_case_prepares_without_a_session(export_cache, tmp_path):
    seen: list[str] = []
    work = prepare_case(
        small(), Settings(export_cache, 1, analyse=False), ErrorLog(tmp_path / "e.log"), seen.append
    )
    assert work.error is None and seen == ["build", "cost", "export", "reference"]
    assert work.record["cost"]["parameters"] == 2 * 2 * 3 * 3
    assert work.record["onnx"]["ops"] and work.prepared.onnx_path.exists()
    assert work.reference.shape == (1, 2, 16, 16) and np.isfinite(work.reference).all()


@pytest.mark.export
def test_a_timing_process_prepares_only_what_it_checks_and_times(export_cache, tmp_path):
    log = ErrorLog(tmp_path / "e.log")
    prepare_case(small(), Settings(export_cache, 1, analyse=False), log)  # the run exports it
    seen: list[str] = []
    timing = Settings(export_cache, 1, analyse=False, timing=True)
    work = prepare_case(small(), timing, log, seen.append)
    assert work.error is None and seen == ["build", "export", "reference"]
    assert "cost" not in work.record and work.prepared.onnx_path.exists()
    assert work.reference.shape == (1, 2, 16, 16)


@pytest.mark.parametrize("stage", ["build", "cost", "export", "reference"])
def test_a_failure_names_its_stage_and_stops_there(stage, monkeypatch, export_cache, tmp_path):
    def broken(work, settings):
        raise RuntimeError(f"{stage} broke\nsecond line")

    monkeypatch.setattr(
        pipeline,
        "STAGES",
        tuple(s if s.name != stage else pipeline.Stage(stage, broken) for s in STAGES),
    )
    log = tmp_path / "errors.log"
    seen: list[str] = []
    work = prepare_case(
        small(), Settings(export_cache, 1, analyse=True), ErrorLog(log), seen.append
    )
    assert work.error == f"{stage}: {stage} broke"
    assert seen[-1] == stage  # nothing after it ran
    assert f"case 'p': {stage}" in log.read_text() and "second line" in log.read_text()
