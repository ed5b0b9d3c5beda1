"""The report's tables as rows of text cells: the verdict table, the lecture's claim, every case,
the exact analysis of linear layers, and the calibration battery; from the run's tidy frames
(``report/data.py``), for the page and summary.md alike."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..analysis.registry import Metric, list_metrics
from .context import ReportContext
from .verdict import claim_comparisons, claim_summary, verdict_columns


def fmt(value: Any, spec: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, str):
        return value
    return format(value, spec)


#: The verdict table's formats besides its registered figures' own
PARITY_FORMAT = {"parity worst rel err": ".1e"}


def verdict_cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    if table.empty:
        return [], []
    most_levels = table["_levels"].max()
    levels = table.pop("_levels")
    table = table.drop(columns="family")
    columns = list(table.columns)
    formats = {**{m.verdict_column: m.fmt for m in verdict_columns()}, **PARITY_FORMAT}
    rows = []
    for (_, row), level in zip(table.iterrows(), levels, strict=True):
        cells = []
        for column in columns:
            value = row[column]
            if column.endswith("÷ fastest clean"):
                cells.append(fmt(value, ".2f") + ("×" if fmt(value) != "–" else ""))
            else:
                cells.append(fmt(value, formats.get(column, "")))
            if column == "hypercolumn PSNR dB" and level < most_levels and fmt(value) != "–":
                # fewer pyramid levels (a size the pyramid does not divide, or a method that
                # changes the channel count): not like for like
                cells[-1] += f" ({level:.0f} level{'s' if level > 1 else ''})"
        rows.append(cells)
    return columns, rows


def claim_cells(ctx: ReportContext) -> tuple[list[str], list[list[str]], str]:
    comparisons = claim_comparisons(ctx.cases, ctx.runtimes)
    runtimes = list(dict.fromkeys(r for c in comparisons for r in c.latency_ratio))
    columns = [
        "geometry",
        "transposed (random)",
        "bilinear + 1x1 (random)",
        "checkerboard % T / M",
        "verdict T / M",
        "PSNR dB T / M",
        *[f"{r}: time M ÷ T" for r in runtimes],
    ]
    rows = [
        [
            c.geometry,
            c.questioned,
            c.proposed,
            f"{fmt(c.questioned_checkerboard_pct, '.2f')} / "
            f"{fmt(c.proposed_checkerboard_pct, '.2f')}",
            f"{fmt(c.questioned_verdict)} / {fmt(c.proposed_verdict)}",
            f"{fmt(c.questioned_psnr_db, '.1f')} / {fmt(c.proposed_psnr_db, '.1f')}",
            *[fmt(c.latency_ratio.get(r), ".2f") for r in runtimes],
        ]
        for c in comparisons
    ]
    return columns, rows, claim_summary(comparisons)


def case_columns(ctx: ReportContext) -> list[str]:
    """id, file, method, status, every registered figure (with its interval where it has one),
    the verdict, each timed runtime's median and the worst parity."""
    timed = list(dict.fromkeys(ctx.runtimes.dropna(subset=["median_s"])["runtime"]))
    figures = [f"{m.label}" + (" [95% CI]" if m.interval else "") for m in list_metrics()]
    return [
        "id",
        "file",
        "method",
        "status",
        *figures,
        "verdict",
        *[f"{r} ms" for r in timed],
        "worst parity rel",
    ]


def _with_interval(metric: Metric, case: pd.Series) -> str:
    text = metric.format(_plain(case[metric.name]))
    low, high = case.get(f"{metric.name}_low"), case.get(f"{metric.name}_high")
    if metric.interval and _plain(low) is not None and _plain(high) is not None:
        text += f" [{metric.format(low)}, {metric.format(high)}]"
    return text


def _plain(value: Any) -> Any:
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else value
    )


def case_cells(ctx: ReportContext) -> list[list[str]]:
    rows = []
    timed = list(dict.fromkeys(ctx.runtimes.dropna(subset=["median_s"])["runtime"]))
    medians = ctx.runtimes.set_index(["index", "runtime"])["median_s"] if len(ctx.runtimes) else {}
    for _, case in ctx.cases.iterrows():
        others = ctx.runtimes[(ctx.runtimes["index"] == case["index"]) & ~ctx.runtimes["reference"]]

        def ms(runtime: str, index: int = case["index"]) -> str:
            value = medians.get((index, runtime)) if len(medians) else None
            return fmt(value * 1e3 if value is not None and not pd.isna(value) else None)

        rows.append(
            [
                case["id"],
                case["file"],
                case["variant"],
                case["status"],
                *[_with_interval(metric, case) for metric in list_metrics()],
                fmt(_plain(case["verdict"])),
                *[ms(runtime) for runtime in timed],
                fmt(others["max_rel_err"].max() if len(others) else None, ".1e"),
            ]
        )
    return rows


LINEAR_COLUMNS = [
    "id",
    "method",
    "exact",
    "equivalent layer",
    "parameters: case / equivalent",
    "FLOPs: case / equivalent",
    "checkerboard gain",
    "imaging ratio",
]


def _count(value: Any) -> str:
    value = _plain(value)
    return "–" if value is None else f"{int(value):,}"


def linear_cells(ctx: ReportContext) -> tuple[list[list[str]], list[str]]:
    """The linear cases, each beside the single transposed convolution it equals, and the
    findings: cases that spend more than twice the FLOPs of their equivalent layer."""
    rows, findings = [], []
    linear = ctx.cases[ctx.cases["linear"] == True]  # noqa: E712 (object column)
    for _, case in linear.iterrows():
        if _plain(case["equivalent_flops"]) is None:
            continue
        flops, equivalent = _plain(case["flops"]), case["equivalent_flops"]
        rows.append(
            [
                case["id"],
                case["variant"],
                "yes" if case["exact"] else "at the centre",
                f"{case['equivalent_kernel']} transposed conv, stride {case['scale']}"
                + (" + a constant (biases)" if case["affine"] else ""),
                f"{_count(case['parameters'])} / {_count(case['equivalent_parameters'])}",
                f"{fmt(flops, '.3g')} / {fmt(equivalent, '.3g')}",
                fmt(_plain(case["checkerboard_gain"]), ".3g"),
                fmt(_plain(case["imaging_ratio"]), ".3g"),
            ]
        )
        if flops and case["stages"] == 1 and flops > 2 * equivalent and case["parameters"]:
            findings.append(
                f"{case['id']} ({case['variant']}) has no nonlinearity: it computes exactly what "
                f"one {case['equivalent_kernel']} transposed convolution of stride {case['scale']}"
                + (" plus a constant (its biases)" if case["affine"] else "")
                + f" computes ({_count(case['equivalent_parameters'])} parameters, "
                f"{fmt(equivalent, '.3g')} FLOPs), with {_count(case['parameters'])} "
                f"parameters and {fmt(flops, '.3g')} FLOPs: {flops / equivalent:.1f}× the work"
                + ("" if case["exact"] else " (align_corners: the centre's filter)")
            )
    return rows, findings


CALIBRATION_COLUMNS = [
    "layer",
    "figure",
    "injected %",
    "expected",
    "measured",
    "tolerance",
    "passed",
]


def calibration_cells(results: dict[str, Any]) -> list[list[str]]:
    return [
        [
            row["layer"],
            row["metric"],
            fmt(row.get("injected"), "g"),
            ("≥ " if row.get("check") == "above" else "") + fmt(row["expected"], ".4g"),
            fmt(row["measured"], ".4g"),
            "" if row.get("check") == "above" else f"±{row['tolerance']:.3g}",
            "yes" if row["passed"] else "NO",
        ]
        for row in results["run"].get("calibration") or []
    ]
