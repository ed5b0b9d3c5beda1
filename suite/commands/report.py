"""Write the report of a run from its results.json and samples.npz alone (nothing is rerun):
RUN/report/index.html (self-contained), RUN/report/summary.md and RUN/report/plots/*.png.

``--publish`` also rewrites the repository's results/README.md, with its plots in
results/reference/, from the run: the committed front page of the findings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..report.run import report_run
from ..results import PUBLISH_DIR

NAME = "report"
HELP = "write a run's report (HTML, Markdown, PNG plots) from its results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="a run folder (with results.json)")
    parser.add_argument("--out", type=Path, help="report folder (default: RUN_DIR/report)")
    parser.add_argument(
        "--publish",
        action="store_true",
        help=f"also rewrite {PUBLISH_DIR}/README.md and its plots from this run",
    )


def main(args: argparse.Namespace) -> int:
    if not args.run_dir.is_dir():
        raise UsageError(f"{args.run_dir}: not a run folder")
    return 1 if report_run(args.run_dir, args.out, args.publish).failed else 0
