"""A timing process is a pytest session of its own: what the process that started it was (an
xdist worker, when the tests run on every core) does not decide whether it times."""

from __future__ import annotations

import json
import os

import pytest

from suite.timing import process as worker

pytestmark = pytest.mark.slow


def test_a_timing_process_started_by_an_xdist_worker_still_times(quick_run, tmp_path, monkeypatch):
    """pytest-benchmark disables itself where it finds PYTEST_XDIST_WORKER in the environment,
    and a timing process inherits its parent's: the quick run's first timing process again, on
    one case and one runtime, in a process marked as xdist's worker ``gw7``, which it still is
    after."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    spec = json.loads((quick_run["out"] / "timing" / "process1.spec.json").read_text())
    case_id = spec["case_ids"][0]
    spec |= {
        "case_ids": [case_id],
        "prepared_ids": [case_id],
        "runtimes": ["ort-cpu"],
        "out_dir": str(tmp_path),
        "benchmark_json": str(tmp_path / "benchmark.json"),
        "result": str(tmp_path / "result.json"),
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    assert worker.main([str(tmp_path / "spec.json")]) == 0
    assert os.environ["PYTEST_XDIST_WORKER"] == "gw7"
    latency = json.loads((tmp_path / "result.json").read_text())["latencies"][case_id]["ort-cpu"]
    assert latency["rounds"] == 5 and min(latency["yardstick_s"]) > 0
