"""The latency gate's statistics, with the run as the unit of replication.

A run times each case in several fresh processes, each in a few fresh sessions (``timing/process``).
Rounds inside one process are not independent: a slow spell of a shared machine (10 s to a minute
or more, at up to twice the time on this project's 2-core machines) shifts whole sessions and
processes together. So a run is summarised by one figure, built from session medians:

- a **session median**: the median of one session's rounds;
- the **run figure**: the fastest session median of the run. A spell only ever adds time, and the
  sessions are spread over a minute of fresh processes, so the fastest of them is almost never
  inside one: between runs it moved 0.6-1.8% here, where the median of the processes moved
  8-24% (docs/measurements.md, "Where the latency noise lives"). Over the yardstick, it is the
  case's fastest session over the yardstick's fastest, in the same run on the same runtime.

The test compares the new run's figure with the baseline's run figures on a log scale: under
unchanged code the new run is one more draw from the baseline's runs, so
``t = (log new - mean log base) / (s · sqrt(1 + 1/n))`` follows Student's t with n - 1 degrees of
freedom (a prediction interval; s is the spread between the baseline's runs). It is one-sided at
``alpha``, and the change must also exceed the configured minimum effect. The smallest slowdown
the row would catch with probability ``POWER`` at that rate is its minimum detectable effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stats import pooled_log_spread, predict, run_figure, session_medians

#: The fewest baseline runs the test accepts: two give one degree of freedom, whose t quantile
#: (31.8 at alpha 0.01) would make every row too noisy to gate; three are the least that can.
MIN_RUNS = 3
#: The probability with which the minimum detectable effect is caught.
POWER = 0.8
#: The fewest timing processes per run whose latency the gate fails on. Measured here
#: (docs/measurements.md, "What the gate catches"): runs of 5 processes raised no latency alarm
#: in 23 unchanged reruns; runs of 1 (``--quick``) raised one in 2 of 22, where a slow spell
#: covered the run.
MIN_GATED_PROCESSES = 5


def gateable(timing: dict[str, Any]) -> str:
    """Why latency regressions of runs timed like this are advisory only, or "" if they gate."""
    if policy := timing.get("policy"):  # adaptive: not the protocol the rates were measured on
        return (
            f"timed under the {policy} policy (one session per process, no yardstick, stopped "
            "once ranked); the gate's false-alarm rates were measured under --timing gate"
        )
    if timing["processes"] >= MIN_GATED_PROCESSES:
        return ""
    return (
        f"timed in {timing['processes']} process{'es' if timing['processes'] != 1 else ''}: a "
        f"slow spell can cover them all; {MIN_GATED_PROCESSES} or more gate (--processes)"
    )


#: The run figure's two series: the fastest session over the yardstick's fastest, or as measured.
SERIES = {"relative": "÷ yardstick", "rounds_s": "as measured"}


@dataclass(frozen=True)
class Decision:
    effect: float  # new run figure over the baseline's geometric mean, minus 1
    p_slower: float
    p_faster: float
    critical: float  # the slowdown at which the test alone reaches alpha
    threshold: float  # max(min_effect, critical)
    detectable: float  # the slowdown caught with probability POWER
    too_noisy: bool  # critical > min_effect: the configured effect cannot be told from noise
    alpha: float

    @property
    def verdict(self) -> str:
        if self.too_noisy:
            return f"too noisy to gate (MDE +{self.detectable:.0%})"
        if self.effect > self.threshold:
            return "regressed"
        if self.effect < 1 / (1 + self.threshold) - 1 and self.p_faster < self.alpha:
            return "improved"
        return "pass"


def decide(base_runs: list[float], new: float, min_effect: float, alpha: float) -> Decision:
    """The prediction test of the module's docstring on one row."""
    if len(base_runs) < MIN_RUNS:
        raise ValueError(f"{len(base_runs)} baseline runs; the test needs at least {MIN_RUNS}")
    test = predict(base_runs, new)
    critical = math.exp(test.margin(1 - alpha)) - 1
    threshold = max(min_effect, critical)
    detectable = (1 + threshold) * math.exp(test.margin(POWER)) - 1
    return Decision(
        effect=math.exp(test.shift) - 1,
        p_slower=test.p_above,
        p_faster=test.p_below,
        critical=critical,
        threshold=threshold,
        detectable=detectable,
        too_noisy=critical > min_effect,
        alpha=alpha,
    )


def noise(sessions: list[list[list[float]]]) -> dict[str, float | None]:
    """The spread of one case and runtime, as the standard deviation of log medians (≈ the
    relative spread): of session medians within a process, of process medians within a run (the
    processes ran back to back), of run medians (the median of the processes) between runs, and
    of the gate's run figure (the fastest session) between runs. ``sessions`` is runs ×
    processes × sessions of session medians. None where there is only one of a kind."""
    process_medians = [[float(np.median(p)) for p in run] for run in sessions]
    return {
        "within_process": pooled_log_spread([process for run in sessions for process in run]),
        "between_processes": pooled_log_spread(process_medians),
        "between_runs": pooled_log_spread([[float(np.median(run)) for run in process_medians]]),
        "gate_figure": pooled_log_spread([[run_figure(run) for run in sessions]]),
    }


def runtime_figures(latency: dict[str, Any]) -> dict[str, Any]:
    """A run's latency on one runtime, as the gate keeps it: the session medians (processes ×
    sessions) of the rounds and of the yardstick around them, and per series the run figure."""
    processes = latency.get("processes", 1)
    sessions = latency.get("sessions", 1)
    medians = {"rounds_s": session_medians(list(latency["data_s"]), processes, sessions)}
    if len(latency.get("yardstick_s") or []) == len(latency["data_s"]):
        medians["yardstick_s"] = session_medians(latency["yardstick_s"], processes, sessions)
    runs = {"rounds_s": [run_figure(medians["rounds_s"])]}
    if "yardstick_s" in medians:
        runs["relative"] = [runs["rounds_s"][0] / run_figure(medians["yardstick_s"])]
    return {
        "median_s": latency["median_s"],
        "runs": runs,
        "sessions": {name: [value] for name, value in medians.items()},
    }
