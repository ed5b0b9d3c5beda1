"""The prepare phase on Dask distributed: each case's build → cost → export → reference →
analysis → samples (``pipeline.prepare_case``) as one task on a ``LocalCluster`` of worker
processes that run one task at a time (``--workers N``), or in the run's own process, one case
after another, when ``--workers 0``. The run's process checks each case on every runtime as it
comes back, while the workers prepare the next ones, then keeps only what its record needs.

Preparing is deterministic CPU work and parallelises freely; timing is not and does not: the
cluster is closed before the run checks and times, so timings stay comparable with a serial run's
(and with the committed baselines). A task computes with the run's thread count, as the serial
path does: a float32 reduction's rounding depends on how it was split across threads, and the
two paths must give the same figures to the last bit.

Dask's nanny sets ``OMP_NUM_THREADS=1`` (and MKL's, OpenBLAS's, ``MALLOC_TRIM_THRESHOLD_``) in
*this* process's environment before it spawns a worker, and leaves them there: every timing
process started afterwards would inherit them (seen: a bilinear + 1x1 case timed 6x slower on
torch). So the workers are spawned with nothing forced, as the serial path computes, and the
environment is put back as it was when the cluster closes.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..case import Case
from ..errors import first_line
from .errorlog import ErrorLog
from .pipeline import PreparedCase, Settings, prepare_case


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
    from .yardstick import yardstick_case

    with tempfile.TemporaryDirectory(prefix="upsampling-bench-warm-") as cache:
        prepare_case(yardstick_case(), replace(settings, cache_dir=Path(cache)), BufferedLog())
    _warm = True


@dataclass
class PrepareOutcome:
    """What a prepare task sends back: the case as prepared, and its errors.log text."""

    work: PreparedCase
    log: str
    #: where it ran (the Dask worker's address) and how long it took there
    worker: str
    wall_s: float


def prepare_task(case: Case, settings: Settings) -> PrepareOutcome:
    """One case, in a Dask worker: prepared with the run's threads. The reference runtime's
    live evaluator stays behind (the run loads its own when it checks that runtime)."""
    import torch
    from distributed import get_worker

    torch.set_num_threads(settings.threads)
    warm_up(settings)
    began = time.perf_counter()
    log = BufferedLog()
    work = prepare_case(case, settings, log)
    work.reference_loaded = None
    return PrepareOutcome(work, log.text, get_worker().address, time.perf_counter() - began)


@dataclass
class PreparePhase:
    """The prepare phase of a run, as results.json records it (``run.prepare``)."""

    workers: int
    #: the cases prepared in this phase (a resumed run's checkpoints hold the others)
    cases: int
    wall_s: float = 0.0
    #: case id -> the worker that prepared it
    where: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        engine = "dask LocalCluster" if self.workers else "serial, in the run's process"
        return {
            "engine": engine,
            "workers": self.workers,
            "cases": self.cases,
            "wall_s": self.wall_s,
        }


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A LocalCluster of ``workers`` one-task processes on 127.0.0.1, spawned with none of the
    nanny's forced environment variables, and this process's environment as it was after."""
    import dask
    from distributed import LocalCluster

    forced = dask.config.get("distributed.nanny.pre-spawn-environ")  # None: not set
    with (
        environment_kept(),
        dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": None for k in forced}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as local,
    ):
        yield local


def prepare_on_local_cluster(
    cases: list[Case],
    settings: Settings,
    workers: int,
    log: ErrorLog,
    on_done: Callable[[PreparedCase], None] = lambda work: None,
) -> tuple[dict[str, PreparedCase], PreparePhase]:
    """Every case prepared on a LocalCluster of ``workers`` single-task processes bound to
    127.0.0.1; ``on_done`` is given each case as it comes back (to checkpoint it). The cluster
    is closed on return, so nothing it started outlives the phase."""
    from distributed import Client, as_completed

    phase = PreparePhase(workers, len(cases))
    began = time.perf_counter()
    prepared: dict[str, PreparedCase] = {}
    by_key = {f"prepare-{index}": case for index, case in enumerate(cases)}
    with local_cluster(workers) as local, Client(local) as client:
        futures = [
            client.submit(prepare_task, case, settings, key=key, pure=False)
            for key, case in by_key.items()
        ]
        for future, outcome in as_completed(futures, with_results=True, raise_errors=False):
            case = by_key[future.key]
            prepared[case.id] = _received(case, outcome, phase, log)
            on_done(prepared[case.id])
    phase.wall_s = time.perf_counter() - began
    return prepared, phase


@contextmanager
def environment_kept() -> Iterator[None]:
    """``os.environ`` as it was on entry, again on exit, whatever ran inside changed."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _received(case: Case, outcome, phase: PreparePhase, log: ErrorLog) -> PreparedCase:
    """A task's answer; a task that raised (its result could not come back, its worker was
    lost past Dask's retries) fails its case at ``prepare``, and the run goes on."""
    if isinstance(outcome, BaseException):
        log.case(case, "prepare", outcome)
        work = PreparedCase(case)
        work.error = f"prepare: {first_line(outcome)}"
        return work
    phase.where[case.id] = outcome.worker
    if outcome.log:
        log.append(outcome.log)
    return outcome.work


def prepare_phase(session, workers: int) -> PreparePhase:
    """Every case of the session prepared, and checked in this process as it comes back: on a
    LocalCluster of ``workers`` processes, or (``workers == 0``) in this process, one after
    another. A case an earlier attempt of a resumed run finished is not done again."""
    began = time.perf_counter()
    todo = [case for case in session.cases if case.id not in session.work]
    engine = f"a Dask LocalCluster of {workers} workers" if workers and todo else "this process"
    session.progress.phase(
        "prepare",
        len(session.cases) * (1 + len(session.runtimes)),
        f"{len(todo)} of {len(session.cases)} cases on {engine}, each checked as it comes back",
    )
    for case in session.cases:
        if case.id in session.work:
            session.progress.stage(case.id, "finished before (checkpoint)")
            for _ in range(1 + len(session.runtimes)):
                session.progress.advance()

    def done(work: PreparedCase) -> None:
        session.progress.stage(work.case.id, "prepared")
        session.progress.advance()
        session.check_case(work)

    if workers == 0 or not todo:
        if todo:
            warm_up(session.settings)
        for case in todo:
            done(session.prepared(case))
        return PreparePhase(0, len(todo), time.perf_counter() - began)
    _, phase = prepare_on_local_cluster(todo, session.settings, workers, session.log, done)
    return phase
