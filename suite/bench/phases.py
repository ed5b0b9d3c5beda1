"""A run's two phases, in the run's own process: every case prepared and checked (on the
executor), then the timing processes, one after another, on the run's own timer class and then
on each other one (``run --timer-class``). A case or timing process an earlier attempt of a
resumed run finished is not done again."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic
from ..machines import machine_class
from ..results import TIMING_DIR
from ..timing.process import WEIGHTS_DIR, process_spec
from ..timing.result import TimingResult
from ..timing.session import timed_runtimes
from .book import CaseBook
from .check import Checked
from .cluster import PreparePhase
from .executor import Executor, Job
from .executors import SerialExecutor
from .pipeline import PreparedCase
from .prepared_cache import PreparedCache
from .progress import Progress
from .spec import RunSpec
from .state import RunState


@dataclass(frozen=True)
class Run:
    """One run as its phases see it: what it was asked (``spec``), where it runs
    (``executor``), the cases as they stand (``book``), its state on disk (``state``)."""

    spec: RunSpec
    executor: Executor
    book: CaseBook
    state: RunState
    progress: Progress
    #: ``time.monotonic`` at the start: timing processes record when they began from it
    started: float
    #: prepared cases kept across runs (``prepared_cache.py``)
    cache: PreparedCache

    def done(self, work: PreparedCase, checked: Checked) -> None:
        finished = self.state.receive(self.book, work, checked)
        self.cache.keep(finished, checked.crashes)


def prepare(run: Run) -> PreparePhase:
    """Every case not yet prepared, read from the prepared-case cache where an earlier run
    prepared it, else prepared and checked on the run's executor (and cached)."""
    book, progress, began = run.book, run.progress, time.perf_counter()
    for case in book.todo():
        if (finished := run.cache.read(case)) is not None:
            run.state.take(book, finished)
    todo = book.todo()
    executor = run.executor if todo else SerialExecutor(run.spec)
    cached = f"; {len(book.cached)} from the cache" if book.cached else ""
    progress.phase(
        "prepare",
        len(book.cases) * (1 + len(book.runtimes)),
        f"{len(todo)} of {len(book.cases)} cases prepared and checked on {executor.where()}"
        + cached,
    )
    for case in book.cases:
        if case.id in book.work:
            how = "from the cache" if case.id in book.cached else "finished before (checkpoint)"
            progress.stage(case.id, how)
            for _ in range(1 + len(book.runtimes)):
                progress.advance()
    job = Job(run.spec.options.settings(), book.runtimes, book.log, progress)
    phase = executor.map(todo, job, run.done)
    # the phase's wall time includes reading the cache
    phase.from_cache, phase.wall_s = book.from_cache(), time.perf_counter() - began
    return phase


def time_all(run: Run, phases: dict[str, Any]) -> TimingResult:
    """The timing processes on the run's own timer class, then on each other one; each
    phase's wall time goes into ``phases``."""
    began = time.perf_counter()
    timing = time_processes(run)
    timer_class = run.executor.timer_class
    phases["time"] = {"wall_s": time.perf_counter() - began, "machine_class": timer_class}
    timing.run_ceilings = timing.apply(run.book)
    for klass, record in run.executor.other_timers.items():
        began = time.perf_counter()
        other = time_processes(run, klass)
        timed_on = machine_class(record)
        other.apply_other(run.book, timed_on)
        phases["time"].setdefault("other_classes", {})[klass] = {
            "wall_s": time.perf_counter() - began,
            "latency_class": timed_on,
            "processes_done": len(other.latencies),
            "cut_short": other.cut_short,
        }
        if other.cut_short and not timing.cut_short:
            timing.cut_short = f"on {klass}: {other.cut_short}"
    return timing


def time_processes(run: Run, klass: str | None = None) -> TimingResult:
    """The run's timing processes one after another, on the run's own timer class or on
    another one of its cluster (``klass``, in a folder of its own); stopped at the first that
    fails."""
    book, options = run.book, run.spec.options
    result = TimingResult(options.timing)
    if not timed_runtimes(options.runtimes) or not book.prepared_ids():
        return result
    folder = options.out_dir / TIMING_DIR / (klass or "")
    folder.mkdir(parents=True, exist_ok=True)
    run.state.write_weights(folder / WEIGHTS_DIR, book)
    planned, on = result.planned, f" on {klass}" if klass else ""
    run.progress.phase("time", planned, _processes(planned, options.timing.adaptive) + on)
    for index in range(planned):
        targets = result.still_timed()
        if targets == {}:  # the choose policy: every case × runtime has its figure
            break
        run.progress.stage("timing", f"process {index + 1} of {planned}", is_case=False)
        # each process judges its ceilings against those of the processes before it
        spec = process_spec(options, book, run.spec.paths, index, folder, targets)
        spec["earlier_ceilings"] = result.ceilings
        began = run.state.timed(index, klass)
        if began is None:  # not finished by an earlier attempt of this run: time it
            began = time.monotonic() - run.started
            if problem := _time_one(run, spec, index, folder, klass):
                result.cut_short = f"timing process {index + 1} of {planned}: {problem}"
                break
            run.state.save_timed(index, began, klass)
        result.add(began, json.loads(Path(spec["result"]).read_text(encoding="utf-8")))
        run.progress.advance()
    run.state.save()
    return result


def _time_one(
    run: Run, spec: dict[str, Any], index: int, folder: Path, klass: str | None
) -> str | None:
    spec_path = folder / f"process{index + 1}.spec.json"
    write_json_atomic(spec_path, spec)
    return run.executor.time_process(spec_path, spec, index, klass, run.book)


def _processes(planned: int, adaptive: bool) -> str:
    if planned == 1:
        return "1 timing process"
    return f"{'up to ' * adaptive}{planned} timing processes, one after another"
