"""The interface of where a run's work runs (``executors.py`` picks one from the spec):
``map`` every case (prepared, then checked on every runtime, each handed back as it is done),
and ``time_process`` (one timing process; here, a child of this process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..case import Case
from ..timing.policy import IN_RUN_PROCESS
from ..timing.process import run_child, run_here
from .book import CaseBook
from .check import Checked
from .cluster import PreparePhase
from .errorlog import ErrorLog
from .pipeline import PreparedCase, Settings
from .progress import Progress
from .roles import machine_class
from .spec import RunSpec

Done = Callable[[PreparedCase, Checked], None]


@dataclass(frozen=True)
class Job:
    """What preparing a case needs, wherever it runs."""

    settings: Settings
    runtimes: list[str]
    log: ErrorLog
    progress: Progress


class Executor:
    """What every executor shares: the tasks it ran, the timer classes, and timing processes
    as children of this process."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        #: each Dask task as it ran: kind, what, worker, began and ended (epoch seconds)
        self.tasks: list[dict[str, Any]] = []
        #: the machine class that times (``roles.machine_class``), and the other classes that
        #: time the same cases after it, each with its machine's record (a real cluster's)
        self.timer_class: str | None = machine_class()
        self.other_timers: dict[str, dict[str, Any]] = {}

    @classmethod
    @contextmanager
    def open(cls, spec: RunSpec) -> Iterator[Executor]:
        yield cls(spec)

    def where(self) -> str:
        """What prepares the cases, as the progress line says it."""
        raise NotImplementedError

    def map(self, cases: list[Case], job: Job, on_done: Done) -> PreparePhase:
        """Every case prepared, then checked on every runtime; ``on_done`` is given each case
        and its check as it finishes."""
        raise NotImplementedError

    def time_process(
        self, spec_path: Path, spec: dict[str, Any], index: int, klass: str | None, book: CaseBook
    ) -> str | None:
        """Timing process ``index`` (of the run's timer class, or ``klass``); what went
        wrong, or None. Here: a child of this process, or this process itself under a policy
        that asks for no fresh one (``policy.IN_RUN_PROCESS``)."""
        if spec["policy"] in IN_RUN_PROCESS:
            return run_here(spec_path, book.log)
        return run_child(spec_path, book.log)

    def machines(self, here: dict[str, Any]) -> list[dict[str, Any]]:
        """``run.machines``: this process prepares, checks and times."""
        return [{**here, "roles": ["prepare", "check", "time"]}]

    def timer_machine(self) -> dict[str, Any] | None:
        return None


def reported(job: Job, on_done: Done) -> Done:
    """``on_done`` with the progress of a case that comes back whole from a worker."""

    def done(work: PreparedCase, checked: Checked) -> None:
        job.progress.stage(work.case.id, "prepared and checked")
        for _ in range(1 + len(job.runtimes)):
            job.progress.advance()
        on_done(work, checked)

    return done
