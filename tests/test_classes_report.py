"""The report's latency on each machine class, from records alone: the run's own class's fastest
session beside each other class's, and the ratio."""

from __future__ import annotations

from suite.records import CaseRecord, RuntimeResult
from suite.report.classes import class_cells, own_class


def latency(fastest: float, klass: str) -> dict:
    return {"fastest_session_s": fastest, "median_s": fastest, "machine_class": klass}


def test_each_other_class_is_a_row_beside_the_runs_own():
    timed = RuntimeResult(
        "ok",
        latency=latency(2e-3, "cpu | 2 cores"),
        latency_by_class={
            "cpu | 1 cores": latency(3.5e-3, "cpu | 1 cores"),
            "gpu": latency(0.5e-3, "gpu"),
        },
    )
    alone = RuntimeResult("ok", latency=latency(1e-3, "cpu | 2 cores"))  # one class only
    case = CaseRecord({"id": "t"}, {"ort-cpu": timed, "torch-cpu": alone})
    assert class_cells([case]) == [
        ["t", "ort-cpu", "2", "cpu | 1 cores", "3.5", "1.75×"],
        ["t", "ort-cpu", "2", "gpu", "0.5", "0.25×"],
    ]
    assert own_class([case]) == "cpu | 2 cores"
    # a run timed on one class has no such table
    assert class_cells([CaseRecord({"id": "u"}, {"torch-cpu": alone})]) == []
