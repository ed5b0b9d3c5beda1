"""``--timing quick`` times in the run's own process (``policy.IN_RUN_PROCESS``): no interpreter is
started for it, its latencies are recorded as a child's would be, and a timing that breaks cuts
the run's timing short, as a child that dies does (tests/test_run.py), instead of crashing it.
The other policies still time in fresh processes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from suite.bench import executor
from suite.timing import process
from suite.timing.policy import IN_RUN_PROCESS, TIMINGS

pytestmark = pytest.mark.slow

CASE = '[[case]]\nid = "q"\nmethod = "pixel_shuffle"\nchannels = 3\nsize = 8\nscale = 2\n'


def _no_child(spec_path, log):
    raise AssertionError(f"a quick run started a timing process for {spec_path}")


def test_a_quick_run_times_in_its_own_process(
    write_cases, run_suite, export_cache, tmp_path, monkeypatch
):
    monkeypatch.setattr(executor, "run_child", _no_child)
    out = tmp_path / "run"
    args = ("--out", str(out), "--quick", "--runtimes", "ort-cpu", "--cache", str(export_cache))
    assert run_suite(str(write_cases(CASE)), *args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["run"]["timing"]["processes_done"] == 1
    latency = results["cases"][0]["runtimes"]["ort-cpu"]["latency"]
    assert latency["median_s"] > 0 and len(latency["process_starts_s"]) == 1
    assert (out / "timing" / "benchmark-process1.json").exists()


def test_a_quick_timing_that_breaks_cuts_the_timing_short(
    write_cases, run_suite, export_cache, tmp_path, monkeypatch, capsys
):
    def breaks(argv):
        raise RuntimeError("the timing broke")

    monkeypatch.setattr(process, "main", breaks)
    out = tmp_path / "run"
    args = ("--out", str(out), "--quick", "--runtimes", "ort-cpu", "--cache", str(export_cache))
    assert run_suite(str(write_cases(CASE)), *args) == 1
    timing = json.loads((out / "results.json").read_text())["run"]["timing"]
    assert timing["processes_done"] == 0
    assert timing["cut_short"] == (
        "timing process 1 of 1: failed (RuntimeError: the timing broke; errors.log has the rest)"
    )
    assert "the timing broke" in (out / "errors.log").read_text()
    assert "timing cut short" in capsys.readouterr().out


@pytest.mark.parametrize("policy", sorted(TIMINGS))
def test_only_quick_times_in_the_runs_process(policy, monkeypatch):
    """The gate's and the default bench's rounds come from fresh processes, as their
    statistics were measured (docs/measurements.md)."""
    went = []
    monkeypatch.setattr(executor, "run_child", lambda path, log: went.append("child"))
    monkeypatch.setattr(executor, "run_here", lambda path, log: went.append("here"))
    plain = executor.Executor.__new__(executor.Executor)
    plain.time_process(Path("spec.json"), {"policy": policy}, 0, None, SimpleNamespace(log=None))
    assert went == (["here"] if policy == "quick" else ["child"])
    assert (policy in IN_RUN_PROCESS) == (policy == "quick")
