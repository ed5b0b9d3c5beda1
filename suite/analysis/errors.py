"""Why a metric has no value for a case: recorded in results.json, never a crash of the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class MetricError(ValueError):
    """The metric is undefined for this input (constant output, non-finite values, bad geometry)."""


class ProbeError(ValueError):
    """A probe that cannot be made: an unknown name, a size the downsampling cannot divide."""


class MetricSkipped(Exception):
    """The metric does not apply to this case (for example no stride, so no checkerboard)."""


def _finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or bool(np.isfinite(value))


def record(notes: dict[str, str], name: str, compute: Callable[[], Any]) -> Any:
    """The value of ``compute()``, or ``None`` with the reason in ``notes[name]``."""
    try:
        value = compute()
        if not _finite(value):
            raise MetricError(f"the computation gave a non-finite value: {value!r}"[:200])
        return value
    except MetricSkipped as exc:
        notes[name] = f"skipped: {exc}"
    except (MetricError, ProbeError) as exc:
        notes[name] = f"failed: {exc}"
    return None
