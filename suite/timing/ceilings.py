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

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from ..cost import BYTES_PER_ELEMENT
from ..runtimes.base import Clock
from ..runtimes.clock import cuda_event_clock

#: Bytes per copy (source + target), geometric from L1/L2-resident to far beyond any CPU's cache.
COPY_SIZES = tuple(2**k for k in range(16, 29, 2))  # 64 KiB ... 256 MiB
#: A square float32 GEMM of this order: 2·n³ FLOPs, large enough to run at the BLAS's peak.
GEMM_ORDER = 1024

#: the ONNX IR version of the GEMM and convolution probes' models (opset 17's)
IR_VERSION = 8


#: A 3×3 convolution, C → C channels on an S × S image: the kernel most cases spend their time in.
CONV_CHANNELS, CONV_SIZE = 64, 96
#: The compute probes; a process's compute ceiling is the best of them.
COMPUTE = ("gemm-torch", "gemm-ort", "conv-torch", "conv-ort")


#: The GPU's ceilings, measured where a run times a CUDA runtime on a machine that has one:
#: device-to-device copies from L2-resident to far beyond any GPU's L2 (50 MiB on an H200), and
#: a float32 GEMM (TF32 stays off, torch's default for matmul) large enough to fill the device.
CUDA = "cuda"
CUDA_COPY_SIZES = tuple(2**k for k in range(20, 31, 2))  # 1 MiB ... 1 GiB
CUDA_GEMM_ORDER = 8192
CUDA_COMPUTE = ("cuda-gemm",)


def ceiling_names(devices: Iterable[str] = ("cpu",)) -> list[str]:
    """The probes a timing process measures: the CPU's always (the yardstick and the host side
    of every runtime run there), the GPU's where a timed runtime computes on one."""
    names = [copy_name(size) for size in COPY_SIZES] + list(COMPUTE)
    if CUDA in devices and torch.cuda.is_available():
        names += [copy_name(size, CUDA) for size in CUDA_COPY_SIZES] + list(CUDA_COMPUTE)
    return names


def copy_name(size: int, device: str = "cpu") -> str:
    name = f"copy-{size // 1024}KiB" if size < 2**20 else f"copy-{size // 2**20}MiB"
    return name if device == "cpu" else f"{device}-{name}"


def device_of(name: str) -> str:
    return CUDA if name.startswith(f"{CUDA}-") else "cpu"


def clock_for(name: str) -> Clock | None:
    """A GPU probe is timed by CUDA events, like the GPU runtimes it bounds."""
    return cuda_event_clock() if device_of(name) == CUDA else None


def workload(name: str, threads: int) -> tuple[Callable[[], Any], dict[str, Any]]:
    """The call to time for a ceiling, and what one call does (bytes moved or FLOPs)."""
    torch.set_num_threads(threads)
    if device_of(name) == CUDA:
        return _cuda_workload(name)
    gemm_flops = 2 * GEMM_ORDER**3
    conv_flops = 2 * CONV_CHANNELS**2 * 9 * CONV_SIZE**2
    if name == "gemm-torch":
        a = torch.rand(GEMM_ORDER, GEMM_ORDER)
        b = torch.rand(GEMM_ORDER, GEMM_ORDER)
        out = torch.empty(GEMM_ORDER, GEMM_ORDER)
        return (lambda: torch.mm(a, b, out=out)), {"flops": gemm_flops}
    if name == "conv-torch":
        x = torch.rand(1, CONV_CHANNELS, CONV_SIZE, CONV_SIZE)
        w = torch.rand(CONV_CHANNELS, CONV_CHANNELS, 3, 3)

        def conv() -> None:
            with torch.no_grad():
                torch.nn.functional.conv2d(x, w, padding=1)

        return conv, {"flops": conv_flops}
    if name == "gemm-ort":
        return _ort_probe(threads, "MatMul"), {"flops": gemm_flops}
    if name == "conv-ort":
        return _ort_probe(threads, "Conv"), {"flops": conv_flops}
    size = next(s for s in COPY_SIZES if copy_name(s) == name)
    source = torch.ones(size // 2 // BYTES_PER_ELEMENT)
    target = torch.empty_like(source)
    return (lambda: target.copy_(source)), {"bytes": size}


def _cuda_workload(name: str) -> tuple[Callable[[], Any], dict[str, Any]]:
    """On the current CUDA device and stream (the one ``CudaEventClock`` records on)."""
    if name == "cuda-gemm":
        order = CUDA_GEMM_ORDER
        a, b = (torch.rand(order, order, device=CUDA) for _ in range(2))
        out = torch.empty(order, order, device=CUDA)
        return (lambda: torch.mm(a, b, out=out)), {"flops": 2 * order**3}
    size = next(s for s in CUDA_COPY_SIZES if copy_name(s, CUDA) == name)
    source = torch.ones(size // 2 // BYTES_PER_ELEMENT, device=CUDA)
    target = torch.empty_like(source)
    return (lambda: target.copy_(source)), {"bytes": size}


def _ort_probe(threads: int, op: str) -> Callable[[], Any]:
    """A MatMul or a 3×3 Conv in onnxruntime, with the session options its CPU runtime uses."""
    from onnx import TensorProto, helper, numpy_helper

    from ..runtimes.ort import cpu_probe_session

    rng = np.random.default_rng(0)
    if op == "MatMul":
        shapes = {"a": [GEMM_ORDER, GEMM_ORDER], "b": [GEMM_ORDER, GEMM_ORDER]}
        node = helper.make_node("MatMul", ["a", "b"], ["y"])
        weights = []
    else:
        shapes = {"a": [1, CONV_CHANNELS, CONV_SIZE, CONV_SIZE]}
        node = helper.make_node("Conv", ["a", "w"], ["y"], pads=[1, 1, 1, 1])
        kernel = rng.random((CONV_CHANNELS, CONV_CHANNELS, 3, 3), dtype=np.float32)
        weights = [numpy_helper.from_array(kernel, "w")]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in shapes.items()]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([node], op, inputs, [output], initializer=weights)
    # IR 8 is what opset 17 needs: onnx writes its newest IR by default (14 for onnx 1.23), which
    # onnxruntime-gpu 1.31 refuses ("max supported IR version: 13"), seen in tox -e bench-gpu.
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=IR_VERSION
    )
    session = cpu_probe_session(model.SerializeToString(), threads)
    feeds = {n: rng.random(s, dtype=np.float32) for n, s in shapes.items()}
    return lambda: session.run(None, feeds)


def rate(name: str, work: dict[str, Any], median_s: float) -> float:
    """GB/s for a copy, GFLOP/s for the GEMM."""
    return (work.get("bytes") or work["flops"]) / median_s / 1e9


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
    from .plausible import screen  # a circle: it reads our probes; left to the bench's rework

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
    from .plausible import COMPUTE_FIGURE  # a circle (it reads the probes): see screen above

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
