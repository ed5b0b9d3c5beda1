"""The suite's statistics, in one place: bootstrap intervals of the figures, the medians a run's
latency is summarised by, and the log-scale prediction test the latency gate decides with.

Intervals are 95% percentile bootstrap intervals: resample the units (weight seeds, photographs,
blocks, probes) with replacement ``BOOTSTRAP_REPLICATES`` times from a seeded generator, and take
the 2.5th and 97.5th percentiles of the statistic over the resamples.

Latency (``gate/latency.py`` says why): ``data_s`` of a latency holds its processes' rounds in
order, each process its sessions' in order, equal numbers each. A session is summarised by its
median round; a run by its **run figure**, the fastest session median.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_REPLICATES = 1000
CONFIDENCE = 0.95


def percentile_interval(draws: np.ndarray) -> list[float]:
    """The ``CONFIDENCE`` percentile interval of a statistic's bootstrap draws."""
    tail = (1 - CONFIDENCE) / 2 * 100
    return [float(np.percentile(draws, tail)), float(np.percentile(draws, 100 - tail))]


def resample_counts(
    rng: np.random.Generator, units: int, size: int | tuple[int, ...]
) -> np.ndarray:
    """How often each of ``units`` is drawn in a resample with replacement of as many, for
    ``size`` resamples at once (integers: the weights of a resampled sum)."""
    return rng.multinomial(units, np.full(units, 1 / units), size=size)


def mean_interval(values: Sequence[float] | None, seed: int) -> list[float] | None:
    """The interval of the mean of ``values`` (units: the values), or None where there are none."""
    if not values:
        return None
    rng = np.random.default_rng(seed)
    draws = rng.choice(values, size=(BOOTSTRAP_REPLICATES, len(values))).mean(axis=1)
    return percentile_interval(draws)


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


def pooled_log_spread(groups: list[list[float]]) -> float | None:
    """The standard deviation of the logs within groups, pooled over the groups of two or more
    (≈ the relative spread); None where no group has two."""
    groups = [g for g in groups if len(g) > 1]
    if not groups:
        return None
    return float(np.sqrt(np.mean([np.var(np.log(g), ddof=1) for g in groups])))


def _student_t():
    """Student's t, imported where a prediction is made: scipy.stats takes half a second to
    import, and every timing process imports this module without ever making one."""
    from scipy.stats import t

    return t


@dataclass(frozen=True)
class Prediction:
    """A new value as one more draw from the runs before it, on a log scale: under no change,
    ``shift / spread`` follows Student's t with ``df`` degrees of freedom, where ``shift`` is
    ``log new - mean log base`` and ``spread`` is ``s · sqrt(1 + 1/n)`` (a prediction interval; s
    is the spread between the runs)."""

    shift: float
    spread: float
    df: int

    def margin(self, probability: float) -> float:
        """The log shift that the t quantile at ``probability`` reaches."""
        return float(_student_t().ppf(probability, self.df)) * self.spread

    @property
    def p_above(self) -> float:
        """One-sided p of a shift this far up; a zero spread puts any rise beyond it."""
        if self.spread > 0:
            return float(_student_t().sf(self.shift / self.spread, self.df))
        return 0.0 if self.shift > 0 else 1.0

    @property
    def p_below(self) -> float:
        if self.spread > 0:
            return float(_student_t().cdf(self.shift / self.spread, self.df))
        return 0.0 if self.shift < 0 else 1.0


def predict(base_runs: Sequence[float], new: float) -> Prediction:
    """The prediction test's statistics of ``new`` against two or more ``base_runs``."""
    n = len(base_runs)
    logs = np.log(base_runs)
    spread = float(np.std(logs, ddof=1)) * math.sqrt(1 + 1 / n)
    return Prediction(shift=math.log(new) - float(logs.mean()), spread=spread, df=n - 1)


def min_interval(values: Sequence[float], seed: int) -> list[float]:
    """The interval of the smallest of ``values`` (units: the values; a run's timing processes,
    each one's fastest session): its lower end is the smallest value, its upper end the value a
    resample misses the smallest ones often enough to reach (from four units on, about the
    third smallest). It says how far the figure would move in a run whose fastest processes had
    been slowed: how well the run's units agree on it."""
    rng = np.random.default_rng(seed)
    draws = rng.choice(np.asarray(values, float), size=(BOOTSTRAP_REPLICATES, len(values)))
    return percentile_interval(draws.min(axis=1))
