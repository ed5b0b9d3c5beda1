"""The one-screen summary a run ends with: counts, a table per method, the largest parity errors,
the problems, and where everything was written."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .analysis.registry import list_metrics
from .analysis.verdict import VERDICTS
from .records import (
    STATUSES,
    CaseRecord,
    Problem,
    RunSummary,
    RuntimeResult,
    cases_of,
    reference_of,
)
from .results import TIMING_DIR

MAX_PROBLEM_LINES = 8


def _geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:.3g} ms"


def _method_columns(table: Table, reference: str, timed_others: list[str]) -> None:
    for name in ("method", "cases", "ok/mis/fail/skip", reference):
        table.add_column(name, justify="left" if name == "method" else "right")
    for runtime in timed_others:
        table.add_column(f"{runtime} ÷ {reference}", justify="right")
    for name in ("worst parity (rel)", "roofline", "free/undecided/artifacts"):
        table.add_column(name, justify="right")
    for metric in _shown():
        table.add_column(f"worst {metric.label}", justify="right")


def _shown():
    return [metric for metric in list_metrics() if metric.summary]


def _method_row(
    method: str, cases: list[CaseRecord], reference: str, timed_others: list[str]
) -> list[Any]:
    counts = "/".join(str(sum(c.status == s for c in cases)) for s in STATUSES)
    row = [Text(method), str(len(cases)), counts]
    row.append(_ms(_geomean([c.median_s(reference) for c in cases])))
    for runtime in timed_others:
        ratios = [
            c.median_s(runtime) / c.median_s(reference)
            for c in cases
            if c.median_s(runtime) and c.median_s(reference)
        ]
        row.append(f"{_geomean(ratios):.2f}×" if ratios else "–")
    results = [(name, r) for c in cases for name, r in c.runtimes.items()]
    errors = [r.max_rel_err for name, r in results if name != reference]
    errors = [e for e in errors if e is not None]
    row.append(f"{max(errors):.1e}" if errors else "–")
    fractions = [r.roofline_fraction for _, r in results if r.roofline_fraction]
    row.append(f"{_geomean(fractions):.1%}" if fractions else "–")
    verdicts = [c.verdict for c in cases]
    row.append("/".join(str(verdicts.count(v)) for v in VERDICTS))
    for metric in _shown():
        values = [metric.value(c.metrics) for c in cases]
        row.append(metric.format(metric.worst([v for v in values if v is not None])))
    return row


def method_table(run: dict[str, Any], cases: list[CaseRecord]) -> Table:
    reference = reference_of(run)
    runtimes = [r for r in run["runtimes"] if r != reference]
    timed_others = [r for r in runtimes if any(c.median_s(r) for c in cases)]
    table = Table(title="per method (latency: geometric mean over its cases)", title_justify="left")
    _method_columns(table, reference, timed_others)
    groups: dict[str, list[CaseRecord]] = defaultdict(list)
    for case in cases:
        groups[case.method].append(case)
    for method, cases in groups.items():
        table.add_row(*_method_row(method, cases, reference, timed_others))
    return table


def largest_errors(
    run: dict[str, Any], cases: list[CaseRecord], count: int = 3
) -> list[tuple[str, str, RuntimeResult]]:
    reference = reference_of(run)
    found = [
        (case.id, name, r)
        for case in cases
        for name, r in case.runtimes.items()
        if name != reference and r.max_rel_err is not None
    ]
    return sorted(found, key=lambda item: item[2].max_rel_err, reverse=True)[:count]


def timing_line(run: dict[str, Any]) -> str:
    timing = run["timing"]
    done, planned = timing["processes_done"], timing["processes"]
    text = f"timed in {done} fresh process{'es' if done != 1 else ''}"
    return text + (f" of {planned} planned" if done != planned else "")


def ceilings_line(ceilings: dict[str, Any] | None) -> str:
    if not ceilings:
        return "machine ceilings not measured"
    line = _ceilings_text(ceilings)
    if gpu := ceilings.get("cuda"):
        line += f"; GPU {_ceilings_text(gpu)}"
    return line


def _ceilings_text(ceilings: dict[str, Any]) -> str:
    rows = ceilings["copy_gbs"]
    copy = [row["median"] for row in rows.values() if "implausible" not in row]
    peak = ceilings.get("compute_gflops")
    text = f"copy {min(copy):.0f}-{max(copy):.0f} GB/s by working set" if copy else "no copy"
    text += f", peak compute {peak['max']:.0f} GFLOP/s" if peak else ""
    doubtful = [f"{_bytes(int(s))} copy" for s, row in rows.items() if "implausible" in row]
    doubtful += ["compute"] if peak and "implausible" in peak else []
    return text + (f" ({', '.join(doubtful)}: implausible, no roofline)" if doubtful else "")


def _bytes(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"


def roofline_left_out(cases: list[CaseRecord]) -> list[str]:
    """Rooflines left out, with why (``bench.ceilings.roofline``); runs before the suite left
    them out recorded a timing faster than the bound as over 100%."""
    return [
        f"{case.id} · {name}: "
        + (r.roofline.get("roofline_omitted") or f"{r.roofline_fraction:.0%} of the roofline")
        for case in cases
        for name, r in case.runtimes.items()
        if r.roofline.get("roofline_omitted") or (r.roofline_fraction or 0) > 1
    ]


def _errors_text(run: dict[str, Any], cases: list[CaseRecord]) -> Text | None:
    errors = largest_errors(run, cases)
    if not errors:
        return None
    lines = [f"largest parity errors against {reference_of(run)}:"]
    lines += [
        f"  {case_id} · {runtime}: max abs {r.max_abs_err:.2e}, "
        f"rel {r.max_rel_err:.2e} ({r.status})"
        for case_id, runtime, r in errors
    ]
    return Text("\n".join(lines))


def _problems_text(problems: list[Problem], crashes: list[str]) -> Text | None:
    if not problems and not crashes:
        return None
    lines = [f"{len(problems)} case(s) need a look:"]
    lines += [f"  {p.file}: {p.case}: {p.status}: {p.detail}" for p in problems[:MAX_PROBLEM_LINES]]
    if len(problems) > MAX_PROBLEM_LINES:
        lines.append(f"  ... and {len(problems) - MAX_PROBLEM_LINES} more in results.json")
    lines.extend(f"  internal error: {crash}" for crash in crashes)
    return Text("\n".join(lines))


def _calibration_text(run: dict[str, Any]) -> Text | None:
    battery = run.get("calibration") or []
    if not battery:
        return None
    passed = sum(row["passed"] for row in battery)
    return Text(f"calibration: {passed} of {len(battery)} known answers within tolerance")


def _listed(title: str, found: list[str], style: str = "") -> Text | None:
    """``title`` and the first ``MAX_PROBLEM_LINES`` of ``found``, one a line; None if none."""
    if not found:
        return None
    lines = [title, *(f"  {line}" for line in found[:MAX_PROBLEM_LINES])]
    if len(found) > MAX_PROBLEM_LINES:
        lines.append(f"  ... and {len(found) - MAX_PROBLEM_LINES} more in results.json")
    return Text("\n".join(lines), style=style)


def _written(path: Path) -> Text:
    written = [str(path), str(path.with_name(TIMING_DIR)) + "/"]
    if path.with_name("errors.log").exists():
        written.append(str(path.with_name("errors.log")))
    return Text("wrote " + ", ".join(written))


def render(results: dict[str, Any], path: Path, crashes: list[str]) -> Group:
    """The terminal summary, from the same ``RunSummary`` as the report's summary.md."""
    run, cases = results["run"], cases_of(results)  # parsed once, read by every part
    summary = RunSummary.of(cases)
    head = Text(
        f"run {run['id']}: {summary.counts_text()}; {run['wall_s']:.0f} s; "
        f"{timing_line(run)}; {ceilings_line(run.get('ceilings'))}"
    )
    parts = [
        head,
        method_table(run, cases),
        _calibration_text(run),
        _listed("roofline left out (no bound to trust there):", roofline_left_out(cases), "yellow"),
        _errors_text(run, cases),
        _listed("parity checked at a reduced input size (parity_at):", summary.reduced),
        _problems_text(summary.problems, crashes),
        _written(path),
    ]
    return Group(*(part for part in parts if part is not None))
