"""One check for NaN and Inf in an output, for every place that must refuse one: parity (a
``failed`` runtime) and the figures (a null with the reason)."""

from __future__ import annotations

import numpy as np


def nonfinite(values: np.ndarray) -> str | None:
    """``"holds N NaN and M Inf values"`` where ``values`` has any, else ``None``."""
    nan, inf = int(np.isnan(values).sum()), int(np.isinf(values).sum())
    return f"holds {nan} NaN and {inf} Inf values" if nan or inf else None
