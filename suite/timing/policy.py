"""The timing policy: how many rounds, sessions and processes, how long a round lasts, and how
one session's rounds are taken (pytest-benchmark's pedantic mode, each round bracketed by the
yardstick on the same runtime)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from ..bench.latency import Latency
from ..runtimes.base import Clock

#: ``Latency.clock`` of a round timed by the host (``time.perf_counter``, each call synchronised)
HOST_CLOCK = "host"
#: the figures a timed runtime can have: bound (the kernels), and as an application calls it
LATENCY, WITH_COPIES = "latency", "latency_with_copies"

Step = Callable[[], object]


@dataclass(frozen=True)
class Timing:
    """pytest-benchmark in pedantic mode: ``rounds`` rounds per session, each repeating the call
    enough times to last ``min_round_s`` (so that the timer's resolution never matters), after
    warm-up rounds that are not recorded (allocator, thread pools, oneDNN primitive caches).

    The rounds are taken in up to ``processes`` fresh timing processes, one after another, each
    loading ``sessions`` fresh sessions per case and runtime in turn. Rounds inside one process
    are not independent: a slow spell of a shared machine (10 s to a minute or more, at up to
    twice the time, on this project's 2-core machines) shifts whole sessions and processes
    together. The gate therefore compares whole runs, each summarised by its fastest session,
    which the spells spread over a minute of fresh processes almost never all reach
    (``gate/latency.py``).

    Two policies differ in what they are for. The **gate**'s times every case in every process,
    each round between two of the yardstick's: the protocol its false-alarm rates were measured
    on. **choose** (the default bench's) only has to rank layers whose latencies differ by 1.5 to
    100x: one session per process, no yardstick, and it stops timing a case × runtime once its
    run figure's interval over the processes (``adaptive.py``) is narrow enough to rank it."""

    name: str
    rounds: int
    sessions: int
    processes: int
    min_round_s: float
    warmup_rounds: int
    #: each round bracketed by the yardstick's (the gate's ratio to it)
    yardstick: bool = True
    #: adaptive (``adaptive.py``): a case × runtime is timed in at least ``min_processes``
    #: processes, then only while its interval is wider than ``target_width`` of its figure and
    #: its case has had less than ``budget_s`` of timing; None: every process times everything
    min_processes: int | None = None
    target_width: float | None = None
    budget_s: float | None = None

    @property
    def adaptive(self) -> bool:
        return self.min_processes is not None

    def describe(self) -> dict[str, Any]:
        return asdict(self)


TIMINGS = {
    "gate": Timing("gate", rounds=5, sessions=2, processes=5, min_round_s=5e-3, warmup_rounds=3),
    # ±10 %: two such intervals part at a ratio of 1.1 / 0.9 = 1.22, and the default bench ranks
    # layers 1.5 to 100x apart; on the quiet 2-core machine, ±5 % left a third of the pairs
    # unsettled after five processes, ±10 % a seventh (docs/measurements.md)
    "choose": Timing(
        "choose",
        rounds=5,
        sessions=1,
        processes=5,
        min_round_s=5e-3,
        warmup_rounds=1,
        yardstick=False,
        min_processes=3,
        target_width=0.20,
        budget_s=20.0,
    ),
    "quick": Timing("quick", rounds=5, sessions=1, processes=1, min_round_s=1e-3, warmup_rounds=1),
}
#: Policies whose timing processes are run inside the run's own process, one after another.
#: quick's latencies are a smoke figure that nothing gates (``suite gate`` calls them advisory);
#: a fresh interpreter, importing torch, onnx and onnxruntime again, made a four-case quick
#: run's timing take 7.4 s instead of 1.5 s and bought it nothing (the tests make dozens).
IN_RUN_PROCESS = frozenset({"quick"})
#: what ``suite run`` times with unless told (``--timing``); ``tox -e gate`` asks for the gate's
DEFAULT_TIMING = "choose"


def slowed(step: Step, factor: float) -> Step:
    """``step`` called ``factor`` times per call on average (``gate.slowdown`` of a case): a known
    slowdown, exact over a round, on every runtime alike."""
    if factor == 1.0:
        return step
    owed = 0.0

    def call() -> None:
        nonlocal owed
        owed += factor
        while owed >= 1.0:
            step()
            owed -= 1.0

    return call


def calls_per_round(step: Step, min_round_s: float, clock: Clock | None = None) -> int:
    """Calls that make a round last ``min_round_s``, so the timer's resolution never matters;
    from the second of two calls (the first warms up a freshly loaded session), on ``clock``
    where the step is timed on the device (its calls return before the device is done)."""
    step()
    if clock is not None:
        clock.start()
        step()
        took = clock.stop()
    else:
        started = time.perf_counter()
        step()
        took = time.perf_counter() - started
    return max(1, math.ceil(min_round_s / max(took, 1e-9)))


def time_session(
    benchmark,
    step: Step,
    timing: Timing,
    yardstick: Step | None,
    clock: Clock | None = None,
    settle: Step | None = None,
) -> Latency:
    """One session's rounds; each between two rounds of ``yardstick`` where there is one. With
    a device ``clock`` the rounds are the device's own times (pytest-benchmark still takes the
    host's, in its JSON); the rest of the policy is the same for every runtime. ``settle``
    (the runtime's, untimed) runs before and after each yardstick round, so that neither the
    case's spinning workers nor the yardstick's (the same runtime) overlap the other's round."""
    if yardstick is None:
        return time_plain(benchmark, step, timing, clock)
    calls = calls_per_round(step, timing.min_round_s, clock)
    time_yardstick, yardstick_rounds = _yardstick_rounds(yardstick, timing.min_round_s, settle)
    round_of_calls, device_rounds = _on_clock(step, calls, clock)
    # A setup function rules out pytest-benchmark's own iterations: one round is one call of
    # round_of_calls, and the timing process's benchmark JSON says how many calls that is.
    benchmark.extra_info["calls_per_round"] = calls
    benchmark.pedantic(
        round_of_calls,
        setup=time_yardstick,
        rounds=timing.rounds,
        warmup_rounds=timing.warmup_rounds,
    )
    time_yardstick()  # closes the bracket around the last round
    around = yardstick_rounds[timing.warmup_rounds :]
    return Latency(
        [t / calls for t in _rounds(benchmark, device_rounds, timing)],
        calls,
        yardstick_s=[(a + b) / 2 for a, b in pairwise(around)],
        clock=clock.name if clock else HOST_CLOCK,
    )


def _yardstick_rounds(
    yardstick: Step, min_round_s: float, settle: Step | None
) -> tuple[Step, list[float]]:
    """One round of the yardstick (pytest-benchmark's setup: before each round, untimed), and
    the list each round's seconds per call go into."""
    calls = calls_per_round(yardstick, min_round_s)
    rounds: list[float] = []

    def time_yardstick() -> None:
        if settle is not None:
            settle()
        started = time.perf_counter()
        for _ in range(calls):
            yardstick()
        rounds.append((time.perf_counter() - started) / calls)
        if settle is not None:  # the yardstick runs on the same runtime: its workers spin too
            settle()

    return time_yardstick, rounds


def time_plain(benchmark, step: Step, timing: Timing, clock: Clock | None = None) -> Latency:
    """One session's rounds, the step alone (a ceiling, or a case whose yardstick failed)."""
    calls = calls_per_round(step, timing.min_round_s, clock)
    round_of_calls, device_rounds = _on_clock(step, calls, clock)
    benchmark.extra_info["calls_per_round"] = calls
    benchmark.pedantic(round_of_calls, rounds=timing.rounds, warmup_rounds=timing.warmup_rounds)
    data = [t / calls for t in _rounds(benchmark, device_rounds, timing)]
    return Latency(data, calls, clock=clock.name if clock else HOST_CLOCK)


def time_rounds(step: Step, timing: Timing, clock: Clock | None = None) -> float:
    """The median call's seconds over the same rounds as ``time_plain``'s, without
    pytest-benchmark (a ceiling measured again, ``plausible.py``: not a benchmark of its own)."""
    calls = calls_per_round(step, timing.min_round_s, clock)
    round_of_calls, device_rounds = _on_clock(step, calls, clock)
    host_rounds = []
    for _ in range(timing.warmup_rounds + timing.rounds):
        started = time.perf_counter()
        round_of_calls()
        host_rounds.append(time.perf_counter() - started)
    rounds = (device_rounds or host_rounds)[timing.warmup_rounds :]
    return float(np.median(rounds)) / calls


def _on_clock(step: Step, calls: int, clock: Clock | None) -> tuple[Step, list[float]]:
    """One round of ``calls`` calls, and (with a device clock) the list its times go into."""
    device_rounds: list[float] = []

    def round_of_calls() -> None:
        if clock is not None:
            clock.start()
        for _ in range(calls):
            step()
        if clock is not None:
            device_rounds.append(clock.stop())

    return round_of_calls, device_rounds


def _rounds(benchmark, device_rounds: list[float], timing: Timing) -> list[float]:
    """The recorded rounds' seconds: the device clock's (past the warm-up rounds) where there
    is one, else pytest-benchmark's."""
    if device_rounds:
        return device_rounds[timing.warmup_rounds :]
    return [float(x) for x in benchmark.stats.stats.data]
