"""A run's state on disk, in one place: its ``errors.log``, its checkpoints (``checkpoint.py``:
each case and timing process as it finishes, so that ``--resume`` redoes only the rest), and the
trained cases' fitted weights that travel to every timing process (``weights.py``)."""

from __future__ import annotations

from pathlib import Path

from .book import CaseBook
from .check import Checked
from .checkpoint import Checkpoints, Finished
from .errorlog import ErrorLog
from .pipeline import PreparedCase
from .spec import RunSpec
from .weights import write_weights

ERRORS_LOG = "errors.log"


class RunState:
    def __init__(self, log: ErrorLog, checkpoints: Checkpoints) -> None:
        self.log = log
        self.checkpoints = checkpoints

    @classmethod
    def open(cls, spec: RunSpec) -> RunState:
        """The resumed run's state (refused in one line where it was asked for something
        else), or a fresh one: no errors.log, checkpoints that hold nothing yet."""
        log = ErrorLog(spec.out / ERRORS_LOG)
        if spec.resume:
            return cls(log, Checkpoints.resume(spec.out, spec.asked(), spec.started))
        log.path.unlink(missing_ok=True)
        return cls(log, Checkpoints.start(spec.out, spec.asked(), spec.run_id, spec.started))

    def restore(self, book: CaseBook) -> None:
        """Every case an earlier attempt of this run finished, from its checkpoint (a fresh
        run has none)."""
        for case in book.cases:
            if (finished := self.checkpoints.case(case.id)) is not None:
                book.take(finished)
        self.checkpoints.write_run()

    def receive(self, book: CaseBook, work: PreparedCase, checked: Checked) -> Finished:
        """A case prepared and checked (here or by a worker): into the book, then checkpointed
        as the book keeps it."""
        finished = book.receive(work, checked)
        self.checkpoints.save_case(finished)
        return finished

    def take(self, book: CaseBook, finished: Finished) -> None:
        """A case read from the prepared-case cache: into the book, and checkpointed like one
        prepared here (a resume takes it from there)."""
        book.take(finished)
        self.checkpoints.save_case(finished)

    def timed(self, index: int, klass: str | None) -> float | None:
        """When an earlier attempt's timing process ``index`` began, where it finished."""
        return self.checkpoints.timed(index, klass)

    def save_timed(self, index: int, began: float, klass: str | None) -> None:
        self.checkpoints.save_timed(index, began, klass)

    def save(self) -> None:
        """``run.json`` with this resume's counts as they stand."""
        self.checkpoints.write_run()

    def write_weights(self, folder: Path, book: CaseBook) -> None:
        """The trained cases' fitted weights, where the timing processes read them."""
        write_weights(folder, book.fitted())

    def written(self) -> None:
        """The run's results are written: the checkpoints are no longer needed."""
        self.checkpoints.finish()

    @property
    def started(self) -> str:
        """When the run first started, across resumes."""
        return self.checkpoints.started
