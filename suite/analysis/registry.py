"""The registry of artifact and fidelity figures: each one registered object that owns all the
suite knows of it: its name, where it lives in a case record, unit, direction, one-line meaning,
how it is computed, its verdict threshold, its gate tolerance and the invariances it claims. The
verdict, the gate's checks, the report's columns, formats and captions, the summary, the
schema's descriptions, the docs' tables and the invariance tests are generated from here.

The suite's own figures are registered by ``suite/analysis/figures/core.py``; every other
module of that package, then every module ``UPSAMPLING_BENCH_METRICS`` names, registers more
(docs/contributing.md, "A figure (metric)")."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import record

if TYPE_CHECKING:
    import numpy as np
    from torch import nn

    from ..case import Case

#: Directions: which way is better.
LOWER, HIGHER, ZERO = "lower is better", "higher is better", "0 is best; the sign says which way"
#: The invariances a figure may claim; ``tests/test_invariances.py`` checks each claim.
SIZE, GAIN, PROBE, SEED = "output size", "gain", "probe photographs", "weight seed"
INVARIANCES = (SIZE, GAIN, PROBE, SEED)
#: Layers an invariance claim is checked on (``tests/test_invariances.py``), as case-file keys
#: of one stage at a small size: each carries an artifact some figure measures, so that a claim
#: is tested where the figure reads something.
WITNESSES: dict[str, dict[str, Any]] = {
    "random-transposed": {"method": "transposed", "kernel": 3, "stride": 2, "channels": 2},
    "resize-conv": {"method": "resize_conv", "mode": "bilinear", "channels": 2},
    "added-pattern": {
        "method": "factory",
        "factory": "suite.calibration:injected_pattern",
        "scale": 2,
        "percent": 3.0,
        "mode": "bilinear",
    },
    "laplacian-phase": {
        "method": "factory",
        "factory": "suite.calibration:laplacian_phase",
        "scale": 2,
    },
    # the task probe's figures read only where a case asks for them (``probe``, a case key)
    "probed-bilinear": {"method": "interpolate", "mode": "bilinear", "channels": 4, "probe": True},
}
#: How the verdict table sums a figure up over a row's cases.
WORST, MEDIAN = "worst", "median"
#: Modules (comma-separated import names) holding a team's own figures, imported after the
#: suite's, in every process that lists the figures.
EXTRA_METRICS_ENV = "UPSAMPLING_BENCH_METRICS"


@dataclass(frozen=True)
class Measured:
    """What a computation hook is given: the case, its torch reference (``model`` and ``infer``:
    float32 arrays in and out), the outputs the shared passes made (``"flat"``: of a constant
    input; ``"probes"``: of the probe photographs, P x C x H x W) and the figures found so far."""

    case: Case
    model: nn.Module
    infer: Callable[[np.ndarray], np.ndarray]
    outputs: dict[str, np.ndarray]
    metrics: dict[str, Any]


#: A figure's computation: its value, or (value, [low, high]) with its 95% interval; raise
#: ``analysis.errors.MetricSkipped`` or ``MetricError`` to record null with the reason.
Hook = Callable[[Measured], Any]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # a column header
    unit: str
    direction: str
    meaning: str
    invariances: tuple[str, ...]
    #: a rerun of unchanged code must reproduce the figure within this (absolute)
    gate_tolerance: float
    fmt: str = ".3g"
    #: where in ``case.metrics`` the value lives (dots for nesting)
    path: str = ""
    #: whether a 95% interval ``<name>_ci`` is recorded beside it
    interval: bool = True
    #: shown (its worst value per method) in the run's one-screen summary
    summary: bool = False
    #: the largest value of an artifact-free case (its 95% interval's upper end), or None: the
    #: figure does not decide the verdict
    threshold: float | None = None
    #: the threshold in the report's words, ``{threshold:g}`` in it (default: ``short_rule``)
    verdict_rule: str = ""
    #: the verdict table's column for the figure ("" for none), summed up by ``column_summary``
    verdict_column: str = ""
    column_summary: str = WORST
    #: a per-period breakdown in ``case.metrics`` gated beside the figure with its tolerance
    breakdown: str = ""
    #: the ``WITNESSES`` its invariance claims are checked on: layers that carry what it measures
    witnesses: tuple[str, ...] = ("random-transposed", "resize-conv", "laplacian-phase")
    #: computes the figure after the shared passes; None: one of those passes
    #: (``analyse.py``: they share the probe outputs and bootstrap draws) records it
    compute: Hook | None = None

    def __post_init__(self) -> None:
        unknown = set(self.invariances) - set(INVARIANCES)
        if unknown:
            raise ValueError(f"metric {self.name!r}: unknown invariances {sorted(unknown)}")
        strangers = set(self.witnesses) - set(WITNESSES)
        if strangers or not self.witnesses:
            raise ValueError(
                f"metric {self.name!r}: witnesses {sorted(strangers)}; known: {list(WITNESSES)}"
            )

    @property
    def key(self) -> str:
        return self.path or self.name

    def value(self, metrics: dict[str, Any]) -> Any:
        value: Any = metrics
        for part in self.key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def format(self, value: Any) -> str:
        if value is None or value != value:  # None or NaN
            return "–"
        return format(value, self.fmt)

    def worst(self, values: list[float]) -> float | None:
        """The worst of ``values`` by the figure's direction (largest |value| for signed ones)."""
        if not values:
            return None
        if self.direction == HIGHER:
            return min(values)
        if self.direction == ZERO:
            return max(values, key=abs)
        return max(values)

    @property
    def caption(self) -> str:
        return f"{self.label} ({self.unit}; {self.direction}): {self.meaning}"

    @property
    def short_rule(self) -> str:
        """The verdict's threshold in a few words: "<label> ≤ <threshold>"."""
        percent = self.label.endswith(" %")
        return f"{self.label.removesuffix(' %')} ≤ {self.threshold:g}" + (" %" if percent else "")

    @property
    def rule(self) -> str:
        """The verdict's threshold in words (the report's)."""
        if self.verdict_rule:
            return self.verdict_rule.format(threshold=self.threshold)
        return self.short_rule


_REGISTRY: dict[str, Metric] = {}
_LOADED: list[bool] = []


def register(metric: Metric) -> Metric:
    if metric.name in _REGISTRY:
        raise ValueError(f"metric {metric.name!r} is registered twice")
    _REGISTRY[metric.name] = metric
    return metric


def _load() -> None:
    """Import the figure modules once (``figures``, then ``EXTRA_METRICS_ENV``'s): importing
    one registers its figures. By name, so no module of the suite imports them."""
    if _LOADED:
        return
    _LOADED.append(True)
    importlib.import_module(f"{__package__}.figures")
    for name in filter(None, (n.strip() for n in os.environ.get(EXTRA_METRICS_ENV, "").split(","))):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"{EXTRA_METRICS_ENV}: cannot import {name!r}: {exc}") from exc


def list_metrics() -> list[Metric]:
    _load()
    return list(_REGISTRY.values())


def get_metric(name: str) -> Metric:
    _load()
    return _REGISTRY[name]


class Thresholds(Mapping[str, float]):
    """figure -> its verdict threshold, read from the registry whenever it is asked (a figure
    registered later counts too)."""

    def _found(self) -> dict[str, float]:
        return {m.name: m.threshold for m in list_metrics() if m.threshold is not None}

    def __getitem__(self, name: str) -> float:
        return self._found()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._found())

    def __len__(self) -> int:
        return len(self._found())


def compute_hooked(measured: Measured, notes: dict[str, str]) -> None:
    """Add each hooked figure (and its interval) to ``measured.metrics``; one that is skipped
    or fails is null, with the reason in ``notes``."""
    for metric in list_metrics():
        if metric.compute is None:
            continue
        found = record(notes, metric.name, lambda m=metric: metric_value(m.compute(measured)))
        value, interval = found if found is not None else (None, None)
        measured.metrics[metric.name] = value
        if metric.interval:
            measured.metrics[f"{metric.name}_ci"] = interval


def metric_value(found: Any) -> tuple[float, list[float] | None]:
    """A hook's answer as (value, interval or None)."""
    if isinstance(found, tuple):
        value, interval = found
        return float(value), [float(v) for v in interval]
    return float(found), None


def gate_config() -> list[dict[str, Any]]:
    """One numeric gate check per registered figure, then one per gated breakdown."""
    checks: list[dict[str, Any]] = [
        {
            "figure": f"metrics.{metric.name}",
            "kind": "numeric",
            "tolerance": metric.gate_tolerance,
            "reason": f"seeded figure ({metric.unit}): a rerun reproduces it",
        }
        for metric in list_metrics()
    ]
    for metric in list_metrics():
        if metric.breakdown:
            tolerance = metric.gate_tolerance
            checks.append({"figure": metric.breakdown, "kind": "numeric", "tolerance": tolerance})
    return checks


def gated_figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """The baseline's ``metrics``: each registered figure's value from a case's metrics."""
    return {metric.name: metric.value(metrics) for metric in list_metrics()}


def gated_breakdowns(metrics: dict[str, Any]) -> dict[str, Any]:
    """The baseline's breakdowns (each beside ``metrics``, by its own name)."""
    return {m.breakdown: metrics.get(m.breakdown) for m in list_metrics() if m.breakdown}


def schema_properties() -> dict[str, Any]:
    """The results schema's entries for the registered figures (and their intervals)."""
    properties: dict[str, Any] = {}
    for metric in list_metrics():
        if metric.path:
            continue
        properties[metric.name] = {
            "type": ["number", "null"],
            "description": metric.caption,
        }
        if metric.interval:
            properties[f"{metric.name}_ci"] = {
                "type": ["array", "null"],
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "description": f"95% interval of {metric.name}",
            }
    return properties
