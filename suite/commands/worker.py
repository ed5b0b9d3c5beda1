"""Start a Dask worker for a run on a real cluster (``run --cluster ADDRESS``), in one of two
roles: ``prepare`` (build, export, reference, figures: deterministic work, as many processes as
asked) or ``timer`` (one process, one thread, the ``timer-<class>`` resource: the run's timing
processes, one at a time, on a host that does nothing else meanwhile).

A thin wrapper over ``dask worker``: it works out the machine class, gives each role its
resources, and for a timer turns off what would disturb the timing (the statistical profiler,
NVML polling, the 20 ms event-loop tick, the nanny's forced thread variables).
"""

from __future__ import annotations

import argparse
import os
import sys

from ..bench.roles import PREPARE_RESOURCE, machine_class, timer_resource
from ..errors import UsageError

NAME = "worker"
HELP = "start a Dask worker for `run --cluster`, as a prepare or a timer worker"

#: Dask settings of a timer worker (``DASK_*`` variables, read when its process starts)
TIMER_CONFIG = {
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
    "DASK_DISTRIBUTED__DIAGNOSTICS__NVML": "False",
    "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "1s",
    "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL": "5s",
}
#: every worker: the nanny must not force OMP_NUM_THREADS=1 and others on what it starts
NANNY_CONFIG = {"DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON": "{}"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", nargs="?", help="the scheduler, e.g. tcp://10.0.0.1:8786")
    parser.add_argument("--scheduler-file", help="the scheduler's file, instead of ADDRESS")
    parser.add_argument("--role", choices=("prepare", "timer"), required=True)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="prepare worker processes on this host, one task each (default 1; a timer is one)",
    )
    parser.add_argument("--host", help="the address to listen on (default: Dask's choice)")


def command(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The ``dask worker`` command line and the environment it runs with."""
    if (args.address is None) == (args.scheduler_file is None):
        raise UsageError("worker: give the scheduler's ADDRESS or --scheduler-file, not both")
    if args.role == "timer" and args.processes != 1:
        raise UsageError("worker: --processes: a timer is one process (the host times alone)")
    if args.processes < 1:
        raise UsageError(f"worker: --processes: must be >= 1, got {args.processes}")
    where = [args.address] if args.address else ["--scheduler-file", args.scheduler_file]
    resource = PREPARE_RESOURCE if args.role == "prepare" else timer_resource(machine_class())
    line = [
        *(sys.executable, "-m", "distributed.cli.dask_worker", *where),
        *("--nworkers", str(args.processes), "--nthreads", "1"),
        *("--resources", f"{resource}=1", "--no-dashboard"),
        # its HTTP server (health, metrics) listens where the worker does, not on every address
        *(("--host", args.host, "--dashboard-address", f"{args.host}:0") if args.host else ()),
    ]
    env = {**os.environ, **NANNY_CONFIG, **(TIMER_CONFIG if args.role == "timer" else {})}
    return line, env


def main(args: argparse.Namespace) -> int:
    line, env = command(args)
    os.execvpe(line[0], line, env)  # the worker replaces this process: its signals, its exit
    return 0  # not reached
