"""pytest plugin object: parametrizes a timing process's bench items and hands them its session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..runtimes import get_runtime
from . import ceilings
from .policy import LATENCY, WITH_COPIES
from .session import TimingSession


class BenchPlugin:
    def __init__(self, session: TimingSession) -> None:
        self.session = session

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        session = self.session
        cases = session.book.cases
        if "bench_target" in metafunc.fixturenames:
            # Plain strings, so that pytest-benchmark's JSON records them readably. The first
            # session runs everything; later ones only time again (see Timing in timing.py).
            # ``latency_with_copies`` is timed in sessions of its own, after the bound ones.
            runtimes = session.runtimes_of
            targets = [
                (c.id, r, LATENCY, 0) for c in cases for r in runtimes(c.id, session.book.runtimes)
            ]
            targets += [
                (c.id, r, figure, index)
                for figure in (LATENCY, WITH_COPIES)
                for index in range(1 if figure == LATENCY else 0, session.timing.sessions)
                for c in cases
                for r in runtimes(c.id, session.timed_runtimes)
                if figure in session.figures[r]
            ]
            metafunc.parametrize(
                "bench_target",
                targets,
                ids=[
                    f"{c}::{r}"
                    + ("::with-copies" if figure == WITH_COPIES else "")
                    + (f"::session{i + 1}" if i else "")
                    for c, r, figure, i in targets
                ],
            )
        if "ceiling" in metafunc.fixturenames:
            devices = {get_runtime(r).device for r in session.timed_runtimes}
            names = ceilings.ceiling_names(devices)
            metafunc.parametrize("ceiling", names, ids=names)

    @pytest.fixture
    def bench_session(self) -> TimingSession:
        return self.session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Bench items record their own outcome; a crash outside them (a bug) still must show.
        if report.failed:
            self.session.book.record_crash(report.nodeid, report.longreprtext)
        if report.when == "teardown":
            self.session.item_done()


#: Set to 1 to let the bench's pytest sessions print their own report (for debugging the bench).
DEBUG_ENV = "UPSAMPLING_BENCH_DEBUG"


def pytest_args(benchmark_json: str | Path | None) -> list[str]:
    """The bench's own pytest session: its items, its ini, pytest-benchmark's JSON (a timing
    process's; the run's own process times nothing)."""
    here = Path(__file__).resolve().parent
    quiet = [] if os.environ.get(DEBUG_ENV) == "1" else ["-p", "no:terminal"]
    return [
        *(str(here / "items.py"), "-c", str(here / "pytest.ini"), f"--rootdir={here}"),
        *(*quiet, "-p", "no:cacheprovider", "--noconftest", "--assert=plain", "-W", "ignore"),
        *([f"--benchmark-json={benchmark_json}"] if benchmark_json else []),
        *("--benchmark-quiet", "--benchmark-disable-gc", "--benchmark-timer=time.perf_counter"),
        *("--benchmark-sort=name", "--benchmark-group-by=group"),
    ]
