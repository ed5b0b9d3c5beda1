"""The one-screen summary a run ends with: counts, a table per method, the largest parity errors,
the problems, and where everything was written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.text import Text

from .decision import decisions, thresholds_text
from .records import CaseRecord, RuntimeResult, cases_of, reference_of, runtimes_of
from .results import TIMING_DIR
from .run_summary import Problem, RunSummary, by_what, skipped_runtimes
from .summary_table import LayerTable

MAX_PROBLEM_LINES = 8
#: geometries the terminal's decision shows (the report shows every one)
MAX_DECISION_GEOMETRIES = 3


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
    if timing.get("min_processes") is not None:  # adaptive: stopping early is the design
        width = timing["target_width"] * 50
        return text + (
            f" ({timing['name']} policy: each case × runtime in {timing['min_processes']} to "
            f"{planned}, until its 95 % interval is within ±{width:g} %)"
        )
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
    """Rooflines left out, with why (``timing.ceilings.roofline``); runs before the suite left
    them out recorded a timing faster than the bound as over 100%."""
    return [
        f"{case.id} · {name}: "
        + (r.roofline.get("roofline_omitted") or f"{r.roofline_fraction:.0%} of the roofline")
        for case in cases
        for name, r in case.runtimes.items()
        if r.roofline.get("roofline_omitted") or (r.roofline_fraction or 0) > 1
    ]


def _left_out(cases: list[CaseRecord]) -> list[str]:
    return by_what(roofline_left_out(cases))


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
    """The files the run wrote beside results.json: only those that are there."""
    written = [str(path)]
    for name in (TIMING_DIR, "errors.log"):
        if path.with_name(name).exists():
            written.append(str(path.with_name(name)) + ("/" if name == TIMING_DIR else ""))
    return Text("wrote " + ", ".join(written))


def decision_text(run: dict[str, Any], cases: list[CaseRecord]) -> Group | None:
    """Which layer to pick (``decision.py``): the user's blocks' geometries first, at most
    ``MAX_DECISION_GEOMETRIES`` of them; the runtimes that did not run, in one line."""
    found = decisions(run, cases)
    if not found:
        return None
    parts: list[Any] = [Text(f"decision ({thresholds_text()}):", style="bold")]
    geometries = list(dict.fromkeys(d.geometry for d in found))
    for decision in found:
        if decision.geometry not in geometries[:MAX_DECISION_GEOMETRIES]:
            continue
        parts.append(Text(f"  {decision.geometry} on {decision.runtime}:"))
        parts += [Padding(Text(line), (0, 0, 0, 4), expand=False) for line in decision.lines()]
    if len(geometries) > MAX_DECISION_GEOMETRIES:
        more = len(geometries) - MAX_DECISION_GEOMETRIES
        parts.append(Text(f"  ... and {more} more geometries in the report"))
    timed = {i.name for i in runtimes_of(run).values() if i.timed}
    absent = {n: r for n, r in skipped_runtimes(cases).items() if n in timed}
    if absent:
        line = "not run: " + "; ".join(f"{n} ({r})" for n, r in absent.items())
        parts.append(Padding(Text(line), (0, 0, 0, 2), expand=False))  # no trailing spaces
    return Group(*parts)


def parts(results: dict[str, Any], path: Path, crashes: list[str]) -> list[tuple[Any, bool]]:
    """The summary's parts in order, each with whether it is printed unwrapped (a problem or a
    parity error: one line each, for grep); it ends with the decision."""
    run, cases = results["run"], cases_of(results)  # parsed once, read by every part
    summary = RunSummary.of(cases)
    head = Text(
        f"run {run['id']}: {summary.counts_text()}; {run['wall_s']:.0f} s; "
        f"{timing_line(run)}; {ceilings_line(run.get('ceilings'))}"
    )
    found = [
        (head, False),
        (LayerTable(run, cases), False),
        (_calibration_text(run), False),
        (
            _listed("roofline left out (no bound to trust there):", _left_out(cases), "yellow"),
            False,
        ),
        (_errors_text(run, cases), True),
        (_listed("parity checked at a reduced input size (parity_at):", summary.reduced), False),
        (_problems_text(summary.problems, crashes), True),
        (_written(path), False),
        (decision_text(run, cases), False),
    ]
    return [(part, plain) for part, plain in found if part is not None]


def render(results: dict[str, Any], path: Path, crashes: list[str]) -> Group:
    """The terminal summary as one renderable (every part wrapped to the width)."""
    return Group(*(part for part, _ in parts(results, path, crashes)))
