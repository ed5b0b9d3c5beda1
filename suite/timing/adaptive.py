"""The choose policy's rule (``policy.TIMINGS["choose"]``): which case × runtime a run's next
timing process still times.

Each process is a unit: a fresh interpreter whose one session per case × runtime gives one
figure (its median round). The run's figure is the fastest process's, as the gate's is; its
interval is the bootstrap interval of that minimum over the processes (``stats.min_interval``).
A case × runtime is timed in at least ``min_processes`` processes, and after that only while its
interval is wider than ``target_width`` of its figure and its case has had less than
``budget_s`` of timing: a pair that three processes agree on within the target stops there, a
noisy one takes up to ``processes``. What stopped each pair is recorded (``settled``).
"""

from __future__ import annotations

import zlib
from typing import Any

from ..stats import min_interval, run_figure, session_medians
from .policy import Timing

#: a case × runtime: the case's id, the runtime's name
Pair = tuple[str, str]
#: why no later process timed a pair (``describe``)
STOPPED = ("settled", "processes spent", "budget spent")


def process_figure(latency: dict[str, Any]) -> float:
    """One process's figure: its fastest session median."""
    sessions = latency.get("sessions") or 1
    return run_figure(session_medians(list(latency["data_s"]), 1, sessions))


def interval(pair: Pair, figures: list[float]) -> list[float]:
    """The run figure's interval over the processes, seeded by the pair (reproducible)."""
    return min_interval(figures, zlib.crc32("::".join(pair).encode()))


def width(bounds: list[float]) -> float:
    """The interval's width as a fraction of its lower end (the run figure)."""
    low, high = bounds
    return (high - low) / low if low > 0 else float("inf")


def settled(pair: Pair, figures: list[float], timing: Timing) -> bool:
    """Whether the pair's processes agree on its figure within the policy's target."""
    if len(figures) < (timing.min_processes or timing.processes):
        return False
    return width(interval(pair, figures)) <= (timing.target_width or 0.0)


def still_timed(
    processes: list[dict[str, dict[str, Any]]],
    busy: list[dict[str, float]],
    timing: Timing,
) -> dict[str, list[str]]:
    """{case id: [runtime]} the next process times: every pair that every process so far timed,
    that has not settled, and whose case has not spent the budget. ``processes`` are the
    finished processes' latencies ({case: {runtime: latency}}), ``busy`` their seconds per case."""
    if not processes:
        raise ValueError("the first process times every pair: nothing to decide yet")
    spent = {case: sum(p.get(case, 0.0) for p in busy) for case in processes[0]}
    left: dict[str, list[str]] = {}
    for case_id, runtimes in processes[-1].items():
        for name in runtimes:
            parts = [p.get(case_id, {}).get(name) for p in processes]
            if any(part is None for part in parts):
                continue  # not timed in every process: left as it stands
            figures = [process_figure(part) for part in parts]
            over = timing.budget_s is not None and spent.get(case_id, 0.0) >= timing.budget_s
            if not (over or settled((case_id, name), figures, timing)):
                left.setdefault(case_id, []).append(name)
    return left


def describe(pair: Pair, figures: list[float], timing: Timing) -> dict[str, Any]:
    """What results.json adds to an adaptively timed latency: its interval and why it stopped."""
    bounds = interval(pair, figures)
    if settled(pair, figures, timing):
        why = "settled"
    elif len(figures) >= timing.processes:
        why = "processes spent"
    else:
        why = "budget spent"
    return {"interval_s": bounds, "stopped": why}
