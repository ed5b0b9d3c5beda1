"""What travels to a timer on a cluster, so that it shares no file system with the run: the case
files as text, the exports as bytes (``cluster.export_task``, written into the timer's own
cache), the fitted weights. A timing process exports nothing itself: it times what prepare
exported, or fails saying so."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from suite.bench.cluster import export_task
from suite.bench.errorlog import ErrorLog
from suite.bench.pipeline import Settings, prepare_case
from suite.bench.roles import local_spec, store_exports
from suite.casefile import load_cases
from suite.export import ExportError, export_case

pytestmark = pytest.mark.slow

CASES = """
[defaults]
channels = 4
size = 12

[[case]]
id = "travels"
method = ["pixel_shuffle", "bilinear_mix"]
"""


def _timing_process(spec: dict, here: Path) -> subprocess.CompletedProcess:
    here.mkdir(parents=True, exist_ok=True)
    (here / "spec.json").write_text(json.dumps(spec))
    command = [sys.executable, "-m", "suite.timing.process", str(here / "spec.json")]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_a_timer_times_only_what_travelled_with_its_task(write_cases, tmp_path):
    path = write_cases(CASES)
    cases = load_cases([path])
    run_cache = tmp_path / "run-cache"
    exports = _shipped_exports(cases, run_cache, tmp_path)
    spec = {
        "paths": [str(path)],
        "case_ids": [case.id for case in cases],
        "prepared_ids": [case.id for case in cases],
        "runtimes": ["ort-cpu"],
        "policy": "quick",
        "processes": 1,
        "threads": 1,
        "cache_dir": str(run_cache),
        "with_copies": False,
        "case_files": [[str(path), path.read_text()]],
    }
    # nothing the run wrote is left where the timer could read it
    shutil.rmtree(run_cache)
    shutil.rmtree(tmp_path / "other-cache")
    path.unlink()
    timer_cache = tmp_path / "timer-cache"
    store_exports(timer_cache, exports)
    here = tmp_path / "timer"
    here.mkdir()
    local = local_spec(spec, here, timer_cache)
    assert all(Path(p).is_relative_to(here) for p in local["paths"])
    done = _timing_process(local, here)
    assert done.returncode == 0, done.stderr
    latencies = json.loads((here / "result.json").read_text())["latencies"]
    assert set(latencies) == {case.id for case in cases}
    assert all(latencies[case.id]["ort-cpu"]["median_s"] > 0 for case in cases)
    # the timer's cache holds the exports (and the yardstick the process exported for itself)
    assert {n for n, _ in exports} <= {p.name for p in timer_cache.iterdir()}
    _a_missing_export_fails_the_timer(spec, cases, exports, timer_cache, tmp_path)


def _shipped_exports(cases, run_cache: Path, tmp_path: Path) -> list[tuple[str, bytes]]:
    """Prepare the cases into ``run_cache`` and return what a prepare worker ships: the run's
    cache file, byte for byte; a worker whose cache is empty exports the same file under the
    same name."""
    settings = Settings(run_cache, 1, analyse=False)
    log = ErrorLog(tmp_path / "errors.log")
    prepared = [prepare_case(case, settings, log) for case in cases]
    assert all(work.error is None for work in prepared)
    exports = [export_task(case, settings, None) for case in cases]
    for (name, data), work in zip(exports, prepared, strict=True):
        assert name == work.prepared.onnx_path.name
        assert data == work.prepared.onnx_path.read_bytes()
    elsewhere = Settings(tmp_path / "other-cache", 1, analyse=False)
    assert [export_task(c, elsewhere, None)[0] for c in cases] == [n for n, _ in exports]
    return exports


def _a_missing_export_fails_the_timer(spec, cases, exports, timer_cache: Path, tmp_path: Path):
    """An export that did not travel fails the timing process, naming the case and the file."""
    (timer_cache / exports[0][0]).unlink()
    again = tmp_path / "timer-again"
    again.mkdir()
    done = _timing_process(local_spec(spec, again, timer_cache), again)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"prepared by the run, failed in this timing process: {cases[0].id}")
    assert exports[0][0] in last and "exports nothing itself" in last


def test_an_export_that_may_not_be_made_here_is_refused_and_a_cached_one_is_read(
    write_cases, tmp_path
):
    (case,) = load_cases(
        [write_cases(CASES.replace('["pixel_shuffle", "bilinear_mix"]', '"pixel_shuffle"'))]
    )
    model, example = case.build(None), case.make_input()
    with pytest.raises(ExportError, match=r"is not in .* exports nothing itself"):
        export_case(case, model, example, tmp_path, may_export=False)
    assert not list(tmp_path.glob("*.onnx"))
    made = export_case(case, model, example, tmp_path)
    read = export_case(case, model, example, tmp_path, may_export=False)
    assert not made.cached and read.cached and read.path == made.path
