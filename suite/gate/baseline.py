"""Baseline files: the gated figures of several runs, with the machine class, timing and versions
they came from.

Deterministic figures must agree between the runs. Latency is kept per run (the unit the gate's
test replicates, ``latency.py``): per case and runtime, each run's figure and its session medians,
for two series: each round over the yardstick case's time around it on the same runtime (the
default: a slow spell of the machine slows both), and the rounds as measured.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np

from ..analysis.registry import gated_breakdowns, gated_figures
from ..atomic import write_json_atomic
from ..errors import UsageError
from ..machines import machine_class as class_of
from ..records import CaseRecord, cases_of, gated_runtimes
from .latency import MIN_RUNS, runtime_figures

BASELINE_VERSION = 2
BASELINES_DIR = Path("results/baselines")
#: What must match between the runs of a baseline, and between a baseline and a run, for their
#: latencies to be compared: the same timing makes run figures draws of the same distribution.
TIMING_KEYS = ("rounds", "sessions", "processes", "min_round_s", "warmup_rounds")


@cache
def schema() -> dict[str, Any]:
    return json.loads(files("suite").joinpath("schema/baseline.schema.json").read_text())


def machine_class(run: dict[str, Any]) -> str:
    """The machine class of a run's timer (``machines.machine_class``): a baseline's."""
    return class_of(run["machine"])


def latency_classes(results: dict[str, Any], every: bool = True) -> set[str]:
    """The machine classes a run's latencies were timed on (several for merged shards timed on
    different machines, or a cluster's other timer classes, unless not ``every``)."""
    return {
        latency["machine_class"]
        for case in cases_of(results)
        for result in case.runtimes.values()
        for latency in _latencies(result, every)
    }


def _latencies(result, every: bool = True) -> list[dict[str, Any]]:
    """The runtime's latency, then (``every``) those of the cluster's other timer classes."""
    own = [result.latency] if result.latency else []
    return own + (list((result.latency_by_class or {}).values()) if every else [])


def latency_on(result, klass: str | None) -> dict[str, Any] | None:
    """The runtime's latency timed on ``klass`` where the run has one, else its own."""
    for latency in _latencies(result):
        if latency["machine_class"] == klass:
            return latency
    return result.latency


def timing_of(name: str, run: dict[str, Any]) -> dict[str, Any]:
    """How the run timed; a run whose timing was cut short cannot be gated or be a baseline.
    An adaptive run (the choose policy) may stop before its last process: its ``policy`` is
    kept, so that the gate never takes it for a run timed under the gate's own."""
    timing = run.get("timing")
    if not timing:
        raise UsageError(f"{name}: the run records no timing processes (made by an older suite)")
    if timing["processes_done"] == 0 and not timing.get("cut_short"):
        raise UsageError(f"{name}: the run timed nothing (no timed runtime ran a case)")
    adaptive = timing.get("min_processes") is not None
    finished = timing["processes_done"] == timing["processes"] or adaptive
    if timing.get("cut_short") or not finished:
        why = timing.get("cut_short") or (
            f"{timing['processes_done']} of {timing['processes']} timing processes finished"
        )
        raise UsageError(f"{name}: the run's timing was cut short ({why}): time it again")
    kept = {key: timing[key] for key in TIMING_KEYS}
    return kept | ({"policy": timing["name"]} if adaptive else {})


def figures(case: CaseRecord, gated: list[str], klass: str | None = None) -> dict[str, Any]:
    """The gated figures of one case of a results.json; latency on the ``gated`` runtimes
    (``records.gated_runtimes`` of its run: what each runtime's registry entry declares), the
    one timed on ``klass`` (a baseline's class) where the run timed on several."""
    onnx, gate = case.onnx or {}, case.keys.get("gate") or {}
    return {
        "status": case.status,
        "output_shape": case.keys["output_shape"],
        "onnx_ops": onnx.get("ops"),
        "onnx_numerics": onnx.get("numerics"),
        "parity": {
            name: r.max_rel_err for name, r in case.runtimes.items() if r.max_rel_err is not None
        },
        "metrics": gated_figures(case.metrics),
        **gated_breakdowns(case.metrics),
        "verdict": case.verdict,
        "latency": {
            name: {**runtime_figures(latency), "machine_class": latency["machine_class"]}
            for name, r in case.runtimes.items()
            if name in gated and (latency := latency_on(r, klass))
        },
        "min_effect": gate.get("min_effect"),
        "min_effect_reason": gate.get("reason"),
    }


def from_runs(runs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A baseline from runs of the same cases, on one machine class, timed the same way:
    deterministic figures must agree (else the code is not deterministic, and that is an
    error); each case's latency keeps one figure per run."""
    if len(runs) < MIN_RUNS:
        raise UsageError(
            f"{len(runs)} run{'s' if len(runs) != 1 else ''} given: the latency test's unit is "
            f"the run, and it needs at least {MIN_RUNS} (5 or more make it sharper)"
        )
    (first_name, first), *others = runs
    baseline = from_run(first_name, first)
    for name, results in others:
        other = from_run(name, results)
        _check_poolable(baseline, first_name, other, name)
        for case, figs in other["cases"].items():
            _pool_case(baseline["cases"][case], first_name, figs, f"{name}: case {case!r}")
        baseline["ceilings"] += other["ceilings"]
    for figs in baseline["cases"].values():
        for latency in figs["latency"].values():  # the typical run's, as measured
            latency["median_s"] = float(np.median(latency["runs"]["rounds_s"]))
    baseline["source_run"] = "+".join(name for name, _ in runs)
    baseline["runs"] = len(runs)
    return baseline


def _check_poolable(baseline: dict, first_name: str, other: dict, name: str) -> None:
    if other["machine_class"] != baseline["machine_class"]:
        raise UsageError(
            f"{name}: ran on {other['machine_class']}, {first_name} on "
            f"{baseline['machine_class']}: latencies of two machine classes cannot be pooled"
        )
    if other["timing"] != baseline["timing"]:
        raise UsageError(
            f"{name}: timed as {describe_timing(other['timing'])}, {first_name} as "
            f"{describe_timing(baseline['timing'])}: run figures of two timings differ in "
            "spread and cannot be pooled"
        )
    if set(other["cases"]) != set(baseline["cases"]):
        raise UsageError(f"{name}: holds other cases than {first_name}")


def _pool_case(mine: dict, first_name: str, figs: dict, where: str) -> None:
    """Check that the deterministic figures agree; add the run's latency series to ``mine``."""
    for key in ("status", "output_shape", "onnx_ops", "onnx_numerics", "metrics"):
        if figs[key] != mine[key]:
            raise UsageError(
                f"{where}: {key} differs from {first_name} "
                f"({mine[key]} vs {figs[key]}): the run is not deterministic"
            )
    if set(figs["latency"]) != set(mine["latency"]):
        raise UsageError(
            f"{where}: timed on {sorted(figs['latency'])}, "
            f"{first_name} on {sorted(mine['latency'])}"
        )
    for runtime, latency in figs["latency"].items():
        pooled = mine["latency"][runtime]
        for part in ("runs", "sessions"):
            for series in list(pooled[part]):
                if series in latency[part]:
                    pooled[part][series] += latency[part][series]
                else:  # a series one of the runs lacks is kept from none of them
                    del pooled[part][series]


def describe_timing(timing: dict[str, Any]) -> str:
    most = "up to " if timing.get("policy") else ""
    return (
        f"{most}{timing['processes']} processes × {timing['sessions']} sessions × "
        f"{timing['rounds']} rounds of {timing['min_round_s'] * 1e3:g} ms"
        + (f" ({timing['policy']} policy)" if timing.get("policy") else "")
    )


def from_run(name: str, results: dict[str, Any]) -> dict[str, Any]:
    run = results["run"]
    # a cluster's other timer classes are not the run's own: the baseline is of its own class
    classes = latency_classes(results, every=False) or {machine_class(run)}
    if len(classes) > 1:
        raise UsageError(
            f"{name}: its latencies were timed on {len(classes)} machine classes "
            f"({'; '.join(sorted(classes))}): a baseline is of one"
        )
    return {
        "baseline_version": BASELINE_VERSION,
        "created": datetime.now(UTC).isoformat(),
        "source_run": run["id"],
        "runs": 1,
        "git": run["git"],
        "machine_class": classes.pop(),
        "machine": run["machine"],
        "versions": run["versions"],
        "timing": timing_of(name, run),
        "ceilings": [run.get("ceilings")],
        "cases": {
            case.id: _one_class(figures(case, gated_runtimes(run))) for case in cases_of(results)
        },
    }


def _one_class(figs: dict[str, Any]) -> dict[str, Any]:
    """A case's figures as a baseline keeps them: its one machine class is the baseline's."""
    for latency in figs["latency"].values():
        latency.pop("machine_class", None)
    return figs


def write_baseline(path: Path, baseline: dict[str, Any]) -> None:
    jsonschema.validate(baseline, schema())
    write_json_atomic(path, baseline)


def load_baseline(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such baseline file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON (truncated?): {exc}") from None
    version = data.get("baseline_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > BASELINE_VERSION:
        raise UsageError(
            f"{path}: baseline_version {version} is newer than this suite reads "
            f"({BASELINE_VERSION}); upgrade upsampling-bench"
        )
    if isinstance(version, int) and version < BASELINE_VERSION:
        raise UsageError(
            f"{path}: baseline_version {version} pooled rounds, which are not independent; "
            f"make a new one from {MIN_RUNS}+ runs (python -m suite baseline RUN RUN RUN ...)"
        )
    runs = data.get("runs") if isinstance(data, dict) else None
    if isinstance(runs, int) and runs < MIN_RUNS:
        raise UsageError(
            f"{path}: made from {runs} run{'s' if runs != 1 else ''}; the latency test's unit "
            f"is the run and it needs at least {MIN_RUNS}"
        )
    try:
        jsonschema.validate(data, schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise UsageError(f"{path}: not a valid baseline at {where}: {exc.message}") from None
    return data
