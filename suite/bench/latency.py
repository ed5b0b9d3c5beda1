"""A latency: the rounds one runtime took on one case, and the statistics results.json records.

``data_s`` holds the rounds in order: a run's processes one after another, each process its
sessions' rounds in order, equal numbers each (``stats.split`` relies on it). The statistics
are computed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats import run_figure, session_medians

#: IQR / median above this marks a latency as noisy.
NOISY_IQR = 0.10
#: Series kept round by round beside ``data_s``, merged by concatenation where every part has
#: them: the yardstick's time around each round, and when each session began.
SERIES = ("yardstick_s", "starts_s")


@dataclass
class Latency:
    """Seconds per call, round by round, with how the rounds were taken."""

    data_s: list[float]
    iterations: int
    sessions: int = 1
    #: set once the rounds of the run's timing processes are merged
    processes: int | None = None
    yardstick_s: list[float] | None = None
    starts_s: list[float] | None = None
    process_starts_s: list[float] | None = None
    #: what timed the rounds: ``host`` (each call synchronised) or a device clock's name
    clock: str | None = None

    @property
    def median_s(self) -> float:
        return float(np.median(self.data_s))

    @property
    def iqr_s(self) -> float:
        q1, q3 = np.percentile(self.data_s, [25, 75])
        return float(q3 - q1)

    @property
    def noisy(self) -> bool:
        median = self.median_s
        return bool(median > 0 and self.iqr_s / median > NOISY_IQR)

    @property
    def fastest_session_s(self) -> float:
        """The run's figure: its fastest session median (``stats.run_figure``)."""
        return run_figure(session_medians(self.data_s, self.processes or 1, self.sessions))

    @classmethod
    def merge(cls, parts: list[Latency], key: str) -> Latency:
        """One latency from the rounds of several sessions (``key="sessions"``) or processes
        (``key="processes"``), in order, so that each part can still be looked at on its own."""
        series = {
            name: [x for part in parts for x in getattr(part, name)]
            if all(getattr(part, name) is not None for part in parts)
            else None
            for name in SERIES
        }
        merged = cls(
            [t for part in parts for t in part.data_s],
            max(part.iterations for part in parts),
            sessions=parts[0].sessions,
            **series,
            clock=parts[0].clock,
        )
        if key == "sessions":
            merged.sessions = sum(part.sessions for part in parts)
        else:
            merged.processes = sum(part.processes or 1 for part in parts)
        return merged

    def to_dict(self) -> dict[str, Any]:
        """As results.json records it (``$defs/latency`` of the schema)."""
        values = np.asarray(self.data_s)
        record: dict[str, Any] = {
            "median_s": self.median_s,
            "iqr_s": self.iqr_s,
            "mean_s": float(values.mean()),
            "min_s": float(values.min()),
            "rounds": len(self.data_s),
            "iterations": self.iterations,
            "noisy": self.noisy,
            "data_s": [float(t) for t in self.data_s],
            "sessions": self.sessions,
        }
        for name in (*SERIES, "process_starts_s"):
            if getattr(self, name) is not None:
                record[name] = getattr(self, name)
        if self.clock is not None:
            record["clock"] = self.clock
        if self.processes is not None:
            record["processes"] = self.processes
            record["fastest_session_s"] = self.fastest_session_s
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Latency:
        return cls(
            record["data_s"],
            record["iterations"],
            record.get("sessions", 1),
            record.get("processes"),
            *(record.get(name) for name in (*SERIES, "process_starts_s")),
            clock=record.get("clock"),
        )
