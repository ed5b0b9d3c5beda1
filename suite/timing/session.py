"""A timing process's session (``worker.py``): each case prepared again from the cache, each
timed runtime checked again and then timed (``timing``) in fresh sessions bracketed by the
yardstick, and the machine's ceilings measured after the cases. The bench's pytest items
(``items.py``) call it; a case that fails is recorded and the other cases still run."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from ..bench.book import CaseBook
from ..bench.check import check_runtime
from ..bench.latency import Latency
from ..bench.options import Options
from ..bench.pipeline import PreparedCase, prepare_case
from ..bench.progress import Progress
from ..case import Case
from ..errors import first_line
from ..runtimes import Loaded, get_runtime
from . import ceilings
from .plausible import measure_again, remeasure
from .policy import LATENCY, WITH_COPIES, Step, Timing, slowed, time_plain, time_session
from .yardstick import YardstickBracket


class TimingSession:
    def __init__(
        self,
        book: CaseBook,
        options: Options,
        progress: Progress,
        earlier_ceilings: list[dict[str, float]] | None = None,
        targets: dict[str, list[str]] | None = None,
    ) -> None:
        self.book = book
        #: {case id: [runtime]} this process times (the choose policy's rule), or None: all
        self.targets = targets
        self.options = options
        self.progress = progress
        self.settings = options.settings()
        #: the runtimes this process times, and the figures it takes on each: ``latency``
        #: (bound), and ``latency_with_copies`` where the runtime asks for it or the run does
        self.timed_runtimes = timed_runtimes(options.runtimes)
        self.figures = {
            n: [LATENCY]
            + ([WITH_COPIES] if get_runtime(n).times_copies or options.with_copies else [])
            for n in self.timed_runtimes
        }
        self.yardstick = YardstickBracket(options.cache_dir, options.threads, book.log)
        #: each ceiling's rate as measured here (``ceilings.py``); the earlier processes'
        #: ceilings, and what this one measured again (``plausible``)
        self.ceilings: dict[str, float] = {}
        self.earlier_ceilings = earlier_ceilings or []
        self.remeasured: dict[str, dict[str, Any]] = {}
        #: ``time.monotonic`` at the start; sessions record when they began relative to it
        self.started = time.monotonic()

    @property
    def timing(self) -> Timing:
        return self.options.timing

    def runtimes_of(self, case_id: str, runtimes: list[str]) -> list[str]:
        """Those of ``runtimes`` this process times the case on."""
        if self.targets is None:
            return list(runtimes)
        return [name for name in runtimes if name in self.targets.get(case_id, [])]

    def prepared(self, case: Case) -> PreparedCase:
        """The case prepared once per process (``pipeline.prepare_case``)."""
        work = self.book.work
        if case.id not in work:
            on_stage = partial(self.progress.stage, case.id)
            work[case.id] = prepare_case(case, self.settings, self.book.log, on_stage)
        return work[case.id]

    def run_runtime(self, case_id: str, name: str, benchmark) -> None:
        """Check the runtime on the case again, then time it."""
        case = self.book.by_id[case_id]
        work = self.prepared(case)
        began = time.perf_counter()

        def time_it(loaded: Loaded) -> dict[str, Any]:
            return self._time(
                benchmark, loaded.step, case, name, loaded.clock, loaded.settle
            ).to_dict()

        on_stage = partial(self.progress.stage, case.id)
        analyses, log = self.options.analyses, self.book.log
        result = check_runtime(work, name, analyses, log, time_it, on_stage)
        self.book.results[case.id][name] = result
        self.book.check_s[case.id][f"check.{name}"] = time.perf_counter() - began

    def time_again(self, case_id: str, name: str, benchmark, figure: str = LATENCY) -> None:
        """A fresh session of a runtime checked and timed in this process's first: more rounds
        of ``latency`` (a session's own buffers can land on a slow layout for its whole life:
        seen, one onnxruntime session 2.4x slower in every round it served), or the rounds of
        ``latency_with_copies``, the first ones included."""
        case = self.book.by_id[case_id]
        result = self.book.results[case.id].get(name)
        if result is None or result.latency is None:
            return
        began = time.perf_counter()
        copies = " with copies" * (figure != LATENCY)
        self.progress.stage(case.id, f"{name} · time again{copies}")
        try:
            loaded = get_runtime(name).load(self.book.work[case.id].prepared)
        except Exception as exc:  # it loaded for the first session; a failure now is recorded
            result.reason = f"{name}: a later session could not load: {first_line(exc)}"
            self.book.log.case(case, name, exc)
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
        key = f"{'again' if figure == LATENCY else 'copies'}.{name}"
        seconds = self.book.check_s[case.id]
        seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - began

    def _time(
        self, benchmark, step: Step, case: Case, runtime: str, clock=None, settle=None
    ) -> Latency:
        """One session's rounds, bracketed by the yardstick, with when they began."""
        began = time.monotonic()
        benchmark.group = case.id
        benchmark.extra_info.update({"case": case.id, "runtime": runtime})
        step = slowed(step, (case.gate or {}).get("slowdown", 1.0))
        yardstick = self.yardstick.step(case, runtime) if self.timing.yardstick else None
        latency = time_session(benchmark, step, self.timing, yardstick, clock, settle)
        latency.starts_s = [began - self.started]
        return latency

    def measure_ceiling(self, name: str, benchmark) -> None:
        """One of the machine's ceilings (``ceilings.py``)."""
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
        """After its ceilings: each one it cannot believe (``plausible.py``) measured again,
        the better rate kept."""
        if self.ceilings:
            self.progress.stage("machine", "ceilings again", is_case=False)
            again = partial(measure_again, threads=self.options.threads, timing=self.timing)
            self.remeasured = remeasure(self.ceilings, self.earlier_ceilings, again)

    def item_done(self) -> None:
        self.progress.advance()


def timed_runtimes(runtimes: tuple[str, ...] | list[str]) -> list[str]:
    """The runtimes a timing process measures: the timed ones available here."""
    return [n for n in runtimes if get_runtime(n).timed and not get_runtime(n).unavailable()]
