"""A layer's latency as the decision states it: the run figure (the fastest session median) with
the spread of the run's independent units, the timing processes: its 95 % interval over them
where the run timed adaptively (``timing/adaptive.py``), else their range; with one process only
its rounds' interquartile range (said to be within one process: rounds are not independent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .stats import run_figure, session_medians


@dataclass(frozen=True)
class Latency:
    """A layer's latency on one runtime: the run figure and its spread, in seconds."""

    seconds: float
    low: float
    high: float
    processes: int
    noisy: bool
    #: the spread is a 95 % interval (the choose policy's), not the processes' range
    interval: bool = False

    @classmethod
    def of(cls, record: dict[str, Any]) -> Latency:
        rounds, processes = record["data_s"], record.get("processes") or 1
        sessions = record.get("sessions") or 1
        figure = record.get("fastest_session_s") or record["median_s"]
        try:
            per_process = [run_figure([p]) for p in session_medians(rounds, processes, sessions)]
        except ValueError:  # rounds that do not split evenly: read as one process
            processes, per_process = 1, []
        if bounds := record.get("interval_s"):
            low, high = bounds
        elif processes >= 2:
            low, high = min(per_process), max(per_process)
        else:
            half = record["iqr_s"] / 2
            low, high = record["median_s"] - half, record["median_s"] + half
        low, high = min(low, figure), max(high, figure)
        return cls(figure, low, high, processes, bool(record["noisy"]), "interval_s" in record)

    def text(self) -> str:
        spread = f"{ms_text(self.low)}–{ms_text(self.high)}"
        basis = f"{self.processes} processes" if self.processes >= 2 else "IQR, 1 process"
        basis = f"95 % CI, {basis}" if self.interval else basis
        return f"{ms_text(self.seconds)} ms [{spread}, {basis}]" + (" noisy" if self.noisy else "")


def ms_text(seconds: float) -> str:
    """Milliseconds to three significant figures."""
    return f"{seconds * 1e3:.3g}"
