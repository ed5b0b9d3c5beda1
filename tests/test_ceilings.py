"""The machine's ceilings and the two-sided roofline (suite/bench/ceilings.py), and the injected
slowdown the gate's catch rates are measured with (suite/bench/session.py ``slowed``)."""

from __future__ import annotations

import pytest
import torch

from suite.bench.ceilings import (
    COPY_SIZES,
    CUDA_COPY_SIZES,
    bandwidth_at,
    ceiling_names,
    clock_for,
    copy_name,
    device_of,
    for_device,
    roofline,
    summarise,
)
from suite.bench.timing import slowed

# A machine whose copies run at 100 GB/s in cache (up to 4 MiB) and 25 GB/s beyond.
PROCESS = {
    **{copy_name(size): (100.0 if size <= 2**22 else 25.0) for size in COPY_SIZES},
    "gemm-torch": 190.0,
    "conv-ort": 200.0,
}


def test_the_run_keeps_each_ceilings_median_and_range_over_its_processes():
    slower = {name: rate / 2 for name, rate in PROCESS.items()}
    ceilings = summarise([PROCESS, PROCESS, slower])
    assert ceilings["processes"] == 3
    # each process's compute ceiling is its best probe's
    assert ceilings["compute_gflops"] == {"median": 200.0, "min": 100.0, "max": 200.0}
    assert ceilings["compute_by_probe"]["gemm-torch"]["max"] == 190.0
    assert ceilings["copy_gbs"][str(2**16)] == {"median": 100.0, "min": 50.0, "max": 100.0}
    assert summarise([]) is None


def test_bandwidth_is_read_at_the_working_set_size():
    ceilings = summarise([PROCESS])
    assert bandwidth_at(ceilings, 2**20) == pytest.approx(100.0)  # a probe's own size
    assert bandwidth_at(ceilings, 2**28) == pytest.approx(25.0)
    # between 4 MiB (100) and 16 MiB (25): halfway on a log scale
    assert bandwidth_at(ceilings, 2**23) == pytest.approx(62.5)
    assert bandwidth_at(ceilings, 10) == pytest.approx(100.0)  # below the smallest probe
    assert bandwidth_at(ceilings, 2**34) == pytest.approx(25.0)  # beyond the largest


def test_the_roofline_takes_the_slower_of_memory_and_compute():
    ceilings = summarise([PROCESS])
    # 1 MiB in cache at 100 GB/s: 10.5 µs; 1 GFLOP at 200 GFLOP/s: 5 ms -> compute-bound.
    cost = {"bytes": {"total": 2**20}, "flops": 10**9}
    figures = roofline(cost, 10e-3, ceilings)
    assert figures["roofline_bound"] == "compute"
    assert figures["roofline_fraction"] == pytest.approx(0.5)
    # No FLOPs (nearest): memory-bound, at the cache's bandwidth, not DRAM's.
    figures = roofline({"bytes": {"total": 2**20}, "flops": 0}, 2**20 / 100e9 * 4, ceilings)
    assert figures["roofline_bound"] == "memory"
    assert figures["roofline_fraction"] == pytest.approx(0.25)
    assert roofline(cost, 1e-3, None)["roofline_fraction"] is None
    # the cost and the GEMM ceiling are float32's: a reduced precision has no bound from them
    int8 = roofline(cost, 10e-3, ceilings, "int8")
    assert int8["roofline_fraction"] is None and int8["achieved_gflops"] == pytest.approx(100)


@pytest.mark.parametrize("factor", [1.0, 1.5, 3.0, 2.25])
def test_an_injected_slowdown_makes_exactly_factor_calls_per_call(factor):
    calls = []
    step = slowed(lambda: calls.append(1), factor)
    for _ in range(400):
        step()
    assert len(calls) == pytest.approx(400 * factor, abs=1)


def test_the_bound_takes_the_best_rate_any_process_saw():
    """A ceiling is what the machine can do: a process slowed by a spell must not lower it."""
    slower = {name: rate / 2 for name, rate in PROCESS.items()}
    ceilings = summarise([slower, PROCESS, slower])
    assert bandwidth_at(ceilings, 2**20) == pytest.approx(100.0)
    figures = roofline({"bytes": {"total": 2**20}, "flops": 10**9}, 10e-3, ceilings)
    assert figures["roofline_fraction"] == pytest.approx(0.5)  # at 200 GFLOP/s, not 100


# The same machine's GPU: 3 TB/s device-to-device beyond its L2, 9 TB/s inside, 50 TFLOP/s.
GPU_PROCESS = {
    **{copy_name(size, "cuda"): (9000.0 if size <= 2**24 else 3000.0) for size in CUDA_COPY_SIZES},
    "cuda-gemm": 50_000.0,
}


def test_a_gpu_runtimes_roofline_is_its_gpus_and_a_cpu_runtimes_the_hosts():
    ceilings = summarise([{**PROCESS, **GPU_PROCESS}, {**PROCESS, **GPU_PROCESS}])
    gpu = ceilings["cuda"]
    assert gpu["processes"] == 2 and gpu["compute_gflops"]["max"] == 50_000.0
    assert gpu["copy_gbs"][str(2**30)]["median"] == 3000.0
    assert set(ceilings["copy_gbs"]) == {str(size) for size in COPY_SIZES}  # the host's, alone
    assert ceilings["compute_gflops"]["max"] == 200.0
    # 256 MiB moved and no FLOPs: 89 µs at the GPU's DRAM bandwidth, 10.7 ms at the host's
    cost = {"bytes": {"total": 2**28}, "flops": 0}
    assert roofline(cost, 179e-6, for_device(ceilings, "cuda"))["roofline_fraction"] == (
        pytest.approx(2**28 / 3000e9 / 179e-6)
    )
    assert roofline(cost, 21.4e-3, for_device(ceilings, "cpu"))["roofline_fraction"] == (
        pytest.approx(2**28 / 25e9 / 21.4e-3)
    )
    # a run without the GPU's ceilings draws no GPU roofline, rather than the host's
    assert for_device(summarise([PROCESS]), "cuda") is None
    assert roofline(cost, 1e-3, for_device(summarise([PROCESS]), "cuda"))["roofline_bound"] is None


def test_the_gpus_probes_are_measured_only_where_a_gpu_runtime_is_timed_on_a_gpu():
    cpu_only = ceiling_names({"cpu"})
    assert not any(device_of(name) == "cuda" for name in cpu_only)
    with_gpu = ceiling_names({"cpu", "cuda"})
    if torch.cuda.is_available():
        assert "cuda-gemm" in with_gpu and copy_name(2**30, "cuda") in with_gpu
        assert clock_for("cuda-gemm").name == "cuda-events"
    else:
        assert with_gpu == cpu_only
    assert clock_for(copy_name(2**20)) is None
    assert copy_name(2**20, "cuda") == "cuda-copy-1MiB"
