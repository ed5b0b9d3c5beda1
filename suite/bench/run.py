"""A run, top to bottom, from its spec (``RunSpec``): the executor it asked for, its state on
disk, every case prepared and checked, then timed, then its results written (all of its files
or none). ``commands/run.py`` parses the command line and prints; it runs nothing itself."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from ..machines import machine_class
from ..results import SCHEMA_VERSION, validate, write_results
from ..samplefile import write_samples
from ..timing.result import TimingResult
from .book import CaseBook
from .executors import open_executor
from .phases import Run, prepare, time_all
from .prepared_cache import PreparedCache
from .progress import Progress
from .record import run_record
from .sharing import measure_sharing
from .spec import RunSpec
from .state import RunState


@dataclass(frozen=True)
class RunOutcome:
    """A finished run: its results as written, where, and what the summary needs besides."""

    results: dict[str, Any]
    path: Path
    #: bugs met outside a runtime's own failure handling (``CaseBook.record_crash``)
    crashes: list[str]
    timing: TimingResult


def run_bench(spec: RunSpec) -> RunOutcome:
    """The run the spec asks for, checkpointed as it goes; its files written at the end."""
    # a cluster unfit to run on is refused before anything is written
    with open_executor(spec) as executor:
        spec.out.mkdir(parents=True, exist_ok=True)
        state = RunState.open(spec)
        clock = time.perf_counter()
        with Progress(len(spec.cases), Console(stderr=True, highlight=False)) as progress:
            book = CaseBook(list(spec.cases), spec.runtimes, state.log)
            state.restore(book)
            cache = PreparedCache.for_run(spec)
            run = Run(spec, executor, book, state, progress, time.monotonic(), cache)
            phases: dict[str, Any] = {"prepare": prepare(run).describe()}
            if spec.where.sharing:
                phases["sharing"] = measure_sharing(run, spec.where.sharing)
            timing = time_all(run, phases)
        record = run_record(run, timing, phases, clock)
    cases = book.case_records(machine_class(record["machine"]), timing.run_ceilings)
    results = {"schema_version": SCHEMA_VERSION, "run": record, "cases": cases}
    validate(results)  # before anything is written: a run writes all of its files or none
    write_samples(spec.out, book.samples())
    path = write_results(spec.out, results)
    state.written()
    return RunOutcome(results, path, book.crashes, timing)
