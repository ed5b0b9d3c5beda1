"""The latency noise table: from a baseline of several runs, per case and runtime, the spread of
session medians within a process, of process medians within a run and of run medians between
runs; then the spread between runs of the gate's figure, as measured and over the yardstick's;
and the median of each over the small, medium and large cases. ``python -m suite noise`` and
``python -m suite baseline`` print it.

Spreads are standard deviations of log medians (0.05 ≈ 5%).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from .latency import noise

#: Median latency bounds of the size classes (seconds): small up to 0.2 ms, large over 2 ms.
SIZE_CLASSES = (("small", 0.2e-3), ("medium", 2e-3), ("large", float("inf")))
LEVELS = ("within_process", "between_processes", "between_runs", "gate_figure", "gate_relative")
HEADINGS = (
    "within process",
    "between processes",
    "between runs",
    "fastest session, between runs",
    "÷ yardstick's fastest",
)


def size_class(median_s: float) -> str:
    return next(name for name, bound in SIZE_CLASSES if median_s <= bound)


def noise_rows(baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Per case and runtime: the spreads (``latency.noise``) and the case's size class."""
    rows = []
    for case, figs in baseline["cases"].items():
        for runtime, latency in figs["latency"].items():
            relative = latency["runs"].get("relative") or []
            rows.append(
                {
                    "case": case,
                    "runtime": runtime,
                    "median_s": latency["median_s"],
                    "size": size_class(latency["median_s"]),
                    **noise(latency["sessions"]["rounds_s"]),
                    "gate_relative": (
                        float(np.std(np.log(relative), ddof=1)) if len(relative) > 1 else None
                    ),
                }
            )
    return rows


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size class and runtime: the median of each spread over the cases."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["size"], row["runtime"]), []).append(row)
    order = {name: i for i, (name, _) in enumerate(SIZE_CLASSES)}
    out = []
    for (size, runtime), members in sorted(
        groups.items(), key=lambda item: (order[item[0][0]], item[0][1])
    ):
        entry = {"size": size, "runtime": runtime, "cases": len(members)}
        for level in LEVELS:
            values = [m[level] for m in members if m[level] is not None]
            entry[level] = float(np.median(values)) if values else None
        out.append(entry)
    return out


#: Logs and CI: wide enough for the table's eight columns.
console = Console(highlight=False, width=None if Console().is_terminal else 160)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def table(baseline: dict[str, Any], per_case: bool = False) -> Table:
    timing = baseline["timing"]
    title = (
        f"latency noise over {baseline['runs']} runs of {timing['processes']} processes × "
        f"{timing['sessions']} sessions: sd of log medians, as measured unless said otherwise"
        + ("" if per_case else "; median over each size class")
    )
    out = Table(title=title, title_justify="left")
    rows = noise_rows(baseline)
    first = ("case", "runtime") if per_case else ("size", "runtime", "cases")
    for column in (*first, *HEADINGS):
        out.add_column(column, justify="left" if column in first[:2] else "right")
    for row in rows if per_case else summary(rows):
        out.add_row(*(str(row[k]) for k in first), *(_pct(row[level]) for level in LEVELS))
    return out
