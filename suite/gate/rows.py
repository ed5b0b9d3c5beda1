"""The gate's rows as data: the figures as numbers (or, for exact checks, the values compared), the
outcome as an enum; text only when a row is printed (``cells``), the same text the gate has
always printed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .latency import SERIES


class Outcome(Enum):
    PASS = "pass"
    IMPROVED = "improved"
    NEW = "new"
    REMOVED = "removed"
    NOT_COMPARABLE = "not comparable"
    #: a latency regression reported but not failed (``gate.latency.gateable``, --latency-advisory)
    ADVISORY = "regressed (advisory)"
    #: a latency row whose noise hides the configured effect: reported, never failed
    TOO_NOISY = "too noisy to gate"
    CHANGED = "changed"
    REGRESSED = "regressed"
    VANISHED = "vanished"

    @property
    def failed(self) -> bool:
        return self in (Outcome.CHANGED, Outcome.REGRESSED, Outcome.VANISHED)


@dataclass(frozen=True)
class LatencyTest:
    """How a latency row was decided (``latency.decide``)."""

    p: float  # the test's p-value in the direction of the change
    series: str  # the run figures compared: a key of ``latency.SERIES``
    runs: int  # the baseline's runs
    alpha: float
    detectable: float  # the slowdown caught with probability latency.POWER


#: How a row's figures read: which check made it.
EXACT, NUMERIC, LATENCY, CASE = "exact", "numeric", "latency", "case"


@dataclass(frozen=True)
class Row:
    case: str
    figure: str
    kind: str  # EXACT, NUMERIC, LATENCY or CASE
    outcome: Outcome
    #: the figure in the baseline and in the run: numbers for numeric checks, seconds (the
    #: fastest session as measured) for latency, the values compared for exact ones, and
    #: whether the case is present for case rows; None where a side has none
    baseline: Any = None
    new: Any = None
    #: numeric: new - baseline; latency: the new run figure over the baseline's, minus 1
    change: float | None = None
    #: numeric: the absolute tolerance; latency: the effect beyond which it regressed
    tolerance: float | None = None
    #: numeric: the tolerance's part relative to |baseline|
    relative: float = 0.0
    latency: LatencyTest | None = None
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome.failed


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return str(value)


def _ms(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:.4g} ms"


def _exact(row: Row) -> tuple[str, str, str, str]:
    change = "" if row.outcome is Outcome.PASS else "differs"
    return _fmt(row.baseline), _fmt(row.new), change, "equal"


def _numeric(row: Row) -> tuple[str, str, str, str]:
    threshold = f"±{row.tolerance:g}" + (f" + {row.relative:g}·|old|" if row.relative else "")
    change = "" if row.change is None else f"{row.change:+.3g}"
    return _fmt(row.baseline), _fmt(row.new), change, threshold


def _latency(row: Row) -> tuple[str, str, str, str]:
    test = row.latency
    if test is None:  # not compared
        return _ms(row.baseline), _ms(row.new), "", ""
    change = f"{row.change:+.1%} (p={test.p:.2g})"
    threshold = f"+{row.tolerance:.0%} {SERIES[test.series]}, {test.runs} runs, p<{test.alpha:g}"
    return _ms(row.baseline), _ms(row.new), change, threshold


def _case(row: Row) -> tuple[str, str, str, str]:
    return ("present" if row.baseline else "–"), ("present" if row.new else "–"), "", ""


FORMATS: dict[str, Callable[[Row], tuple[str, str, str, str]]] = {
    EXACT: _exact,
    NUMERIC: _numeric,
    LATENCY: _latency,
    CASE: _case,
}


def verdict_text(row: Row) -> str:
    if row.outcome is Outcome.TOO_NOISY and row.latency:
        return f"{row.outcome.value} (MDE +{row.latency.detectable:.0%})"
    return row.outcome.value


def cells(row: Row) -> dict[str, str]:
    """The row as the gate prints it, by column."""
    baseline, new, change, threshold = FORMATS[row.kind](row)
    detectable = f"+{row.latency.detectable:.0%}" if row.latency else ""
    return {
        "case": row.case,
        "figure": row.figure,
        "baseline": baseline,
        "new": new,
        "change": change,
        "threshold": threshold,
        "detectable": detectable,
        "verdict": verdict_text(row),
    }
