"""Compare a run with a baseline: one row per case and figure (baseline, new, change, threshold,
verdict). Exit 0 when nothing regressed, 1 when something did, 2 for bad input. The table is also
written as Markdown to RUN_DIR/gate.md and appended to $GITHUB_STEP_SUMMARY when that is set.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..gate.baseline import (
    describe_timing,
    figures,
    latency_classes,
    load_baseline,
    machine_class,
    timing_of,
)
from ..gate.checks import Context, compare
from ..gate.latency import gateable
from ..gate.rows import Outcome, Row, cells
from ..records import cases_of, gated_runtimes
from ..results import load_run

NAME = "gate"
HELP = "compare a run with a committed baseline; exit 1 on a regression"
COLUMNS = ("case", "figure", "baseline", "new", "change", "threshold", "detectable", "verdict")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="a run folder holding results.json")
    parser.add_argument("--baseline", type=Path, required=True, help="baseline file")
    parser.add_argument(
        "--allow-removed",
        action="store_true",
        help="cases missing from the run were removed on purpose",
    )
    parser.add_argument(
        "--all", action="store_true", help="print every row (latency rows are always printed)"
    )
    parser.add_argument(
        "--latency-advisory",
        action="store_true",
        help="report latency verdicts without failing on them (noisy shared machines)",
    )


def advisory(row: Row) -> Row:
    if row.figure.startswith("latency.") and row.failed:
        return replace(row, outcome=Outcome.ADVISORY, message="latency is advisory here")
    return row


def markdown(rows: list[Row], header: str) -> str:
    lines = [header, "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        texts = [cells(row)[c] for c in COLUMNS]
        if row.failed:
            texts[-1] = f"**{texts[-1]}**"
        lines.append("| " + " | ".join(t.replace("|", "\\|") for t in texts) + " |")
    return "\n".join(lines) + "\n"


def comparability(baseline: dict, results: dict, name: str) -> str:
    """Why none of the run's latency can be compared with the baseline's, or ``""`` (each
    latency is then compared only where it was timed on the baseline's machine class)."""
    run = results["run"]
    timing = timing_of(name, run)
    classes = latency_classes(results) or {machine_class(run)}
    if baseline["machine_class"] not in classes:
        return (
            f"baseline ran on {baseline['machine_class']}, this run on {'; '.join(sorted(classes))}"
        )
    if timing != baseline["timing"]:
        return (
            f"baseline timed as {describe_timing(baseline['timing'])}, this run as "
            f"{describe_timing(timing)}"
        )
    return ""


def _write_markdown(text: str, run_dir: Path) -> None:
    (run_dir / "gate.md").write_text(text, encoding="utf-8")
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(summary, "a", encoding="utf-8") as out:
            out.write(text)


def _print(rows: list[Row], shown: list[Row], title: str, note: str) -> None:
    console = Console(highlight=False, width=None if Console().is_terminal else 160)
    if shown:
        table = Table(title=title, title_justify="left")
        for column in COLUMNS:
            table.add_column(column, overflow="fold")
        for row in shown:
            style = "bold red" if row.failed else None
            table.add_row(*(Text(cells(row)[c], style=style) for c in COLUMNS))
        console.print(table)
    else:  # every row passed: an empty table would only squeeze the title
        console.print(title + " (--all shows every row)", markup=False)
    failed = [r for r in rows if r.failed]
    console.print(
        f"{len(rows) - len(failed)} passed, {len(failed)} failed" + (f"; {note}" if note else "")
    )
    for row in failed:
        text = cells(row)
        console.print(
            f"FAIL {row.case} {row.figure}: {text['baseline']} -> {text['new']} ({text['verdict']})"
            + (f": {row.message}" if row.message else ""),
            markup=False,
        )


def gate_rows(
    run_dir: Path, baseline_path: Path, allow_removed: bool = False, latency_advisory: bool = False
) -> tuple[list[Row], str]:
    """Every row of the gate of ``run_dir`` against the baseline file, as data; and why the
    run's latency cannot be compared at all (``""`` when it can)."""
    baseline = load_baseline(baseline_path)
    results = load_run(run_dir)
    note = comparability(baseline, results, str(run_dir))
    gated = gated_runtimes(results["run"])
    rows = compare(
        baseline,
        {case.id: figures(case, gated, baseline["machine_class"]) for case in cases_of(results)},
        Context(not note, note, gateable(baseline["timing"]), baseline["machine_class"]),
        allow_removed=allow_removed,
    )
    return ([advisory(r) for r in rows] if latency_advisory else rows), note


def main(args: argparse.Namespace) -> int:
    rows, note = gate_rows(args.run_dir, args.baseline, args.allow_removed, args.latency_advisory)
    failed = [r for r in rows if r.failed]
    header = (
        f"**upsampling-bench gate**: {len(failed)} of {len(rows)} checks failed "
        f"against `{args.baseline}`" + (f" (latency not comparable: {note})" if note else "")
    )
    _write_markdown(markdown(rows, header), Path(args.run_dir))
    # Latency rows always: each says what it can detect; other rows where they did not pass.
    shown = rows if args.all else [r for r in rows if r.outcome is not Outcome.PASS or r.latency]
    _print(rows, shown, header.replace("**", "").replace("`", ""), note)
    return 1 if failed else 0
