"""Build, export, run, check and time every case; write DIR/results.json and DIR/benchmark.json.

Exit status: 0 when every case ran (mismatches are findings, listed in the summary), 1 when a case
failed (its error is in results.json and DIR/errors.log), 2 for bad input, with nothing written.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from .. import summary
from ..analysis.samples import SAMPLES_FILE, write_samples
from ..bench.plugin import BenchPlugin
from ..bench.progress import Progress
from ..bench.session import TIMINGS, BenchSession, Options
from ..bench.yardstick import yardstick_case
from ..casefile import case_files, load_cases
from ..environment import git_commit, machine, versions
from ..errors import UsageError
from ..results import BENCHMARK_FILE, RESULTS_FILE, SCHEMA_VERSION, validate, write_results
from ..runtimes import REFERENCE, get_runtime, list_runtimes
from . import report as report_command

NAME = "run"
HELP = "run cases end to end and write results.json"
RUNS_DIR = Path("results/runs")
CACHE_DIR = Path("results/cache/onnx")
#: Set to 1 to let the bench's pytest session print its own report (for debugging the bench).
DEBUG_ENV = "UPSAMPLING_BENCH_DEBUG"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="case files (*.toml) or folders of them")
    parser.add_argument("--out", type=Path, help="run folder (default: a new one in results/runs)")
    parser.add_argument("--quick", action="store_true", help="few timing rounds (tests, CI)")
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="threads for torch and onnxruntime (default: the usable cores)",
    )
    parser.add_argument(
        "--runtimes",
        help=f"comma-separated subset of {', '.join(list_runtimes())}; a runtime named here "
        "must be available (default: all, absent ones recorded as skipped)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("UPSAMPLING_BENCH_CACHE", CACHE_DIR)),
        help=f"exported-model cache (default: $UPSAMPLING_BENCH_CACHE or {CACHE_DIR})",
    )
    parser.add_argument(
        "--pass-gap",
        type=float,
        metavar="SECONDS",
        help="least time between the starts of a case's timing passes (default "
        f"{TIMINGS['default'].min_pass_gap_s:g}; 0 where latency is not looked at)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing results.json in --out"
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="skip the report (by default the run ends by writing DIR/report/)",
    )


def _runtimes(requested: str | None) -> list[str]:
    if requested is None:
        return list_runtimes()
    names = [name.strip() for name in requested.split(",") if name.strip()]
    problems = []
    for name in names:
        if name not in list_runtimes():
            problems.append(
                f"--runtimes: unknown runtime {name!r}; known: {', '.join(list_runtimes())}"
            )
        elif reason := get_runtime(name).unavailable():
            problems.append(f"--runtimes: {name} is not available here: {reason}")
    if problems:
        raise UsageError(problems)
    # Parity needs the reference's output, so it always runs, and first.
    return [REFERENCE, *[n for n in dict.fromkeys(names) if n != REFERENCE]]


def _out_dir(args: argparse.Namespace, run_id: str) -> Path:
    out = args.out or RUNS_DIR / run_id
    if (out / RESULTS_FILE).exists() and not args.force:
        raise UsageError(f"--out: {out / RESULTS_FILE} exists; pass --force to replace it")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a folder")
    return out


def main(args: argparse.Namespace) -> int:
    if args.threads < 1:
        raise UsageError(f"--threads: must be >= 1, got {args.threads}")
    if args.pass_gap is not None and not 0 <= args.pass_gap < 3600:
        raise UsageError(f"--pass-gap: must be between 0 and 3600 seconds, got {args.pass_gap}")
    cases = load_cases(args.paths)
    runtimes = _runtimes(args.runtimes)
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    out = _out_dir(args, run_id)
    out.mkdir(parents=True, exist_ok=True)
    (out / "errors.log").unlink(missing_ok=True)
    options = Options(args.quick, args.threads, runtimes, args.cache, out, args.pass_gap)

    console = Console(stderr=True, highlight=False)
    clock = time.perf_counter()
    with Progress(0, len(cases), console) as progress:
        session = BenchSession(cases, options, progress)
        later = (session.timing.passes - 1) * len(session.timed_runtimes)
        progress.set_total(1 + len(cases) * (len(runtimes) + later))
        exit_code = pytest.main(_pytest_args(options), plugins=[BenchPlugin(session)])
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(
            f"the bench's pytest session ended with {exit_code!r}; set {DEBUG_ENV}=1 to see "
            "its own output"
        )

    samples = session.samples()  # also names each case's sample keys in its record
    cases_done = session.case_records()
    results = {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": out.name if args.out else run_id,
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "wall_s": time.perf_counter() - clock,
            "git": git_commit(Path.cwd()),
            "machine": machine(args.threads),
            "versions": versions(),
            "options": {
                "quick": args.quick,
                "runtimes": runtimes,
                "threads": args.threads,
                "pass_gap_s": session.timing.min_pass_gap_s,
            },
            "copy_bandwidth": session.copy_bandwidth,
            "files": [str(p) for p in case_files(args.paths)],
            "samples": SAMPLES_FILE,
            "yardstick": {k: v for k, v in yardstick_case().describe().items() if k != "file"},
            "calibration": calibration_table(),
        },
        "cases": cases_done,
    }
    validate(results)  # before anything is written: a run writes all of its files or none
    write_samples(out, samples)
    path = write_results(out, results)
    report = Console(highlight=False)
    if not report.is_terminal:
        report = Console(highlight=False, width=120)  # logs: wide enough for the method table
    report.print(summary.render(results, path, session.crashes), soft_wrap=True)
    failed = any(c["status"] == "failed" for c in results["cases"]) or session.crashes
    report_failed = args.report and report_command.render(out) != 0
    return 1 if failed or report_failed else 0


def calibration_table() -> list[dict]:
    """The calibration battery's table (known answers against the suite's own figures), run
    after the timing so that it never shares the machine with a measurement."""
    from ..analysis.battery import battery_record

    return battery_record()


def _pytest_args(options: Options) -> list[str]:
    here = Path(__file__).resolve().parent.parent / "bench"
    quiet = [] if os.environ.get(DEBUG_ENV) == "1" else ["-p", "no:terminal"]
    return [
        str(here / "items.py"),
        "-c",
        str(here / "pytest.ini"),
        f"--rootdir={here}",
        *quiet,
        "-p",
        "no:cacheprovider",
        "--noconftest",
        "--assert=plain",
        "-W",
        "ignore",
        f"--benchmark-json={options.out_dir / BENCHMARK_FILE}",
        "--benchmark-quiet",
        "--benchmark-disable-gc",
        "--benchmark-timer=time.perf_counter",
        "--benchmark-sort=name",
        "--benchmark-group-by=group",
    ]
