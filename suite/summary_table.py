"""The summary's table of layers, made to fit: one row per registered method (its cases
together) and one per user's own block (a factory case, never merged with another, named by its
id); latency in ms on every timed runtime; headers that wrap at their words and are never cut.
Where the terminal is too narrow for every column, the least needed go first, and a line says
which (the report's summary.md has them all)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from .analysis.registry import list_metrics
from .analysis.verdict import VERDICTS
from .bench.latency import NOISY_IQR
from .records import STATUSES, CaseRecord, reference_of, runtimes_of

FACTORY = "factory"
#: a header wraps at its words to this width (no word is ever cut)
HEADER_WIDTH = 10
NOISY_MARK = "*"
UNBOUNDED = 10_000
#: a decoder's name longer than this breaks after each stage
LAYER_WIDTH = 24
VERDICT_WORDS = {"artifact_free": "free", "undecided": "undecided", "artifacts": "artifacts"}
#: a row of several verdicts counts them in short words
VERDICT_SHORT = {"artifact_free": "free", "undecided": "und", "artifacts": "art"}


@dataclass(frozen=True)
class Column:
    header: str
    #: the row's cell from its cases; None: the row's name
    cell: Callable[[list[CaseRecord]], str] | None
    #: lower goes first when the table does not fit
    keep: int
    justify: str = "right"


def rows(cases: list[CaseRecord]) -> dict[str, list[CaseRecord]]:
    """Registered methods' cases by method, named by the method (or by the case's id where the
    method has one case); each factory case on its own, by its id."""
    groups: dict[str, list[CaseRecord]] = {}
    for case in cases:
        groups.setdefault(case.id if case.method == FACTORY else case.method, []).append(case)
    return {(group[0].id if len(group) == 1 else name): group for name, group in groups.items()}


def columns(run: dict[str, Any], cases: list[CaseRecord]) -> list[Column]:
    timed = [i.name for i in runtimes_of(run).values() if i.timed]
    timed = [name for name in timed if any(c.median_s(name) for c in cases)]
    reference = reference_of(run)
    return [
        Column("layer", None, 100, "left"),
        Column("cases", lambda cs: str(len(cs)), 15),
        Column("status", _status, 90, "left"),
        # the first timed runtime's latency, then the figures, then the other runtimes'
        *(
            Column(f"{name} ms", _latency(name), 85 if i == 0 else 50 - i)
            for i, name in enumerate(timed)
        ),
        Column("verdict", _verdicts, 95, "left"),
        *(
            Column(metric.label, _figure(metric), 70 - i)
            for i, metric in enumerate(m for m in list_metrics() if m.summary and _has(m, cases))
        ),
        Column(f"parity rel err vs {reference}", _parity(reference), 30),
        Column("roofline", _roofline, 10),
    ]


class LayerTable:
    """The table and its legend, fitted to the width it is drawn at: columns dropped, least
    needed first, until it fits (the layer, status and one more are always kept)."""

    def __init__(self, run: dict[str, Any], cases: list[CaseRecord]) -> None:
        self.all = columns(run, cases)
        self.groups = rows(cases)

    def fitted(self, width: int, console: Console) -> tuple[Table, list[str]]:
        shown = list(self.all)
        while True:
            table = _table(shown, self.groups)
            # measured unbounded: a measurement is clamped to the width it is given
            natural = Measurement.get(console, console.options.update_width(UNBOUNDED), table)
            if natural.maximum <= width or len(shown) <= 3:
                return table, [c.header for c in self.all if c not in shown]
            shown.remove(min(shown, key=lambda c: c.keep))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table, dropped = self.fitted(options.max_width, console)
        yield table
        yield legend(dropped)


def _table(shown: list[Column], groups: dict[str, list[CaseRecord]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title_justify="left")
    for column in shown:
        header = "\n".join(textwrap.wrap(column.header, HEADER_WIDTH, break_long_words=False))
        table.add_column(header, justify=column.justify, no_wrap=True)
    for name, group in groups.items():
        cells = [_layer(name) if column.cell is None else column.cell(group) for column in shown]
        table.add_row(*map(Text, cells))
    return table


def _layer(name: str) -> str:
    """A row's name; a decoder's stages one a line when it is long
    (``resize_conv>transposed>transposed``)."""
    return name.replace(">", ">\n") if len(name) > LAYER_WIDTH else name


def _status(cases: list[CaseRecord]) -> str:
    counts = [(sum(c.status == s for c in cases), s) for s in STATUSES]
    if counts[0][0] == len(cases):
        return "ok"
    return " ".join(f"{n} {s}" for n, s in counts if n)


def _latency(runtime: str) -> Callable[[list[CaseRecord]], str]:
    def cell(cases: list[CaseRecord]) -> str:
        results = [c.runtimes.get(runtime) for c in cases]
        latencies = [r.latency for r in results if r is not None and r.latency]
        figures = [x.get("fastest_session_s") or x["median_s"] for x in latencies]
        if not figures:
            return "–"
        noisy = any(x.get("noisy") for x in latencies)
        return f"{_geomean(figures) * 1e3:.3g}" + (NOISY_MARK if noisy else "")

    return cell


def _verdicts(cases: list[CaseRecord]) -> str:
    found = [c.verdict for c in cases if c.verdict in VERDICTS]
    if not found:
        return "–"
    if len(set(found)) == 1:
        return VERDICT_WORDS[found[0]]
    return " ".join(f"{found.count(v)} {VERDICT_SHORT[v]}" for v in VERDICTS if v in found)


def _has(metric, cases: list[CaseRecord]) -> bool:
    """Whether any case has the figure: one no case has (the task probe's where no case asks
    for it) takes no column."""
    return any(metric.value(c.metrics) is not None for c in cases)


def _figure(metric) -> Callable[[list[CaseRecord]], str]:
    def cell(cases: list[CaseRecord]) -> str:
        values = [metric.value(c.metrics) for c in cases]
        return metric.format(metric.worst([v for v in values if v is not None]))

    return cell


def _parity(reference: str) -> Callable[[list[CaseRecord]], str]:
    def cell(cases: list[CaseRecord]) -> str:
        errors = [
            r.max_rel_err
            for c in cases
            for name, r in c.runtimes.items()
            if name != reference and r.max_rel_err is not None
        ]
        if not errors:
            return "–"
        return "exact" if max(errors) == 0 else f"{max(errors):.1e}"

    return cell


def _roofline(cases: list[CaseRecord]) -> str:
    fractions = [
        r.roofline_fraction for c in cases for r in c.runtimes.values() if r.roofline_fraction
    ]
    return f"{_geomean(fractions):.1%}" if fractions else "–"


def _geomean(values: list[float]) -> float:
    values = [v for v in values if v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else math.nan


def legend(dropped: list[str]) -> Text:
    """What the table's marks mean, and what did not fit."""
    text = (
        "ms: run figure (fastest session median), geometric mean over the row's cases; "
        f"{NOISY_MARK} noisy: rounds spread over {NOISY_IQR:.0%} of the median (IQR); worst "
        "figures by "
        "their direction; verdict: free = artifact-free, und = undecided, art = artifacts"
    )
    if dropped:
        text += f"; left out at this width: {', '.join(dropped)} (report/summary.md has them)"
    return Text(text, style="dim")
