"""The prepare phase on a Dask LocalCluster (``run --workers N``): the same figures as the serial
path to the last bit, a failure recorded where it happened, timing untouched by what the cluster
did to the environment, and no process left behind."""

from __future__ import annotations

import json
import os
from multiprocessing import resource_tracker

import psutil
import pytest
from figures import deterministic

from suite.bench.cluster import prepare_on_local_cluster
from suite.bench.errorlog import ErrorLog
from suite.bench.localcluster import WORKER_ENVIRON, environment_kept, local_cluster
from suite.bench.pipeline import CPU_CHECK, Settings
from suite.casefile import load_cases

pytestmark = pytest.mark.slow

CASES = """
[defaults]
channels = 3
size = 32  # large enough that a float32 reduction splits across threads

[[case]]
id = "c"
method = ["transposed", "bilinear_mix", "resize_conv", "pixel_shuffle"]

[[case]]
id = "broken"
factory = "factories:fails_to_export"
scale = 2
"""


def _run(run_suite, path, out, cache, workers: int, *more: str) -> dict:
    args = ("--quick", "--out", str(out), "--cache", str(cache), "--workers", str(workers))
    code = run_suite(str(path), *args, *more)
    assert code == 1  # the broken case fails the run, and the others still ran
    log = (out / "errors.log").read_text()
    assert "case 'broken': export" in log and "this layer will not be exported" in log
    return json.loads((out / "results.json").read_text())


def test_workers_give_the_serial_runs_figures_to_the_last_bit(
    write_cases, run_suite, tmp_path, whole_machine
):
    """Each path with its own empty export cache, so the workers export for themselves: the
    same figures and the same cache keys (``onnx.file``, kept by ``deterministic``). On every
    usable core (``whole_machine``, where an xdist worker has a share): the run's threads
    default to them, and at CASES' size a float32 reduction splits over the threads."""
    path = write_cases(CASES)
    runs = {w: _run(run_suite, path, tmp_path / f"w{w}", tmp_path / f"cache{w}", w) for w in (0, 2)}
    serial, cluster = runs[0], runs[2]
    exported = [c for c in cluster["cases"] if c["onnx"]]
    assert len(exported) == 4 and not any(c["onnx"]["cached"] for c in exported)
    # the workers wrote them (the timing processes add the yardstick's)
    assert {c["onnx"]["file"] for c in exported} <= {
        p.name for p in (tmp_path / "cache2").iterdir()
    }
    # a second run on the cluster's cache exports nothing, its workers preparing every case
    # again (--fresh: none is read from the prepared-case cache; its figures, compared above,
    # are left out: --no-analysis)
    again = _run(
        run_suite, path, tmp_path / "again", tmp_path / "cache2", 2, "--fresh", "--no-analysis"
    )
    assert all(c["onnx"]["cached"] for c in again["cases"] if c["onnx"])
    assert again["run"]["phases"]["prepare"]["cases"] == len(again["cases"])
    assert [c["id"] for c in serial["cases"]] == [c["id"] for c in cluster["cases"]]
    for one, other in zip(serial["cases"], cluster["cases"], strict=True):
        assert deterministic(one) == deterministic(other), one["id"]
    broken = next(c for c in cluster["cases"] if c["id"] == "broken")
    assert broken["status"] == "failed" and broken["error"].startswith("export: ")
    assert serial["run"]["phases"]["prepare"]["workers"] == 0
    assert cluster["run"]["phases"]["prepare"] == {
        **cluster["run"]["phases"]["prepare"],
        "engine": "dask LocalCluster",
        "workers": 2,
    }
    # every prepare stage of a case that got through them is timed, and so is each check
    ok = next(c for c in cluster["cases"] if c["status"] == "ok")
    stages = ("build", "cost", "export", "reference", "analysis", "samples")
    assert all(ok["durations_s"][s] >= 0 for s in stages)
    assert all(f"check.{name}" in ok["durations_s"] for name in ok["runtimes"])


def test_the_cluster_stops_every_process_and_leaves_the_environment_as_it_was(
    write_cases, export_cache, tmp_path
):
    """Dask's nanny writes OMP_NUM_THREADS=1 and others into the spawning process's own
    environment; the timing processes started after the cluster must not inherit them."""
    cases = load_cases([write_cases(CASES)])[:2]
    assert len(cases) == 2, "no cases: the checks below would check nothing"
    # multiprocessing's resource tracker is this interpreter's, started once and kept for its
    # life by whichever first spawns a process: started here, it is no process the cluster left
    resource_tracker.ensure_running()
    before_env = dict(os.environ)
    before_children = {p.pid for p in psutil.Process().children(recursive=True)}
    done = []
    runtimes = ["torch-cpu", "ort-cpu"]
    prepared, phase = prepare_on_local_cluster(
        cases,
        Settings(export_cache, 1, False),
        2,
        ErrorLog(tmp_path / "errors.log"),
        runtimes,
        lambda work, checked: done.append((work, checked)),
    )
    assert dict(os.environ) == before_env
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before_children
    assert not left, f"processes left running: {[psutil.Process(p).cmdline() for p in left]}"
    assert sorted(prepared) == sorted(c.id for c in cases) == sorted(w.case.id for w, _ in done)
    assert set(phase.where) == set(prepared) and phase.wall_s > 0
    # each case came back checked on every runtime, and released: only what its record needs
    for work, checked in done:
        assert work.error is None and list(checked.results) == runtimes
        assert all(r.status == "ok" for r in checked.results.values()), checked.results
        # each runtime's wall seconds, and the checks' CPU seconds (the planner's)
        assert set(checked.seconds) == {f"check.{name}" for name in runtimes} | {CPU_CHECK}
        assert work.model is None and work.reference is None and work.reference_loaded is None


def test_a_worker_sleeps_its_idle_openmp_threads_and_keeps_the_runs_thread_counts():
    """Workers share the cores, each with the run's threads: spinning OpenMP threads stole them
    from the other worker (a cold default prepare took 240 s on two workers, its serial run
    241 s; with passive waiting 171 s, at the serial run's CPU seconds). Nothing forces one
    thread: the figures stay the serial path's to the last bit (the test above)."""
    from distributed import Client

    with environment_kept(), local_cluster(1) as local, Client(local) as client:
        (seen,) = client.run(lambda: dict(__import__("os").environ)).values()  # the worker's
    assert seen.get("OMP_WAIT_POLICY") == "PASSIVE" == WORKER_ENVIRON["OMP_WAIT_POLICY"]
    assert "OMP_NUM_THREADS" not in seen or seen["OMP_NUM_THREADS"] == os.environ.get(
        "OMP_NUM_THREADS"
    )


def test_environment_kept_undoes_additions_changes_and_removals():
    os.environ["UPSAMPLING_BENCH_TEST_KEPT"] = "before"
    with environment_kept():
        os.environ["UPSAMPLING_BENCH_TEST_KEPT"] = "changed"
        os.environ["UPSAMPLING_BENCH_TEST_NEW"] = "added"
    assert os.environ.pop("UPSAMPLING_BENCH_TEST_KEPT") == "before"
    assert "UPSAMPLING_BENCH_TEST_NEW" not in os.environ


def test_a_task_dask_gave_up_on_fails_its_case_and_the_run_goes_on(write_cases, tmp_path):
    """``as_completed(..., raise_errors=False)`` hands an errored task's result as Dask's
    (type, exception, traceback): its workers died (a layer that needs more memory than a
    worker has) or it raised. The case fails at prepare with the exception's first line."""
    from distributed.scheduler import KilledWorker

    from suite.bench.cluster import PreparePhase, _received

    case = load_cases([write_cases(CASES)])[0]
    worker = type("WorkerState", (), {"address": "tcp://127.0.0.1:1"})()
    died = KilledWorker("prepare-8", worker, 3)
    log = ErrorLog(tmp_path / "errors.log")
    work, checked = _received(case, (KilledWorker, died, None), PreparePhase(1, 1), log)
    assert work.error.startswith("prepare: Attempted to run task 'prepare-8' on 4 different")
    assert not checked.results and case.id in (tmp_path / "errors.log").read_text()
