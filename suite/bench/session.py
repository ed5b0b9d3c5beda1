"""One bench session: it coordinates, per case, preparing (``pipeline``), checking each runtime
(``check``: the process that prepared a case checks it right away, a timing process checks it
again before timing it), timing (``timing``, in a timing process only) and the case's record;
a case that fails is recorded as ``failed`` with the error's first line and the other cases
still run."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import numpy as np

from ..case import Case
from ..errors import first_line
from ..records import CaseRecord, RuntimeResult
from ..runtimes import Loaded, get_runtime
from ..samplefile import sample_keys
from . import ceilings
from .check import Checked, check_all, check_runtime
from .checkpoint import Checkpoints
from .errorlog import ErrorLog
from .latency import Latency
from .options import Options
from .pipeline import PreparedCase, Settings, prepare_case
from .plausible import measure_again, remeasure
from .progress import Progress
from .roles import machine_class
from .timing import LATENCY, WITH_COPIES, Step, Timing, slowed, time_plain, time_session
from .yardstick import YardstickBracket


class BenchSession:
    def __init__(self, cases: list[Case], options: Options, progress: Progress) -> None:
        self.cases = cases
        self.by_id = {case.id: case for case in cases}
        self.options = options
        self.runtimes = list(options.runtimes)
        #: the runtimes a timing process measures
        self.timed_runtimes = [
            n for n in self.runtimes if get_runtime(n).timed and not get_runtime(n).unavailable()
        ]
        #: the figures a timing process takes per timed runtime: ``latency`` (bound), and
        #: ``latency_with_copies`` where the runtime asks for it or the run does
        self.figures = {
            n: [LATENCY]
            + ([WITH_COPIES] if get_runtime(n).times_copies or options.with_copies else [])
            for n in self.timed_runtimes
        }
        self.progress = progress
        self.log = ErrorLog(options.out_dir / "errors.log")
        self.settings = Settings(
            options.cache_dir,
            options.threads,
            options.analyses,
            options.weights_dir,
            timing=options.role == "time",
        )
        self.work: dict[str, PreparedCase] = {}
        self.results: dict[str, dict[str, RuntimeResult]] = {case.id: {} for case in cases}
        #: per case, each runtime's check (and analysis) wall time in this process
        self.check_s: dict[str, dict[str, float]] = {case.id: {} for case in cases}
        self.yardstick = YardstickBracket(options.cache_dir, options.threads, self.log)
        #: a timing process: each ceiling's rate as measured here (``ceilings.py``)
        self.ceilings: dict[str, float] = {}
        #: a timing process: the earlier ones' ceilings, what it measured again (``plausible``)
        self.earlier_ceilings: list[dict[str, float]] = []
        self.remeasured: dict[str, dict[str, Any]] = {}
        #: the run: the ceilings over its timing processes (``ceilings.summarise``)
        self.run_ceilings: dict[str, Any] | None = None
        self.crashes: list[str] = []
        #: where each case is checkpointed as it finishes (the run's process)
        self.checkpoints: Checkpoints | None = None
        #: a real cluster's Dask client (``run --cluster``), or None: timing runs here
        self.client: Any = None
        #: a real cluster: each case's export, held on the prepare workers for the timers
        #: (``cluster.shipped_exports``)
        self.exports: dict[str, Any] = {}
        #: the machine class that times (``roles.machine_class``)
        self.timer_class: str | None = machine_class()
        #: a real cluster's other timer classes, each with its machine's record: they time the
        #: same cases after the run's own class, into ``RuntimeResult.latency_by_class``
        self.other_timers: dict[str, dict[str, Any]] = {}
        #: each Dask task as it ran: kind, what, worker, began and ended (epoch seconds)
        self.tasks: list[dict[str, Any]] = []
        #: ``time.monotonic`` at the start; sessions record when they began relative to it
        self.started = time.monotonic()

    @property
    def timing(self) -> Timing:
        return self.options.timing

    def prepared(self, case: Case) -> PreparedCase:
        """The case prepared once per process (``pipeline.prepare_case``)."""
        if case.id not in self.work:
            self.work[case.id] = prepare_case(
                case, self.settings, self.log, lambda name: self.progress.stage(case.id, name)
            )
        return self.work[case.id]

    def check_case(self, work: PreparedCase) -> Checked:
        """The run's process, serial: a case it prepared, checked on every runtime here."""

        def on_runtime(stage: str) -> None:
            if stage == "done":
                self.progress.advance()
            else:
                self.progress.stage(work.case.id, stage)

        return check_all(work, self.runtimes, self.options.analyses, self.log, on_runtime)

    def receive(self, work: PreparedCase, checked: Checked) -> None:
        """The run's process: a case as prepared and checked here or by a worker, released
        and checkpointed: the run holds (and its checkpoints keep) only what its record
        needs."""
        case = work.case
        work.release()
        self.work[case.id] = work
        self.results[case.id] = checked.results
        self.check_s[case.id] = dict(checked.seconds)
        for nodeid, text in checked.crashes:
            self.record_crash(nodeid, text)
        if self.checkpoints:
            self.checkpoints.save_case(work, self.results[case.id], self.check_s[case.id])

    def restore(self, checkpoints: Checkpoints) -> None:
        """Keep checkpoints from now on; take every case an earlier attempt of this run finished
        from them (a fresh run has none)."""
        self.checkpoints = checkpoints
        for case in self.cases:
            if (finished := checkpoints.case(case.id)) is not None:
                self.work[case.id], self.results[case.id], self.check_s[case.id] = finished
        checkpoints.write_run()

    def run_runtime(self, case_id: str, name: str, benchmark) -> None:
        """A timing process: check the runtime on the case again, then time it."""
        case = self.by_id[case_id]
        work = self.prepared(case)
        began = time.perf_counter()

        def time_it(loaded: Loaded) -> dict[str, Any]:
            return self._time(
                benchmark, loaded.step, case, name, loaded.clock, loaded.settle
            ).to_dict()

        def on_stage(stage: str) -> None:
            self.progress.stage(case.id, stage)

        self.results[case.id][name] = check_runtime(
            work, name, self.options.analyses, self.log, time_it, on_stage
        )
        self.check_s[case.id][f"check.{name}"] = time.perf_counter() - began

    def time_again(self, case_id: str, name: str, benchmark, figure: str = LATENCY) -> None:
        """A fresh session of a runtime checked and timed in this process's first: more rounds
        of ``latency`` (a session's own buffers can land on a slow layout for its whole life:
        seen, one onnxruntime session 2.4x slower in every round it served), or the rounds of
        ``latency_with_copies``, the first ones included."""
        case = self.by_id[case_id]
        result = self.results[case.id].get(name)
        if result is None or result.latency is None:
            return
        began = time.perf_counter()
        self.progress.stage(
            case.id, f"{name} · time again" + (" with copies" * (figure != LATENCY))
        )
        try:
            loaded = get_runtime(name).load(self.work[case.id].prepared)
        except Exception as exc:  # it loaded for the first session; a failure now is recorded
            result.reason = f"{name}: a later session could not load: {first_line(exc)}"
            self.log.case(case, name, exc)
            return
        step, clock = (
            (loaded.step, loaded.clock) if figure == LATENCY else (loaded.with_copies, None)
        )
        if step is None:  # the runtime has no copies to avoid: nothing else to time
            return
        latency = self._time(benchmark, step, case, name, clock, loaded.settle)
        if (before := getattr(result, figure)) is not None:
            latency = Latency.merge([Latency.from_dict(before), latency], "sessions")
        setattr(result, figure, latency.to_dict())
        key = "again" if figure == LATENCY else "copies"
        seconds = self.check_s[case.id]
        seconds[f"{key}.{name}"] = seconds.get(f"{key}.{name}", 0.0) + time.perf_counter() - began

    def _time(
        self, benchmark, step: Step, case: Case, runtime: str, clock=None, settle=None
    ) -> Latency:
        """One session's rounds, bracketed by the yardstick, with when they began."""
        began = time.monotonic()
        benchmark.group = case.id
        benchmark.extra_info.update({"case": case.id, "runtime": runtime})
        step = slowed(step, (case.gate or {}).get("slowdown", 1.0))
        yardstick = self.yardstick.step(case, runtime)
        latency = time_session(benchmark, step, self.timing, yardstick, clock, settle)
        latency.starts_s = [began - self.started]
        return latency

    def measure_ceiling(self, name: str, benchmark) -> None:
        """One of the machine's ceilings (``ceilings.py``), in a timing process only."""
        if self.options.role != "time":
            return
        self.progress.stage("machine", name, is_case=False)
        try:
            call, work = ceilings.workload(name, self.options.threads)
        except ImportError:  # onnxruntime absent: its GEMM is left out, torch's remains
            return
        benchmark.group = "ceilings"
        benchmark.extra_info.update({"ceiling": name, **work})
        latency = time_plain(benchmark, call, self.timing, ceilings.clock_for(name))
        self.ceilings[name] = ceilings.rate(name, work, latency.median_s)

    def remeasure_ceilings(self) -> None:
        """A timing process, after its ceilings: each one it cannot believe (``plausible.py``)
        measured again, the better rate kept."""
        if self.options.role == "time" and self.ceilings:
            self.progress.stage("machine", "ceilings again", is_case=False)
            again = partial(measure_again, threads=self.options.threads, timing=self.timing)
            self.remeasured = remeasure(self.ceilings, self.earlier_ceilings, again)

    def busy_s(self) -> dict[str, float]:
        """Per case, the seconds this process spent on it: preparing, checking, timing."""
        return {
            case.id: sum(self.check_s[case.id].values())
            + sum(self.work[case.id].durations_s.values() if case.id in self.work else [])
            for case in self.cases
        }

    def apply_timing(self, timing) -> None:
        """The run's process: each timed runtime's latency over the timing processes
        (``worker.TimingResult``), the seconds they spent on each case, and the machine's
        ceilings over them."""
        for case_id, seconds in timing.busy_s().items():
            self.check_s[case_id]["time"] = seconds
        for case_id, results in self.results.items():
            for name, result in results.items():
                if get_runtime(name).timed and result.ran:
                    result.latency = timing.latency(case_id, name)
                    result.latency_with_copies = timing.latency(case_id, name, WITH_COPIES)
        self.run_ceilings = ceilings.summarise(timing.ceilings, timing.remeasured)

    def apply_other_timing(self, timing, timed_on: str) -> None:
        """Another timer class's latencies over its timing processes, each under the class
        it was timed on (``machines.machine_class`` of its machine), beside the run's own."""
        for case_id, results in self.results.items():
            for name, result in results.items():
                if not (get_runtime(name).timed and result.ran):
                    continue
                if (latency := timing.latency(case_id, name)) is not None:
                    result.latency_by_class = {
                        **(result.latency_by_class or {}),
                        timed_on: {**latency, "machine_class": timed_on},
                    }

    def record_crash(self, nodeid: str, text: str) -> None:
        self.crashes.append(f"{nodeid}: {text.strip().splitlines()[-1] if text.strip() else ''}")
        self.log.append(f"== {nodeid}\n{text}\n")

    def item_done(self) -> None:
        self.progress.advance()

    def case_records(self, timed_on: str) -> list[dict[str, Any]]:
        """Every case's record; each latency names ``timed_on``, the machine class of the
        machine that timed it (``machines.machine_class``)."""
        return [self._record(index, case, timed_on) for index, case in enumerate(self.cases)]

    def samples(self) -> dict[str, np.ndarray]:
        """Every case's samples under the keys its record names (``sample_keys``)."""
        arrays: dict[str, np.ndarray] = {}
        for index, case in enumerate(self.cases):
            pictures = self.work[case.id].samples if case.id in self.work else {}
            keys = sample_keys(index, list(pictures))
            arrays.update({keys[name]: image for name, image in pictures.items()})
        return arrays

    def _record(self, index: int, case: Case, timed_on: str) -> dict[str, Any]:
        work = self.work.get(case.id) or PreparedCase(case)  # no runtime ran it: skipped
        record = CaseRecord(
            case.describe(),
            {n: self.results[case.id][n] for n in self.runtimes if n in self.results[case.id]},
            work.error,
            work.record.get("onnx"),
            work.record.get("cost"),
            work.record.get("metrics", {}),
            sample_keys(index, list(work.samples)),
            {**work.durations_s, **self.check_s[case.id]},
        )
        for name, result in record.runtimes.items():
            for figure in (LATENCY, WITH_COPIES):
                if measured := getattr(result, figure):
                    setattr(result, figure, {**measured, "machine_class": timed_on})
            if result.latency and record.cost:
                # The run's stable figure: its median moves with the machine's slow spells.
                fastest = result.latency["fastest_session_s"]
                device = get_runtime(name).device
                bounds = ceilings.for_device(self.run_ceilings, device)
                result.roofline = ceilings.roofline(record.cost, fastest, bounds, case.precision)
        return record.to_dict()
