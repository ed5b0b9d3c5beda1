"""Where the latency noise lives, for several runs of the same cases: the noise table
(``suite/gate/noise_table.py``), per size class or, with ``--cases``, per case and runtime."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..gate.baseline import from_runs
from ..gate.noise_table import console, table
from ..results import load_run

NAME = "noise"
HELP = "the latency noise within processes, between processes and between runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", type=Path, nargs="+", help="3 or more runs of the same cases")
    parser.add_argument("--cases", action="store_true", help="one row per case and runtime too")


def main(args: argparse.Namespace) -> int:
    baseline = from_runs([(str(d), load_run(d)) for d in args.run_dirs])
    console.print(table(baseline, per_case=args.cases))
    return 0
