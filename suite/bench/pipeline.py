"""Preparing a case: everything before timing, as an ordered list of named stages.

build → cost → export → reference are the case's own: a failure there fails the case, recorded as
``<stage>: <first line>`` (the traceback in errors.log), and the other cases go on. analysis and
samples run only in the run's own process and only where figures are asked for: a failure there
is a note in the case's metrics (``notes.<stage>``), never a lost case. A timing process runs only
what checking and timing need: cost feeds only the record, which the run's process writes.

``prepare_case`` takes a case and plain settings and returns a ``PreparedCase``: it needs no
session, so any process (or machine) can run it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ..analysis.analyse import reference_metrics
from ..analysis.samples import case_samples, hypercolumn_samples
from ..case import Case
from ..cost import count_bytes, count_flops
from ..errors import first_line
from ..export import export_case
from ..parity import check_finite
from ..runtimes import REFERENCE, Loaded, Prepared, get_runtime
from .errorlog import ErrorLog
from .weights import fitted_weights, read_weights

#: ``durations_s`` keys of the CPU seconds (every thread's) of a case's prepare stages and of its
#: checks, beside their wall seconds: the planner's single-core cost of a case (``plan.py``)
CPU_PREPARE, CPU_CHECK = "cpu.prepare", "cpu.check"


@dataclass(frozen=True)
class Settings:
    cache_dir: Path
    threads: int
    #: compute the artifact figures and the report's samples (the run's own process)
    analyse: bool
    #: where trained cases' fitted weights travelled to (a timing process), or None: fit here
    weights_dir: Path | None = None
    #: a timing process: it loads what prepare exported (carried to a timer on a cluster,
    #: ``cluster.export_task``) and never exports, which is prepare's work; nor does it count
    #: the cost, which only the run's record holds
    timing: bool = False


@dataclass
class PreparedCase:
    """What preparing a case produced: its record's parts, the model made ready for the
    runtimes, the reference output, and the pictures and probe outputs of the analysis."""

    case: Case
    record: dict[str, Any] = field(default_factory=dict)
    model: nn.Module | None = None
    prepared: Prepared | None = None
    reference: np.ndarray | None = None
    #: the reference runtime as loaded, reused when that runtime is checked
    reference_loaded: Loaded | None = None
    #: the reference's outputs for the analysis probes, to check each runtime's metrics against
    probe_outputs: dict[str, np.ndarray] = field(default_factory=dict)
    #: the hypercolumn pictures the analysis made, for the samples
    pictures: dict[str, np.ndarray] = field(default_factory=dict)
    #: pictures for the report (``analysis.samples``), by name
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    #: ``<stage>: <first line>`` of the stage that failed the case, or None
    error: str | None = None
    #: each stage's wall time in seconds, in the order they ran (the planner's input)
    durations_s: dict[str, float] = field(default_factory=dict)
    #: a trained case's fitted weights (``weights.fitted_weights``), for its timing processes
    fitted: bytes | None = None

    def release(self) -> None:
        """Drop what only checking the runtimes needs (the model, the reference's outputs on
        the parity input and the probes: tens of MB a case), keeping what the case's record
        and samples need: a run of thousands of cases holds only those."""
        self.model = self.prepared = self.reference = self.reference_loaded = None
        self.probe_outputs, self.pictures = {}, {}


def build(work: PreparedCase, settings: Settings) -> None:
    case = work.case
    work.model = case.build(read_weights(settings.weights_dir, case.id) if case.trained else None)
    if case.trained:
        work.fitted = fitted_weights(work.model)
    work.prepared = Prepared(
        work.model,
        case.make_input(),
        None,
        case.output_shape,
        settings.threads,
        settings.cache_dir,
        case.make_guide(),
    )


def cost(work: PreparedCase, settings: Settings) -> None:
    case, model = work.case, work.model
    guide = work.prepared.guide
    moved = count_bytes(
        model, case.input_shape, case.output_shape, None if guide is None else tuple(guide.shape)
    )
    work.record["cost"] = {
        "flops": count_flops(model, *work.prepared.inputs),
        "parameters": sum(p.numel() for p in model.parameters()),
        "bytes": {**moved, "total": sum(moved.values())},
    }


def export(work: PreparedCase, settings: Settings) -> None:
    case = work.case
    exported = export_case(
        case, work.model, work.prepared.inputs, settings.cache_dir, not settings.timing
    )
    work.record["onnx"] = exported.describe()
    if exported.output_shape != list(case.output_shape):
        raise ValueError(
            f"ONNX shape inference gives {exported.output_shape}, "
            f"the case's geometry {list(case.output_shape)}"
        )
    work.prepared.onnx_path = exported.path


def reference(work: PreparedCase, settings: Settings) -> None:
    loaded = get_runtime(REFERENCE).load(work.prepared)
    output = loaded.output()
    check_finite(output, REFERENCE)
    if list(output.shape) != list(work.case.output_shape):
        raise ValueError(
            f"{REFERENCE} output {list(output.shape)} != geometry {list(work.case.output_shape)}"
        )
    work.reference, work.reference_loaded = output, loaded


def analysis(work: PreparedCase, settings: Settings) -> None:
    metrics, work.probe_outputs, work.pictures = reference_metrics(
        work.case, work.model, work.reference_loaded.infer
    )
    work.record["metrics"] = metrics


def samples(work: PreparedCase, settings: Settings) -> None:
    flat = work.probe_outputs.get("flat")
    work.samples = {
        **case_samples(work.case, work.model, flat),
        **hypercolumn_samples(work.case, work.pictures),
    }


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[PreparedCase, Settings], None]
    #: a failure fails the case (else it is a note in its metrics)
    fatal: bool = True
    #: runs only where figures are asked for
    analysis: bool = False
    #: feeds only the case's record, which the run's process writes: a timing process skips it
    record_only: bool = False


STAGES = (
    Stage("build", build),
    Stage("cost", cost, record_only=True),
    Stage("export", export),
    Stage("reference", reference),
    Stage("analysis", analysis, fatal=False, analysis=True),
    Stage("samples", samples, fatal=False, analysis=True),
)


def prepare_case(
    case: Case,
    settings: Settings,
    log: ErrorLog,
    on_stage: Callable[[str], None] = lambda name: None,
) -> PreparedCase:
    """Run the stages in order (``on_stage`` is told each one's name as it starts, for the
    progress bar); stop at the first fatal failure."""
    work = PreparedCase(case)
    cpu = time.process_time()
    try:
        _run_stages(work, settings, log, on_stage)
    finally:
        # every thread's CPU seconds: what the stages would take on one core (``plan.py``)
        work.durations_s[CPU_PREPARE] = time.process_time() - cpu
    return work


def _run_stages(
    work: PreparedCase, settings: Settings, log: ErrorLog, on_stage: Callable[[str], None]
) -> None:
    case = work.case
    for stage in STAGES:
        if (stage.analysis and not settings.analyse) or (stage.record_only and settings.timing):
            continue
        on_stage(stage.name)
        began = time.perf_counter()
        try:
            stage.run(work, settings)
        except Exception as exc:  # any failure of a case is data, not a crash of the run
            log.case(case, stage.name, exc)
            if stage.fatal:
                work.error = f"{stage.name}: {first_line(exc)}"
                return
            notes = work.record.setdefault("metrics", {}).setdefault("notes", {})
            notes[stage.name] = f"failed: {first_line(exc)}"
        finally:
            work.durations_s[stage.name] = time.perf_counter() - began
