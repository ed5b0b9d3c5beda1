"""Whether a ceiling a timing process measured can be believed (``ceilings.py``).

A ceiling is what the machine can do. One measured while the machine was busy is far below it,
and a roofline drawn against it is no bound: a copy of 0.13 GB/s at 1 MiB, measured while other
processes ran, put a case at 4718% of its "roofline". So a timing process measures again each
probe whose figure breaks a rule below, after its other probes (``remeasure``), and keeps the
better rate; the run then sets aside a figure that stays implausible where another process
measured the same probe plausibly (``screen``), and where none did, marks the probe's row
``implausible`` with the reason: a roofline drawn on that row is left out with the reason
(``ceilings.roofline``), never recorded over 100%.

The figures judged are each copy probe and, per device, the compute ceiling (its best compute
probe's: a slow probe beside a fast one bounds nothing). A figure is implausible when it is

- below a floor (``FLOOR``) no machine this suite runs on falls under;
- a copy that took ``SLOWER_THAN_LARGER`` times as long as a copy of more bytes in the same
  process (non-monotone across working sets by an order of magnitude in bandwidth);
- ``BELOW_OTHERS`` times below the median of the same figure in the run's other processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import probes
from .policy import Timing, time_rounds
from .probes import COMPUTE, COPY_SIZES, CUDA, CUDA_COMPUTE, CUDA_COPY_SIZES, copy_name, device_of

#: No machine this suite runs on copies under 1 GB/s or computes under 1 GFLOP/s in float32:
#: a decade-old laptop's core copies at ~5 GB/s from DRAM and runs a GEMM at ~10 GFLOP/s; this
#: project's machines copied at 17-240 GB/s and computed at 110-400 GFLOP/s.
FLOOR = {"copy": 1.0, "compute": 1.0}
#: A copy of fewer bytes does less work, so it never takes much longer than a larger one: per-call
#: overhead makes the smallest copies take about as long as the next (2.1 µs for 64 KiB against
#: 4.4 µs for 256 KiB on this project's machines; a GPU's launch makes its 1 and 4 MiB copies
#: take about the same). Four times as long as a copy of 4× (or more) the bytes is 16× (or more)
#: below its bandwidth: the machine was busy with something else.
SLOWER_THAN_LARGER = 4.0
#: Between runs on this project's 2-core machines the 256 MiB copy read 16.8 to 58 GB/s (3.5×)
#: and a slow spell slows a process up to 2×; 10× below the other processes' median is no state
#: of the machine a ceiling describes.
BELOW_OTHERS = 10.0
#: A timing process measures a probe again at most this many times while it stays implausible.
REMEASURES = 2

#: bytes per copy, by copy probe
COPY_SIZE = {copy_name(s): s for s in COPY_SIZES} | {copy_name(s, CUDA): s for s in CUDA_COPY_SIZES}
#: the compute probes, and the name of the ceiling they make, per device
COMPUTE_PROBES = {"cpu": COMPUTE, CUDA: CUDA_COMPUTE}
COMPUTE_FIGURE = {"cpu": "compute", CUDA: f"{CUDA}-compute"}

Process = dict[str, float]


def figures(process: Process) -> dict[str, float]:
    """The figures the rules judge: each copy probe, and each device's compute ceiling."""
    found = {name: rate for name, rate in process.items() if name in COPY_SIZE}
    for device, names in COMPUTE_PROBES.items():
        if rates := [process[probe] for probe in names if probe in process]:
            found[COMPUTE_FIGURE[device]] = max(rates)
    return found


def implausible(process: Process, others: Sequence[Process] = ()) -> dict[str, str]:
    """Each figure of ``process`` that cannot be believed, with why; ``others`` are the run's
    other processes' measurements."""
    mine = figures(process)
    theirs = [figures(other) for other in others]
    found = {}
    for name, rate in mine.items():
        unit = "GB/s" if name in COPY_SIZE else "GFLOP/s"
        why = (
            _below_floor(name, rate, unit)
            or _slower_than_larger(name, mine)
            or _below_others(rate, unit, [figure[name] for figure in theirs if name in figure])
        )
        if why:
            found[name] = why
    return found


def _below_floor(name: str, rate: float, unit: str) -> str | None:
    floor = FLOOR["copy" if name in COPY_SIZE else "compute"]
    return f"{rate:.3g} {unit}, below the {floor:g} {unit} of any machine" if rate < floor else None


def _slower_than_larger(name: str, mine: dict[str, float]) -> str | None:
    if name not in COPY_SIZE:
        return None
    size = COPY_SIZE[name]
    took = size / mine[name]
    for other, rate in mine.items():
        larger = COPY_SIZE.get(other, 0)
        same = device_of(other) == device_of(name)
        if same and larger > size and took > SLOWER_THAN_LARGER * larger / rate:
            return (
                f"{mine[name]:.3g} GB/s: {name} took {took * rate / larger:.0f}× as long as "
                f"{other} ({rate:.3g} GB/s), and a copy of fewer bytes never takes longer"
            )
    return None


def _below_others(rate: float, unit: str, theirs: list[float]) -> str | None:
    if not theirs:
        return None
    median = float(np.median(theirs))
    if rate * BELOW_OTHERS >= median:
        return None
    return f"{rate:.3g} {unit}, {median / rate:.0f}× below the other processes' {median:.3g}"


def _probes_of(figure: str, process: Process) -> list[str]:
    if figure in COPY_SIZE:
        return [figure]
    device = next(d for d, name in COMPUTE_FIGURE.items() if name == figure)
    return [probe for probe in COMPUTE_PROBES[device] if probe in process]


def figure_of(probe: str) -> str:
    """The figure a probe makes: a copy its own, a compute probe its device's ceiling."""
    return probe if probe in COPY_SIZE else COMPUTE_FIGURE[device_of(probe)]


def remeasure(
    process: Process, others: Sequence[Process], measure: Callable[[str], float | None]
) -> dict[str, dict[str, Any]]:
    """A timing process, after its other probes: each probe behind an implausible figure
    measured again (``measure``: its rate, or None where it could not be), while it stays
    implausible and at most ``REMEASURES`` times, keeping the best rate in ``process`` (a
    ceiling is the best the machine did). Per probe measured again: every rate, why, and
    ``still``, the reason it stays implausible (or None)."""
    record: dict[str, dict[str, Any]] = {}
    for _ in range(REMEASURES):
        flagged = implausible(process, others)
        for figure, why in flagged.items():
            for probe in _probes_of(figure, process):
                entry = record.setdefault(probe, {"measured": [process[probe]], "why": why})
                if (again := measure(probe)) is not None:
                    entry["measured"].append(again)
                process[probe] = max(entry["measured"])
        if not flagged:
            break
    still = implausible(process, others)
    for probe, entry in record.items():
        entry["still"] = still.get(figure_of(probe))
    return record


def measure_again(name: str, threads: int, timing: Timing) -> float | None:
    """A probe's rate timed again over the rounds ``session.measure_ceiling`` takes (without
    pytest-benchmark: not a benchmark of its own); None where it could not be (the first
    figure stands)."""
    try:
        call, work = probes.workload(name, threads)
        return probes.rate(name, work, time_rounds(call, timing, probes.clock_for(name)))
    except Exception:
        return None


def screen(per_process: list[Process]) -> tuple[set[tuple[int, str]], dict[str, str], list]:
    """The run's process: each process's figures judged against the others'. Returns the
    (process index, figure) pairs set aside (implausible where another process measured the
    figure plausibly), the figures no process measured plausibly with the first one's reason,
    and what was set aside, as results.json records it."""
    judged = [
        implausible(p, per_process[:i] + per_process[i + 1 :]) for i, p in enumerate(per_process)
    ]
    aside: set[tuple[int, str]] = set()
    doubtful: dict[str, str] = {}
    record = []
    for name in sorted({name for p in per_process for name in figures(p)}):
        measured = [i for i, p in enumerate(per_process) if name in figures(p)]
        flagged = [i for i in measured if name in judged[i]]
        if flagged and len(flagged) == len(measured):
            doubtful[name] = judged[flagged[0]][name]
            continue
        for i in flagged:
            aside.add((i, name))
            value = figures(per_process[i])[name]
            record.append(
                {"process": i + 1, "figure": name, "value": value, "why": judged[i][name]}
            )
    return aside, doubtful, record
