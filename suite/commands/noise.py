"""Where the latency noise lives, for several runs of the same cases: the noise table
(``suite/gate/noise_table.py``), per size class or, with ``--cases``, per case and runtime."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..gate.baseline import from_runs
from ..gate.noise_table import console, table
from ..results import load_run
from ..timing.ranking import agreement

NAME = "noise"
HELP = "the latency noise within processes, between processes and between runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dirs", type=Path, nargs="+", help="3 or more runs of the same cases (2 with --rank)"
    )
    parser.add_argument("--cases", action="store_true", help="one row per case and runtime too")
    parser.add_argument(
        "--rank",
        action="store_true",
        help="instead: whether two runs (two timing policies, say) order the layers of each "
        "geometry alike wherever their latency intervals do not overlap",
    )


def main(args: argparse.Namespace) -> int:
    if args.rank:
        return _rank(args.run_dirs)
    baseline = from_runs([(str(d), load_run(d)) for d in args.run_dirs])
    console.print(table(baseline, per_case=args.cases))
    return 0


def _rank(run_dirs: list[Path]) -> int:
    """The two runs' ranking agreement (``timing/ranking.py``); exit 1 where any pair is
    ordered the other way round."""
    if len(run_dirs) != 2:
        raise UsageError(f"--rank compares 2 runs, got {len(run_dirs)}")
    found = agreement(*(load_run(d) for d in run_dirs))
    console.print(
        f"{found.pairs} pairs of layers timed in both; {found.decided_in_both} told apart by "
        f"both runs, {len(found.reversed)} of them ordered the other way round; "
        f"{found.decided_in_one} told apart by one run only",
        markup=False,
    )
    for where, runtime, here, there in found.reversed:
        line = f"  {where} on {runtime}: {here} faster in the first, {there} in the second"
        console.print(line, markup=False)
    return 1 if found.reversed else 0
