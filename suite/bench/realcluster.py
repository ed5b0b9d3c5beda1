"""A real cluster as a run's executor (``run --cluster``, ``roles.py``): its prepare workers
prepare and check, its timers time, one timing process at a time on each machine class; the
case files, fitted weights and exports travel with the tasks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic
from ..case import Case
from ..casefile import case_files
from ..errors import first_line
from ..runtimes import get_runtime
from ..timing.process import PROCESS_TIMEOUT_S
from .book import CaseBook
from .cluster import PreparePhase, dashboard_note, export_task, prepare_with
from .errorlog import ErrorLog
from .executor import Done, Executor, Job, reported
from .roles import PREPARE_RESOURCE, Cluster, cluster_client, timer_resource, timing_task
from .spec import RunSpec


class ClusterExecutor(Executor):
    """A real cluster's prepare workers and timers (``roles.py``), fit to run on."""

    def __init__(self, spec: RunSpec, cluster: Cluster) -> None:
        super().__init__(spec)
        self.cluster = cluster
        self.client = cluster.client
        self.timer_class = cluster.timer_class
        self.other_timers = {k: cluster.timer_records[k] for k in cluster.timer_classes[1:]}
        #: each case's export, held on the prepare workers for the timers (``shipped``)
        self.exports: dict[str, Any] = {}

    @classmethod
    @contextmanager
    def open(cls, spec: RunSpec) -> Iterator[Executor]:
        """Refused in one line, before anything is written, where the cluster is unfit."""
        where, timed = spec.where, bool(_timed(spec.runtimes))
        with cluster_client(
            where.cluster, where.scheduler_file, timed, spec.options.threads, where.timer_class
        ) as cluster:
            yield cls(spec, cluster)

    def where(self) -> str:
        address = self.client.scheduler.address
        return f"the Dask cluster at {address}{dashboard_note(self.client)}"

    def map(self, cases: list[Case], job: Job, on_done: Done) -> PreparePhase:
        address = self.client.scheduler.address
        phase = PreparePhase(self.spec.where.workers, len(cases), scheduler=address)
        resources = {PREPARE_RESOURCE: 1}
        done = reported(job, on_done)
        prepare_with(
            self.client, cases, job.settings, job.log, job.runtimes, done, phase, resources
        )
        self.tasks += phase.tasks
        return phase

    def time_process(
        self, spec_path: Path, spec: dict[str, Any], index: int, klass: str | None, book: CaseBook
    ) -> str | None:
        """The timing process as a task on a timer of the run's machine class (or ``klass``),
        which runs one at a time, with the case files, the fitted weights and the exports it
        times; its files come back here, where a local timing process writes them."""
        resource = timer_resource(klass or self.timer_class)
        # the timer may share no file system with this process: the case files travel as text
        files = [[str(p), p.read_text("utf-8")] for p in case_files(self.spec.paths)]
        future = self.client.submit(
            timing_task,
            {**spec, "case_files": files},
            book.fitted(),
            self.shipped(book),
            PROCESS_TIMEOUT_S,
            resources={resource: 1},
            pure=False,
        )
        try:
            outcome = future.result()
        except Exception as exc:  # lost past Dask's retries, or the timeout
            return f"its task on the cluster failed: {first_line(exc)}"
        self.tasks.append(
            {"kind": "time", "what": f"process {index + 1}", "worker": outcome["worker"]}
            | ({"class": klass} if klass else {})
            | {"began": outcome["began"], "ended": outcome["ended"]}
        )
        return _timer_outcome(outcome, spec, index, book.log)

    def shipped(self, book: CaseBook) -> list[Any]:
        """Every prepared case's export as a future held on the prepare workers
        (``cluster.export_task``, submitted once a run). A timing task depends on them, so
        Dask carries the files to the timer worker to worker, never through the run's process.
        The tasks ask only for the ``prepare`` resource, not for the worker that prepared the
        case: a worker preference that may fall back put one on a worker without the resource
        once that worker was lost (``KeyError: 'prepare'``)."""
        if not self.exports:
            settings = self.spec.options.settings()
            for index, case in enumerate(book.cases):
                work = book.work.get(case.id)
                if work is None or work.error is not None:
                    continue
                self.exports[case.id] = self.client.submit(
                    export_task,
                    *(case, settings, work.fitted),
                    key=f"export-{index}",
                    pure=False,
                    resources={PREPARE_RESOURCE: 1},
                )
        return list(self.exports.values())

    def machines(self, here: dict[str, Any]) -> list[dict[str, Any]]:
        """``run.machines``: this process only coordinates; the workers prepare, check, time."""
        return [{**here, "roles": []}, *self.cluster.machines]

    def timer_machine(self) -> dict[str, Any] | None:
        return self.cluster.timer_machine()


def _timer_outcome(
    outcome: dict[str, Any], spec: dict[str, Any], index: int, log: ErrorLog
) -> str | None:
    """A timing task's answer: its files written here as a local process writes them, or what
    went wrong (its stderr in errors.log)."""
    if outcome["returncode"] != 0:
        log.append(f"== timing process {index + 1} on {outcome['worker']}\n")
        log.append(f"{outcome['stderr']}\n")
        last = (outcome["stderr"].strip().splitlines() or ["no output"])[-1]
        return f"exited with {outcome['returncode']} on {outcome['worker']} ({last})"
    Path(spec["benchmark_json"]).write_text(outcome["benchmark_json"], encoding="utf-8")
    write_json_atomic(Path(spec["result"]), outcome["result"])
    return None


def _timed(runtimes: list[str]) -> list[str]:
    return [name for name in runtimes if get_runtime(name).timed]
