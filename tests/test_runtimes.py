"""Runtimes: providers really used, skips with reasons, never a silent CPU fall-back."""

from __future__ import annotations

import re

import pytest
import torch

from suite.case import Case
from suite.export import export_case
from suite.methods import Stage, get_method
from suite.runtimes import Prepared, RuntimeSkipped, get_runtime, list_runtimes
from suite.runtimes.onnx_reference import MAX_OUTPUT_ELEMENTS

GPU_RUNTIMES = ["torch-cuda", "ort-cuda", "ort-tensorrt"]


@pytest.fixture
def prepared(export_cache) -> Prepared:
    stage = Stage("resize_conv", get_method("resize_conv").resolve({}))
    case = Case(id="r", file="test", stages=(stage,), size=(6, 6), channels=2)
    model, example = case.build(), case.make_input()
    exported = export_case(case, model, example, export_cache)
    return Prepared(model, example, exported.path, case.output_shape, threads=1)


def test_reference_comes_first_and_cpu_runtimes_are_always_available():
    assert list_runtimes()[0] == "torch-cpu"
    for name in ("torch-cpu", "ort-cpu", "onnx-reference"):
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
