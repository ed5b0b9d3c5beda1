"""onnxruntime sessions, one runtime per execution provider.

Every session is timed through IO binding: the input is bound once and the output written into
a buffer allocated once, on the provider's device, so the timed loop measures the kernels and not
the host-device copies or an output allocation per call. ``latency_with_copies`` times
``session.run`` as an application calls it (host array in, a new host array out), by default on
the GPU providers and on all of them with ``run --with-copies``.
"""

from __future__ import annotations

import json
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from .. import executed
from ..distributions import ort_package
from ..export import OUTPUT_NAME
from ..parity import FLOAT16
from ..quiet import captured_output
from . import register
from .base import Loaded, Prepared, Runtime, RuntimeSkipped
from .clock import cuda_event_clock
from .settle import until_threads_idle

if TYPE_CHECKING:
    from ..precision import Precision

SPINNING = "session.intra_op.allow_spinning"
#: what the suite sets that onnxruntime's defaults do not, and why (``Runtime.session_options``)
SESSION_OPTIONS = {
    "intra_op_num_threads": {
        "suite": "the run's --threads",
        "default": "0: one thread per physical core",
        "why": "the defaults depend on the machine and make timings incomparable",
    },
    "inter_op_num_threads": {
        "suite": "1",
        "default": "0: onnxruntime's choice",
        "why": "unused by sequential execution; explicit like the intra-op count",
    },
    SPINNING: {
        "suite": "0",
        "default": "1",
        "why": (
            "spinning workers steal the cores of whatever is timed next (torch timed right "
            "after an onnxruntime case ran up to 2.7x slower in whole sessions); spinning off "
            "was 1.0-1.3x slower than the defaults for ~1 ms models"
        ),
    },
}


@cache
def _onnxruntime():
    """The module, or None; onnxruntime-gpu first loads the CUDA libraries that torch's CUDA
    build ships (its own wheel carries none), where torch sees a device."""
    try:
        import onnxruntime
    except ImportError:
        return None
    if hasattr(onnxruntime, "preload_dlls") and torch.cuda.is_available():
        onnxruntime.preload_dlls()
    return onnxruntime


def provider_complaint(text: str, limit: int = 240) -> str:
    """The first line in which onnxruntime said why a provider did not load, without its log
    prefix and colours: ``Failed to create CUDAExecutionProvider. Require cuDNN 9.* ...``."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
    found = [line.split("] ", 1)[-1] for line in lines if "Failed to create" in line]
    # onnxruntime's Python layer: "EP Error <file>:<line> <function>(<arguments>) <message>"
    found += [line.rsplit(") ", 1)[-1] for line in lines if line.startswith("EP Error /")]
    if not found:
        return ""
    message = found[0].strip()
    return message if len(message) <= limit else message[: limit - 1] + "…"


class OrtRuntime(Runtime):
    provider: ClassVar[str]
    #: where its inputs and outputs live: onnxruntime's OrtValue device name
    ort_device: ClassVar[str] = "cpu"
    #: onnxruntime's default: intra-op workers spin before they block. The suite turns it off
    #: (``SESSION_OPTIONS``); a runtime that keeps it waits the spinning out between rounds.
    spinning: ClassVar[bool] = False

    @classmethod
    def session_options(cls) -> dict[str, dict[str, str]]:
        if cls.spinning:
            return {k: v for k, v in SESSION_OPTIONS.items() if k != SPINNING}
        return SESSION_OPTIONS

    def unavailable(self) -> str | None:
        ort = _onnxruntime()
        if ort is None:
            return "onnxruntime is not installed"
        if self.provider not in ort.get_available_providers():
            return f"{ort_package()} has no {self.provider}"
        return None

    def provider_options(self, prepared: Prepared, stream: int | None) -> dict[str, Any]:
        """The execution provider's own options: a GPU provider computes on ``stream`` (torch's,
        where the suite's CUDA events are recorded) when there is one."""
        if stream is None:
            return {}
        return {"has_user_compute_stream": "1", "user_compute_stream": str(stream)}

    def options_for(self, threads: int):
        """onnxruntime's ``SessionOptions`` as this runtime sets them (``session_options``)."""
        options = _onnxruntime().SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if not self.spinning:
            options.add_session_config_entry(SPINNING, "0")
        options.log_severity_level = 3
        return options

    def session(
        self, prepared: Prepared, stream: int | None = None, profile_to: Path | None = None
    ):
        """A session on the case's export; ``profile_to``: profiled, its trace written there."""
        ort = _onnxruntime()
        reason = self.unavailable()
        if reason:
            raise RuntimeSkipped(reason)
        options = self.options_for(prepared.threads)
        if profile_to is not None:
            options.enable_profiling = True
            options.profile_file_prefix = str(profile_to / "profile")
        providers: list[Any] = [(self.provider, self.provider_options(prepared, stream))]
        if self.provider != "CPUExecutionProvider":
            providers.append("CPUExecutionProvider")
        # A GPU provider whose libraries do not load prints its complaint from C++ and Python
        # (onnxruntime-gpu without CUDA): kept out of the suite's output, and named in the skip.
        with captured_output() as said:
            session = ort.InferenceSession(str(prepared.onnx_path), options, providers=providers)
        used = session.get_providers()
        if not used or used[0] != self.provider:
            # onnxruntime falls back to the CPU silently when a provider's libraries do not load.
            why = provider_complaint(said.text)
            raise RuntimeSkipped(
                f"{self.provider} fell back to {used[0] if used else 'nothing'}"
                + (f": {why}" if why else "")
            )
        return session

    def executed(self, prepared: Prepared, precision: Precision) -> dict[str, Any]:
        """One inference in a profiled session of its own: the profiler names each node's op,
        the provider that ran it and its output's element type, after the provider's own graph
        rewrites (inserted casts, fused QLinear ops, nodes handed to the CPU)."""
        with tempfile.TemporaryDirectory() as folder:
            session = self.session(prepared, profile_to=Path(folder))
            session.run(None, prepared.feeds(prepared.example.numpy()))
            events = json.loads(Path(session.end_profiling()).read_text())
        ops = executed.from_profile(events)
        return executed.summarise(ops, precision.computes_in, precision.conversions, self.provider)

    def load(self, prepared: Prepared) -> Loaded:
        device = self.ort_device
        clock = cuda_event_clock() if device != "cpu" else None
        session = self.session(prepared, clock.stream.cuda_stream if clock else None)
        example = prepared.example.numpy()
        feeds = prepared.feeds(example)
        binding, output = _bound(session, feeds, prepared.output_shape, device)

        def step():
            session.run_with_iobinding(binding)
            if device != "cpu" and clock is None:  # the host's clock waits for the device
                binding.synchronize_outputs()

        def with_copies():
            return session.run(None, feeds)

        def infer(x: np.ndarray, guide: np.ndarray | None = None) -> np.ndarray:
            return session.run(None, prepared.feeds(x, guide))[0]

        def bound_output() -> np.ndarray:
            step()
            binding.synchronize_outputs()
            return output.numpy()

        return Loaded(
            step=step,
            infer=infer,
            example=example,
            with_copies=with_copies,
            bound_output=bound_output,
            clock=clock,
            settle=until_threads_idle if self.spinning else None,
        )


def _bound(session, feeds: dict[str, np.ndarray], shape: tuple[int, ...], device: str):
    """An IO binding of the session: each input (the features and, for a guided layer, its
    guide) copied to ``device`` once, and an output buffer allocated there once."""
    ort = _onnxruntime()
    output = ort.OrtValue.ortvalue_from_shape_and_type(list(shape), np.float32, device, 0)
    binding = session.io_binding()
    for name, value in feeds.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, device, 0))
    binding.bind_ortvalue_output(OUTPUT_NAME, output)
    return binding, output


@register
class OrtCPU(OrtRuntime):
    name = "ort-cpu"
    order = 2
    marker = "s"
    colour = "#de8f05"
    provider = "CPUExecutionProvider"


def cpu_probe_session(model: bytes, threads: int):
    """A session on an in-memory model with the CPU provider's runtime options: the machine's
    compute ceilings (``bench/ceilings.py``) are probed as the cases are timed."""
    runtime = OrtCPU()
    options = runtime.options_for(threads)
    return _onnxruntime().InferenceSession(model, options, providers=[runtime.provider])


@register
class OrtCPUDefaults(OrtCPU):
    """The CPU provider as people deploy it: onnxruntime's default session options, spinning
    workers included, but for the thread counts (the run's, so that both figures are timed on
    the same cores). Between rounds it waits until its workers stop spinning, so the
    yardstick's rounds and whatever is timed next get the cores to themselves. Measured on
    request (``run --runtimes ort-cpu,ort-cpu-defaults``), beside ``ort-cpu``."""

    name = "ort-cpu-defaults"
    marker = "X"
    colour = "#ece133"
    spinning = True
    optional = True


@register
class OrtCUDA(OrtRuntime):
    name = "ort-cuda"
    order = 3
    marker = "D"
    colour = "#d55e00"
    provider = "CUDAExecutionProvider"
    ort_device = "cuda"
    device = "cuda"
    times_copies = True


@register
class OrtTensorRT(OrtRuntime):
    """onnxruntime's TensorRT provider in float32. Its engines are built on first use and kept
    in the run's cache folder (``tensorrt/``), so later sessions and runs load them."""

    name = "ort-tensorrt"
    order = 4
    marker = "v"
    colour = "#949494"
    provider = "TensorrtExecutionProvider"
    ort_device = "cuda"
    device = "cuda"
    times_copies = True
    fp16: ClassVar[bool] = False

    def provider_options(self, prepared: Prepared, stream: int | None) -> dict[str, Any]:
        cache = Path(prepared.cache_dir or Path(prepared.onnx_path).parent) / "tensorrt"
        cache.mkdir(parents=True, exist_ok=True)
        return {
            **super().provider_options(prepared, stream),
            "trt_engine_cache_enable": "True",
            "trt_engine_cache_path": str(cache),
            "trt_timing_cache_enable": "True",
            "trt_fp16_enable": str(self.fp16),
        }


@register
class OrtTensorRTFP16(OrtTensorRT):
    """TensorRT allowed to pick float16 kernels (inputs and outputs stay float32); its parity
    bound is float16's (``parity.FLOAT16``)."""

    name = "ort-tensorrt-fp16"
    order = 5
    marker = "<"
    colour = "#fbafe4"
    fp16 = True
    parity_bound = FLOAT16
