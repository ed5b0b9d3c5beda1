"""Checking one runtime on one prepared case: its output is finite and within the parity bound
of the reference's, and (where the runtime is analysed) the artifact figures on its own outputs
agree with the reference's."""

from __future__ import annotations

from typing import Any

from ..analysis.analyse import image_metrics
from ..parity import Bound, bound_for, check_finite, compare
from ..records import RuntimeResult
from ..runtimes import REFERENCE, Loaded, get_runtime
from .pipeline import PreparedCase


def load_and_check(work: PreparedCase, name: str) -> tuple[RuntimeResult, Loaded | None]:
    """The runtime's parity result and the runtime as loaded (``None`` where it was skipped
    before loading). Raises what loading or running raised: ``RuntimeSkipped`` (a skip),
    ``NonFiniteOutput`` (a failure), anything else (a failure, logged)."""
    runtime = get_runtime(name)
    if work.error is not None:
        return RuntimeResult.skipped(f"case failed at {work.error}"), None
    if reason := runtime.unavailable():
        return RuntimeResult.skipped(reason), None
    if name == REFERENCE:
        # prepared in another process, the reference comes without its live evaluator
        loaded = work.reference_loaded or runtime.load(work.prepared)
        output = work.reference
    else:
        loaded = runtime.load(work.prepared)
        output = loaded.output()
    check_finite(output, name)
    parity = compare(output, work.reference, bound_for(name, work.case.tolerance))
    return RuntimeResult.from_parity(parity), loaded


def runtime_metrics(work: PreparedCase, loaded: Loaded, bound: Bound) -> dict[str, Any]:
    """The image metrics on this runtime's own outputs, and whether those outputs stay within
    the parity tolerance of the reference's for the same probes."""
    metrics, outputs = image_metrics(work.case, loaded.infer)
    worst = None
    agrees = True
    for key, reference in work.probe_outputs.items():
        if key in outputs:
            parity = compare(outputs[key], reference, bound)
            agrees &= parity["within_tolerance"]
            if parity["max_rel_err"] is not None:
                worst = max(worst or 0.0, parity["max_rel_err"])
    metrics.pop("spectral_curves", None)  # the reference's curves are the ones plotted
    metrics["agrees_with_reference"] = agrees
    metrics["probe_max_rel_err"] = worst
    return metrics
