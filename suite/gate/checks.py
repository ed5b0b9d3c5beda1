"""The gate's checks: small objects parsed from one configuration table, each with a readable
message (after pytest-benchmark's ``--benchmark-compare-fail`` checks).

Deterministic figures are seeded and recomputed exactly on a rerun of unchanged code, so any
change beyond its tolerance fails as ``changed``: if the change is intended, make a new baseline.
Latency is noisy, and its unit of replication is the run (``latency.py``): it fails as
``regressed`` only when the new run's figure lies beyond what the baseline's runs predict at the
false-alarm rate ``alpha`` and grew by more than the minimum effect. Each latency row says the
slowdown it can detect; a row too noisy for the minimum effect says so and never fails.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, ClassVar

from ..analysis.registry import gate_config
from .latency import SERIES, Decision, decide
from .rows import CASE, EXACT, LATENCY, NUMERIC, LatencyTest, Outcome, Row


@dataclass(frozen=True)
class Context:
    #: the run's latency and the baseline's were timed the same way (else ``machine_note``)
    comparable_machines: bool
    machine_note: str
    #: why latency regressions are reported but not failed here (``gate.latency.gateable``)
    advisory_note: str = ""
    #: the baseline's machine class: a latency timed on another is not comparable (merged
    #: shards may hold latencies of several classes), or None: not checked per latency
    baseline_class: str | None = None


class Check:
    kind: ClassVar[str]

    def __init__(self, figure: str, reason: str = "", **options: Any) -> None:
        self.figure = figure
        self.reason = reason
        self.options = options

    def rows(self, case: str, old: dict, new: dict, context: Context) -> list[Row]:
        raise NotImplementedError

    def lookup(self, figures: dict) -> Any:
        value: Any = figures
        for part in self.figure.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


class Exact(Check):
    """Output shape, ONNX op inventory and numerics attributes, status: any difference fails."""

    kind = "exact"

    def rows(self, case, old, new, context):
        before, after = self.lookup(old), self.lookup(new)
        outcome = Outcome.PASS if before == after else Outcome.CHANGED
        return [Row(case, self.figure, EXACT, outcome, before, after)]


class Numeric(Check):
    """A deterministic number (or each number of a mapping, such as parity per runtime):
    |new - old| <= tolerance + relative · |old|."""

    kind = "numeric"

    def rows(self, case, old, new, context):
        before, after = self.lookup(old), self.lookup(new)
        if isinstance(before, dict) or isinstance(after, dict):
            keys = sorted(set(before or {}) | set(after or {}))
            return [
                self._row(case, f"{self.figure}.{k}", (before or {}).get(k), (after or {}).get(k))
                for k in keys
            ]
        return [self._row(case, self.figure, before, after)]

    def _row(self, case, figure, before, after):
        tolerance = self.options.get("tolerance", 0.0)
        relative = self.options.get("relative", 0.0)
        if before is None or after is None:
            outcome = Outcome.PASS if before is after else Outcome.CHANGED
            return Row(case, figure, NUMERIC, outcome, before, after, None, tolerance, relative)
        change = after - before
        limit = tolerance + relative * abs(before)
        outcome = Outcome.PASS if abs(change) <= limit else Outcome.CHANGED
        return Row(case, figure, NUMERIC, outcome, before, after, change, tolerance, relative)


class Latency(Check):
    """Per runtime: the run-level prediction test of ``latency.py`` on the configured series
    (``calibration``: ``"yardstick"`` divides each round by the yardstick's time around it,
    ``"none"`` takes the rounds as measured), with the configured minimum effect; a row whose
    noise hides that effect is ``too noisy to gate`` and never fails."""

    kind = "latency"

    def __init__(self, figure: str, reason: str = "", **options: Any) -> None:
        calibration = options.setdefault("calibration", "yardstick")
        if calibration not in CALIBRATIONS:
            raise ValueError(
                f"latency calibration {calibration!r}; known: {', '.join(CALIBRATIONS)}"
            )
        super().__init__(figure, reason, **options)

    def rows(self, case, old, new, context):
        before, after = old.get("latency") or {}, new.get("latency") or {}
        min_effect = new.get("min_effect") or self.options["min_effect"]
        rows = []
        for runtime in sorted(set(before) & set(after)):
            base, run = before[runtime]["runs"], after[runtime]["runs"]
            timed_on = after[runtime].get("machine_class")
            rows.append(self._row(case, runtime, base, run, min_effect, context, timed_on))
        return rows

    def _row(self, case, runtime, base, run, min_effect, context, timed_on) -> Row:
        alpha = self.options["alpha"]
        wanted = CALIBRATIONS[self.options["calibration"]]
        # Both sides in one series: the configured one where both have it (a run whose
        # yardstick could not load has none), else the rounds as measured.
        series = wanted if wanted in base and wanted in run else "rounds_s"
        note = (
            ""
            if series == wanted
            else f"no rounds {SERIES[wanted]} on one side: compared {SERIES[series]}"
        )
        figure = f"latency.{runtime}"
        # The fastest session as measured: the figure compared, before any yardstick.
        seconds = statistics.median(base["rounds_s"]), run["rounds_s"][0]
        if not context.comparable_machines:
            return _not_comparable(case, figure, seconds, context.machine_note)
        if context.baseline_class and timed_on != context.baseline_class:
            why = f"timed on {timed_on}, the baseline on {context.baseline_class}"
            return _not_comparable(case, figure, seconds, why)
        decision = decide(base[series], run[series][0], min_effect, alpha)
        p = decision.p_slower if decision.effect >= 0 else decision.p_faster
        outcome = _outcome(decision)
        if outcome is Outcome.REGRESSED and context.advisory_note:
            outcome = Outcome.ADVISORY
            note = "; ".join(filter(None, (note, context.advisory_note)))
        test = LatencyTest(p, series, len(base[series]), alpha, decision.detectable)
        return Row(
            case,
            figure,
            LATENCY,
            outcome,
            *seconds,
            change=decision.effect,
            tolerance=decision.threshold,
            latency=test,
            message="; ".join(filter(None, (note, _noisy_note(decision, min_effect)))),
        )


def _not_comparable(case: str, figure: str, seconds: tuple[float, float], why: str) -> Row:
    return Row(case, figure, LATENCY, Outcome.NOT_COMPARABLE, *seconds, message=why)


def _outcome(decision: Decision) -> Outcome:
    return Outcome.TOO_NOISY if decision.too_noisy else Outcome(decision.verdict)


def _noisy_note(decision: Decision, min_effect: float) -> str:
    if not decision.too_noisy:
        return ""
    text = (
        f"the baseline's runs spread so much that only +{decision.critical:.0%} stands out at "
        f"this false-alarm rate, above the configured +{min_effect:.0%}"
    )
    if decision.effect > decision.critical:
        text += f"; this run's {decision.effect:+.0%} is beyond that: look at it"
    return text


#: What a latency round is divided by before the comparison (the baseline's series for it).
CALIBRATIONS = {"yardstick": "relative", "none": "rounds_s"}

KINDS: dict[str, type[Check]] = {cls.kind: cls for cls in (Exact, Numeric, Latency)}

#: The gated figures before the registered ones. Tolerances on seeded figures sit just above
#: what reruns of unchanged code on one machine produce (bit-identical so far: kept for
#: thread-count noise in float sums), far below what a changed method, init or export
#: attribute moves.
BEFORE_FIGURES: list[dict[str, Any]] = [
    {"figure": "status", "kind": "exact"},
    {"figure": "output_shape", "kind": "exact"},
    {"figure": "onnx_ops", "kind": "exact"},
    {"figure": "onnx_numerics", "kind": "exact"},
    {
        "figure": "parity",
        "kind": "numeric",
        "tolerance": 1e-6,
        "relative": 1.0,
        "reason": "relative error vs torch: float32 noise may double; a wrong attribute is 1e-2+",
    },
]
#: ... and after them.
AFTER_FIGURES: list[dict[str, Any]] = [
    {"figure": "verdict", "kind": "exact"},
    {
        "figure": "latency",
        "kind": "latency",
        "min_effect": 0.25,
        "alpha": 0.01,
        # Measured on this project's 2-core machines (docs/measurements.md, "Where the latency
        # noise lives"): the yardstick ratio halves the spread between runs of most cases.
        "calibration": "yardstick",
        "reason": "the run is the unit: a prediction test over the baseline's runs at 1%, and "
        "a 25% effect",
    },
]


def config() -> list[dict[str, Any]]:
    """The one table of gated figures: one numeric check per registered figure (and per gated
    breakdown) from the registry, as it stands when asked, between the fixed ones."""
    return [*BEFORE_FIGURES, *gate_config(), *AFTER_FIGURES]


def parse_checks(entries: list[dict[str, Any]] | None = None) -> list[Check]:
    checks = []
    for entry in config() if entries is None else entries:
        options = dict(entry)
        kind = options.pop("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown check kind {kind!r}; known: {', '.join(KINDS)}")
        checks.append(KINDS[kind](**options))
    return checks


def compare(
    baseline: dict, results_figures: dict[str, dict], context: Context, allow_removed: bool = False
) -> list[Row]:
    """Every row of the gate: each check on each case in both, then new and vanished cases."""
    checks = parse_checks()
    rows: list[Row] = []
    old_cases = baseline["cases"]
    for case, new in results_figures.items():
        old = old_cases.get(case)
        if old is None:
            rows.append(Row(case, "case", CASE, Outcome.NEW, False, True))
            continue
        for check in checks:
            rows.extend(check.rows(case, old, new, context))
    for case in old_cases:
        if case not in results_figures:
            outcome = Outcome.REMOVED if allow_removed else Outcome.VANISHED
            why = "" if allow_removed else "pass --allow-removed if it was on purpose"
            rows.append(Row(case, "case", CASE, outcome, True, False, message=why))
    return rows
