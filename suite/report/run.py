"""Writing a run's report from the command line: the report, the published page where asked,
and one line per plot that failed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from .render import Report


def report_run(run_dir: Path, out: Path | None = None, published: bool = False) -> Report:
    """Write the report (and the published page); print where, and each plot that failed."""
    # The report's libraries (pandas, matplotlib, seaborn: 1 s of a process's start) load only
    # where one is drawn: `python -m suite` imports every command, and `run --no-report`, its
    # Dask workers and the gate draw none.
    from .publish import publish
    from .render import write_report  # the drawing itself, for the same reason

    console = Console(stderr=True, highlight=False)
    with console.status("report") as status:
        report = write_report(run_dir, out, on_plot=lambda title: status.update(f"report: {title}"))
    console.print(f"report: {report.out_dir / 'index.html'} (and summary.md, plots/)")
    if published:
        page = publish(run_dir, report)
        console.print(f"published: {page}")
    for figure in report.failed:
        console.print(f"error: plot {figure.name}: {figure.missing}", style="red")
    return report
