"""How a run's rounds are summarised: per session, the median round; per run, the fastest
session median, the figure the gate compares (``gate/latency.py`` says why) and the roofline
divides by.

``data_s`` of a latency holds its processes' rounds in order, each process its sessions' in
order, equal numbers each.
"""

from __future__ import annotations

import numpy as np


def split(values: list[float], parts: int) -> list[list[float]]:
    """``values`` in ``parts`` equal consecutive parts (a run's processes, a process's sessions)."""
    size, left = divmod(len(values), parts)
    if left or not size:
        raise ValueError(f"{len(values)} rounds do not split into {parts} equal parts")
    return [values[i * size : (i + 1) * size] for i in range(parts)]


def session_medians(rounds: list[float], processes: int, sessions: int) -> list[list[float]]:
    """Per process, per session: the median of its rounds."""
    return [
        [float(np.median(session)) for session in split(process, sessions)]
        for process in split(rounds, processes)
    ]


def run_figure(sessions: list[list[float]]) -> float:
    """The fastest session median of a run (``sessions``: processes × sessions)."""
    return float(min(min(process) for process in sessions))
