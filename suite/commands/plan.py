"""Predict how long a sweep takes on N machines, from the stage durations a real run recorded
(``suite/plan.py`` says the model). Nothing runs: it is arithmetic on that run's figures."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..casefile import load_cases
from ..errors import UsageError
from ..plan import plan, slots_caveat
from ..results import load_run

NAME = "plan"
HELP = "predict a sweep's wall time on N machines from a recorded run's stage durations"
REFERENCE_RUN = Path("results/reference/run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="case files (*.toml) or folders of them")
    parser.add_argument(
        "--machines",
        type=int,
        nargs="+",
        default=[1],
        metavar="N",
        help="machine counts to predict for (default: 1)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="prepare workers per machine (default: the usable cores)",
    )
    parser.add_argument(
        "--from",
        dest="run",
        type=Path,
        default=REFERENCE_RUN,
        help=f"the run whose durations are the model's (default: {REFERENCE_RUN})",
    )


def _minutes(seconds: float) -> str:
    if seconds < 90:  # a small sweep's phases: "0.0 min" would say nothing
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def main(args: argparse.Namespace) -> int:
    if any(n < 1 for n in args.machines) or args.workers < 1:
        raise UsageError("--machines and --workers: each must be >= 1")
    cases = load_cases(args.paths)
    results = load_run(args.run)
    console = Console(highlight=False)
    # a line of its own: a table's title wraps at the table's width, a path and a CPU name with it
    console.print(
        f"{len(cases)} cases, {args.workers} prepare workers per machine, "
        f"from {args.run} ({results['run']['machine']['cpu']})"
    )
    table = Table()
    for column in ("machines", "prepare + check", "time", "fixed", "makespan"):
        table.add_column(column, justify="right")
    for machines in args.machines:
        found = plan(cases, results, machines, args.workers)
        table.add_row(
            str(machines),
            *map(_minutes, (found.prepare_s, found.time_s, found.fixed_s, found.makespan_s)),
        )
    console.print(table)
    if caveat := slots_caveat(results, args.workers):
        console.print(caveat)
    if found.estimated:
        console.print(
            f"{found.estimated} of {found.cases} cases are not in that run: each is estimated by "
            "the median of its method's cases there"
        )
    return 0
