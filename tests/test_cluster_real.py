"""A run on a real Dask cluster (``run --scheduler-file``): a ``dask scheduler`` and
``python -m suite worker`` processes (two prepare processes, one timer) on 127.0.0.1, a small
sweep through them, and from every task's recorded start and end: no prepare task on the timer,
timing tasks one at a time, no prepare task while anything is timed on this host (which has
both roles). One case's first build SIGKILLs its worker process mid-task: the nanny starts
another, Dask runs the task again, and the run completes. Then every process the test started
is stopped."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from factories import KILL_MARKER_ENV

from suite.bench.roles import PREPARE_RESOURCE, machine_class, timer_resource
from suite.gate.baseline import figures, latency_classes
from suite.records import cases_of, gated_runtimes
from suite.report.run import report_run

pytestmark = pytest.mark.slow

CASES = """
[defaults]
channels = 3
size = 16

[[case]]
id = "c"
method = ["transposed", "resize_conv", "pixel_shuffle", "bilinear_mix"]

[[case]]
id = "lost-worker"
factory = "factories:kills_its_worker_once"
"""


@contextmanager
def started(command: list[str], log: Path):
    """A process in its own group, stopped with its whole group (nanny and workers) on exit."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
    try:
        yield process
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def scheduler_on_localhost(folder: Path):
    """A ``dask scheduler`` on 127.0.0.1 (its log in ``folder``), once its file is written:
    yields the file and the ``suite worker`` command line that joins it."""
    scheduler_file = folder / "scheduler.json"
    scheduler = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
    scheduler += ["--port", "0", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    scheduler += ["--scheduler-file", str(scheduler_file)]
    worker = [sys.executable, "-m", "suite", "worker", "--scheduler-file", str(scheduler_file)]
    worker += ["--host", "127.0.0.1"]
    with started(scheduler, folder / "scheduler.log"):
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline, (folder / "scheduler.log").read_text()
            time.sleep(0.1)
        yield scheduler_file, worker


def _workers(scheduler_file: Path, count: int, timeout_s: float = 120) -> dict[str, dict]:
    """The scheduler's worker table once ``count`` workers joined (asked in a subprocess, so
    that this process's only client is the run's own)."""
    ask = (
        "import json, sys; from distributed import Client\n"
        f"with Client(scheduler_file={str(scheduler_file)!r}, timeout='30s') as c:\n"
        f"    c.wait_for_workers({count}, timeout={timeout_s})\n"
        "    w = c.scheduler_info(n_workers=-1)['workers']\n"
        "    print(json.dumps({a: {'resources': i['resources']} for a, i in w.items()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", ask], capture_output=True, text=True, timeout=timeout_s + 30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def listening_beyond_localhost() -> list[str]:
    """Every socket a process this test started listens on outside 127.0.0.1."""
    return [
        f"{child.pid} {child.name()}: {socket.laddr.ip}:{socket.laddr.port}"
        for child in psutil.Process().children(recursive=True)
        for socket in child.net_connections(kind="inet")
        if socket.status == psutil.CONN_LISTEN and socket.laddr.ip != "127.0.0.1"
    ]


def _overlap(a: dict, b: dict) -> bool:
    return a["began"] < b["ended"] and b["began"] < a["ended"]


def test_a_sweep_on_a_real_cluster_keeps_prepare_off_the_timer_and_timing_alone(
    write_cases, run_suite, tmp_path, capsys, monkeypatch
):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    marker = tmp_path / "killed"
    monkeypatch.setenv(KILL_MARKER_ENV, str(marker))  # the workers inherit both
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # where ``factories`` is
    with scheduler_on_localhost(tmp_path) as (scheduler_file, worker):
        prepare_log, timer_log = tmp_path / "prepare.log", tmp_path / "timer.log"
        cases, out = str(write_cases(CASES)), tmp_path / "run"
        options = ("--scheduler-file", str(scheduler_file), "--out", str(out), "--quick")
        # no worker yet: refused in one line, before anything is prepared or written
        capsys.readouterr()
        assert run_suite(cases, *options) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert "has no prepare worker" in line and "--role prepare" in line, line
        assert line.startswith(f"error: --scheduler-file: the scheduler in {scheduler_file}")
        assert not out.exists()
        with started([*worker, "--role", "prepare", "--processes", "2"], prepare_log):
            _workers(scheduler_file, 2)
            # no timer yet: refused in one line, before anything is prepared or written
            capsys.readouterr()
            assert run_suite(cases, *options) == 2
            (line,) = capsys.readouterr().err.strip().splitlines()
            assert "has timer workers of 0 machine classes" in line and "--role timer" in line
            assert not out.exists()
            with started([*worker, "--role", "timer"], timer_log):
                workers = _workers(scheduler_file, 3)
                assert not listening_beyond_localhost()
                cache = tmp_path / "cache"
                code = run_suite(cases, *options, "--processes", "2", "--cache", str(cache))
                after = _workers(scheduler_file, 3)  # the killed process's successor
            assert marker.exists(), "no worker was killed: the lost worker went untested"
            assert code == 0, (
                (out / "errors.log").read_text() if (out / "errors.log").exists() else ""
            )
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, f"processes left running: {left}"
    _prepare_stayed_off_the_timer_and_timing_alone(out, workers, after)


def _prepare_stayed_off_the_timer_and_timing_alone(out: Path, workers: dict, after: dict) -> None:
    """What the sweep's results.json records of who ran what when."""
    timer_resources = {timer_resource(machine_class()): 1}
    timer = [a for a, w in workers.items() if w["resources"] == timer_resources]
    prepare = [a for a, w in workers.items() if w["resources"] == {PREPARE_RESOURCE: 1}]
    assert len(timer) == 1 and len(prepare) == 2
    assert set(after) - set(workers), "the killed worker's nanny started no other"
    replaced = [a for a, w in after.items() if w["resources"] == {PREPARE_RESOURCE: 1}]
    results = json.loads((out / "results.json").read_text())
    run = results["run"]
    assert run["phases"]["prepare"]["engine"].startswith("dask cluster at tcp://127.0.0.1:")
    assert run["phases"]["time"]["machine_class"] == machine_class()
    # every machine with its roles; the run's machine is the one that timed
    roles = {m["worker"]: m["roles"] for m in run["machines"]}
    assert roles == {
        None: [],  # the run's own process only coordinates
        timer[0]: ["time"],
        **{key: ["prepare", "check"] for key in prepare},
    }
    timer_record = next(m["machine"] for m in run["machines"] if m["worker"] == timer[0])
    assert run["machine"] == timer_record and timer_record["threads"] == run["options"]["threads"]
    _tasks_kept_apart(results, out, timer, [*prepare, *replaced])


def _tasks_kept_apart(results: dict, out: Path, timer: list, prepare: list) -> None:
    tasks = results["run"]["tasks"]
    prepares = [t for t in tasks if t["kind"] == "prepare"]
    timings = [t for t in tasks if t["kind"] == "time"]
    assert sorted(t["what"] for t in prepares) == sorted(c["id"] for c in results["cases"])
    assert [t["what"] for t in timings] == ["process 1", "process 2"]
    assert {t["worker"] for t in prepares} <= set(prepare)  # never on the timer
    assert {t["worker"] for t in timings} == set(timer)
    assert not _overlap(*timings)  # one timing process at a time
    assert not any(_overlap(p, t) for p in prepares for t in timings)  # this host has both
    assert all(t["began"] <= t["ended"] for t in tasks)
    for case in results["cases"]:
        assert case["status"] == "ok", case["id"]
        assert len(case["runtimes"]["torch-cpu"]["latency"]["process_starts_s"]) == 2
    assert sorted(p.name for p in (out / "timing").glob("benchmark-process*.json")) == [
        "benchmark-process1.json",
        "benchmark-process2.json",
    ]


TWO_CASES = """
[defaults]
channels = 3
size = 16

[[case]]
id = "c"
method = ["transposed", "resize_conv"]
"""


def test_timers_of_two_machine_classes_each_time_every_case_into_their_own_latencies(
    write_cases, run_suite, tmp_path, capsys, whole_machine
):
    """Two real classes on this host: a timer with both cores, and one pinned to core 0 (one
    usable core is another machine class). The run's own class times first, the other after
    it, never at once; each latency names the class it was timed on."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two usable cores to have two machine classes on one host")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    cases, out = str(write_cases(TWO_CASES)), tmp_path / "run"
    with scheduler_on_localhost(tmp_path) as (scheduler_file, worker):
        core = min(os.sched_getaffinity(0))
        pinned = ["taskset", "-c", str(core), *worker, "--role", "timer"]
        options = ("--scheduler-file", str(scheduler_file), "--out", str(out), "--quick")
        options += ("--threads", "1", "--cache", str(tmp_path / "cache"))
        with (
            started([*worker, "--role", "prepare"], tmp_path / "prepare.log"),
            started([*worker, "--role", "timer"], tmp_path / "timer.log"),
            started(pinned, tmp_path / "pinned.log"),
        ):
            workers = _workers(scheduler_file, 3)
            assert not listening_beyond_localhost()
            classes, own, other = _timer_classes(workers)
            _refused_without_a_known_class(run_suite, cases, options, capsys, out)
            code = run_suite(cases, *options, "--timer-class", own)
            said = capsys.readouterr().err
            if importlib.util.find_spec("bokeh") is None:  # nothing to watch: no link to it
                assert "dashboard:" not in said and "on the Dask cluster at" in said
            assert code == 0, (
                (out / "errors.log").read_text() if (out / "errors.log").exists() else ""
            )
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, f"processes left running: {left}"
    _each_class_timed_into_its_own_latencies(out, workers, classes, own, other)


def _refused_without_a_known_class(run_suite, cases, options, capsys, out: Path) -> None:
    """Two classes and none named, or one that is not there: refused in one line, nothing
    written."""
    capsys.readouterr()
    assert run_suite(cases, *options) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "2 machine classes" in line and "--timer-class" in line
    assert run_suite(cases, *options, "--timer-class", "no-such-class") == 2
    assert "has no timer of class no-such-class" in capsys.readouterr().err
    assert not (out / "results.json").exists()


def _timer_classes(workers: dict) -> tuple[list[str], str, str]:
    """The timers' machine classes, the run's own and the one pinned to one core."""
    classes = sorted(
        r.removeprefix("timer-")
        for w in workers.values()
        for r in w["resources"]
        if r.startswith("timer-")
    )
    own = timer_resource(machine_class()).removeprefix("timer-")
    (other,) = [k for k in classes if k != own]
    assert other.endswith("-1c") and own in classes
    return classes, own, other


def _each_class_timed_into_its_own_latencies(out, workers, classes, own, other) -> None:
    results = json.loads((out / "results.json").read_text())
    run = results["run"]
    time_phase = run["phases"]["time"]
    assert time_phase["machine_class"] == own
    other_phase = time_phase["other_classes"][other]
    assert other_phase["processes_done"] == 1 and other_phase["cut_short"] is None
    own_latency_class = results["cases"][0]["runtimes"]["ort-cpu"]["latency"]["machine_class"]
    assert "| 2 cores |" in own_latency_class
    assert "| 1 cores |" in other_phase["latency_class"]
    for case in results["cases"]:
        assert case["status"] == "ok"
        for name in ("torch-cpu", "ort-cpu"):
            result = case["runtimes"][name]
            assert result["latency"]["machine_class"] == own_latency_class
            (by_class,) = result["latency_by_class"].items()
            assert by_class[0] == other_phase["latency_class"] == by_class[1]["machine_class"]
            assert by_class[1]["median_s"] > 0
    # each class's timing process ran on its own timer, the other after the run's own
    timer_of = {
        k: next(a for a, w in workers.items() if f"timer-{k}" in w["resources"]) for k in classes
    }
    timings = [t for t in run["tasks"] if t["kind"] == "time"]
    assert [(t["worker"], t.get("class")) for t in timings] == [
        (timer_of[own], None),
        (timer_of[other], other),
    ]
    assert timings[0]["ended"] <= timings[1]["began"]
    _report_and_gate_read_each_class(out, results, other_phase["latency_class"], own_latency_class)


def _report_and_gate_read_each_class(out: Path, results: dict, theirs: str, mine: str) -> None:
    """The report puts each other class's latency beside the run's own; the gate takes the
    latency of its baseline's class, from either."""
    assert not report_run(out).failed
    summary = (out / "report" / "summary.md").read_text()
    assert "### Latency on each machine class" in summary
    escaped = theirs.replace("|", "\\|")  # a markdown cell's pipes
    rows = [line for line in summary.splitlines() if line.startswith("| c[") and escaped in line]
    assert len(rows) == 4  # two cases, on torch-cpu and ort-cpu
    record = cases_of(results)[0]
    assert latency_classes(results) == {mine, theirs}
    assert latency_classes(results, every=False) == {mine}
    gated = gated_runtimes(results["run"])
    assert figures(record, gated, mine)["latency"]["ort-cpu"]["machine_class"] == mine
    assert figures(record, gated, theirs)["latency"]["ort-cpu"]["machine_class"] == theirs


def test_the_worker_command_gives_each_role_its_resources_and_a_quiet_timer(monkeypatch):
    from suite.cli import build_parser
    from suite.commands.worker import TIMER_CONFIG, command

    for key in TIMER_CONFIG:
        monkeypatch.delenv(key, raising=False)

    def line_of(*argv: str):
        return command(build_parser().parse_args(["worker", *argv]))

    line, env = line_of("tcp://127.0.0.1:8786", "--role", "timer", "--host", "127.0.0.1")
    assert line[line.index("--resources") + 1] == f"{timer_resource(machine_class())}=1"
    assert line[line.index("--dashboard-address") + 1] == "127.0.0.1:0"  # not every address
    assert line[line.index("--nthreads") + 1] == line[line.index("--nworkers") + 1] == "1"
    assert TIMER_CONFIG.items() <= env.items()
    assert env["DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON"] == "{}"
    line, env = line_of("--scheduler-file", "f.json", "--role", "prepare", "--processes", "3")
    assert line[line.index("--resources") + 1] == f"{PREPARE_RESOURCE}=1"
    assert line[line.index("--nworkers") + 1] == "3"
    assert not TIMER_CONFIG.keys() & env.keys()  # a prepare worker keeps Dask's defaults


def test_the_worker_command_refuses_bad_input_in_one_line(capsys):
    from suite.cli import main

    for argv, wanted in (
        (["--role", "prepare"], "give the scheduler's ADDRESS or --scheduler-file"),
        (["tcp://h:1", "--role", "timer", "--processes", "2"], "a timer is one process"),
        (["tcp://h:1", "--role", "prepare", "--processes", "0"], "must be >= 1"),
        (["tcp://h:1", "--role", "cook"], "invalid choice"),
    ):
        assert main(["worker", *argv]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert wanted in line, line


class _Client:
    def __init__(self, services: dict, bokeh: bool = True) -> None:
        self.services = services
        self.bokeh = bokeh
        self.dashboard_link = "http://127.0.0.1:8787/status"

    def run_on_scheduler(self, function) -> bool:
        return self.bokeh

    def scheduler_info(self, n_workers: int) -> dict:
        return {"services": self.services}


def test_the_prepare_phase_names_the_clusters_dashboard_where_it_serves_one():
    from suite.bench.cluster import dashboard_note

    assert dashboard_note(_Client({"dashboard": 8787})) == (
        " (dashboard: http://127.0.0.1:8787/status)"
    )
    assert dashboard_note(_Client({})) == ""
    # a scheduler lists its HTTP server as its dashboard even without bokeh to draw one
    assert dashboard_note(_Client({"dashboard": 8787}, bokeh=False)) == ""


class _Workers:
    def __init__(self, answers: dict) -> None:
        self.answers = answers

    def run(self, function) -> dict:
        return self.answers


def test_a_worker_with_other_code_or_libraries_is_refused_in_one_line():
    from suite.bench.roles import _check_versions, code_and_versions
    from suite.errors import UsageError

    mine = code_and_versions()
    _check_versions(_Workers({"tcp://a:1": mine}), "here", "--cluster")  # the same: accepted
    other_torch = {**mine, "torch": "0.0.1"}
    other_code = {**mine, "suite": {"commit": "0" * 40, "dirty": False}}
    for theirs, name in ((other_torch, "torch 0.0.1"), (other_code, "suite {")):
        with pytest.raises(UsageError) as refused:
            _check_versions(_Workers({"tcp://a:1": mine, "tcp://b:2": theirs}), "here", "--cluster")
        (line,) = refused.value.lines
        assert line.startswith(f"--cluster: worker tcp://b:2 at here has {name}"), line
