"""The prepare phase on Dask distributed: each case's build → cost → export → reference →
analysis → samples (``pipeline.prepare_case``), then its check on every runtime
(``check.check_all``), as one task on a ``LocalCluster`` of worker processes that run one task
at a time (``--workers N``), on a real cluster's prepare workers (``--cluster``, ``roles.py``),
or in the run's own process, one case after another, when ``--workers 0``. A task sends back
only what the case's record needs, so the run's process does no case's work and holds little:
a sweep's checks spread over the workers like its preparing.

Preparing is deterministic CPU work and parallelises freely; timing is not and does not: a
LocalCluster is closed before the run times, so timings stay comparable with a serial run's
(and with the committed baselines). A task computes with the run's thread count, as the serial
path does: a float32 reduction's rounding depends on how it was split across threads, and the
two paths must give the same figures to the last bit.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..case import Case
from ..errors import first_line
from ..timing.yardstick import yardstick_case
from .check import Checked, check_all
from .errorlog import ErrorLog
from .localcluster import local_cluster
from .pipeline import PreparedCase, Settings, build, export, prepare_case
from .weights import write_weights


class BufferedLog(ErrorLog):
    """errors.log text kept in memory: a task's worker may not share the run's file system."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def append(self, text: str) -> None:
        self.parts.append(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


_warm = False


def warm_up(settings: Settings) -> None:
    """Prepare the yardstick case once per process, into a throw-away cache, so that the first
    real case's stage durations are its own work and not the process's first export, first
    analysis and lazy imports (seconds each; the planner reads those durations)."""
    global _warm
    if _warm:
        return
    with tempfile.TemporaryDirectory(prefix="upsampling-bench-warm-") as cache:
        prepare_case(yardstick_case(), replace(settings, cache_dir=Path(cache)), BufferedLog())
    _warm = True


@dataclass
class PrepareOutcome:
    """What a prepare task sends back: the case as prepared (released), its check on every
    runtime, and its errors.log text."""

    work: PreparedCase
    checked: Checked
    log: str
    #: where it ran (the Dask worker's address), when it began and ended there (epoch seconds)
    worker: str
    began: float
    ended: float


def prepare_task(case: Case, settings: Settings, runtimes: list[str]) -> PrepareOutcome:
    """One case, in a Dask worker: prepared and checked on ``runtimes`` with the run's threads,
    then released (the model, the reference's outputs and its live evaluator stay behind)."""
    import torch
    from distributed import get_worker

    torch.set_num_threads(settings.threads)
    began = time.time()
    warm_up(settings)
    log = BufferedLog()
    work = prepare_case(case, settings, log)
    checked = check_all(work, runtimes, settings.analyse, log)
    work.release()
    return PrepareOutcome(work, checked, log.text, get_worker().address, began, time.time())


def export_task(case: Case, settings: Settings, fitted: bytes | None) -> tuple[str, bytes]:
    """On a prepare worker: the case's export as its cache file's name and bytes, to travel to
    the timers (from that worker's cache, where the case was prepared; exported again where it
    was not, with the same fitted weights and so the same cache key)."""
    import torch

    torch.set_num_threads(settings.threads)
    with tempfile.TemporaryDirectory(prefix="upsampling-bench-weights-") as folder:
        if fitted is not None:
            write_weights(Path(folder), {case.id: fitted})
            settings = replace(settings, weights_dir=Path(folder))
        work = PreparedCase(case)
        build(work, settings)
        export(work, settings)
    path = work.prepared.onnx_path
    return path.name, path.read_bytes()


@dataclass
class PreparePhase:
    """The prepare phase of a run, as results.json records it (``run.prepare``)."""

    workers: int
    #: the cases prepared in this phase (a resumed run's checkpoints hold the others)
    cases: int
    wall_s: float = 0.0
    #: case id -> the worker that prepared it
    where: dict[str, str] = field(default_factory=dict)
    #: each task as it ran (``Executor.tasks``)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    #: a real cluster's scheduler, or None (a LocalCluster, or serial)
    scheduler: str | None = None
    #: the cases read from the prepared-case cache instead (``prepared_cache.py``)
    from_cache: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, object]:
        engine = "dask LocalCluster" if self.workers else "serial, in the run's process"
        engine = f"dask cluster at {self.scheduler}" if self.scheduler else engine
        return {
            "engine": engine,
            "workers": self.workers,
            "cases": self.cases,
            "wall_s": self.wall_s,
            "from_cache": self.from_cache,
        }


Done = Callable[[PreparedCase, Checked], None]


def prepare_on_local_cluster(
    cases: list[Case],
    settings: Settings,
    workers: int,
    log: ErrorLog,
    runtimes: list[str],
    on_done: Done = lambda work, checked: None,
) -> tuple[dict[str, PreparedCase], PreparePhase]:
    """Every case prepared and checked on ``runtimes`` on a LocalCluster of ``workers``
    single-task processes bound to 127.0.0.1; ``on_done`` is given each case and its check as
    it comes back (to checkpoint it). The cluster is closed on return, so nothing it started
    outlives the phase."""
    from distributed import Client

    phase = PreparePhase(workers, len(cases))
    with local_cluster(workers) as local, Client(local) as client:
        prepared = prepare_with(client, cases, settings, log, runtimes, on_done, phase)
    return prepared, phase


def prepare_with(
    client: Any,
    cases: list[Case],
    settings: Settings,
    log: ErrorLog,
    runtimes: list[str],
    on_done: Done,
    phase: PreparePhase,
    resources: dict[str, float] | None = None,
) -> dict[str, PreparedCase]:
    """Every case as a task on the client's cluster (on workers holding ``resources``), each
    given to ``on_done`` with its check as it comes back; where and when each ran goes into
    ``phase``."""
    from distributed import as_completed

    began = time.perf_counter()
    prepared: dict[str, PreparedCase] = {}
    by_key = {f"prepare-{index}": case for index, case in enumerate(cases)}
    futures = [
        client.submit(
            prepare_task, case, settings, runtimes, key=key, pure=False, resources=resources
        )
        for key, case in by_key.items()
    ]
    for future, outcome in as_completed(futures, with_results=True, raise_errors=False):
        case = by_key[future.key]
        prepared[case.id], checked = _received(case, outcome, phase, log)
        on_done(prepared[case.id], checked)
    phase.wall_s = time.perf_counter() - began
    return prepared


def _received(
    case: Case, outcome, phase: PreparePhase, log: ErrorLog
) -> tuple[PreparedCase, Checked]:
    """A task's answer; a task that raised (its result could not come back, its worker was
    lost past Dask's retries) fails its case at ``prepare`` (no runtime ran it), and the run
    goes on."""
    if isinstance(outcome, tuple) and len(outcome) == 3:  # Dask's (type, exception, traceback)
        outcome = outcome[1]
    if isinstance(outcome, BaseException):
        log.case(case, "prepare", outcome)
        work = PreparedCase(case)
        work.error = f"prepare: {first_line(outcome)}"
        return work, Checked()
    phase.where[case.id] = outcome.worker
    phase.tasks.append(
        {"kind": "prepare", "what": case.id, "worker": outcome.worker}
        | {"began": outcome.began, "ended": outcome.ended}
    )
    if outcome.log:
        log.append(outcome.log)
    return outcome.work, outcome.checked


def dashboard_note(client: Any) -> str:
    """Where to watch the cluster, where its scheduler serves Dask's dashboard. A scheduler
    lists its HTTP server as ``dashboard`` whether or not it can draw one: the pages need
    bokeh, which the suite does not install, and without it the link would lead nowhere."""
    services = client.scheduler_info(n_workers=0).get("services", {})
    if "dashboard" not in services or not client.run_on_scheduler(_draws_a_dashboard):
        return ""
    return f" (dashboard: {client.dashboard_link})"


def _draws_a_dashboard(dask_scheduler: Any = None) -> bool:
    """On the scheduler: whether it has bokeh, which Dask's dashboard pages are drawn with."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None
