"""The report's latency on each machine class: where a cluster's timers of several classes timed
the same cases (``run --timer-class``), each case and runtime's fastest session on the run's own
class beside every other class's, and how many times slower the other is. Read from
results.json alone: no torch, no onnxruntime."""

from __future__ import annotations

from ..records import CaseRecord

CLASS_COLUMNS = ["case", "runtime", "run's class (ms)", "other class", "there (ms)", "there ÷ here"]


def class_cells(records: list[CaseRecord]) -> list[list[str]]:
    """One row per case, runtime and other class that timed it."""
    rows = []
    for case in records:
        for name, result in case.runtimes.items():
            if not (result.latency and result.latency_by_class):
                continue
            here = result.latency["fastest_session_s"]
            for klass, latency in result.latency_by_class.items():
                there = latency["fastest_session_s"]
                rows.append(
                    [
                        case.id,
                        name,
                        f"{here * 1e3:.4g}",
                        klass,
                        f"{there * 1e3:.4g}",
                        f"{there / here:.2f}×",
                    ]
                )
    return rows


def own_class(records: list[CaseRecord]) -> str | None:
    """The machine class the run's own latencies name (the table's "here")."""
    for case in records:
        for result in case.runtimes.values():
            if result.latency and result.latency_by_class:
                return result.latency.get("machine_class")
    return None
