"""onnxruntime sessions, one runtime per execution provider."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import ClassVar

import numpy as np

from ..export import INPUT_NAME
from . import register
from .base import Loaded, Prepared, Runtime, RuntimeSkipped


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def ort_package() -> str:
    """Which distribution provides the module: onnxruntime or onnxruntime-gpu."""
    for name in ("onnxruntime-gpu", "onnxruntime"):
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            continue
    return "no onnxruntime package"


class OrtRuntime(Runtime):
    provider: ClassVar[str]

    def unavailable(self) -> str | None:
        ort = _onnxruntime()
        if ort is None:
            return "onnxruntime is not installed"
        if self.provider not in ort.get_available_providers():
            return f"{ort_package()} has no {self.provider}"
        return None

    def session(self, prepared: Prepared):
        ort = _onnxruntime()
        reason = self.unavailable()
        if reason:
            raise RuntimeSkipped(reason)
        options = ort.SessionOptions()
        # Explicit thread counts: the defaults depend on the machine and make timings incomparable.
        options.intra_op_num_threads = prepared.threads
        options.inter_op_num_threads = 1
        # onnxruntime's workers spin for about a second after each run, waiting for the next;
        # on a machine with as many cores as threads that steals the cores from whatever is
        # timed next (torch measured right after an onnxruntime case ran up to 2.7x slower in
        # whole timing sessions). Off: every runtime is timed on idle cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        providers = list(dict.fromkeys([self.provider, "CPUExecutionProvider"]))
        session = ort.InferenceSession(str(prepared.onnx_path), options, providers=providers)
        used = session.get_providers()
        if not used or used[0] != self.provider:
            # onnxruntime falls back to the CPU silently when a provider's libraries do not load.
            raise RuntimeSkipped(f"{self.provider} fell back to {used[0] if used else 'nothing'}")
        return session

    def load(self, prepared: Prepared) -> Loaded:
        session = self.session(prepared)
        example = prepared.example.numpy()
        feeds = {INPUT_NAME: example}

        def step():
            return session.run(None, feeds)

        def infer(x: np.ndarray) -> np.ndarray:
            return session.run(None, {INPUT_NAME: np.asarray(x, dtype=np.float32)})[0]

        return Loaded(step=step, infer=infer, example=example)


@register
class OrtCPU(OrtRuntime):
    name = "ort-cpu"
    order = 2
    marker = "s"
    colour = "#b1400d"
    provider = "CPUExecutionProvider"


@register
class OrtCUDA(OrtRuntime):
    name = "ort-cuda"
    order = 3
    marker = "D"
    colour = "#8c0800"
    provider = "CUDAExecutionProvider"


@register
class OrtTensorRT(OrtRuntime):
    name = "ort-tensorrt"
    order = 4
    marker = "v"
    colour = "#591e71"
    provider = "TensorrtExecutionProvider"
