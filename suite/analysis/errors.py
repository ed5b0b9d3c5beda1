"""Why a metric has no value for a case: recorded in results.json, never a crash of the run."""

from __future__ import annotations


class MetricError(ValueError):
    """The metric is undefined for this input (constant output, non-finite values, bad geometry)."""


class MetricSkipped(Exception):
    """The metric does not apply to this case (for example no stride, so no checkerboard)."""
