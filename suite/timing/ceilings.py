"""The machine's ceilings, for a two-sided roofline: memory-copy bandwidth at the working-set sizes
the cases touch (from cache-resident to DRAM), and the peak float32 rate: the best of a GEMM and
a 3×3 convolution, each on torch and on onnxruntime (on this project's AMD machines
onnxruntime's convolutions ran 4% faster than torch's GEMM, and read 104% of a bound set by that
GEMM alone).

One copy of 2 × 128 MiB per run read 16.8 to 58 GB/s between runs on this project's 2-core
machines, and a case whose bytes sit in cache beat that "bound" by half. So every timing process
measures every ceiling (each a median over rounds), the run keeps their median and range over
its processes, and a case's roofline time is the larger of its bytes over the best bandwidth
seen at its own working-set size and its FLOPs over the best GEMM rate seen. A fraction over 1
then means the bound is wrong: it is left out, with why, as is a roofline drawn on a ceiling
that cannot be believed (``plausible.py``: measured again, set aside, or marked implausible).

Where a run times a GPU runtime on a machine with a GPU, each timing process measures the GPU's
ceilings the same way (device-to-device copies and a GEMM, timed by CUDA events), and a GPU
runtime's roofline is drawn against those (``for_device``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .plausible import COMPUTE_FIGURE, screen
from .probes import (  # noqa: F401  (the probes' names, read through this module too)
    COMPUTE,
    COPY_SIZES,
    CUDA,
    CUDA_COMPUTE,
    CUDA_COPY_SIZES,
    ceiling_names,
    clock_for,
    copy_name,
    device_of,
    rate,
    workload,
)


def summarise(
    per_process: list[dict[str, float]], remeasured: list[dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """The run's ceilings: per probe, the median over the timing processes, with the range;
    the GPU's, where they were measured, under ``cuda`` in the same form. A figure that cannot
    be believed (``plausible.py``) is set aside where another process measured it plausibly;
    where none did, its row says ``implausible`` and why. ``remeasured``: per process, what it
    measured again (``plausible.remeasure``), recorded with the device's ceilings."""
    if not per_process:
        return None
    screened = screen(per_process)
    summary = _summarise(per_process, "cpu", COPY_SIZES, COMPUTE, screened)
    if any(device_of(name) == CUDA for p in per_process for name in p):
        summary[CUDA] = _summarise(per_process, CUDA, CUDA_COPY_SIZES, CUDA_COMPUTE, screened)
    for index, probes in enumerate(remeasured or [], start=1):
        for probe, entry in probes.items():
            part = summary if device_of(probe) == "cpu" else summary.get(CUDA, {})
            part.setdefault("remeasured", []).append({"process": index, "probe": probe, **entry})
    return summary


def _summarise(
    per_process: list[dict[str, float]], device: str, sizes: tuple, compute: tuple, screened
) -> dict[str, Any]:
    aside, doubtful, set_aside = screened
    best = COMPUTE_FIGURE[device]  # each process's compute ceiling: its best probe's
    per_process = [
        {**p, best: max(p[c] for c in compute if c in p)} if set(compute) & set(p) else p
        for p in per_process
    ]
    copies = [copy_name(size, device) for size in sizes]
    names = [n for n in [*copies, *compute, best] if all(n in p for p in per_process)]
    table = {
        name: _row([p[name] for i, p in enumerate(per_process) if (i, name) not in aside])
        | ({"implausible": doubtful[name]} if name in doubtful else {})
        for name in names
    }
    summary = {
        "copy_gbs": {
            str(size): table[name]
            for size, name in zip(sizes, copies, strict=True)
            if name in table
        },
        "compute_gflops": table.get(best),
        "compute_by_probe": {name: table[name] for name in compute if name in table},
        "processes": len(per_process),
    }
    if mine := [entry for entry in set_aside if device_of(entry["figure"]) == device]:
        summary["set_aside"] = mine
    return summary


def _row(values: list[float]) -> dict[str, float]:
    return {
        "median": float(np.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def for_device(ceilings: dict[str, Any] | None, device: str) -> dict[str, Any] | None:
    """The ceilings that bound a runtime computing on ``device``: a GPU runtime's roofline is
    its GPU's, never the host's."""
    if not ceilings:
        return None
    return ceilings if device == "cpu" else ceilings.get(device)


def bandwidth_at(ceilings: dict[str, Any], working_set: int) -> float | None:
    """The best copy bandwidth the run's processes saw at a working set of this many bytes (a
    ceiling is what the machine can do): log-linear between the two probes around it, the
    nearest probe's beyond the ends."""
    probes = sorted((int(size), row["max"]) for size, row in ceilings["copy_gbs"].items())
    if not probes:
        return None
    sizes = np.log2([size for size, _ in probes])
    return float(np.interp(np.log2(max(working_set, 1)), sizes, [bw for _, bw in probes]))


def _untrusted(ceilings: dict[str, Any], bytes_moved: int, flops: int) -> str | None:
    """Why a ceiling the roofline would be drawn on cannot be believed (``plausible.py``): a
    copy probe ``bandwidth_at`` reads at this working set, or the compute ceiling."""
    rows = sorted((int(size), row) for size, row in ceilings["copy_gbs"].items())
    around = [r for r in rows if r[0] <= bytes_moved][-1:] + [
        r for r in rows if r[0] >= bytes_moved
    ][:1]
    used = [(copy_name(size), row) for size, row in around] if bytes_moved else []
    if flops:
        used.append(("the compute ceiling", ceilings.get("compute_gflops") or {}))
    for name, row in used:
        if why := row.get("implausible"):
            return f"{name} could not be believed ({why})"
    return None


def roofline(
    cost: dict[str, Any],
    median_s: float,
    ceilings: dict[str, Any] | None,
    precision: str = "fp32",
) -> dict:
    """Achieved rates and the two-sided roofline at a latency (the run's fastest session: the
    figure that holds between runs): the least time the case's bytes need at the bandwidth of
    its working set, or its FLOPs at the GEMM rate, whichever is larger, over that latency. The
    cost and the GEMM ceiling are float32's, so a reduced precision (fewer bytes, int8
    arithmetic) gets its achieved rates but no bound: int8 variants measured 111-163% of the
    float32 roofline. A bound drawn on a ceiling that could not be believed, or one the case
    beat (a fraction over 1: the ceiling was measured low), is no bound: the fraction is None
    and ``roofline_omitted`` says why."""
    bytes_moved, flops = cost["bytes"]["total"], cost["flops"]
    achieved = {
        "achieved_gbs": bytes_moved / median_s / 1e9,
        "achieved_gflops": flops / median_s / 1e9,
        "roofline_fraction": None,
        "roofline_bound": None,
    }
    if not ceilings or precision != "fp32":
        return achieved
    bandwidth = bandwidth_at(ceilings, bytes_moved)
    peak = (ceilings.get("compute_gflops") or {}).get("max")
    memory_s = bytes_moved / (bandwidth * 1e9) if bandwidth else 0.0
    compute_s = flops / (peak * 1e9) if peak else 0.0
    if not (memory_s or compute_s):
        return achieved
    fraction = max(memory_s, compute_s) / median_s
    bound = "memory" if memory_s >= compute_s else "compute"
    why = _untrusted(ceilings, bytes_moved, flops)
    if why is None and fraction > 1:
        why = (
            f"it ran at {fraction:.0%} of its {bound} bound: faster than the ceiling measured "
            "at its working set, so that ceiling is no bound here"
        )
    if why:
        return {**achieved, "roofline_omitted": why}
    return {**achieved, "roofline_fraction": fraction, "roofline_bound": bound}
