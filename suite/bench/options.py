"""What a bench process is asked to do: which runtimes, how many threads, where the cache and the
run folder are, how it times, and whether it is the run's own process or a timing process. Made
once (``RunSpec.from_args``, or a timing process's spec file) and never changed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..timing.policy import TIMINGS, Timing
from .pipeline import Settings


@dataclass(frozen=True)
class Options:
    #: the timing policy's name (``policy.TIMINGS``)
    policy: str
    threads: int
    runtimes: tuple[str, ...]
    cache_dir: Path
    out_dir: Path
    #: overrides the timing's ``processes``
    processes: int | None = None
    #: ``analyse``: the run's own process (build, export, parity, metrics; no timing);
    #: ``time``: a timing process (build, export from the cache, parity, timing; no metrics)
    role: str = "analyse"
    #: False: build, export, check and time only (latency studies); no figures, no samples
    analyse: bool = True
    #: a timing process: where the trained cases' fitted weights travelled to
    weights_dir: Path | None = None
    #: time ``latency_with_copies`` on every runtime that has it, not only where its registry
    #: entry asks for it (``Runtime.times_copies``: the GPU runtimes)
    with_copies: bool = False
    #: read nothing from the prepared-case and calibration caches (``run --fresh``); what is
    #: computed is written over their entries
    fresh: bool = False

    @property
    def analyses(self) -> bool:
        return self.role == "analyse" and self.analyse

    @property
    def quick(self) -> bool:
        return self.policy == "quick"

    @property
    def timing(self) -> Timing:
        timing = TIMINGS[self.policy]
        if self.processes is None:
            return timing
        fewest = timing.min_processes and min(timing.min_processes, self.processes)
        return replace(timing, processes=self.processes, min_processes=fewest)

    def settings(self) -> Settings:
        """How a case is prepared in this process (``pipeline.prepare_case``)."""
        timing = self.role == "time"
        return Settings(self.cache_dir, self.threads, self.analyses, self.weights_dir, timing)
