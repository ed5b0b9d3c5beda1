"""The gate's checks: small objects parsed from one configuration table, each with a readable
message (after pytest-benchmark's ``--benchmark-compare-fail`` checks).

Deterministic figures are seeded and recomputed exactly on a rerun of unchanged code, so any
change beyond its tolerance fails as ``changed``: if the change is intended, make a new baseline.
Latency is noisy: it fails as ``regressed`` only when a one-sided Mann–Whitney U test over the
rounds says the new run is slower (p < alpha), the median grew by more than the minimum effect,
and it grew by that much in every one of the run's timing passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.stats import mannwhitneyu

from ..analysis.registry import gate_config

PASSING = ("pass", "improved", "not comparable", "new", "removed", "regressed (advisory)")


@dataclass(frozen=True)
class Row:
    case: str
    figure: str
    baseline: str
    new: str
    change: str
    threshold: str
    verdict: str
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict not in PASSING


@dataclass(frozen=True)
class Context:
    comparable_machines: bool
    machine_note: str


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return str(value)


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
        same = before == after
        return [
            Row(
                case,
                self.figure,
                _fmt(before),
                _fmt(after),
                "" if same else "differs",
                "equal",
                "pass" if same else "changed",
            )
        ]


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
        threshold = f"±{tolerance:g}" + (f" + {relative:g}·|old|" if relative else "")
        if before is None or after is None:
            verdict = "pass" if before is after else "changed"
            return Row(case, figure, _fmt(before), _fmt(after), "", threshold, verdict)
        change = after - before
        limit = tolerance + relative * abs(before)
        verdict = "pass" if abs(change) <= limit else "changed"
        return Row(case, figure, _fmt(before), _fmt(after), f"{change:+.3g}", threshold, verdict)


class Latency(Check):
    """Per runtime: the rounds (``calibration``: over the yardstick's time around each, as
    measured, or over the run's own memory-copy time for the case's bytes), one-sided
    Mann–Whitney U over them, plus a minimum effect on the median, and that effect in every
    timing pass of the new run (the passes start at least 15 s apart, each in a fresh session)."""

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
        alpha = self.options["alpha"]
        rows = []
        wanted = CALIBRATIONS[self.options["calibration"]]
        for runtime in sorted(set(before) & set(after)):
            # Both sides in one series, never one of each: the configured one where both have
            # it (a run whose yardstick could not load has none), else the first they share.
            series = next(
                name
                for name in (wanted, *CALIBRATIONS.values())
                if name in before[runtime] and name in after[runtime]
            )
            note = ""
            if series != wanted:
                note = f"no rounds {SERIES[wanted]} on one side: compared {SERIES[series]}"
            a = np.asarray(before[runtime][series])
            b = np.asarray(after[runtime][series])
            effect = float(np.median(b) / np.median(a) - 1)
            threshold = f"+{min_effect:.0%} {SERIES[series]} in every pass, p<{alpha:g}"
            change = f"{effect:+.1%}"
            message = ""
            if not context.comparable_machines:
                verdict, message, note = "not comparable", context.machine_note, ""
            else:
                slower = mannwhitneyu(b, a, alternative="greater").pvalue
                faster = mannwhitneyu(b, a, alternative="less").pvalue
                # A slower build is slower in every timing pass; a shared machine's slow spell
                # (seconds long) falls into one pass. Only the first is a regression.
                passes = np.array_split(b, max(1, after[runtime].get("passes", 1)))
                slow_passes = sum(np.median(p) / np.median(a) - 1 > min_effect for p in passes)
                if slower < alpha and effect > min_effect and slow_passes == len(passes):
                    verdict = "regressed"
                elif slower < alpha and effect > min_effect:
                    verdict = "pass"
                    message = (
                        f"slower in {slow_passes} of {len(passes)} timing passes only: a slow "
                        "spell of the machine, not of the code"
                    )
                elif faster < alpha and effect < -min_effect / (1 + min_effect):
                    verdict = "improved"
                else:
                    verdict = "pass"
                change += f" (p={slower if effect >= 0 else faster:.2g})"
            rows.append(
                Row(
                    case,
                    f"latency.{runtime}",
                    _fmt(before[runtime]["median_s"]),
                    _fmt(after[runtime]["median_s"]),
                    change,
                    threshold,
                    verdict,
                    "; ".join(text for text in (note, message) if text),
                )
            )
        return rows


#: What a latency round is divided by before the comparison (the baseline's series for it): the
#: yardstick's time around it, nothing, or the time the run's measured memory copy takes for the
#: case's bytes. The order is also the fallback order when a side lacks the configured series.
CALIBRATIONS = {"yardstick": "relative", "none": "rounds_s", "copy_bandwidth": "normalised"}
#: How the gate's table names each series.
SERIES = {"relative": "÷ yardstick", "rounds_s": "as measured", "normalised": "÷ copy time"}

KINDS: dict[str, type[Check]] = {cls.kind: cls for cls in (Exact, Numeric, Latency)}

#: The one table of gated figures. Tolerances on seeded figures sit just above what reruns of
#: unchanged code on one machine produce (bit-identical so far: kept for thread-count noise in
#: float sums), far below what a changed method, init or export attribute moves.
CONFIG: list[dict[str, Any]] = [
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
    # one numeric check per registered figure, its tolerance from the registry
    *gate_config(),
    {"figure": "checkerboard_families", "kind": "numeric", "tolerance": 0.05},
    {"figure": "verdict", "kind": "exact"},
    {
        "figure": "latency",
        "kind": "latency",
        "min_effect": 0.25,
        "alpha": 0.01,
        # Measured on this project's 2-core machines (README, "How the gate times"): the
        # yardstick ratio cut false alarms that the rounds as measured raised; dividing by the
        # run's copy bandwidth (one probe per run, 28-58 GB/s between runs) prevented none.
        "calibration": "yardstick",
        "reason": "shared 2-core machines: asv-style significance over rounds plus a 25% effect "
        "in every timing pass",
    },
]


def parse_checks(config: list[dict[str, Any]] = CONFIG) -> list[Check]:
    checks = []
    for entry in config:
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
            rows.append(Row(case, "case", "–", "present", "", "", "new"))
            continue
        for check in checks:
            rows.extend(check.rows(case, old, new, context))
    for case in old_cases:
        if case not in results_figures:
            verdict = "removed" if allow_removed else "vanished"
            rows.append(
                Row(
                    case,
                    "case",
                    "present",
                    "–",
                    "",
                    "",
                    verdict,
                    "" if allow_removed else "pass --allow-removed if it was on purpose",
                )
            )
    return rows
