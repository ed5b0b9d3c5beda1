"""Every case of one process (the run's, or a timing process) as it stands: prepared (released
once its record has what it needs), each runtime's result, the seconds spent on it here, and the
bugs met on the way; at the end of a run, each case's record and samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..case import Case
from ..records import CaseRecord, RuntimeResult
from ..runtimes import get_runtime
from ..samplefile import sample_keys
from ..timing import ceilings
from ..timing.policy import LATENCY, WITH_COPIES
from .check import Checked
from .checkpoint import Finished
from .errorlog import ErrorLog
from .pipeline import CPU_CHECK, CPU_PREPARE, PreparedCase


class CaseBook:
    def __init__(self, cases: list[Case], runtimes: list[str], log: ErrorLog) -> None:
        self.cases = list(cases)
        self.by_id = {case.id: case for case in self.cases}
        self.runtimes = list(runtimes)
        self.log = log
        self.work: dict[str, PreparedCase] = {}
        self.results: dict[str, dict[str, RuntimeResult]] = {case.id: {} for case in cases}
        #: per case, each runtime's check (and analysis) wall time in this process
        self.check_s: dict[str, dict[str, float]] = {case.id: {} for case in cases}
        self.crashes: list[str] = []
        #: the cases read from the prepared-case cache, by this attempt of the run or an earlier
        self.cached: set[str] = set()

    def receive(self, work: PreparedCase, checked: Checked) -> Finished:
        """A case as prepared and checked here or by a worker, released: the run holds (and
        its checkpoints keep) only what its record needs."""
        work.release()
        finished = Finished(work, checked.results, dict(checked.seconds))
        self.take(finished)
        for nodeid, text in checked.crashes:
            self.record_crash(nodeid, text)
        return finished

    def take(self, finished: Finished) -> None:
        """A finished case, as received, or as a checkpoint or the prepared-case cache kept it."""
        case_id = finished.work.case.id
        self.work[case_id], self.results[case_id] = finished.work, finished.results
        self.check_s[case_id] = finished.check_s
        if finished.from_cache:
            self.cached.add(case_id)

    def from_cache(self) -> list[str]:
        """The cases read from the prepared-case cache (``prepared_cache.py``), in order."""
        return [case.id for case in self.cases if case.id in self.cached]

    def todo(self) -> list[Case]:
        """The cases not yet prepared (a resumed run's checkpoints hold the others)."""
        return [case for case in self.cases if case.id not in self.work]

    def prepared_ids(self) -> list[str]:
        return [case_id for case_id, work in self.work.items() if work.error is None]

    def fitted(self) -> dict[str, bytes]:
        """The trained cases' fitted weights, as prepared: every timing process times them."""
        return {i: w.fitted for i, w in self.work.items() if w.fitted is not None}

    def record_crash(self, nodeid: str, text: str) -> None:
        self.crashes.append(f"{nodeid}: {text.strip().splitlines()[-1] if text.strip() else ''}")
        self.log.append(f"== {nodeid}\n{text}\n")

    def busy_s(self) -> dict[str, float]:
        """Per case, the seconds this process spent on it: preparing, checking, timing."""

        def wall(seconds: dict[str, float]) -> float:
            return sum(v for k, v in seconds.items() if k not in (CPU_PREPARE, CPU_CHECK))

        return {
            case.id: wall(self.check_s[case.id])
            + (wall(self.work[case.id].durations_s) if case.id in self.work else 0.0)
            for case in self.cases
        }

    def measured(self, figure: str) -> dict[str, dict[str, Any]]:
        """{case id: {runtime: the figure}} for every runtime this process measured it on."""
        return {
            case_id: {n: getattr(r, figure) for n, r in results.items() if getattr(r, figure)}
            for case_id, results in self.results.items()
        }

    def samples(self) -> dict[str, np.ndarray]:
        """Every case's samples under the keys its record names (``sample_keys``)."""
        arrays: dict[str, np.ndarray] = {}
        for index, case in enumerate(self.cases):
            pictures = self.work[case.id].samples if case.id in self.work else {}
            keys = sample_keys(index, list(pictures))
            arrays.update({keys[name]: image for name, image in pictures.items()})
        return arrays

    def case_records(self, timed_on: str, run_ceilings: dict[str, Any] | None) -> list[dict]:
        """Every case's record; each latency names ``timed_on``, the machine class of the
        machine that timed it (``machines.machine_class``), and each case timed against the
        run's ceilings has its roofline."""
        return [
            self._record(index, case, timed_on, run_ceilings)
            for index, case in enumerate(self.cases)
        ]

    def _record(
        self, index: int, case: Case, timed_on: str, run_ceilings: dict[str, Any] | None
    ) -> dict[str, Any]:
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
                bounds = ceilings.for_device(run_ceilings, get_runtime(name).device)
                result.roofline = ceilings.roofline(record.cost, fastest, bounds, case.precision)
        return record.to_dict()
