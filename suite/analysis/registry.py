"""The registry of artifact and fidelity figures: each one registered object with its name, where
it lives in a case record, unit, direction, one-line meaning, the invariances it claims and its
gate tolerance. The gate's checks, the report's columns and captions, the summary and the schema's
descriptions are generated from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Directions: which way is better.
LOWER, HIGHER, ZERO = "lower is better", "higher is better", "0 is best; the sign says which way"


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


_REGISTRY: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.name in _REGISTRY:
        raise ValueError(f"metric {metric.name!r} is registered twice")
    _REGISTRY[metric.name] = metric
    return metric


def list_metrics() -> list[Metric]:
    return list(_REGISTRY.values())


def get_metric(name: str) -> Metric:
    return _REGISTRY[name]


SIZE, GAIN, PROBE, SEED = "output size", "gain", "probe photographs", "weight seed"

register(
    Metric(
        "flat_ripple",
        "flat ripple",
        "std / rms",
        LOWER,
        "uneven overlap on a constant input: the output's deviation from flat over its RMS, "
        "energy weighted over channels (exact for linear cases)",
        (SIZE, GAIN),
        1e-4,
        ".3f",
    )
)
register(
    Metric(
        "checkerboard_pct",
        "checkerboard %",
        "% of the output's RMS",
        LOWER,
        "RMS of the phase-locked (periodic) pattern of the worst period family on photographs, "
        "with the estimator's chance level removed",
        (SIZE, GAIN, PROBE),
        0.05,
        ".2f",
        summary=True,
    )
)
register(
    Metric(
        "phase_energy_pct",
        "phase energy %",
        "% of the mean detail energy",
        LOWER,
        "how much the phases' local detail energy differs (RMS over phases): signal-dependent "
        "patterns that keep a flat field flat",
        (SIZE, GAIN, PROBE),
        0.5,
        ".1f",
    )
)
register(
    Metric(
        "spectral_fidelity_db",
        "fidelity dB",
        "dB against the original",
        ZERO,
        "mean log-power difference from the high-resolution original over the upper half of "
        "the band the input represents: < 0 detail lost, > 0 boosted",
        (GAIN,),
        0.05,
        "+.1f",
    )
)
register(
    Metric(
        "spectral_leakage_db",
        "leakage dB",
        "dB against the original",
        ZERO,
        "the same above the input's Nyquist, out to the corners: > 0 imaging (more energy than "
        "the original had there), < 0 less",
        (GAIN,),
        0.05,
        "+.1f",
    )
)
register(
    Metric(
        "hypercolumn_psnr_db",
        "hypercolumn PSNR dB",
        "dB",
        HIGHER,
        "PSNR of the luminance reconstructed from hypercolumns upsampled by the case, on "
        "held-out photographs",
        (GAIN,),
        0.05,
        ".1f",
        summary=True,
    )
)
register(
    Metric(
        "hypercolumn_ssim",
        "hypercolumn SSIM",
        "unitless",
        HIGHER,
        "SSIM of the same reconstructions (Wang et al.'s Gaussian window, σ = 1.5)",
        (GAIN,),
        1e-3,
        ".3f",
    )
)
register(
    Metric(
        "checkerboard_gain",
        "checkerboard gain",
        "|G(f)| / |G(0)|",
        LOWER,
        "exact, linear cases: the effective filter's largest gain at a checkerboard frequency "
        "over its DC gain (0: a flat field stays flat)",
        (SIZE, GAIN, PROBE, SEED),
        1e-6,
        ".3g",
        path="linear.checkerboard_gain",
        interval=False,
    )
)
register(
    Metric(
        "imaging_ratio",
        "imaging ratio",
        "energy ratio",
        LOWER,
        "exact, linear cases: the effective filter's energy above the input's Nyquist over "
        "its energy below",
        (SIZE, GAIN, PROBE),
        1e-6,
        ".3g",
        path="linear.imaging_ratio",
        interval=False,
    )
)


def gate_config() -> list[dict[str, Any]]:
    """One numeric gate check per registered figure."""
    return [
        {
            "figure": f"metrics.{metric.name}",
            "kind": "numeric",
            "tolerance": metric.gate_tolerance,
            "reason": f"seeded figure ({metric.unit}): a rerun reproduces it",
        }
        for metric in list_metrics()
    ]


def gated_figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """The baseline's ``metrics``: each registered figure's value from a case's metrics."""
    return {metric.name: metric.value(metrics) for metric in list_metrics()}


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
