"""The timing yardstick (``yardstick.toml``): a fixed case timed around every round of every case.

On a shared 2-core machine a case can run 25-60% slower for ten seconds or for minutes, and a
gate comparing rounds as measured then cries wolf. The same spell slows, if not always by as
much, a workload timed a millisecond earlier and later on the same runtime, so the gate divides
each round by the yardstick's time around it. docs/measurements.md ("Where the latency noise
lives") gives the spreads measured with and without it.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

from ..bench.errorlog import ErrorLog
from ..case import Case
from ..casefile import load_cases
from ..export import export_case
from ..runtimes import Prepared, get_runtime
from .policy import Step

YARDSTICK_FILE = "timing/yardstick.toml"


@cache
def yardstick_case() -> Case:
    with as_file(files("suite").joinpath(YARDSTICK_FILE)) as path:
        (case,) = load_cases([path])
    return case


class YardstickBracket:
    """The yardstick made ready once per process, loaded afresh for each session that it
    brackets (one slow session must not skew a whole run). When it cannot be had, the case is
    timed alone, the reason is in errors.log, and the gate says so."""

    def __init__(self, cache_dir: Path, threads: int, log: ErrorLog) -> None:
        self.cache_dir = cache_dir
        self.threads = threads
        self.log = log
        self._prepared: Prepared | None = None
        self._broken = False

    def _prepare(self) -> Prepared | None:
        if self._prepared is None and not self._broken:
            case = yardstick_case()
            try:
                model, example = case.build(), case.make_input()
                exported = export_case(case, model, example, self.cache_dir)
                self._prepared = Prepared(
                    model, example, exported.path, case.output_shape, self.threads, self.cache_dir
                )
            except Exception as exc:  # a broken yardstick costs the ratios, never the cases
                self._broken = True
                self.log.case(case, "yardstick", exc)
        return self._prepared

    def step(self, case: Case, runtime: str) -> Step | None:
        """A fresh yardstick session on ``runtime``, or ``None``."""
        prepared = self._prepare()
        if prepared is None:
            return None
        try:
            loaded = get_runtime(runtime).load(prepared)
        except Exception as exc:
            self.log.case(case, f"{runtime} yardstick", exc)
            return None
        if loaded.clock is None:
            return loaded.step
        clock = loaded.clock

        def synchronised() -> None:  # the bracket is read on the host's clock
            loaded.step()
            clock.synchronize()

        return synchronised
