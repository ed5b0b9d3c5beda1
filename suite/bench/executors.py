"""Where a run's work runs, chosen once from its spec (``EXECUTORS[spec.where.engine]``): one
interface, ``map`` (every case prepared and checked, each handed back as it is done) and
``time_process`` (one timing process), in three implementations:

- ``serial``: this process prepares one case after another (``--workers 0``); timing processes
  are children of this process;
- ``local``: a Dask LocalCluster of single-task workers prepares (``--workers N``), and is
  closed before anything is timed; timing processes are children of this process;
- ``cluster``: a real cluster's prepare workers prepare, and its timers time, one process at a
  time, each on its own machine class (``--cluster``, ``roles.py``).
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from functools import partial

from ..case import Case
from .check import check_all
from .cluster import PreparePhase, prepare_on_local_cluster, warm_up
from .executor import Done, Executor, Job, reported
from .pipeline import prepare_case
from .progress import Progress
from .realcluster import ClusterExecutor
from .spec import RunSpec


class SerialExecutor(Executor):
    """Everything in this process, one case after another (``--workers 0``)."""

    def where(self) -> str:
        return "this process"

    def map(self, cases: list[Case], job: Job, on_done: Done) -> PreparePhase:
        began = time.perf_counter()
        if cases:
            warm_up(job.settings)
        for case in cases:
            work = prepare_case(case, job.settings, job.log, partial(job.progress.stage, case.id))
            job.progress.advance()
            on_runtime = partial(_on_runtime, job.progress, case.id)
            on_done(work, check_all(work, job.runtimes, job.settings.analyse, job.log, on_runtime))
        return PreparePhase(0, len(cases), time.perf_counter() - began)


def _on_runtime(progress: Progress, case_id: str, stage: str) -> None:
    if stage == "done":
        progress.advance()
    else:
        progress.stage(case_id, stage)


class LocalClusterExecutor(Executor):
    """Prepares on a LocalCluster of ``--workers`` processes, closed before anything is timed,
    so that timings stay comparable with a serial run's."""

    def where(self) -> str:
        return f"a Dask LocalCluster of {self.spec.where.workers} workers"

    def map(self, cases: list[Case], job: Job, on_done: Done) -> PreparePhase:
        workers, done = self.spec.where.workers, reported(job, on_done)
        _, phase = prepare_on_local_cluster(
            cases, job.settings, workers, job.log, job.runtimes, done
        )
        self.tasks += phase.tasks
        return phase


#: the run's executor by ``Where.engine``
EXECUTORS: dict[str, type[Executor]] = {
    "serial": SerialExecutor,
    "local": LocalClusterExecutor,
    "cluster": ClusterExecutor,
}


def open_executor(spec: RunSpec) -> AbstractContextManager[Executor]:
    """The spec's executor, as a context that holds what it needs (a cluster's client)."""
    return EXECUTORS[spec.where.engine].open(spec)
