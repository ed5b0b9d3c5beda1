"""The probes behind the machine's ceilings (``ceilings.py``): which there are, each one's
workload (a copy of a given working set, a GEMM or a 3×3 convolution on torch and on
onnxruntime, and the GPU's copies and GEMM), the clock that times it, and the rate it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper

from ..cost import BYTES_PER_ELEMENT
from ..runtimes.base import Clock
from ..runtimes.clock import cuda_event_clock
from ..runtimes.ort import cpu_probe_session

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
