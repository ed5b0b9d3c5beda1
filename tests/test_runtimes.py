"""Runtimes: providers really used, skips with reasons, never a silent CPU fall-back."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from suite.case import Case
from suite.commands.run_options import DEVICE_GROUPS
from suite.export import export_case
from suite.methods import Stage, get_method
from suite.parity import DEFAULT, FLOAT16
from suite.parity_bound import bound_for
from suite.runtimes import REFERENCE, Prepared, RuntimeSkipped, get_runtime, list_runtimes
from suite.runtimes.onnx_reference import MAX_OUTPUT_ELEMENTS

CPU_RUNTIMES = [n for n in list_runtimes() if get_runtime(n).device == "cpu"]
GPU_RUNTIMES = [n for n in list_runtimes() if get_runtime(n).device == "cuda"]


@pytest.fixture
def prepared(export_cache) -> Prepared:
    stage = Stage("resize_conv", get_method("resize_conv").resolve({}))
    case = Case(id="r", file="test", stages=(stage,), size=(6, 6), channels=2)
    model, example = case.build(), case.make_input()
    exported = export_case(case, model, example, export_cache)
    return Prepared(model, example, exported.path, case.output_shape, threads=1)


def test_exactly_one_reference_and_it_comes_first():
    assert [n for n in list_runtimes() if get_runtime(n).reference] == [REFERENCE]
    assert list_runtimes()[0] == REFERENCE and get_runtime(REFERENCE).device == "cpu"


@pytest.mark.parametrize("name", CPU_RUNTIMES)
def test_cpu_runtimes_are_always_available(name):
    """The test environment has the CPU onnxruntime: a CPU runtime absent here is a fault."""
    assert get_runtime(name).unavailable() is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("name", GPU_RUNTIMES)
def test_gpu_runtimes_say_why_they_are_absent(name, prepared):
    reason = get_runtime(name).unavailable()
    assert reason and ("CUDA" in reason or "Tensorrt" in reason)
    with pytest.raises(RuntimeSkipped, match=re.escape(reason)):
        get_runtime(name).load(prepared)


@pytest.mark.filterwarnings("ignore:Specified provider:UserWarning")
def test_silent_fall_back_to_cpu_is_a_skip(prepared, monkeypatch):
    """onnxruntime lists a provider, then runs on the CPU when its libraries fail to load."""
    import onnxruntime

    cuda = get_runtime("ort-cuda")
    monkeypatch.setattr(
        onnxruntime,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    with pytest.raises(
        RuntimeSkipped, match="CUDAExecutionProvider fell back to CPUExecutionProvider"
    ):
        cuda.load(prepared)


def test_ort_cpu_uses_the_requested_threads(prepared, monkeypatch):
    import onnxruntime

    seen = {}
    real = onnxruntime.InferenceSession

    def spy(path, options, providers):
        seen["threads"] = options.intra_op_num_threads
        return real(path, options, providers=providers)

    monkeypatch.setattr(onnxruntime, "InferenceSession", spy)
    prepared.threads = 1
    output = get_runtime("ort-cpu").load(prepared).output()
    assert seen["threads"] == 1
    assert output.shape == prepared.output_shape


def test_reference_evaluator_refuses_large_outputs(prepared):
    prepared.output_shape = (1, 1, MAX_OUTPUT_ELEMENTS, 2)
    with pytest.raises(RuntimeSkipped, match="reference evaluator runs up to"):
        get_runtime("onnx-reference").load(prepared)


def test_the_cpu_provider_is_timed_through_io_binding_and_writes_what_run_returns(prepared):
    """The timed step writes into an output bound once; what it wrote equals session.run's
    answer bit for bit, and so does the with-copies call, which allocates a new host array."""
    import numpy as np

    loaded = get_runtime("ort-cpu").load(prepared)
    unbound = loaded.output()
    assert loaded.with_copies is not None and loaded.clock is None
    assert loaded.step() is None  # the bound call returns nothing: its output stays bound
    bound = loaded.bound_output()
    assert bound.shape == unbound.shape == prepared.output_shape
    assert np.array_equal(bound, unbound) and bound.dtype == np.float32
    (copied,) = loaded.with_copies()
    assert np.array_equal(copied, unbound) and copied is not loaded.with_copies()[0]


def test_a_bound_output_that_differs_from_the_unbound_one_fails_the_runtime(prepared):
    import numpy as np

    from suite.bench.check import _check_bound

    output = get_runtime("ort-cpu").load(prepared).output()
    _check_bound(output.copy(), output)  # equal: nothing to say
    nudged = output.copy()
    nudged.flat[3] = np.nextafter(nudged.flat[3], np.float32(np.inf))
    with pytest.raises(ValueError, match=r"IO-bound output differs .*max abs diff"):
        _check_bound(nudged, output)
    with pytest.raises(ValueError, match=r"differs from the unbound one \(\(1, 2"):
        _check_bound(output[:, :, :-1], output)


def test_tensorrt_keeps_its_engines_in_the_run_cache_and_fp16_is_its_own_runtime(
    prepared, tmp_path
):
    prepared.cache_dir = tmp_path / "cache"
    fp32 = get_runtime("ort-tensorrt").provider_options(prepared, None)
    fp16 = get_runtime("ort-tensorrt-fp16").provider_options(prepared, 7)
    assert fp32["trt_engine_cache_path"] == str(tmp_path / "cache" / "tensorrt")
    assert (tmp_path / "cache" / "tensorrt").is_dir()
    assert fp32["trt_fp16_enable"] == "False" and fp16["trt_fp16_enable"] == "True"
    assert "user_compute_stream" not in fp32 and fp16["user_compute_stream"] == "7"
    assert bound_for("ort-tensorrt-fp16", None) == FLOAT16
    assert bound_for("ort-tensorrt", None) == DEFAULT
    # float16's bound is looser than float32's and still below a wrong coordinate mode's ~1e-1
    assert DEFAULT.rtol < FLOAT16.rtol <= 2e-2


def test_every_runtime_declares_where_it_computes_and_what_it_sets_unlike_the_defaults():
    devices = {name: get_runtime(name).device for name in list_runtimes()}
    assert set(devices.values()) <= set(DEVICE_GROUPS.values()), devices
    assert GPU_RUNTIMES, "no runtime on a CUDA device: --runtimes gpu would take nothing"
    ort = get_runtime("ort-cpu").describe()["session_options"]
    assert ort["session.intra_op.allow_spinning"]["suite"] == "0"
    assert ort["session.intra_op.allow_spinning"]["default"] == "1"
    assert set(get_runtime("torch-cpu").describe()["session_options"]) == {"torch.set_num_threads"}
    assert get_runtime("onnx-reference").describe()["session_options"] == {}


def test_a_provider_that_does_not_load_is_named_with_its_own_complaint():
    """What onnxruntime-gpu printed here (no CUDA libraries), kept out of the output and put in
    the skip's reason, without its log prefix and colours."""
    from suite.runtimes.ort import provider_complaint

    cuda = (
        "\x1b[0;93m2026-12-02 05:51:32.561550145 [W:onnxruntime:Default, "
        "onnxruntime_pybind_state.cc:1295 CreateExecutionProviderFactoryInstance] Failed to "
        "create CUDAExecutionProvider. Require cuDNN 9.* and CUDA 13.*.\x1b[m\n"
    )
    tensorrt = (
        "*************** EP Error ***************\n"
        "EP Error /onnxruntime_src/onnxruntime/python/onnxruntime_pybind_state.cc:729 void "
        "onnxruntime::python::RegisterTensorRTPluginsAsCustomOps(PySessionOptions&, const "
        "onnxruntime::ProviderOptions&) Please install TensorRT libraries as mentioned in the "
        "GPU requirements page.\n when using [('TensorrtExecutionProvider', {})]\n"
    )
    assert provider_complaint(cuda) == (
        "Failed to create CUDAExecutionProvider. Require cuDNN 9.* and CUDA 13.*."
    )
    assert provider_complaint(tensorrt) == (
        "Please install TensorRT libraries as mentioned in the GPU requirements page."
    )
    assert provider_complaint("nothing to say\n") == ""
    assert len(provider_complaint(cuda.replace("13.*.", "13.*." + "x" * 400))) == 240


def test_ort_cpu_defaults_keeps_onnxruntimes_spinning_and_waits_it_out(prepared):
    """The deployed CPU provider differs from ort-cpu in spinning only; it is measured on
    request, and its rounds are separated by a wait until its workers stop spinning."""
    from suite.commands.run_options import runtimes_asked as _runtimes
    from suite.runtimes.settle import until_threads_idle

    suite_ort, deployed = get_runtime("ort-cpu"), get_runtime("ort-cpu-defaults")
    assert "ort-cpu-defaults" not in _runtimes(None) and "ort-cpu" in _runtimes(None)
    assert "ort-cpu-defaults" not in _runtimes("cpu")
    assert "ort-cpu-defaults" in _runtimes("ort-cpu,ort-cpu-defaults")
    entry = "session.intra_op.allow_spinning"
    assert suite_ort.session(prepared).get_session_options().get_session_config_entry(entry) == "0"
    options = deployed.session(prepared).get_session_options()
    with pytest.raises(Exception, match=entry):  # never set: onnxruntime's default (spinning)
        options.get_session_config_entry(entry)
    assert entry not in deployed.describe()["session_options"]
    assert deployed.describe()["optional"] and not suite_ort.describe()["optional"]
    loaded = deployed.load(prepared)
    assert loaded.settle is until_threads_idle and suite_ort.load(prepared).settle is None
    np.testing.assert_array_equal(loaded.output(), suite_ort.load(prepared).output())


def test_waiting_for_idle_threads_ends_at_the_first_quiet_look_or_at_the_limit(monkeypatch):
    """The rule, on a simulated clock: each look sleeps ``LOOK_S``; the process burns a whole
    core for three looks, then nothing; one that never stops is left at ``LIMIT_S``."""
    from types import SimpleNamespace

    from suite.runtimes import settle

    clock = {"wall": 0.0, "cpu": 0.0, "busy_looks": 3}

    def sleep(seconds: float) -> None:
        clock["wall"] += seconds
        if clock["busy_looks"]:
            clock["cpu"] += seconds
            clock["busy_looks"] -= 1

    fake = SimpleNamespace(
        perf_counter=lambda: clock["wall"], process_time=lambda: clock["cpu"], sleep=sleep
    )
    monkeypatch.setattr(settle, "time", fake)
    assert settle.until_threads_idle() == pytest.approx(4 * settle.LOOK_S)
    clock["busy_looks"] = 10**6
    waited = settle.until_threads_idle()
    assert settle.LIMIT_S <= waited < settle.LIMIT_S + 2 * settle.LOOK_S


@pytest.mark.timing
def test_waiting_for_idle_threads_lasts_as_long_as_another_thread_burns_cpu():
    import threading
    import time

    from suite.runtimes.settle import LIMIT_S, until_threads_idle

    assert until_threads_idle() < 0.5  # nothing spins: a look or a few
    stop = time.perf_counter() + 0.3

    def spin() -> None:
        while time.perf_counter() < stop:
            pass

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        waited = until_threads_idle()
    finally:
        spinner.join()
    assert 0.2 <= waited < LIMIT_S


def test_what_a_runtime_times_writes_what_it_answers(runtime, prepared):
    """Every registered runtime (``--device``): where its timed step avoids copies (IO binding,
    an output left on the device) what it wrote equals ``infer``'s answer bit for bit, and so
    does the call as an application makes it (``Loaded``)."""
    try:
        loaded = get_runtime(runtime).load(prepared)
    except RuntimeSkipped as skipped:
        pytest.skip(f"{runtime}: {skipped}")
    answer = loaded.output()
    assert answer.shape == prepared.output_shape and answer.dtype == np.float32
    if loaded.bound_output is not None:
        np.testing.assert_array_equal(loaded.bound_output(), answer)
    if loaded.with_copies is not None:
        copied = loaded.with_copies()
        np.testing.assert_array_equal(copied[0] if isinstance(copied, list) else copied, answer)


def test_the_ceilings_probe_runs_with_the_cpu_providers_own_session_options(prepared):
    """``bench/ceilings.py`` times onnxruntime's GEMM and convolution as ort-cpu's cases are
    timed: its options come from the runtime, not from a copy of them."""
    from suite.runtimes.ort import SPINNING, cpu_probe_session

    probe = cpu_probe_session(prepared.onnx_path.read_bytes(), 1)
    timed = get_runtime("ort-cpu").session(prepared)
    assert probe.get_providers() == timed.get_providers()[:1]
    mine, theirs = probe.get_session_options(), timed.get_session_options()
    for option in ("intra_op_num_threads", "inter_op_num_threads"):
        assert getattr(mine, option) == getattr(theirs, option) == 1
    assert mine.get_session_config_entry(SPINNING) == "0"
