"""``run``'s command line: its options (how the run uses the machine, where it prepares and
times, what it writes), and the runtimes ``--runtimes`` names."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..bench.connect import CONNECT_TIMEOUT_S
from ..errors import UsageError
from ..runtimes import REFERENCE, get_runtime, list_runtimes
from ..shard import Shard
from ..timing.policy import DEFAULT_TIMING, TIMINGS

RUNS_DIR = Path("results/runs")
CACHE_DIR = Path("results/cache/onnx")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="case files (*.toml) or folders of them")
    parser.add_argument("--out", type=Path, help="run folder (default: a new one in results/runs)")
    _add_machine_arguments(parser)
    _add_timing_arguments(parser)
    _add_engine_arguments(parser)
    _add_planning_arguments(parser)
    _add_what_arguments(parser)


def _add_machine_arguments(parser: argparse.ArgumentParser) -> None:
    """How the run uses the machine: threads, runtimes, the export cache."""
    parser.add_argument(
        "--threads",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="threads for torch and onnxruntime (default: the usable cores)",
    )
    parser.add_argument(
        "--runtimes",
        help=f"comma-separated subset of {', '.join(list_runtimes())}; a runtime named here "
        "must be available (default: all, absent ones recorded as skipped). A device's name "
        f"({', '.join(sorted(DEVICE_GROUPS))}) takes its runtimes, absent ones recorded as "
        "skipped with their reason (tox -e bench-gpu: --runtimes gpu)",
    )
    parser.add_argument(
        "--with-copies",
        action="store_true",
        help="time latency_with_copies (host input in, a new host output back) beside the "
        "IO-bound latency on every runtime that binds its inputs and outputs, not only on "
        "the GPU runtimes",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("UPSAMPLING_BENCH_CACHE", CACHE_DIR)),
        help=f"exported-model cache (default: $UPSAMPLING_BENCH_CACHE or {CACHE_DIR}); it "
        "also keeps each prepared case (prepared/) and the calibration battery (calibration/), "
        "read back where the same case, code, libraries, threads and CPU computed them",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="read no prepared case and no calibration battery from --cache: compute each "
        "again and write it over its entry (exports are still reused)",
    )


def _add_timing_arguments(parser: argparse.ArgumentParser) -> None:
    """How the run times: its policy, and how many processes at most."""
    parser.add_argument(
        "--timing",
        choices=sorted(TIMINGS),
        default=DEFAULT_TIMING,
        help=f"the timing policy (default {DEFAULT_TIMING}): choose times each case x runtime "
        "in fresh processes until its figure's 95%% interval is within "
        f"±{TIMINGS['choose'].target_width * 50:g}%% ({TIMINGS['choose'].min_processes} to "
        f"{TIMINGS['choose'].processes} processes); gate is the regression gate's protocol "
        f"({TIMINGS['gate'].processes} processes of {TIMINGS['gate'].sessions} sessions, each "
        "round bracketed by the yardstick; tox -e gate, suite baseline); quick is one session, in "
        "the run's own process",
    )
    parser.add_argument("--quick", action="store_true", help="--timing quick (tests, CI)")
    parser.add_argument(
        "--processes",
        type=int,
        metavar="N",
        help="fresh timing processes, one after another (default "
        "the policy's: at most that many with --timing choose): the "
        "process, not the round, is what a run replicates",
    )


def _add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the cases are prepared and timed (a LocalCluster, this process, a real cluster),
    and whether an unfinished run is taken up again."""
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=int(os.environ.get("UPSAMPLING_BENCH_WORKERS", len(os.sched_getaffinity(0)))),
        help="Dask LocalCluster worker processes that prepare the cases (build, export, "
        "reference, figures) before anything is timed; 0 prepares them in this process "
        "(default: $UPSAMPLING_BENCH_WORKERS or the usable cores)",
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="prepare on this Dask scheduler's prepare workers and time on its timer worker "
        "(`python -m suite worker ADDRESS --role prepare|timer`) instead of a LocalCluster; "
        "cases, fitted weights and exports travel with the tasks, each worker keeps its own "
        "export cache at --cache's path, and a case's factory module must import there",
    )
    parser.add_argument(
        "--scheduler-file",
        metavar="FILE",
        help=f"as --cluster, the scheduler named in FILE (waited for up to "
        f"{CONNECT_TIMEOUT_S:g} s while a starting scheduler writes it)",
    )
    parser.add_argument(
        "--timer-class",
        metavar="CLASS",
        help="with timers of several machine classes on the cluster: the one whose latencies "
        "are the run's own (latency, the ceilings, the gate's class); every other class times "
        "the same cases after it, into each runtime's latency_by_class",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="finish the unfinished run in --out: what its checkpoints hold (cases finished, "
        "timing processes finished) is not done again; the run must be asked for with the "
        "same cases and options",
    )


def _add_planning_arguments(parser: argparse.ArgumentParser) -> None:
    """What a serial run measures for the planner besides its cases (``bench/sharing.py``)."""
    parser.add_argument(
        "--measure-sharing",
        type=int,
        metavar="N",
        help="with --workers 0: after preparing, prepare a sample of the cases again on N "
        "workers at once, and record how much slower each is while they share the cores and "
        "how long they take to start (phases.sharing), for `python -m suite plan --workers N`",
    )


def _add_what_arguments(parser: argparse.ArgumentParser) -> None:
    """What the run writes."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing results.json (or an unfinished run's checkpoints) in --out",
    )
    parser.add_argument(
        "--no-analysis",
        dest="analyse",
        action="store_false",
        help="build, export, check parity and time only: no figures, samples or calibration "
        "(latency studies; implies --no-report)",
    )
    parser.add_argument(
        "--shard",
        type=Shard.parse,
        metavar="I/N",
        help="run every N-th case from the I-th only (1-based), for a CI matrix; "
        "`python -m suite merge` puts the N run folders back together",
    )
    parser.add_argument(
        "--samples",
        choices=("report", "all"),
        default="report",
        help="whose pictures samples.npz keeps: report (default), only those the run's report "
        "drew, or every case's where the run draws no report (a report drawn later needs "
        "them) or is a shard (the merged run's report draws from all shards); all: every case's",
    )
    parser.add_argument(
        "--no-report",
        dest="report",
        action="store_false",
        help="skip the report (by default the run ends by writing DIR/report/)",
    )


#: ``--runtimes`` names for every runtime of a device (``Runtime.device``)
DEVICE_GROUPS = {"gpu": "cuda", "cpu": "cpu"}


def runtimes_asked(requested: str | None) -> list[str]:
    standard = [n for n in list_runtimes() if not get_runtime(n).optional]
    if requested is None:
        return standard
    names, problems = [], []
    asked = [name.strip() for name in requested.split(",") if name.strip()]
    if not asked:
        known = ", ".join([*list_runtimes(), *sorted(DEVICE_GROUPS)])
        raise UsageError(
            f"--runtimes: names no runtime (got {requested!r}); give one or more of "
            f"{known}, or leave the option out for all"
        )
    for name in asked:
        if name in DEVICE_GROUPS:  # kept where absent: recorded as skipped with the reason
            names += [n for n in standard if get_runtime(n).device == DEVICE_GROUPS[name]]
            continue
        names.append(name)
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
