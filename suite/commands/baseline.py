"""Write a gate baseline from several runs: their gated figures, machine class, timing and
library versions, and each run's latency figures (the run is the latency test's unit).

Commit the file; ``python -m suite gate`` compares later runs with it. Prints the runs' noise
table (``python -m suite noise``) and what each latency row can detect.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import UsageError
from ..gate.baseline import BASELINES_DIR, from_runs, write_baseline
from ..gate.noise_table import console, table
from ..records import cases_of
from ..results import load_run

NAME = "baseline"
HELP = "write a gate baseline (results/baselines/...) from 3 or more run folders"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dirs",
        type=Path,
        nargs="+",
        help="3 or more run folders of the same cases, timed the same way on one machine class",
    )
    parser.add_argument("--out", type=Path, help=f"baseline file (default: in {BASELINES_DIR})")


def default_name(results: dict) -> str:
    files = "+".join(Path(f).stem for f in results["run"]["files"]) or "run"
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", files) + ".json"


def main(args: argparse.Namespace) -> int:
    runs = []
    for run_dir in args.run_dirs:
        results = load_run(run_dir)
        bad = [case.id for case in cases_of(results) if case.status == "failed"]
        if bad:
            raise UsageError(f"{run_dir}: failed cases cannot be a baseline: {', '.join(bad)}")
        runs.append((str(run_dir), results))
    baseline = from_runs(runs)
    path = args.out or BASELINES_DIR / default_name(runs[0][1])
    write_baseline(path, baseline)
    console.print(table(baseline))
    console.print(
        f"wrote {path}: {len(baseline['cases'])} cases from {baseline['runs']} runs, machine "
        f"class {baseline['machine_class']}",
        markup=False,
    )
    return 0
