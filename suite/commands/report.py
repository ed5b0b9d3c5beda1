"""Write the report of a run from its results.json and samples.npz alone (nothing is rerun):
RUN/report/index.html (self-contained), RUN/report/summary.md and RUN/report/plots/*.png.

``--publish`` also rewrites the repository's results/README.md, with its plots in
results/reference/, from the run: the committed front page of the findings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..errors import UsageError
from ..report.publish import PUBLISH_DIR, publish
from ..report.render import write_report

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
    return render(args.run_dir, args.out, args.publish)


def render(run_dir: Path, out: Path | None = None, published: bool = False) -> int:
    """Write the report (and the published page); print where; 1 if a plot failed."""
    console = Console(stderr=True, highlight=False)
    with console.status("report") as status:
        report = write_report(run_dir, out, on_plot=lambda title: status.update(f"report: {title}"))
    console.print(f"report: {report.out_dir / 'index.html'} (and summary.md, plots/)")
    if published:
        page = publish(run_dir, report)
        console.print(f"published: {page}")
    for figure in report.failed:
        console.print(f"error: plot {figure.name}: {figure.missing}", style="red")
    return 1 if report.failed else 0
