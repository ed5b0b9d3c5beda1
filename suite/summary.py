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
from .records import STATUSES, reference_of
from .results import TIMING_DIR

MAX_PROBLEM_LINES = 8


def _geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:.3g} ms"


def _median(case: dict, runtime: str) -> float | None:
    latency = (case["runtimes"].get(runtime) or {}).get("latency")
    return latency["median_s"] if latency else None


def method_table(results: dict[str, Any]) -> Table:
    reference = reference_of(results["run"])
    runtimes = [r for r in results["run"]["runtimes"] if r != reference]
    timed_others = [r for r in runtimes if any(_median(c, r) for c in results["cases"])]
    table = Table(title="per method (latency: geometric mean over its cases)", title_justify="left")
    table.add_column("method")
    table.add_column("cases", justify="right")
    table.add_column("ok/mis/fail/skip", justify="right")
    table.add_column(reference, justify="right")
    for runtime in timed_others:
        table.add_column(f"{runtime} ÷ {reference}", justify="right")
    table.add_column("worst parity (rel)", justify="right")
    table.add_column("roofline", justify="right")
    table.add_column("free/undecided/artifacts", justify="right")
    shown = [metric for metric in list_metrics() if metric.summary]
    for metric in shown:
        table.add_column(f"worst {metric.label}", justify="right")
    groups: dict[str, list[dict]] = defaultdict(list)
    for case in results["cases"]:
        groups[case["method"]].append(case)
    for method, cases in groups.items():
        counts = "/".join(str(sum(c["status"] == s for c in cases)) for s in STATUSES)
        row = [
            Text(method),
            str(len(cases)),
            counts,
            _ms(_geomean([_median(c, reference) for c in cases])),
        ]
        for runtime in timed_others:
            ratios = [
                _median(c, runtime) / _median(c, reference)
                for c in cases
                if _median(c, runtime) and _median(c, reference)
            ]
            row.append(f"{_geomean(ratios):.2f}×" if ratios else "–")
        errors = [
            r["max_rel_err"]
            for c in cases
            for name, r in c["runtimes"].items()
            if name != reference and r.get("max_rel_err") is not None
        ]
        row.append(f"{max(errors):.1e}" if errors else "–")
        fractions = [
            r["roofline_fraction"]
            for c in cases
            for r in c["runtimes"].values()
            if r.get("roofline_fraction")
        ]
        row.append(f"{_geomean(fractions):.1%}" if fractions else "–")
        verdicts = [((c.get("metrics") or {}).get("verdict") or {}).get("verdict") for c in cases]
        row.append("/".join(str(verdicts.count(v)) for v in VERDICTS))
        for metric in shown:
            values = [metric.value(c.get("metrics") or {}) for c in cases]
            row.append(metric.format(metric.worst([v for v in values if v is not None])))
        table.add_row(*row)
    return table


def largest_errors(results: dict[str, Any], count: int = 3) -> list[tuple[str, str, dict]]:
    reference = reference_of(results["run"])
    found = [
        (case["id"], name, r)
        for case in results["cases"]
        for name, r in case["runtimes"].items()
        if name != reference and r.get("max_rel_err") is not None
    ]
    return sorted(found, key=lambda item: item[2]["max_rel_err"], reverse=True)[:count]


def timing_line(run: dict[str, Any]) -> str:
    timing = run["timing"]
    done, planned = timing["processes_done"], timing["processes"]
    text = f"timed in {done} fresh process{'es' if done != 1 else ''}"
    return text + (f" of {planned} planned" if done != planned else "")


def ceilings_line(ceilings: dict[str, Any] | None) -> str:
    if not ceilings:
        return "machine ceilings not measured"
    copy = [row["median"] for row in ceilings["copy_gbs"].values()]
    peak = ceilings.get("compute_gflops")
    return f"copy {min(copy):.0f}-{max(copy):.0f} GB/s by working set" + (
        f", peak compute {peak['max']:.0f} GFLOP/s" if peak else ""
    )


def over_the_roofline(results: dict[str, Any]) -> list[str]:
    """Timings faster than the roofline allows: the bound is wrong there, not physics."""
    return [
        f"{case['id']} · {name} ({r['roofline_fraction']:.0%})"
        for case in results["cases"]
        for name, r in case["runtimes"].items()
        if (r.get("roofline_fraction") or 0) > 1
    ]


def render(results: dict[str, Any], path: Path, crashes: list[str]) -> Group:
    cases = results["cases"]
    counts = ", ".join(f"{sum(c['status'] == s for c in cases)} {s}" for s in STATUSES)
    run = results["run"]
    head = Text(
        f"run {run['id']}: {len(cases)} cases: {counts}; {run['wall_s']:.0f} s; "
        f"{timing_line(run)}; {ceilings_line(run.get('ceilings'))}"
    )
    parts: list[Any] = [head, method_table(results)]
    battery = run.get("calibration") or []
    if battery:
        passed = sum(row["passed"] for row in battery)
        parts.append(
            Text(f"calibration: {passed} of {len(battery)} known answers within tolerance")
        )
    if over := over_the_roofline(results):
        parts.append(
            Text(
                "over 100% of the roofline (the bound is wrong there): " + ", ".join(over),
                style="yellow",
            )
        )
    errors = largest_errors(results)
    if errors:
        lines = [f"largest parity errors against {reference_of(run)}:"]
        for case_id, runtime, r in errors:
            lines.append(
                f"  {case_id} · {runtime}: max abs {r['max_abs_err']:.2e}, "
                f"rel {r['max_rel_err']:.2e} ({r['status']})"
            )
        parts.append(Text("\n".join(lines)))
    problems = [c for c in cases if c["status"] in ("failed", "mismatch")]
    if problems or crashes:
        lines = [f"{len(problems)} case(s) need a look:"]
        for case in problems[:MAX_PROBLEM_LINES]:
            detail = case["error"] or ", ".join(
                f"{name} rel {r['max_rel_err']:.1e} > tolerance"
                for name, r in case["runtimes"].items()
                if r["status"] == "mismatch"
            )
            lines.append(f"  {case['file']}: {case['id']}: {case['status']}: {detail}")
        if len(problems) > MAX_PROBLEM_LINES:
            lines.append(f"  ... and {len(problems) - MAX_PROBLEM_LINES} more in results.json")
        lines.extend(f"  internal error: {crash}" for crash in crashes)
        parts.append(Text("\n".join(lines)))
    written = [str(path), str(path.with_name(TIMING_DIR)) + "/"]
    if path.with_name("errors.log").exists():
        written.append(str(path.with_name("errors.log")))
    parts.append(Text("wrote " + ", ".join(written)))
    return Group(*parts)
