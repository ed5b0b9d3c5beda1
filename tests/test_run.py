"""``python -m suite run`` end to end: results, statuses, the cache, failures and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from torch import nn

from suite.cli import main as cli
from suite.layers import Interpolate
from suite.methods import _REGISTRY
from suite.methods.base import SCALE, Method
from suite.records import cases_of
from suite.report.runtime_setup import copies_cells
from suite.results import SCHEMA_VERSION, validate
from suite.runtimes import REFERENCE, get_runtime, list_runtimes
from suite.timing import process as worker
from suite.timing.ceilings import bandwidth_at

pytestmark = pytest.mark.slow

#: what a run without --runtimes runs here (the rest are recorded skipped), and the GPU runtimes
RUNS_HERE = [
    n for n in list_runtimes() if not get_runtime(n).optional and not get_runtime(n).unavailable()
]
GPU_RUNTIMES = [n for n in list_runtimes() if get_runtime(n).device == "cuda"]


def test_quick_run_writes_valid_results_for_every_case(quick_run):
    assert quick_run["code"] == 0
    results = quick_run["results"]
    validate(results)
    assert results["schema_version"] == SCHEMA_VERSION
    assert [c["id"] for c in results["cases"]] == [
        "small[method=transposed]",
        "small[method=resize_conv]",
        "small[method=interpolate]",
        "small[method=pixel_shuffle]",
        "small[method=bilinear_mix]",
        "small-decoder",
    ]
    for case in results["cases"]:
        assert case["status"] == "ok", case
        for name in RUNS_HERE:
            assert case["runtimes"][name]["status"] == "ok"
            latency = case["runtimes"][name]["latency"]
            if not get_runtime(name).timed:
                assert latency is None  # an oracle (the reference evaluator), not timed
                continue
            assert latency["rounds"] == 5
            # Every round has the yardstick's time around it, on the same runtime.
            assert len(latency["yardstick_s"]) == 5 and min(latency["yardstick_s"]) > 0
        assert case["runtimes"][REFERENCE]["max_abs_err"] == 0.0
        assert (
            case["output_shape"][-1] == 2 * case["input_shape"][-1] or case["id"] == "small-decoder"
        )


def test_run_records_machine_versions_and_bandwidth(quick_run):
    run = quick_run["results"]["run"]
    assert run["machine"]["threads"] >= 1
    assert run["versions"]["torch"].startswith("2.13.0")
    assert run["versions"]["opset"] == "20"
    assert run["timing"]["processes_done"] == run["timing"]["processes"] == 1  # --quick
    assert run["timing"]["cut_short"] is None
    ceilings = run["ceilings"]
    assert len(ceilings["copy_gbs"]) == 7 and ceilings["compute_gflops"]["median"] > 0.1
    assert all(row["min"] <= row["median"] <= row["max"] for row in ceilings["copy_gbs"].values())


def test_gpu_runtimes_are_skipped_with_reasons_on_a_cpu_machine(quick_run):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    for case in quick_run["results"]["cases"]:
        for name in GPU_RUNTIMES:
            entry = case["runtimes"][name]
            assert entry["status"] == "skipped" and entry["reason"]


def test_the_bound_latency_and_the_one_with_copies_are_timed_side_by_side(
    write_cases, tmp_path, export_cache, run_suite
):
    """--with-copies: the CPU provider's IO-bound latency and session.run's, each from the same
    timing processes, with the clock that timed them; torch has no copies to avoid."""
    cases = write_cases(
        """
        [[case]]
        id = "bound"
        method = "bilinear_mix"
        channels = 8
        size = 24
        """
    )
    out = tmp_path / "run"
    args = ("--out", str(out), "--quick", "--runtimes", "ort-cpu", "--cache", str(export_cache))
    assert run_suite(str(cases), *args, "--processes", "2", "--with-copies") == 0
    results = json.loads((out / "results.json").read_text())
    assert results["run"]["options"]["with_copies"] is True
    (case,) = results["cases"]
    ort, torch_cpu = case["runtimes"]["ort-cpu"], case["runtimes"]["torch-cpu"]
    for latency in (ort["latency"], ort["latency_with_copies"]):
        assert latency["clock"] == "host" and latency["processes"] == 2
        assert latency["rounds"] == 2 * 5 and latency["median_s"] > 0
        assert latency["machine_class"] == ort["latency"]["machine_class"]
    assert "latency_with_copies" not in torch_cpu and torch_cpu["latency"]["clock"] == "host"
    names = [
        b["name"]
        for b in json.loads((out / "timing/benchmark-process1.json").read_text())["benchmarks"]
    ]
    assert any(n.endswith("bound::ort-cpu::with-copies]") for n in names), names
    _copies_row_says_what_the_copies_add(results, ort)


def _copies_row_says_what_the_copies_add(results: dict, ort: dict) -> None:
    """The report's table: the fastest sessions, and what the copies add."""
    (row,) = copies_cells(cases_of(results))
    fast = ort["latency"]["fastest_session_s"]
    slow = ort["latency_with_copies"]["fastest_session_s"]
    assert row == [
        "bound",
        "ort-cpu",
        f"{fast * 1e3:.4g}",
        f"{slow * 1e3:.4g}",
        f"{(slow - fast) / fast:+.0%}",
        "host",
    ]


def test_the_gpu_runtimes_asked_for_as_a_group_are_recorded_skipped_here(
    write_cases, tmp_path, export_cache, run_suite
):
    """tox -e bench-gpu runs ``--runtimes gpu``: on a machine without a GPU every one of them
    is kept and recorded skipped with its reason, the reference alone is timed, and the run
    exits 0 (a GPU runtime named one by one must be present: test_a_named_runtime...)."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    cases = write_cases('[[case]]\nid = "g"\nmethod = "pixel_shuffle"\nchannels = 4\nsize = 16\n')
    out = tmp_path / "run"
    args = ("--out", str(out), "--quick", "--runtimes", "gpu", "--cache", str(export_cache))
    assert run_suite(str(cases), *args) == 0
    results = json.loads((out / "results.json").read_text())
    runtimes = results["cases"][0]["runtimes"]
    gpu = [n for n in GPU_RUNTIMES if not get_runtime(n).optional]
    assert list(runtimes) == [REFERENCE, *gpu] and gpu
    assert all(runtimes[n]["status"] == "skipped" and runtimes[n]["reason"] for n in gpu)
    assert runtimes[REFERENCE]["status"] == "ok" and runtimes[REFERENCE]["latency"]
    assert {results["run"]["runtimes"][n]["device"] for n in gpu} == {"cuda"}


def test_each_timing_process_keeps_its_benchmark_json(quick_run):
    data = json.loads((quick_run["out"] / "timing" / "benchmark-process1.json").read_text())
    names = {
        (b["extra_info"].get("case"), b["extra_info"].get("runtime")) for b in data["benchmarks"]
    }
    for case in quick_run["results"]["cases"]:
        assert (case["id"], "ort-cpu") in names and (case["id"], "torch-cpu") in names


def test_roofline_figures_are_consistent(quick_run):
    ceilings = quick_run["results"]["run"]["ceilings"]
    peak = ceilings["compute_gflops"]["max"] * 1e9
    for case in quick_run["results"]["cases"]:
        entry = case["runtimes"]["ort-cpu"]
        total, flops = case["cost"]["bytes"]["total"], case["cost"]["flops"]
        median = entry["latency"]["fastest_session_s"]
        assert median <= entry["latency"]["median_s"]
        assert entry["achieved_gbs"] == pytest.approx(total / median / 1e9)
        memory_s = total / (bandwidth_at(ceilings, total) * 1e9)
        bound_s = max(memory_s, flops / peak)
        if entry["roofline_fraction"] is None:  # left out with why, never recorded over 100%
            why = entry["roofline_omitted"]
            assert bound_s / median > 1 or "could not be believed" in why, why
            continue
        assert entry["roofline_fraction"] == pytest.approx(bound_s / median)
        assert entry["roofline_fraction"] <= 1 and "roofline_omitted" not in entry
        assert entry["roofline_bound"] == ("memory" if memory_s >= flops / peak else "compute")


def test_second_run_exports_nothing(quick_run, tmp_path, export_cache, run_suite):
    code = run_suite(
        str(quick_run["cases_file"]),
        "--out",
        str(tmp_path / "again"),
        "--quick",
        "--cache",
        str(export_cache),
        "--runtimes",
        "ort-cpu",
    )
    assert code == 0
    results = json.loads((tmp_path / "again" / "results.json").read_text())
    assert all(case["onnx"]["cached"] for case in results["cases"])
    assert results["run"]["options"]["runtimes"] == ["torch-cpu", "ort-cpu"]
    # the calibration battery is a function of the code: an earlier run with this cache
    # computed it, this one reads the same table back
    assert results["run"]["phases"]["calibration"]["cached"] is True
    assert results["run"]["calibration"] == quick_run["results"]["run"]["calibration"]


class _Poison(nn.Module):
    def forward(self, x):
        return x - x + float("nan")


class NanProbe(Method):
    name = "nan_probe"
    summary = "test only: upsamples, then outputs NaN"
    params = (SCALE,)

    @classmethod
    def output_size(cls, params, size):
        return size[0] * params["scale"], size[1] * params["scale"]

    @classmethod
    def build(cls, params, channels, generator):
        return nn.Sequential(Interpolate(params["scale"], "nearest", None), _Poison())


class BrokenBuild(NanProbe):
    name = "broken_build"

    @classmethod
    def build(cls, params, channels, generator):
        raise RuntimeError("cannot build this one")


@pytest.fixture
def faulty_methods(monkeypatch):
    monkeypatch.setitem(_REGISTRY, "nan_probe", NanProbe)
    monkeypatch.setitem(_REGISTRY, "broken_build", BrokenBuild)


def test_failures_are_recorded_and_the_run_goes_on(
    faulty_methods, write_cases, tmp_path, export_cache, capsys, run_suite
):
    path = write_cases(
        """
        [defaults]
        size = 4
        [[case]]
        id = "poisoned"
        method = "nan_probe"
        [[case]]
        id = "unbuildable"
        method = "broken_build"
        [[case]]
        id = "fine"
        method = "interpolate"
        """
    )
    out = tmp_path / "run"
    code = run_suite(str(path), "--out", str(out), "--quick", "--cache", str(export_cache))
    assert code == 1
    results = json.loads((out / "results.json").read_text())
    validate(results)
    poisoned, unbuildable, fine = results["cases"]
    assert poisoned["status"] == "failed"
    assert (
        poisoned["error"] == "reference: torch-cpu output holds 64 NaN and 0 Inf values"
    )  # 1 channel, 8×8
    assert unbuildable["status"] == "failed"
    assert unbuildable["error"] == "build: cannot build this one"
    assert unbuildable["runtimes"]["ort-cpu"]["status"] == "skipped"
    assert fine["status"] == "ok"
    assert "cannot build this one" in (out / "errors.log").read_text()
    printed = capsys.readouterr().out
    assert f"{path}: unbuildable: failed: build: cannot build this one" in printed


def test_a_run_whose_every_case_failed_ends_cleanly_with_its_report(
    write_cases, tmp_path, export_cache, capsys, run_suite
):
    """results.json, the failure in the summary and in a report that renders, exit 1, and no
    claim of a file that was not written (no case was timed: no timing/)."""
    path = write_cases('[[case]]\nid = "x"\nfactory = "factories:fails_to_export"\nsize = 8\n')
    out = tmp_path / "run"
    code = run_suite(
        str(path), "--out", str(out), "--quick", "--cache", str(export_cache), report=True
    )
    assert code == 1
    results = json.loads((out / "results.json").read_text())
    validate(results)
    assert [c["status"] for c in results["cases"]] == ["failed"]
    printed = capsys.readouterr().out
    assert f"{path}: x: failed: export: torch.onnx.export (dynamo): Failed to export" in printed
    assert "\x1b" not in results["cases"][0]["error"]  # no terminal colour codes in the record
    assert not (out / "timing").exists() and "timing/" not in printed
    page = (out / "report" / "index.html").read_text()
    assert "x" in page and "failed" in page
    assert "x: failed: export" in (out / "report" / "summary.md").read_text()


def test_bad_case_file_exits_2_with_one_line_and_writes_nothing(write_cases, tmp_path):
    path = write_cases('[[case]]\nid = "x"\nmethod = "interpolate"\nkernel = 3\n')
    out = tmp_path / "never"
    result = subprocess.run(
        [sys.executable, "-m", "suite", "run", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: case 'x': kernel: does not apply to method 'interpolate' "
        "(it uses: scale, mode, align_corners)"
    ]
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--runtimes", "ort-warp"],
            "error: --runtimes: unknown runtime 'ort-warp'; known: torch-cpu,",
        ),
        (["--runtimes", ""], "error: --runtimes: names no runtime (got ''); give one or more of"),
        (["--runtimes", " , "], "error: --runtimes: names no runtime (got ' , ')"),
        (["--threads", "0"], "error: --threads: must be >= 1, got 0"),
        (["--processes", "0"], "error: --processes: must be between 1 and 100, got 0"),
        (
            ["--workers", "-1"],
            "error: --workers: must be >= 0 (0: prepare in this process), got -1",
        ),
    ],
)
def test_bad_options_exit_2(args, message, write_cases, tmp_path, capsys, run_suite):
    path = write_cases('[[case]]\nid = "x"\nmethod = "interpolate"\n')
    assert run_suite(str(path), "--out", str(tmp_path / "o"), *args) == 2
    assert capsys.readouterr().err.startswith(message)
    assert not (tmp_path / "o").exists()


def test_a_named_runtime_must_be_present(write_cases, tmp_path, capsys, run_suite):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    path = write_cases('[[case]]\nid = "x"\nmethod = "interpolate"\n')
    assert run_suite(str(path), "--out", str(tmp_path / "o"), "--runtimes", "ort-cuda") == 2
    assert "error: --runtimes: ort-cuda is not available here: " in capsys.readouterr().err


def test_existing_results_are_not_overwritten(quick_run, capsys, run_suite):
    before = (quick_run["out"] / "results.json").read_bytes()
    assert run_suite(str(quick_run["cases_file"]), "--out", str(quick_run["out"]), "--quick") == 2
    assert "exists; pass --force to replace it" in capsys.readouterr().err
    assert (quick_run["out"] / "results.json").read_bytes() == before


def test_list_shows_every_expanded_case(capsys):
    from suite.cli import main

    assert main(["list", "cases/"]) == 0
    printed = capsys.readouterr().out
    assert "odena-transposed[kernel=6,stride=3]" in printed
    assert "lecture-bilinear-mix-448" in printed


class _BrokenYardstick:
    id = "yardstick"
    file = "yardstick.toml"

    def build(self):
        raise RuntimeError("the yardstick would not build")


def test_without_a_yardstick_cases_are_timed_alone_and_the_log_says_why(
    monkeypatch, write_cases, tmp_path, export_cache, run_suite
):
    """A timing process whose yardstick will not build: its cases are timed alone."""
    path = write_cases('[[case]]\nid = "x"\nmethod = "interpolate"\nsize = 16\n')
    out = tmp_path / "run"
    args = ["--out", str(out), "--quick", "--runtimes", "ort-cpu", "--cache", str(export_cache)]
    assert run_suite(str(path), *args) == 0
    # The timing process again, in this process, where the yardstick can be broken.
    monkeypatch.setattr("suite.timing.yardstick.yardstick_case", _BrokenYardstick)
    spec = json.loads((out / "timing" / "process1.spec.json").read_text())
    spec["result"] = str(tmp_path / "again.json")
    (tmp_path / "again.spec.json").write_text(json.dumps(spec))
    assert worker.main([str(tmp_path / "again.spec.json")]) == 0
    latencies = json.loads((tmp_path / "again.json").read_text())["latencies"]["x"]
    for runtime in ("torch-cpu", "ort-cpu"):
        latency = latencies[runtime]
        assert latency["rounds"] == 5 and "yardstick_s" not in latency
    log = (out / "timing" / "errors.log").read_text()
    assert "case 'yardstick': yardstick" in log and "the yardstick would not build" in log


def test_a_timing_process_that_fails_cuts_the_timing_short(
    write_cases, tmp_path, export_cache, run_suite, capsys
):
    """A child that dies: the run keeps what finished, says so, exits 1, and neither baseline
    nor gate accepts it (one line, exit 2)."""
    path = write_cases('[[case]]\nid = "x"\nfactory = "factories:dies_when_timed"\nsize = 16\n')
    out = tmp_path / "run"
    args = ["--out", str(out), "--processes", "2", "--runtimes", "ort-cpu"]
    assert run_suite(str(path), *args, "--cache", str(export_cache)) == 1
    results = json.loads((out / "results.json").read_text())
    timing = results["run"]["timing"]
    assert timing["processes_done"] == 0 and timing["processes"] == 2
    assert timing["cut_short"].startswith("timing process 1 of 2: exited with")
    assert "timing cut short" in capsys.readouterr().out
    assert results["cases"][0]["runtimes"]["ort-cpu"]["latency"] is None
    for command in (
        ["baseline", str(out), str(out), str(out), "--out", str(tmp_path / "b.json")],
        ["gate", str(out), "--baseline", "results/baselines/gate-quick.json"],
    ):
        capsys.readouterr()
        assert cli(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "the run's timing was cut short" in err[0], err
