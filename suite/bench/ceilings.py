"""The machine's ceilings, for a two-sided roofline: memory-copy bandwidth at the working-set sizes
the cases touch (from cache-resident to DRAM), and the peak float32 rate of a GEMM.

One copy of 2 × 128 MiB per run read 16.8 to 58 GB/s between runs on this project's 2-core
machines, and a case whose bytes sit in cache beat that "bound" by half. So every timing process
measures every ceiling (each a median over rounds), the run keeps their median and range over
its processes, and a case's roofline time is the larger of its bytes over the best bandwidth
seen at its own working-set size and its FLOPs over the best GEMM rate seen. A fraction over 1
then means the bound is wrong, and the run's summary says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..cost import BYTES_PER_ELEMENT

#: Bytes per copy (source + target), geometric from L1/L2-resident to far beyond any CPU's cache.
COPY_SIZES = tuple(2**k for k in range(16, 29, 2))  # 64 KiB ... 256 MiB
#: A square float32 GEMM of this order: 2·n³ FLOPs, large enough to run at the BLAS's peak.
GEMM_ORDER = 1024


def ceiling_names() -> list[str]:
    return [copy_name(size) for size in COPY_SIZES] + ["gemm"]


def copy_name(size: int) -> str:
    return f"copy-{size // 1024}KiB" if size < 2**20 else f"copy-{size // 2**20}MiB"


def workload(name: str, threads: int) -> tuple[Callable[[], Any], dict[str, Any]]:
    """The call to time for a ceiling, and what one call does (bytes moved or FLOPs)."""
    torch.set_num_threads(threads)
    if name == "gemm":
        a = torch.rand(GEMM_ORDER, GEMM_ORDER)
        b = torch.rand(GEMM_ORDER, GEMM_ORDER)
        out = torch.empty(GEMM_ORDER, GEMM_ORDER)
        return (lambda: torch.mm(a, b, out=out)), {"flops": 2 * GEMM_ORDER**3}
    size = next(s for s in COPY_SIZES if copy_name(s) == name)
    source = torch.ones(size // 2 // BYTES_PER_ELEMENT)
    target = torch.empty_like(source)
    return (lambda: target.copy_(source)), {"bytes": size}


def rate(name: str, work: dict[str, Any], median_s: float) -> float:
    """GB/s for a copy, GFLOP/s for the GEMM."""
    return (work.get("bytes") or work["flops"]) / median_s / 1e9


def summarise(per_process: list[dict[str, float]]) -> dict[str, Any] | None:
    """The run's ceilings: per probe, the median over the timing processes, with the range."""
    if not per_process:
        return None
    names = [n for n in ceiling_names() if all(n in p for p in per_process)]
    table = {
        name: {
            "median": float(np.median([p[name] for p in per_process])),
            "min": float(min(p[name] for p in per_process)),
            "max": float(max(p[name] for p in per_process)),
        }
        for name in names
    }
    return {
        "copy_gbs": {
            str(size): table[copy_name(size)] for size in COPY_SIZES if copy_name(size) in table
        },
        "gemm_gflops": table.get("gemm"),
        "processes": len(per_process),
    }


def bandwidth_at(ceilings: dict[str, Any], working_set: int) -> float | None:
    """The best copy bandwidth the run's processes saw at a working set of this many bytes (a
    ceiling is what the machine can do): log-linear between the two probes around it, the
    nearest probe's beyond the ends."""
    probes = sorted((int(size), row["max"]) for size, row in ceilings["copy_gbs"].items())
    if not probes:
        return None
    sizes = np.log2([size for size, _ in probes])
    return float(np.interp(np.log2(max(working_set, 1)), sizes, [bw for _, bw in probes]))


def roofline(cost: dict[str, Any], median_s: float, ceilings: dict[str, Any] | None) -> dict:
    """Achieved rates and the two-sided roofline at a latency (the run's fastest session: the
    figure that holds between runs): the least time the case's bytes need at the bandwidth of
    its working set, or its FLOPs at the GEMM rate, whichever is larger, over that latency. At
    most 1 where the bound is right."""
    bytes_moved, flops = cost["bytes"]["total"], cost["flops"]
    achieved = {
        "achieved_gbs": bytes_moved / median_s / 1e9,
        "achieved_gflops": flops / median_s / 1e9,
        "roofline_fraction": None,
        "roofline_bound": None,
    }
    if not ceilings:
        return achieved
    bandwidth = bandwidth_at(ceilings, bytes_moved)
    peak = (ceilings.get("gemm_gflops") or {}).get("max")
    memory_s = bytes_moved / (bandwidth * 1e9) if bandwidth else 0.0
    compute_s = flops / (peak * 1e9) if peak else 0.0
    if memory_s or compute_s:
        achieved["roofline_fraction"] = max(memory_s, compute_s) / median_s
        achieved["roofline_bound"] = "memory" if memory_s >= compute_s else "compute"
    return achieved
