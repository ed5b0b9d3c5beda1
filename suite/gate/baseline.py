"""Baseline files: the gated figures of a run, with the machine class and versions they came from.

Latency is stored three ways, and the gate's check table says which it compares: the rounds as
measured; each round over the yardstick case's time around it on the same runtime (the default:
a slow spell of the machine slows both); each round over the time the run's measured memory copy
takes for the case's bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from ..analysis.registry import gated_figures
from ..errors import UsageError
from ..results import write_json_atomic

BASELINE_VERSION = 1
BASELINES_DIR = Path("results/baselines")
#: Runtimes whose latency is gated (the rest are reported in results.json only).
GATED_RUNTIMES = ("torch-cpu", "ort-cpu", "torch-cuda", "ort-cuda", "ort-tensorrt")


@cache
def schema() -> dict[str, Any]:
    return json.loads(files("suite").joinpath("schema/baseline.schema.json").read_text())


def machine_class(run: dict[str, Any]) -> str:
    """What makes latencies comparable: CPU model (with family, model and stepping where known),
    usable cores, threads, architecture."""
    machine = run["machine"]
    cores = machine.get("usable_cores", machine["cores"])
    arch = machine.get("arch", "?")
    cpu = machine["cpu"] + (f" ({machine['cpu_id']})" if machine.get("cpu_id") else "")
    return f"{cpu} | {cores} cores | {machine['threads']} threads | {arch}"


def _latency(case: dict[str, Any], runtime: dict[str, Any], copy_gbs: float | None):
    """The rounds as measured, over the yardstick's time around each, and over the time the
    run's measured memory copy takes for the case's bytes."""
    latency = runtime.get("latency")
    if not latency:
        return None
    if not copy_gbs or not case.get("cost"):
        return None
    calibration_s = case["cost"]["bytes"]["total"] / (copy_gbs * 1e9)
    rounds = list(latency["data_s"])
    figures = {
        "median_s": latency["median_s"],
        "calibration_s": calibration_s,
        "rounds_s": rounds,
        "normalised": [t / calibration_s for t in rounds],
        "passes": latency.get("passes", 1),
    }
    if len(latency.get("yardstick_s") or []) == len(rounds):
        figures["relative"] = [t / y for t, y in zip(rounds, latency["yardstick_s"], strict=True)]
    return figures


def figures(case: dict[str, Any], copy_gbs: float | None) -> dict[str, Any]:
    """The gated figures of one case of a results.json."""
    metrics = case.get("metrics") or {}
    runtimes = case["runtimes"]
    return {
        "status": case["status"],
        "output_shape": case["output_shape"],
        "onnx_ops": (case.get("onnx") or {}).get("ops"),
        "onnx_numerics": (case.get("onnx") or {}).get("numerics"),
        "parity": {
            name: r["max_rel_err"]
            for name, r in runtimes.items()
            if r.get("max_rel_err") is not None
        },
        "metrics": gated_figures(metrics),
        "checkerboard_families": metrics.get("checkerboard_families"),
        "verdict": (metrics.get("verdict") or {}).get("verdict"),
        "latency": {
            name: lat
            for name, r in runtimes.items()
            if name in GATED_RUNTIMES and (lat := _latency(case, r, copy_gbs))
        },
        "min_effect": (case.get("gate") or {}).get("min_effect"),
        "min_effect_reason": (case.get("gate") or {}).get("reason"),
    }


def from_runs(runs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A baseline from one or more runs of the same cases: deterministic figures must agree
    (else the code is not deterministic, and that is an error); latency rounds are pooled, so one
    unlucky run cannot set the bar."""
    (first_name, first), *others = runs
    baseline = from_run(first)
    for name, results in others:
        other = from_run(results)
        if other["machine_class"] != baseline["machine_class"]:
            raise UsageError(
                f"{name}: ran on {other['machine_class']}, {first_name} on "
                f"{baseline['machine_class']}: latencies of two machine classes cannot be pooled"
            )
        if set(other["cases"]) != set(baseline["cases"]):
            raise UsageError(f"{name}: holds other cases than {first_name}")
        for case, figs in other["cases"].items():
            mine = baseline["cases"][case]
            for key in ("status", "output_shape", "onnx_ops", "onnx_numerics", "metrics"):
                if figs[key] != mine[key]:
                    raise UsageError(
                        f"{name}: case {case!r}: {key} differs from {first_name} "
                        f"({mine[key]} vs {figs[key]}): the run is not deterministic"
                    )
            for runtime, latency in figs["latency"].items():
                pooled = mine["latency"].get(runtime)
                if pooled is None:
                    continue
                for series in ("rounds_s", "normalised", "relative"):
                    if series in pooled and series in latency:
                        pooled[series] += latency[series]
                    else:  # a series one of the runs lacks is pooled from none of them
                        pooled.pop(series, None)
    baseline["source_run"] = "+".join(name for name, _ in runs)
    return baseline


def from_run(results: dict[str, Any]) -> dict[str, Any]:
    run = results["run"]
    copy_gbs = run["copy_bandwidth"]["gbs"]
    return {
        "baseline_version": BASELINE_VERSION,
        "created": datetime.now(UTC).isoformat(),
        "source_run": run["id"],
        "git": run["git"],
        "machine_class": machine_class(run),
        "machine": run["machine"],
        "versions": run["versions"],
        "copy_bandwidth_gbs": copy_gbs,
        "cases": {case["id"]: figures(case, copy_gbs) for case in results["cases"]},
    }


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
    try:
        jsonschema.validate(data, schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise UsageError(f"{path}: not a valid baseline at {where}: {exc.message}") from None
    return data
