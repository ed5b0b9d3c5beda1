"""Checking one runtime on one prepared case: its output is finite and within the parity bound
of the reference's, and (where the runtime is analysed) the artifact figures on its own outputs
agree with the reference's.

It needs no session: the process that prepared a case checks it right away (a Dask worker, or
the run's own process when serial), so a sweep's checks spread over the workers like its
preparing; a timing process checks again, then times (``check_runtime``'s ``time_it``).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..analysis.analyse import image_metrics
from ..errors import first_line
from ..parity import Bound, NonFiniteOutput, check_finite, compare, psnr_db
from ..parity_bound import bound_for
from ..precision import get_precision
from ..records import RuntimeResult
from ..runtimes import REFERENCE, Loaded, RuntimeSkipped, get_runtime
from .errorlog import ErrorLog
from .pipeline import CPU_CHECK, PreparedCase
from .reduced import check_reduced, over_budget


def check_runtime(
    work: PreparedCase,
    name: str,
    analyse: bool,
    log: ErrorLog,
    time_it: Callable[[Loaded], dict[str, Any]] | None = None,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> RuntimeResult:
    """One runtime on the case: checked, timed where ``time_it`` is given (a timing process),
    analysed where ``analyse``. A skip or a failure is the result, never an exception."""
    runtime = get_runtime(name)
    on_stage(f"{name} · check")
    try:
        result, loaded = load_and_check(work, name)
        # a deployment variant's torch runtimes run the float32 model its other variants share:
        # timed once, on the default export's case
        timed = runtime.timed and (runtime.runs_export or not work.case.deployed)
        if loaded is not None and timed and time_it is not None:
            on_stage(f"{name} · time")
            result.latency = time_it(loaded)
        if loaded is not None and time_it is None and _inspected(work, name):
            on_stage(f"{name} · profile")
            precision = get_precision(work.case.precision)
            result.executed = runtime.executed(work.prepared, precision)
        if loaded is not None and analyse and runtime.analysed and name != REFERENCE:
            on_stage(f"{name} · analyse")
            result.metrics = runtime_metrics(work, loaded, case_bound(work, name))
    except (RuntimeSkipped, NonFiniteOutput) as exc:
        skip = isinstance(exc, RuntimeSkipped)
        result = (RuntimeResult.skipped if skip else RuntimeResult.failed)(str(exc))
    except Exception as exc:
        result = RuntimeResult.failed(f"{name}: {first_line(exc)}")
        log.case(work.case, name, exc)
    return result


def _inspected(work: PreparedCase, name: str) -> bool:
    """Whether the check records what the runtime really computed (``Runtime.executed``): on
    a reduced-precision export, where a provider may compute in float32 after all, and on a
    GPU, where it may hand nodes it has no kernel for to the CPU."""
    runtime = get_runtime(name)
    reduced = get_precision(work.case.precision).reduced
    return runtime.runs_export and name != REFERENCE and (reduced or runtime.device != "cpu")


@dataclass
class Checked:
    """Every runtime's result on one case, how long each took, and the bugs met on the way
    (outside a runtime's own failure handling: node id and traceback, for ``errors.log``)."""

    results: dict[str, RuntimeResult] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    crashes: list[tuple[str, str]] = field(default_factory=list)


def check_all(
    work: PreparedCase,
    runtimes: list[str],
    analyse: bool,
    log: ErrorLog,
    on_runtime: Callable[[str], None] = lambda stage: None,
) -> Checked:
    """The case on every runtime, in order (``on_runtime`` is told each stage as it starts and
    ``"done"`` as each runtime ends, for the progress bar)."""
    checked = Checked()
    cpu = time.process_time()
    for name in runtimes:
        began = time.perf_counter()
        try:
            checked.results[name] = check_runtime(work, name, analyse, log, on_stage=on_runtime)
        except Exception:  # a bug outside the runtime's own failure handling
            checked.crashes.append((f"{work.case.id}::{name}", traceback.format_exc()))
        checked.seconds[f"check.{name}"] = time.perf_counter() - began
        on_runtime("done")
    # every thread's CPU seconds: what the checks would take on one core (``plan.py``)
    checked.seconds[CPU_CHECK] = time.process_time() - cpu
    return checked


def load_and_check(work: PreparedCase, name: str) -> tuple[RuntimeResult, Loaded | None]:
    """The runtime's parity result and the runtime as loaded (``None`` where it was skipped
    before loading). Raises what loading or running raised: ``RuntimeSkipped`` (a skip),
    ``NonFiniteOutput`` (a failure), anything else (a failure, logged)."""
    runtime = get_runtime(name)
    if work.error is not None:
        return RuntimeResult.skipped(f"case failed at {work.error}"), None
    if reason := runtime.unavailable():
        return RuntimeResult.skipped(reason), None
    if work.case.deployed and not runtime.runs_export and name != REFERENCE:
        return RuntimeResult.skipped(
            f"{name} runs the float32 torch model, not this case's export "
            f"({_deployment(work.case)}): see the default export's case"
        ), None
    if budget := over_budget(work.case, name):  # the oracle at a size it can run
        return check_reduced(work, name, budget, case_bound(work, name)), None
    if name == REFERENCE:
        # prepared in another process, the reference comes without its live evaluator
        loaded = work.reference_loaded or runtime.load(work.prepared)
        output = work.reference
    else:
        loaded = runtime.load(work.prepared)
        output = loaded.output()
    check_finite(output, name)
    if loaded is not None and loaded.bound_output is not None:
        _check_bound(loaded.bound_output(), output)
    parity = compare(output, work.reference, case_bound(work, name))
    result = RuntimeResult.from_parity(parity)
    if runtime.runs_export and get_precision(work.case.precision).reduced:
        result.quantization_psnr_db = psnr_db(output, work.reference)
    return result, loaded


def case_bound(work: PreparedCase, name: str) -> Bound:
    """The runtime's parity bound on this case: its own, its precision's, the case's override.
    The reference runs the float32 model whatever the export's precision."""
    runtime = get_runtime(name)
    precision = work.case.precision if runtime.runs_export else "fp32"
    return bound_for(name, work.case.tolerance, precision)


def _deployment(case) -> str:
    return f"precision {case.precision}, exporter {case.exporter}, opset {case.opset}"


def _check_bound(bound: np.ndarray, unbound: np.ndarray) -> None:
    """What the timed, IO-bound call wrote must be what the unbound call returns, bit for bit:
    the same kernels on the same input; otherwise the figure timed is not the one checked."""
    if bound.shape != unbound.shape or not np.array_equal(bound, unbound):
        same = bound.shape == unbound.shape
        diff = float(np.abs(bound - unbound).max()) if same else None
        raise ValueError(
            "the IO-bound output differs from the unbound one "
            + (f"(max abs diff {diff:.3g})" if same else f"({bound.shape} vs {unbound.shape})")
        )


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
