"""Build, export, run, check and time every case; write DIR/results.json, and DIR/timing/ with
pytest-benchmark's JSON of each timing process.

Exit status: 0 when every case ran (mismatches are findings, listed in the summary), 1 when a case
failed (its error is in results.json and DIR/errors.log), 2 for bad input, with nothing written.
"""

from __future__ import annotations

import argparse
import os

from rich.console import Console

from .. import summary
from ..bench.run import RunOutcome, run_bench
from ..bench.spec import RunSpec, new_run_id
from ..records import cases_of
from ..report.run import report_run
from ..run_summary import RunSummary
from ..samplefile import keep_drawn_samples
from .run_options import RUNS_DIR, add_arguments

__all__ = ["RUNS_DIR", "add_arguments", "main", "new_run_id"]  # compare runs a run
NAME = "run"
HELP = "run cases end to end and write results.json"


def main(args: argparse.Namespace) -> int:
    spec = RunSpec.from_args(args)
    outcome = run_bench(spec)
    _say(outcome)
    results, timing = outcome.results, outcome.timing
    failed = RunSummary.of(cases_of(results)).counts["failed"] or outcome.crashes
    report = report_run(spec.out) if spec.report else None
    if report and not report.failed and spec.samples == "report" and not spec.shard:
        keep_drawn_samples(spec.out, results, report.sample_keys)
    return 1 if failed or timing.cut_short or (report and report.failed) else 0


def _say(outcome: RunOutcome) -> None:
    report = Console(highlight=False)
    if not report.is_terminal and "COLUMNS" not in os.environ:
        report = Console(highlight=False, width=120)  # logs: wide enough for the layer table
    for part, plain in summary.parts(outcome.results, outcome.path, outcome.crashes):
        report.print(part, soft_wrap=plain)  # a problem stays one line, for grep
    if outcome.timing.cut_short:
        text = f"timing cut short: {outcome.timing.cut_short}"
        report.print(text, markup=False, style="bold red")
