"""What N prepare workers sharing this machine's cores cost, measured beside a serial run
(``run --workers 0 --measure-sharing N``): what the planner needs and a serial run cannot show.

A serial run's task has every core, with the run's threads. N workers' tasks share the cores,
each with the run's threads, so a task waits for a core while the others' threads run, and how
long moves with the machine. So, right after the serial run, a sample of its cases is prepared
again on N LocalCluster workers at once, into a throw-away cache:

- ``start_s``: starting the cluster and warming up each worker (``cluster.warm_up``), which a
  run on N workers pays before its cases;
- ``slowdown``: the sample's tasks' wall seconds while every worker was busy, over those tasks'
  own CPU seconds. ``plan.py`` takes a task on a worker to last its serial CPU seconds times
  this.

Not over the serial run's CPU seconds: what a case costs there depends on what its process
had already done (an export another case made, a probe battery memoised), so a fresh worker
does more: measured, one case took 0.28 CPU seconds in the serial run and 2.9 on a worker, and
that ratio over the sample read 0.09 to 0.27 above what the two-worker runs showed. For the
same reason the probe cannot tell whether sharing also costs CPU seconds (caches, a sibling
hyperthread's other tenant); the plan takes it as nothing, and the serial run's
``serial_cpu_s`` of the sample is kept beside the probe's ``busy_cpu_s`` for whoever compares.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import first_line
from .cluster import PrepareOutcome, prepare_task, warm_up
from .localcluster import local_cluster
from .phases import Run
from .pipeline import CPU_CHECK, CPU_PREPARE, Settings

#: cases prepared again: on the default cases, repeats of the sample's sum agreed within 3 %
SAMPLE_CASES = 14


def serial_cpu_s(run: Run) -> dict[str, float]:
    """Each case the run prepared without an error (or read from the cache): the CPU seconds
    of its stages and checks, as recorded."""
    book = run.book
    return {
        case_id: case_cpu_s(work.durations_s, book.check_s[case_id])
        for case_id, work in book.work.items()
        if work.error is None and CPU_PREPARE in work.durations_s
    }


def sample(cpu_s: dict[str, float], count: int = SAMPLE_CASES) -> list[str]:
    """``count`` case ids spread evenly over the cases ordered by CPU seconds, the lightest and
    the heaviest included: the sample weighs the run's stages as the run does."""
    ordered = sorted(cpu_s, key=lambda case_id: (cpu_s[case_id], case_id))
    if len(ordered) <= count:
        return ordered
    picks = (round(i * (len(ordered) - 1) / (count - 1)) for i in range(count))
    return [ordered[i] for i in dict.fromkeys(picks)]


def measure_sharing(run: Run, workers: int) -> dict[str, Any]:
    """``phases.sharing`` of results.json: the sample prepared on ``workers`` workers at once.
    A probe that fails is recorded as such (errors.log has the traceback); the run goes on."""
    began, cpu_s = time.perf_counter(), serial_cpu_s(run)
    found: dict[str, Any] = {"workers": workers}
    ids = sample(cpu_s)
    if not ids:
        found["skipped"] = "no case was prepared without an error"
    else:
        run.progress.phase(
            "sharing", len(ids), f"{len(ids)} cases again on {workers} workers at once"
        )
        try:
            found |= _probe(run, [run.book.by_id[i] for i in ids], workers, cpu_s)
        except Exception as exc:  # a probe is a measurement for the planner, never the run's
            run.book.log.append(f"== the sharing probe (--measure-sharing {workers})\n{exc!r}\n")
            found["skipped"] = f"failed: {first_line(exc)} (errors.log has the rest)"
    return found | {"wall_s": time.perf_counter() - began}


def _probe(run: Run, cases: list, workers: int, cpu_s: dict[str, float]) -> dict[str, Any]:
    from distributed import Client, as_completed

    began, runtimes = time.perf_counter(), run.book.runtimes
    with tempfile.TemporaryDirectory(prefix="upsampling-bench-sharing-") as cache:
        settings = replace(run.spec.options.settings(), cache_dir=Path(cache))
        with local_cluster(workers) as local, Client(local) as client:
            client.run(_warm_up_worker, settings)
            start_s = time.perf_counter() - began
            futures = {
                client.submit(prepare_task, case, settings, runtimes, pure=False): case.id
                for case in cases
            }
            outcomes: list[tuple[str, PrepareOutcome]] = []
            for future, outcome in as_completed(futures, with_results=True):
                outcomes.append((futures[future], outcome))
                run.progress.advance()
    busy = all_busy(outcomes, workers)
    wall = sum(outcome.ended - outcome.began for _, outcome in busy)
    cpu = sum(case_cpu_s(o.work.durations_s, o.checked.seconds) for _, o in busy)
    return {
        "cases": [case.id for case in cases],
        "start_s": start_s,
        "busy_tasks": len(busy),
        "busy_wall_s": wall,
        "busy_cpu_s": cpu,
        "serial_cpu_s": sum(cpu_s[case_id] for case_id, _ in busy),
        "slowdown": wall / cpu if cpu > 0 else None,
    }


def case_cpu_s(prepared: dict[str, float], checked: dict[str, float]) -> float:
    """A case's CPU seconds where it was prepared: its stages' and its checks'."""
    return prepared[CPU_PREPARE] + checked.get(CPU_CHECK, 0.0)


def _warm_up_worker(settings: Settings) -> None:
    """On each worker: its first export, analysis and imports, before any task is timed."""
    import torch

    torch.set_num_threads(settings.threads)
    warm_up(settings)


def all_busy(
    outcomes: list[tuple[str, PrepareOutcome]], workers: int
) -> list[tuple[str, PrepareOutcome]]:
    """The tasks that ended before any worker ran out of work: every one of them shared the
    cores with ``workers`` - 1 others for all of its time. Fewer workers than asked for (one
    lost) count as none busy."""
    last_end: dict[str, float] = {}
    for _, outcome in outcomes:
        last_end[outcome.worker] = max(last_end.get(outcome.worker, 0.0), outcome.ended)
    if len(last_end) < workers:
        return []
    first_idle = min(last_end.values())
    return [(case_id, o) for case_id, o in outcomes if o.ended <= first_idle]
