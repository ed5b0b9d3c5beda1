"""What a run's timing processes measured, merged over the processes that finished, and put
into the run's cases: each timed runtime's latency, the seconds spent on each case, and the
machine's ceilings over the processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..bench.book import CaseBook
from ..bench.latency import Latency
from ..records import RuntimeResult
from ..runtimes import get_runtime
from . import adaptive, ceilings
from .policy import LATENCY, WITH_COPIES, Timing


@dataclass
class TimingResult:
    """What the run's timing processes measured, merged over the processes that finished."""

    timing: Timing
    #: per process that finished: {case id: {runtime: latency}}
    latencies: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    #: per process that finished: {case id: {runtime: latency with copies}}, where timed
    with_copies: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    #: per process that finished: the machine's ceilings as it measured them
    ceilings: list[dict[str, Any]] = field(default_factory=list)
    #: per process that finished: the ceilings it measured again (``plausible.remeasure``)
    remeasured: list[dict[str, Any]] = field(default_factory=list)
    #: per process that finished: {case id: seconds it spent on the case}
    busy: list[dict[str, float]] = field(default_factory=list)
    #: when each process began, seconds into the run
    starts_s: list[float] = field(default_factory=list)
    #: why the timing stopped early, or None
    cut_short: str | None = None
    #: the machine's ceilings over the processes (``ceilings.summarise``), once applied
    run_ceilings: dict[str, Any] | None = None

    @property
    def planned(self) -> int:
        """The most processes the run times in (the choose policy may stop sooner)."""
        return self.timing.processes

    def still_timed(self) -> dict[str, list[str]] | None:
        """{case id: [runtime]} the next process times (the choose policy's rule,
        ``adaptive.py``), or None: every case on every timed runtime."""
        if not self.timing.adaptive or not self.latencies:
            return None
        return adaptive.still_timed(self.latencies, self.busy, self.timing)

    def add(self, began: float, data: dict[str, Any]) -> None:
        """A finished process's result file (``worker.main``), begun ``began`` s into the run."""
        self.starts_s.append(began)
        self.latencies.append(data["latencies"])
        self.with_copies.append(data.get("with_copies", {}))
        self.ceilings.append(data["ceilings"])
        self.remeasured.append(data.get("ceilings_remeasured", {}))
        self.busy.append(data["busy_s"])

    def latency(self, case_id: str, runtime: str, figure: str = LATENCY) -> dict[str, Any] | None:
        """The case's latency (or ``latency_with_copies``) on the runtime over the processes
        that timed it, or None where none did. Under the gate's policy every process must have
        it (else it is not comparable between processes); under the choose policy the
        processes that timed it are its units, and its record gains its interval."""
        processes = self.latencies if figure == LATENCY else self.with_copies
        parts = [
            (began, process[case_id][runtime])
            for began, process in zip(self.starts_s, processes, strict=True)
            if runtime in process.get(case_id, {})
        ]
        if not parts or (not self.timing.adaptive and len(parts) < len(processes)):
            return None
        merged = Latency.merge([Latency.from_dict(part) for _, part in parts], "processes")
        merged.process_starts_s = [began for began, _ in parts]
        record = merged.to_dict()
        if self.timing.adaptive:
            figures = [adaptive.process_figure(part) for _, part in parts]
            record |= adaptive.describe((case_id, runtime), figures, self.timing)
        return record

    def busy_s(self) -> dict[str, float]:
        """Per case, the seconds every timing process together spent on it."""
        total: dict[str, float] = {}
        for process in self.busy:
            for case_id, seconds in process.items():
                total[case_id] = total.get(case_id, 0.0) + seconds
        return total

    def describe(self, timing: dict[str, Any]) -> dict[str, Any]:
        return {
            **timing,
            "processes_done": len(self.latencies),
            "process_starts_s": self.starts_s,
            "cut_short": self.cut_short,
        }

    def apply(self, book: CaseBook) -> dict[str, Any] | None:
        """The run's own timer class: each timed runtime's latency over the processes, and the
        seconds they spent on each case, into the book; the machine's ceilings over them."""
        for case_id, seconds in self.busy_s().items():
            book.check_s[case_id]["time"] = seconds
        for case_id, name, result in _timed(book):
            result.latency = self.latency(case_id, name)
            result.latency_with_copies = self.latency(case_id, name, WITH_COPIES)
        return ceilings.summarise(self.ceilings, self.remeasured)

    def apply_other(self, book: CaseBook, timed_on: str) -> None:
        """Another timer class's latencies, each under the class it was timed on
        (``machines.machine_class`` of its machine), beside the run's own."""
        for case_id, name, result in _timed(book):
            if (latency := self.latency(case_id, name)) is not None:
                result.latency_by_class = {
                    **(result.latency_by_class or {}),
                    timed_on: {**latency, "machine_class": timed_on},
                }


def _timed(book: CaseBook) -> list[tuple[str, str, RuntimeResult]]:
    """Every (case, runtime) whose result a timing process measured: timed, and ran."""
    return [
        (case_id, name, result)
        for case_id, results in book.results.items()
        for name, result in results.items()
        if get_runtime(name).timed and result.ran
    ]
