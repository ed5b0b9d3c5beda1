"""How long a sweep will take: a makespan predicted from the stage durations a real run recorded.

The model is what the suite runs today on ``machines`` machines: one shard each
(``run --shard I/N``, every N-th case, then ``merge``), each shard a run of its own in two phases:

- *prepare*: each of the shard's cases prepared (``durations_s`` of its prepare stages, build →
  samples) and checked on every runtime (its ``check.<runtime>`` durations) as one task on the
  shard's ``workers`` single-task slots, list-scheduled longest first (LPT). From a serial run
  that measured ``workers`` workers sharing its cores (``run --measure-sharing``,
  ``bench/sharing.py``), a task lasts its CPU seconds times their measured slowdown, after the
  workers' measured start;
- *time*: the shard's cases timed one after another: each case's ``time`` (the seconds every
  timing process together spent on it);
- *fixed*: what the recorded run spent outside its cases (starting the cluster, warming up its
  workers, starting the timing processes, measuring the machine's ceilings), once per shard.

The makespan is the slowest shard's. (A run on a real cluster, ``--cluster``, is not modelled:
its prepare workers share one queue, and one timer times every case.)

A case the recorded run did not have is estimated by the median of its method's cases there
(else of every case). Nothing here is measured: it is arithmetic on a run's figures, and says so.

One run cannot show how much the machine's own speed moves between runs, and on this project's
2-core machines that moved a plan more than sharing the cores did (docs/measurements.md).
Planned from several recorded runs (``spread``), the plan is the middle run's, with the range of
them all.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .bench.pipeline import CPU_CHECK, CPU_PREPARE, STAGES
from .records import CaseRecord, cases_of

PREPARE_STAGES = tuple(stage.name for stage in STAGES)


@dataclass(frozen=True)
class CaseCost:
    """One case's predicted seconds: preparing it and checking it (one task, on a worker slot),
    timing it (its machine, alone)."""

    prepare_s: float
    check_s: float
    time_s: float


@dataclass(frozen=True)
class Plan:
    cases: int
    machines: int
    workers: int
    prepare_s: float
    time_s: float
    fixed_s: float
    #: how many of the cases were estimated from their method's (or every) case, not measured
    estimated: int

    @property
    def makespan_s(self) -> float:
        return self.prepare_s + self.time_s + self.fixed_s


@dataclass(frozen=True)
class Spread:
    """One sweep planned from each of several recorded runs: the plan of one of them (by default
    the one whose makespan is the median, the lower of the two middle ones for an even count),
    and the range of all."""

    plan: Plan
    #: which of the plans (in the order given) that is
    index: int
    low_s: float
    high_s: float
    runs: int


def spread(plans: Sequence[Plan], index: int | None = None) -> Spread:
    """The plans' range, and the plan of the run at ``index``: by default the middle one."""
    makespans = [p.makespan_s for p in plans]
    if index is None:
        index = makespans.index(statistics.median_low(makespans))
    return Spread(plans[index], index, min(makespans), max(makespans), len(plans))


def lpt_makespan(durations: Sequence[float], slots: int) -> float:
    """The finish time of greedy longest-first list scheduling on ``slots`` identical slots."""
    loads = [0.0] * max(1, slots)
    for duration in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + duration)
    return max(loads)


def prepare_seconds(costs: Sequence[CaseCost], slots: int) -> float:
    """The prepare phase: each case's task (prepare, then check) on the workers' slots."""
    return lpt_makespan([c.prepare_s + c.check_s for c in costs], slots)


def measured_costs(results: dict[str, Any], workers: int | None = None) -> dict[str, CaseCost]:
    """Each case of a recorded run: its prepare stages, its checks, its timing. Planned on
    ``workers`` from a serial run, a task takes its CPU seconds (see ``on_one_core``), times
    the slowdown that run measured for that many workers (``sharing``); else its wall seconds
    as recorded."""
    one_core = workers is not None and on_one_core(results, workers)
    shared = sharing(results, workers) if one_core and workers is not None else None
    scale = shared["slowdown"] if shared else 1.0
    return {case.id: _cost(case, one_core, scale) for case in cases_of(results)}


def sharing(results: dict[str, Any], workers: int) -> dict[str, Any] | None:
    """The recorded serial run's measure of ``workers`` workers sharing its cores
    (``phases.sharing``), where it made one for that many workers."""
    found = results["run"]["phases"].get("sharing")
    if found and found["workers"] == workers and found.get("slowdown"):
        return found
    return None


def on_one_core(results: dict[str, Any], workers: int) -> bool:
    """Whether to plan each task at its CPU seconds: the run prepared serially, each task on
    every core with the run's threads, and the plan has workers that share those cores, each
    with the run's threads. With its idle threads sleeping (``bench/localcluster.py``), a
    worker's task takes about its CPU seconds, times what sharing the cores costs: measured
    beside the serial run where it was asked to (``sharing``), else taken as nothing."""
    return workers >= 1 and results["run"]["phases"]["prepare"]["workers"] == 0


def _cost(case: CaseRecord, one_core: bool = False, scale: float = 1.0) -> CaseCost:
    durations = case.durations_s
    prepare = sum(durations.get(stage, 0.0) for stage in PREPARE_STAGES)
    check = sum(v for k, v in durations.items() if k.startswith("check."))
    if one_core and CPU_PREPARE in durations:  # recorded by this suite since it kept them
        prepare, check = durations[CPU_PREPARE], durations.get(CPU_CHECK, check)
    return CaseCost(prepare * scale, check * scale, durations.get("time", 0.0))


def fixed_seconds(results: dict[str, Any]) -> float:
    """What the run spent outside its cases' work: its wall time less its prepare tasks as
    scheduled on its workers, every case's timing and its sharing probe. A case read from the
    prepared-case cache (``phases.prepare.from_cache``) was no task of this run: its durations
    are those of the run that prepared it, which are still what preparing it costs."""
    run, costs = results["run"], measured_costs(results)
    cached = set(run["phases"]["prepare"].get("from_cache", []))
    tasks = [cost for case_id, cost in costs.items() if case_id not in cached]
    slots = max(1, run["phases"]["prepare"]["workers"])
    explained = prepare_seconds(tasks, slots) + sum(c.time_s for c in costs.values())
    explained += run["phases"].get("sharing", {}).get("wall_s", 0.0)
    return max(0.0, run["wall_s"] - explained)


def estimate(
    cases: Sequence[Any], results: dict[str, Any], workers: int | None = None
) -> tuple[list[CaseCost], int]:
    """Each case's cost on ``workers`` slots: measured where the run has its id, else its
    method's median."""
    measured = measured_costs(results, workers)
    by_method: dict[str, list[CaseCost]] = {}
    for record in cases_of(results):
        by_method.setdefault(record.method, []).append(measured[record.id])
    everything = list(measured.values())
    found, estimated = [], 0
    for case in cases:
        if case.id in measured:
            found.append(measured[case.id])
            continue
        estimated += 1
        found.append(_median(by_method.get(case.method) or everything))
    return found, estimated


def _median(costs: list[CaseCost]) -> CaseCost:
    return CaseCost(
        statistics.median(c.prepare_s for c in costs),
        statistics.median(c.check_s for c in costs),
        statistics.median(c.time_s for c in costs),
    )


def slots_caveat(results: dict[str, Any], workers: int) -> str | None:
    """Why the plan may be off, where the recorded run prepared on other slots than it assumes:
    each slot is taken to run its tasks as fast as that run's did, but slots of one machine
    share its cores (a serial run's task has all of them, its threads included)."""
    run = results["run"]
    recorded = run["phases"]["prepare"]["workers"]
    if recorded == workers:
        return None
    threads = run.get("options", {}).get("threads")
    kept_cpu = all(CPU_PREPARE in case.durations_s for case in cases_of(results))
    if on_one_core(results, workers) and kept_cpu:
        serially = f"that run prepared serially (a case at a time, on {threads} compute threads)"
        if shared := sharing(results, workers):
            return (
                f"{serially}, then measured {workers} workers sharing its cores: this plan "
                f"takes each task on a worker at its CPU seconds x {shared['slowdown']:.2f}, "
                f"after {shared['start_s']:.0f} s to start the workers (phases.sharing)"
            )
        return (
            f"{serially}; this plan takes each task on a worker ({workers} per machine) at its "
            f"CPU seconds, as if sharing the cores cost nothing: record the serial run with "
            f"--measure-sharing {workers} to measure what it costs there"
        )
    how = (
        f"serially (a case at a time, on {threads} compute threads)"
        if recorded == 0
        else f"on {recorded} workers"
    )
    # a worker has fewer cores than a serial task
    speed = "slower" if recorded == 0 or workers > recorded else "faster"
    return (
        f"that run prepared {how}; this plan takes each of the {workers} workers to be as fast, "
        f"but on the cores that recorded it they would run {speed}: record a run with "
        f"--workers {workers} for a closer plan"
    )


def plan(cases: Sequence[Any], results: dict[str, Any], machines: int, workers: int) -> Plan:
    """The predicted makespan of ``cases`` on ``machines`` machines of ``workers`` prepare
    slots each, a shard on each, from the recorded run ``results``: the slowest shard's."""
    costs, estimated = estimate(cases, results, workers)
    shared = sharing(results, workers) if on_one_core(results, workers) else None
    start = shared["start_s"] if shared else 0.0  # a serial run's warm-up is in its fixed cost
    shards = [costs[index::machines] for index in range(machines)]
    phases = [(start + prepare_seconds(s, workers), sum(c.time_s for c in s)) for s in shards]
    prepare, timing = max(phases, key=sum)
    return Plan(len(costs), machines, workers, prepare, timing, fixed_seconds(results), estimated)
