"""Resume (``run --out DIR --resume``): a run killed with SIGKILL midway, in its prepare phase or
between timing processes, and resumed, redoes only what its checkpoints lack and ends with the
figures a clean run gives; a resume asked for other options is refused before it touches the
folder; a worker lost mid-task is retried by Dask and the run completes."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factories import KILL_MARKER_ENV
from figures import deterministic

from suite.bench.checkpoint import CHECKPOINT_DIR

pytestmark = pytest.mark.slow

# Five cases of about a second each to prepare with a cold export cache: long enough to kill
# the run between two of them.
CASES = """
[defaults]
channels = 3
size = 16

[[case]]
id = "r"
method = ["transposed", "resize_conv", "pixel_shuffle", "bilinear_mix", "interpolate"]
"""
CASE_COUNT = 5
#: two timing processes, so that a kill can fall between them
OPTIONS = ("--quick", "--processes", "2", "--runtimes", "torch-cpu,ort-cpu", "--workers", "0")


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("clean")
    cases = root / "cases.toml"
    cases.write_text(CASES)
    out = root / "run"
    command = [sys.executable, "-m", "suite", "run", str(cases), "--out", str(out)]
    done = subprocess.run(
        [*command, *OPTIONS, "--cache", str(root / "cache"), "--no-report"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((out / "results.json").read_text())


def _killed_run(cases: Path, out: Path, cache: Path, ready) -> dict[str, int]:
    """Start the run in its own process group, SIGKILL the group (the run and any timing
    process) once ``ready(checkpoints)`` holds, and count what its checkpoints hold."""
    command = [sys.executable, "-m", "suite", "run", str(cases), "--out", str(out), *OPTIONS]
    process = subprocess.Popen(
        [*command, "--cache", str(cache), "--no-report"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    folder = out / CHECKPOINT_DIR
    deadline = time.monotonic() + 300
    try:
        while not ready(folder):
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never reached the kill point"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert not (out / "results.json").exists()
    return {kind: len(list((folder / kind).glob("*"))) for kind in ("cases", "timed")}


def _finished_before(out: Path, kept: dict[str, int]) -> tuple[list[Path], dict, dict]:
    """What must come back untouched: finished timing processes' files (and their mtimes),
    and each finished case's stage and check times (its checkpoint goes with the folder once
    the run is done)."""
    timed = sorted((out / "timing").glob("process?.json"))
    assert len(timed) == kept["timed"]
    finished = {}
    for path in (out / CHECKPOINT_DIR).rglob("*.pickle"):
        data = pickle.loads(path.read_bytes())
        finished[data["work"].case.id] = {**data["work"].durations_s, **data["check_s"]}
    assert len(finished) == kept["cases"]
    return timed, {path: path.stat().st_mtime_ns for path in timed}, finished


KILL_POINTS = {
    # two cases finished, three not
    "prepare": lambda folder: len(list((folder / "cases").glob("*.pickle"))) >= 2,
    # the first of two timing processes finished
    "time": lambda folder: (folder / "timed" / "process1.json").exists(),
}


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_a_run_killed_midway_and_resumed_redoes_only_the_rest_and_matches_a_clean_run(
    kill_point, clean_run, write_cases, run_suite, tmp_path
):
    cases, out, cache = write_cases(CASES), tmp_path / "run", tmp_path / "cache"
    kept = _killed_run(cases, out, cache, KILL_POINTS[kill_point])
    if kill_point == "prepare":
        assert 2 <= kept["cases"] < CASE_COUNT and kept["timed"] == 0
    else:
        assert kept == {"cases": CASE_COUNT, "timed": 1}
    timed, mtimes, finished = _finished_before(out, kept)

    code = run_suite(str(cases), "--out", str(out), *OPTIONS, "--cache", str(cache), "--resume")

    assert code == 0
    results = json.loads((out / "results.json").read_text())
    (resumed,) = results["run"]["resumed"]
    assert (resumed["cases"], resumed["timing_processes"]) == (kept["cases"], kept["timed"])
    assert results["run"]["phases"]["prepare"]["cases"] == CASE_COUNT - kept["cases"]
    assert results["run"]["timing"]["processes_done"] == 2
    assert not (out / CHECKPOINT_DIR).exists()  # the run finished: its checkpoints went
    assert {p: p.stat().st_mtime_ns for p in timed} == mtimes  # timed before the kill only
    durations = {case["id"]: case["durations_s"] for case in results["cases"]}
    for case_id, seconds in finished.items():  # prepared and checked before the kill only
        assert seconds.items() <= durations[case_id].items(), case_id
    assert [c["id"] for c in results["cases"]] == [c["id"] for c in clean_run["cases"]]
    for resumed_case, clean_case in zip(results["cases"], clean_run["cases"], strict=True):
        # ``file``: the two runs read copies of one case file
        same = {**deterministic(resumed_case), "file": clean_case["file"]}
        assert same == deterministic(clean_case), clean_case["id"]
    for case in results["cases"]:  # every case timed in both processes, the killed one's too
        assert len(case["runtimes"]["torch-cpu"]["latency"]["process_starts_s"]) == 2


def test_a_resume_asked_for_other_options_or_cases_is_refused_and_leaves_the_checkpoints(
    write_cases, run_suite, tmp_path, capsys
):
    cases, out, cache = write_cases(CASES), tmp_path / "run", tmp_path / "cache"
    _killed_run(cases, out, cache, KILL_POINTS["prepare"])
    before = sorted(p.name for p in (out / CHECKPOINT_DIR).rglob("*"))
    capsys.readouterr()

    other = [o if o != "torch-cpu,ort-cpu" else "torch-cpu" for o in OPTIONS]
    code = run_suite(str(cases), "--out", str(out), *other, "--cache", str(cache), "--resume")

    assert code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"{out / CHECKPOINT_DIR / 'run.json'}" in line and "different runtimes" in line
    assert sorted(p.name for p in (out / CHECKPOINT_DIR).rglob("*")) == before

    # another case set: one case fewer
    fewer = write_cases(CASES.replace(', "interpolate"]', "]"), "fewer.toml")
    code = run_suite(str(fewer), "--out", str(out), *OPTIONS, "--cache", str(cache), "--resume")
    assert code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"{out / CHECKPOINT_DIR / 'run.json'}" in line and "different cases" in line
    assert sorted(p.name for p in (out / CHECKPOINT_DIR).rglob("*")) == before


def test_resume_without_an_unfinished_run_and_a_fresh_run_over_one_are_refused(
    write_cases, run_suite, tmp_path, capsys
):
    cases, out = str(write_cases(CASES)), tmp_path / "run"
    assert run_suite(cases, "--out", str(out), "--resume") == 2
    assert "no unfinished run to resume" in capsys.readouterr().err
    (out / CHECKPOINT_DIR).mkdir(parents=True)
    assert run_suite(cases, "--out", str(out)) == 2
    assert "pass --resume to finish it or --force" in capsys.readouterr().err
    (out / "results.json").write_text("{}")
    assert run_suite(cases, "--out", str(out), "--resume") == 2
    assert "that run finished" in capsys.readouterr().err
    assert run_suite(cases, "--resume") == 2
    assert "--resume: name the unfinished run's folder with --out" in capsys.readouterr().err


LOST_WORKER_CASES = """
[defaults]
channels = 3
size = 8
scale = 2

[[case]]
id = "plain"
method = ["transposed", "pixel_shuffle"]

[[case]]
id = "lost-worker"
factory = "factories:kills_its_worker_once"
"""


def test_a_worker_lost_mid_task_is_retried_and_the_run_completes(
    write_cases, run_suite, export_cache, tmp_path, monkeypatch
):
    marker = tmp_path / "killed"
    monkeypatch.setenv(KILL_MARKER_ENV, str(marker))
    out = tmp_path / "run"
    code = run_suite(
        str(write_cases(LOST_WORKER_CASES)),
        *("--out", str(out), "--quick", "--workers", "2", "--cache", str(export_cache)),
    )
    assert marker.exists(), "no worker was killed: the test tested nothing"
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert [c["status"] for c in results["cases"]] == ["ok"] * 3
    assert results["run"]["phases"]["prepare"]["cases"] == 3
