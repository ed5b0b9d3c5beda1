"""pytest plugin object: parametrizes the bench items and hands them the session."""

from __future__ import annotations

import pytest

from .session import BenchSession


class BenchPlugin:
    def __init__(self, session: BenchSession) -> None:
        self.session = session

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "bench_target" in metafunc.fixturenames:
            # Plain strings, so that pytest-benchmark's JSON records them readably.
            targets = [
                (case.id, runtime)
                for case in self.session.cases
                for runtime in self.session.runtimes
            ]
            metafunc.parametrize(
                "bench_target", targets, ids=[f"{case}::{runtime}" for case, runtime in targets]
            )

    @pytest.fixture
    def bench_session(self) -> BenchSession:
        return self.session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Bench items record their own outcome; a crash outside them (a bug) still must show.
        if report.failed:
            self.session.record_crash(report.nodeid, report.longreprtext)
        if report.when == "teardown":
            self.session.item_done()
