"""The machine's ceilings and the two-sided roofline (suite/timing/ceilings.py), and the injected
slowdown the gate's catch rates are measured with (suite/timing/policy.py ``slowed``)."""

from __future__ import annotations

import pytest
import torch

from suite.timing.ceilings import (
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
from suite.timing.plausible import implausible, remeasure
from suite.timing.policy import slowed

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


# -- ceilings that cannot be believed (suite/timing/plausible.py) ---------------------------------

MIB = 2**20


def busy_at_1mib(rate: float) -> dict[str, float]:
    """PROCESS with its 1 MiB copy measured at ``rate`` (the machine busy during that probe)."""
    return {**PROCESS, copy_name(MIB): rate}


def test_plausible_ceilings_are_kept_as_measured():
    assert implausible(PROCESS) == {}
    assert implausible(PROCESS, [PROCESS, {k: v / 2 for k, v in PROCESS.items()}]) == {}
    ceilings = summarise([PROCESS])
    assert "set_aside" not in ceilings and "remeasured" not in ceilings
    assert not any("implausible" in row for row in ceilings["copy_gbs"].values())


def test_each_rule_names_what_it_saw():
    # 0.13 GB/s (seen at 1 MiB on a busy machine): below any machine's floor
    assert "below the 1 GB/s of any machine" in implausible(busy_at_1mib(0.13))["copy-1MiB"]
    # 2 GB/s at 1 MiB against 100 GB/s at 4 MiB: 12.5x as long for a quarter of the bytes
    why = implausible(busy_at_1mib(2.0))["copy-1MiB"]
    assert "took 12× as long as copy-4MiB" in why and "never takes longer" in why
    # 1 MiB at 3 GB/s and 4 MiB at 100 GB/s would be 8.3x; at 40 GB/s (3.3x) it is believable
    assert implausible({**busy_at_1mib(12.0), copy_name(4 * MIB): 40.0}) == {}
    # every copy 20x slower than in the other processes: each is monotone and above the floor
    slow = {k: v / 20 for k, v in PROCESS.items()}
    found = implausible(slow, [PROCESS, PROCESS])
    assert set(found) == {copy_name(s) for s in COPY_SIZES} | {"compute"}
    assert "20× below the other processes' 100" in found["copy-1MiB"]


def test_an_implausible_probe_measured_again_is_fixed():
    process, seen = busy_at_1mib(0.13), []

    def measure(name):
        seen.append(name)
        return 95.0

    record = remeasure(process, [], measure)
    assert seen == ["copy-1MiB"] and process["copy-1MiB"] == 95.0
    assert record["copy-1MiB"]["measured"] == [0.13, 95.0] and record["copy-1MiB"]["still"] is None
    ceilings = summarise([process], [record])
    assert ceilings["remeasured"][0]["probe"] == "copy-1MiB"
    assert "implausible" not in ceilings["copy_gbs"][str(MIB)]
    figures = roofline({"bytes": {"total": MIB}, "flops": 0}, MIB / 95e9 * 2, ceilings)
    assert figures["roofline_fraction"] == pytest.approx(0.5)
    assert "roofline_omitted" not in figures


def test_a_probe_that_stays_implausible_leaves_the_roofline_out_with_the_reason():
    process = busy_at_1mib(0.13)
    record = remeasure(process, [], lambda name: 0.2)  # busy again, twice
    assert record["copy-1MiB"]["measured"] == [0.13, 0.2, 0.2]
    assert "below the 1 GB/s" in record["copy-1MiB"]["still"]
    ceilings = summarise([process], [record])
    assert "below the 1 GB/s" in ceilings["copy_gbs"][str(MIB)]["implausible"]
    # 1.5 MiB lies between the 1 MiB probe and the 4 MiB one: drawn on the 1 MiB copy, 4718%
    cost = {"bytes": {"total": 3 * MIB // 2}, "flops": 10**6}
    figures = roofline(cost, 1e-4, ceilings)
    assert figures["roofline_fraction"] is None and figures["roofline_bound"] is None
    assert figures["roofline_omitted"].startswith("copy-1MiB could not be believed (0.2 GB/s")
    assert figures["achieved_gbs"] == pytest.approx(3 * MIB / 2 / 1e-4 / 1e9)
    # a working set far from it keeps its roofline
    far = roofline({"bytes": {"total": 2**26}, "flops": 0}, 2**26 / 25e9 * 2, ceilings)
    assert far["roofline_fraction"] == pytest.approx(0.5)


def test_a_process_far_below_the_others_is_set_aside_not_averaged_in():
    slow = {k: v / 20 for k, v in PROCESS.items()}
    ceilings = summarise([PROCESS, slow, PROCESS])
    assert ceilings["copy_gbs"][str(MIB)] == {"median": 100.0, "min": 100.0, "max": 100.0}
    assert ceilings["compute_gflops"] == {"median": 200.0, "min": 200.0, "max": 200.0}
    aside = {(entry["process"], entry["figure"]) for entry in ceilings["set_aside"]}
    assert (2, "copy-1MiB") in aside and (2, "compute") in aside
    assert all(p == 2 for p, _ in aside)


def test_a_roofline_fraction_over_one_is_never_recorded():
    ceilings = summarise([PROCESS])
    cost = {"bytes": {"total": MIB}, "flops": 10**9}  # 5 ms at 200 GFLOP/s
    for median_s in (1e-3, 4.9e-3, 5e-3, 6e-3, 1.0):
        figures = roofline(cost, median_s, ceilings)
        if median_s < 5e-3:
            assert figures["roofline_fraction"] is None
            assert figures["roofline_omitted"].startswith(f"it ran at {5e-3 / median_s:.0%} of")
        else:
            assert 0 < figures["roofline_fraction"] <= 1 and "roofline_omitted" not in figures


def test_a_timing_process_measures_an_implausible_copy_again_for_real():
    """``TimingSession.remeasure_ceilings`` on a copy first measured at 0.13 GB/s: measured
    again on this machine (any machine copies 1 MiB at more than 1 GB/s), the better kept."""
    from types import SimpleNamespace

    from suite.timing.policy import TIMINGS
    from suite.timing.session import TimingSession

    process = {**{copy_name(size): 10.0 for size in COPY_SIZES}, "gemm-torch": 50.0}
    process[copy_name(MIB)] = 0.13
    session = SimpleNamespace(
        options=SimpleNamespace(role="time", threads=1),
        timing=TIMINGS["quick"],
        ceilings=process,
        earlier_ceilings=[],
        progress=SimpleNamespace(stage=lambda *args, **kwargs: None),
    )
    TimingSession.remeasure_ceilings(session)
    (first, again) = session.remeasured["copy-1MiB"]["measured"]
    assert first == 0.13 and again > 1.0 and process["copy-1MiB"] == again
    assert session.remeasured["copy-1MiB"]["still"] is None
    assert set(session.remeasured) == {"copy-1MiB"}  # the believable ones are left alone
