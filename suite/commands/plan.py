"""Predict how long a sweep takes on N machines, from the stage durations a real run recorded
(the model is explained in suite/plan.py and docs/cluster.md). Nothing runs: it is arithmetic
on that run's figures."""

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
        help=f"a run whose durations are the model's (default: {REFERENCE_RUN}); give it once "
        "per run, for several runs of the same cases, to see how far the machine's own speed "
        "moves the plan",
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
    for option, values in (("--machines", args.machines), ("--workers", [args.workers])):
        if any(n < 1 for n in values):
            raise UsageError(f"{option}: each must be >= 1, got {min(values)}")
    cases = load_cases(args.paths)
    paths = args.runs or [REFERENCE_RUN]
    runs = _recorded_runs(paths, args.against)
    measured = _against(args, cases) if args.against else None
    plans = {n: [plan(cases, r, n, args.workers) for r in runs] for n in args.machines}
    middle = spread(plans[args.machines[0]]).index  # one run for every row
    spreads = {n: spread(found, middle) for n, found in plans.items()}
    console = Console(highlight=False)
    console.print(_title(len(cases), args.workers, paths, runs, middle))
    console.print(_table(spreads))
    if caveat := slots_caveat(runs[middle], args.workers):
        console.print(caveat)
    if estimated := spreads[args.machines[0]].plan.estimated:
        console.print(
            f"{estimated} of {len(cases)} cases are not in the recorded run: each is estimated "
            "by the median of its method's cases there"
        )
    console.print(_spread_note(len(runs)))
    if measured:
        console.print(_error_line(args.against, measured, spreads[1]))
    return 0


def _recorded_runs(paths: list[Path], against: Path | None) -> list[dict]:
    """The runs to plan from: each once, none the run the plan is held against, and all
    prepared on as many workers (a serial run and a run on workers are planned differently)."""
    resolved = [path.resolve() for path in paths]
    for index, path in enumerate(resolved):
        if path in resolved[:index]:
            raise UsageError(f"--from {paths[index]}: given twice")
        if against and path == against.resolve():
            raise UsageError(
                f"--from {paths[index]}: it is also --against, and a plan held against the "
                "run it came from proves nothing"
            )
    runs = [load_run(path) for path in paths]
    workers = sorted({r["run"]["phases"]["prepare"]["workers"] for r in runs})
    if len(workers) > 1:
        raise UsageError(
            f"--from: the runs prepared on {' and '.join(map(str, workers))} workers; plan from "
            "runs of one kind (a serial run and a run on workers are planned differently)"
        )
    return runs


def _title(cases: int, workers: int, paths: list[Path], runs: list[dict], middle: int) -> str:
    # a line of its own: a table's title wraps at the table's width, a path and a CPU name with it
    cpus = ", ".join(sorted({r["run"]["machine"]["cpu"] for r in runs}))
    each = f"{workers} prepare worker{'s' if workers > 1 else ''} per machine"
    if len(runs) == 1:
        return f"{cases} cases, {each}, from {paths[0]} ({cpus})"
    source = f"{len(runs)} runs ({cpus}), planned from the middle one, {paths[middle]}"
    return f"{cases} cases, {each}, from {source}"


def _table(spreads: dict[int, Spread]) -> Table:
    table = Table()
    columns = ["machines", "prepare + check", "time", "fixed", "makespan"]
    runs = next(iter(spreads.values())).runs
    for column in columns + ([f"range over {runs} runs"] if runs > 1 else []):
        table.add_column(column, justify="right")
    for machines, found in spreads.items():
        chosen = found.plan
        cells = [_minutes(s) for s in (chosen.prepare_s, chosen.time_s, chosen.fixed_s)]
        cells.append(_minutes(chosen.makespan_s))
        if runs > 1:
            cells.append(f"{_minutes(found.low_s)} to {_minutes(found.high_s)}")
        table.add_row(str(machines), *cells)
    return table


def _spread_note(runs: int) -> str:
    if runs == 1:
        return (
            "one recorded run: how far the machine's own speed moves the plan between runs is "
            "not in it (give --from once per run, for several runs of these cases, to see it)"
        )
    return (
        "each row is planned from the middle run (by its makespan on the first row); the range "
        f"is the plans from the {runs} runs, each recorded on the machine as fast as it was then"
    )


def _against(args: argparse.Namespace, cases: list) -> float:
    """The wall seconds of a measured run to hold the plan against: one machine, the plan's
    workers and cases, every case prepared (none from the cache)."""
    if 1 not in args.machines:
        raise UsageError("--against: it is one machine's run, so --machines must include 1")
    results = load_run(args.against)
    prepared = results["run"]["phases"]["prepare"]
    if prepared["workers"] != args.workers:
        how = f"on {prepared['workers']} workers" if prepared["workers"] else "serially"
        raise UsageError(
            f"--against {args.against}: it prepared {how}, the plan is for {args.workers} workers"
        )
    if prepared.get("from_cache"):
        raise UsageError(
            f"--against {args.against}: {len(prepared['from_cache'])} of its cases came from "
            "the prepared-case cache; the plan is for a cold run (run it with --fresh)"
        )
    ran, planned = {record.id for record in cases_of(results)}, {case.id for case in cases}
    if ran != planned:
        raise UsageError(
            f"--against {args.against}: it ran {len(ran - planned)} cases not planned and "
            f"lacks {len(planned - ran)} of the {len(planned)} planned"
        )
    return results["run"]["wall_s"]


def _error_line(path: Path, measured_s: float, found: Spread) -> str:
    def error(seconds: float) -> str:
        off = (seconds - measured_s) / measured_s
        return f"{abs(off) * 100:.1f} % {'over' if off > 0 else 'under'}"

    line = f"{path} took {_minutes(measured_s)} (run.wall_s): the plan is "
    line += f"{error(found.plan.makespan_s)} it"
    if found.runs > 1:
        low, high = error(found.low_s), error(found.high_s)
        line += f"; the plans from the {found.runs} runs, {low} to {high}"
    return line
