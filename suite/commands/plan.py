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
from ..plan import Spread, plan, slots_caveat, spread
from ..records import cases_of
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
        dest="runs",
        type=Path,
        action="append",
        metavar="RUN",
        help=f"a run whose durations are the model's (default: {REFERENCE_RUN}); give several "
        "runs of the same cases to see the range the machine's own speed moves the plan over",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="RUN",
        help="a cold run of these cases on one machine of --workers workers: print its measured "
        "wall time and the plan's error against it",
    )


def _minutes(seconds: float) -> str:
    if seconds < 90:  # a small sweep's phases: "0.0 min" would say nothing
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def main(args: argparse.Namespace) -> int:
    if any(n < 1 for n in args.machines) or args.workers < 1:
        raise UsageError("--machines and --workers: each must be >= 1")
    cases = load_cases(args.paths)
    paths = args.runs or [REFERENCE_RUN]
    runs = [load_run(path) for path in paths]
    measured = _against(args, cases) if args.against else None
    console = Console(highlight=False)
    cpus = ", ".join(sorted({r["run"]["machine"]["cpu"] for r in runs}))
    source = f"from {paths[0]}" if len(runs) == 1 else f"from {len(runs)} recorded runs"
    # a line of its own: a table's title wraps at the table's width, a path and a CPU name with it
    console.print(
        f"{len(cases)} cases, {args.workers} prepare workers per machine, {source} ({cpus})"
    )
    spreads = {n: spread([plan(cases, r, n, args.workers) for r in runs]) for n in args.machines}
    console.print(_table(spreads))
    found = spreads[args.machines[-1]]
    if caveat := slots_caveat(runs[found.median_index], args.workers):
        console.print(caveat if len(runs) == 1 else f"{paths[found.median_index]}: {caveat}")
    found = found.median
    if found.estimated:
        console.print(
            f"{found.estimated} of {found.cases} cases are not in that run: each is estimated by "
            "the median of its method's cases there"
        )
    console.print(_spread_note(len(runs)))
    if measured:
        console.print(_error_line(args.against, measured, spreads[1]))
    return 0


def _table(spreads: dict[int, Spread]) -> Table:
    table = Table()
    columns = ["machines", "prepare + check", "time", "fixed", "makespan"]
    runs = next(iter(spreads.values())).runs
    for column in columns + ([f"range over {runs} runs"] if runs > 1 else []):
        table.add_column(column, justify="right")
    for machines, found in spreads.items():
        median = found.median
        cells = [_minutes(s) for s in (median.prepare_s, median.time_s, median.fixed_s)]
        cells.append(_minutes(median.makespan_s))
        if runs > 1:
            cells.append(f"{_minutes(found.low_s)} to {_minutes(found.high_s)}")
        table.add_row(str(machines), *cells)
    return table


def _spread_note(runs: int) -> str:
    if runs == 1:
        return (
            "one recorded run: how far the machine's own speed moves between runs is not in "
            "this plan (give --from several runs of these cases to see it)"
        )
    return (
        f"each row is the plan from the run in the middle; the range is all {runs} runs' plans: "
        "the same cases and model, each run on the machine as fast as it was then"
    )


def _against(args: argparse.Namespace, cases: list) -> float:
    """The wall seconds of a measured run to hold the plan against: one machine, the plan's
    workers and cases, every case prepared (none from the cache)."""
    if 1 not in args.machines:
        raise UsageError("--against: it is one machine's run, so --machines must include 1")
    results = load_run(args.against)
    prepared = results["run"]["phases"]["prepare"]
    if prepared["workers"] != args.workers:
        raise UsageError(
            f"--against {args.against}: it prepared on {prepared['workers']} workers, "
            f"the plan is for {args.workers}"
        )
    if prepared.get("from_cache"):
        raise UsageError(
            f"--against {args.against}: {len(prepared['from_cache'])} of its cases came from "
            "the prepared-case cache; the plan is for a cold run (run it with --fresh)"
        )
    ran = {record.id for record in cases_of(results)}
    if ran != {case.id for case in cases}:
        raise UsageError(
            f"--against {args.against}: it ran {len(ran)} cases, "
            f"{len(ran & {c.id for c in cases})} of the {len(cases)} planned"
        )
    return results["run"]["wall_s"]


def _error_line(path: Path, measured_s: float, found: Spread) -> str:
    def error(seconds: float) -> str:
        off = (seconds - measured_s) / measured_s
        return f"{abs(off) * 100:.1f} % {'over' if off > 0 else 'under'}"

    line = f"{path} took {_minutes(measured_s)} (run.wall_s): the plan is "
    line += f"{error(found.median.makespan_s)} it"
    if found.runs > 1:
        line += f", its range from {error(found.low_s)} to {error(found.high_s)}"
    return line
