"""Build, export, run, check and time every case; write DIR/results.json, and DIR/timing/ with
pytest-benchmark's JSON of each timing process.

Exit status: 0 when every case ran (mismatches are findings, listed in the summary), 1 when a case
failed (its error is in results.json and DIR/errors.log), 2 for bad input, with nothing written.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from .. import summary
from ..analysis.battery import battery_record
from ..bench.checkpoint import CHECKPOINT_DIR, Checkpoints
from ..bench.cluster import prepare_phase
from ..bench.options import Options
from ..bench.progress import Progress
from ..bench.roles import Cluster, cluster_client
from ..bench.session import BenchSession
from ..bench.worker import TimingResult, run_timing_processes
from ..bench.yardstick import yardstick_case
from ..casefile import case_files, load_cases
from ..codekey import cached, code_key
from ..environment import git_commit, machine, versions
from ..errors import UsageError
from ..machines import machine_class
from ..methods import get_method
from ..records import cases_of
from ..report.run import report_run
from ..results import RESULTS_FILE, SCHEMA_VERSION, validate, write_results
from ..run_summary import RunSummary
from ..runtimes import get_runtime
from ..samplefile import SAMPLES_FILE, keep_drawn_samples, write_samples
from ..shard import case_set
from .run_options import RUNS_DIR, add_arguments, runtimes_asked

__all__ = ["RUNS_DIR", "add_arguments", "main", "new_run_id"]  # compare runs a run
NAME = "run"
HELP = "run cases end to end and write results.json"
#: the calibration battery's tables, by the key of the code that computed them (in --cache)
CALIBRATION_DIR = "calibration"


def new_run_id(started: datetime | None = None) -> str:
    """A run's id: when it started (UTC), and four hex digits against a clash."""
    started = started or datetime.now(UTC)
    return started.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def _out_dir(args: argparse.Namespace, run_id: str) -> Path:
    if args.resume and (args.out is None or args.force):
        raise UsageError("--resume: name the unfinished run's folder with --out, without --force")
    out = args.out or RUNS_DIR / run_id
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a folder")
    if (out / RESULTS_FILE).exists() and args.resume:
        raise UsageError(f"--resume: {out / RESULTS_FILE} exists: that run finished")
    if (out / RESULTS_FILE).exists() and not args.force:
        raise UsageError(f"--out: {out / RESULTS_FILE} exists; pass --force to replace it")
    if (out / CHECKPOINT_DIR).exists() and not (args.resume or args.force):
        raise UsageError(
            f"--out: {out} holds an unfinished run's checkpoints; pass --resume to finish it "
            "or --force to start again"
        )
    return out


def _asked(args: argparse.Namespace, cases, runtimes: list[str], all_ids: list[str]) -> dict:
    """What the run is asked to do, as a resume must ask for it again (``checkpoint.py``):
    everything that decides a figure, and the code and libraries that compute them."""
    return {
        "cases": case_set([case.id for case in cases]),
        "shard": args.shard.describe(all_ids) if args.shard else None,
        "runtimes": runtimes,
        "threads": args.threads,
        "quick": args.quick,
        "processes": args.processes,
        "analyse": args.analyse,
        "with_copies": args.with_copies,
        "cache": str(args.cache.resolve()),
        "git": git_commit(Path.cwd()),
        "versions": versions(),
        **({"timer_class": args.timer_class} if args.timer_class else {}),
    }


def _checkpoints(args, out: Path, asked: dict, run_id: str, started: datetime) -> Checkpoints:
    if args.resume:
        return Checkpoints.resume(out, asked, started)
    (out / "errors.log").unlink(missing_ok=True)
    return Checkpoints.start(out, asked, out.name if args.out else run_id, started)


def _check(args: argparse.Namespace) -> None:
    if args.threads < 1:
        raise UsageError(f"--threads: must be >= 1, got {args.threads}")
    if args.workers < 0:
        raise UsageError(
            f"--workers: must be >= 0 (0: prepare in this process), got {args.workers}"
        )
    if args.processes is not None and not 1 <= args.processes <= 100:
        raise UsageError(f"--processes: must be between 1 and 100, got {args.processes}")
    if args.cluster and args.scheduler_file:
        raise UsageError("--cluster and --scheduler-file: give one")
    if args.timer_class and not (args.cluster or args.scheduler_file):
        raise UsageError("--timer-class: only with --cluster or --scheduler-file")


@contextmanager
def _cluster(args: argparse.Namespace, runtimes: list[str]) -> Iterator[Cluster | None]:
    """The real cluster (``--cluster``), or None: a LocalCluster, if any, is the prepare
    phase's own, and this machine times."""
    if not (args.cluster or args.scheduler_file):
        yield None
        return
    timed = any(get_runtime(name).timed for name in runtimes)
    with cluster_client(
        args.cluster, args.scheduler_file, timed, args.threads, args.timer_class
    ) as found:
        yield found


def _time(
    session: BenchSession, paths: list[str], progress: Progress, phases: dict
) -> TimingResult:
    """The timing processes, one after another, on the run's own timer class and then on each
    other one (``run --timer-class``); the phase's wall time goes into ``phases``."""
    began = time.perf_counter()
    timing = run_timing_processes(session, paths, progress)
    phases["time"] = {"wall_s": time.perf_counter() - began, "machine_class": session.timer_class}
    session.apply_timing(timing)
    for klass, record in session.other_timers.items():
        began = time.perf_counter()
        other = run_timing_processes(session, paths, progress, klass)
        timed_on = machine_class(record)
        session.apply_other_timing(other, timed_on)
        phases["time"].setdefault("other_classes", {})[klass] = {
            "wall_s": time.perf_counter() - began,
            "latency_class": timed_on,
            "processes_done": len(other.latencies),
            "cut_short": other.cut_short,
        }
        if other.cut_short and not timing.cut_short:
            timing.cut_short = f"on {klass}: {other.cut_short}"
    return timing


def run_record(
    args, run_id: str, started: datetime, clock: float, session, timing, phases: dict
) -> dict:
    """results.json's ``run``: where, how and on what it ran, as it finished."""
    runtimes = session.runtimes
    return {
        "id": run_id,
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "wall_s": time.perf_counter() - clock,
        "git": git_commit(Path.cwd()),
        "machine": machine(args.threads),
        "versions": versions(),
        "options": {
            "quick": args.quick,
            "analyse": args.analyse,
            "runtimes": runtimes,
            "threads": args.threads,
            "with_copies": args.with_copies,
        },
        "runtimes": {name: get_runtime(name).describe() for name in runtimes},
        "methods": methods_used(session.cases),
        "timing": timing.describe(session.timing.describe()),
        "phases": phases,
        "ceilings": session.run_ceilings,
        "files": [str(p) for p in case_files(args.paths)],
        "samples": SAMPLES_FILE,
        "samples_kept": "all",
        "yardstick": {k: v for k, v in yardstick_case().describe().items() if k != "file"},
        "calibration": calibration_table(args.cache, args.threads, phases) if args.analyse else [],
    }


def _say(results: dict, path: Path, session: BenchSession, timing: TimingResult) -> None:
    report = Console(highlight=False)
    if not report.is_terminal and "COLUMNS" not in os.environ:
        report = Console(highlight=False, width=120)  # logs: wide enough for the layer table
    for part, plain in summary.parts(results, path, session.crashes):
        report.print(part, soft_wrap=plain)  # a problem stays one line, for grep
    if timing.cut_short:
        report.print(f"timing cut short: {timing.cut_short}", markup=False, style="bold red")


def main(args: argparse.Namespace) -> int:
    _check(args)
    cases = load_cases(args.paths)
    all_ids = [case.id for case in cases]
    if args.shard:
        cases = args.shard.select(cases)
    runtimes = runtimes_asked(args.runtimes)
    # a cluster unfit to run on is refused before anything is written
    with _cluster(args, runtimes) as cluster:
        done = _run(args, cases, all_ids, runtimes, cluster)
    return _finish(args, *done)


def _run(args, cases, all_ids: list[str], runtimes: list[str], cluster: Cluster | None):
    """The run, checkpointed as it goes; its results, not yet written."""
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    out = _out_dir(args, run_id)
    out.mkdir(parents=True, exist_ok=True)
    checkpoints = _checkpoints(args, out, _asked(args, cases, runtimes, all_ids), run_id, started)
    options = Options(
        args.quick,
        args.threads,
        runtimes,
        args.cache,
        out,
        args.processes,
        analyse=args.analyse,
        with_copies=args.with_copies,
    )
    clock = time.perf_counter()
    with Progress(len(cases), Console(stderr=True, highlight=False)) as progress:
        session = BenchSession(cases, options, progress)
        if cluster:
            session.client, session.timer_class = cluster.client, cluster.timer_class
            session.other_timers = {k: cluster.timer_records[k] for k in cluster.timer_classes[1:]}
        session.restore(checkpoints)
        phases = {"prepare": prepare_phase(session, args.workers).describe()}
        timing = _time(session, args.paths, progress, phases)
    first_start = datetime.fromisoformat(checkpoints.started)
    run = run_record(args, checkpoints.run_id, first_start, clock, session, timing, phases)
    # on a cluster the run's own process only coordinates: its workers prepare, check and time
    here = {"worker": None, "roles": [], "machine": run["machine"]}
    if cluster is None:
        here["roles"] = ["prepare", "check", "time"]
    else:  # the latencies, ceilings and gate are the timer's
        run["machine"] = cluster.timer_machine() or run["machine"]
    run["machines"] = [here, *(cluster.machines if cluster else [])]
    if args.shard:
        run["shard"] = args.shard.describe(all_ids)
    if checkpoints.this_resume:
        run["resumed"] = checkpoints.resumed()
    if session.tasks:
        run["tasks"] = session.tasks
    cases_run = session.case_records(machine_class(run["machine"]))
    results = {"schema_version": SCHEMA_VERSION, "run": run, "cases": cases_run}
    return results, out, session, timing, checkpoints


def _finish(args, results: dict, out: Path, session, timing, checkpoints) -> int:
    """Write the run's files (all or none), say what it found, draw its report."""
    validate(results)  # before anything is written: a run writes all of its files or none
    write_samples(out, session.samples())
    path = write_results(out, results)
    checkpoints.finish()
    _say(results, path, session, timing)
    failed = (
        RunSummary.of(cases_of(results)).counts["failed"] or session.crashes or timing.cut_short
    )
    report = report_run(out) if args.report and args.analyse else None
    if report and not report.failed and args.samples == "report" and not args.shard:
        keep_drawn_samples(out, results, report.sample_keys)
    return 1 if failed or (report and report.failed) else 0


def methods_used(cases) -> dict[str, dict]:
    """Each method the cases use, as its registry entry declares it (``Method.describe``)."""
    names = sorted({stage.method for case in cases for stage in case.stages})
    return {name: get_method(name).describe() for name in names}


def calibration_table(cache: Path, threads: int, phases: dict) -> list[dict]:
    """The calibration battery's table (known answers against the suite's own figures), run
    after the timing so that it never shares the machine with a measurement. A function of the
    code alone: read from the cache when this code on these libraries computed it before
    (``codekey.py``); ``phases["calibration"]`` says which."""
    began = time.perf_counter()
    table, read = cached(cache / CALIBRATION_DIR, code_key(threads), battery_record)
    phases["calibration"] = {"wall_s": time.perf_counter() - began, "cached": read}
    return table
