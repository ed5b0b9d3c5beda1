"""torch eager mode: the reference on the CPU, and on a CUDA device where there is one."""

from __future__ import annotations

import copy

import numpy as np
import torch

from . import register
from .base import Loaded, Prepared, Runtime, RuntimeSkipped
from .clock import CudaEventClock


@register
class TorchCPU(Runtime):
    """The reference every other runtime is compared with."""

    name = "torch-cpu"
    order = 0
    reference = True
    marker = "o"
    colour = "#0173b2"
    runs_export = False

    @classmethod
    def session_options(cls) -> dict[str, dict[str, str]]:
        return {
            "torch.set_num_threads": {
                "suite": "the run's --threads",
                "default": "one thread per physical core",
                "why": "the defaults depend on the machine and make timings incomparable",
            }
        }

    def load(self, prepared: Prepared) -> Loaded:
        torch.set_num_threads(prepared.threads)
        model, inputs = prepared.model, prepared.inputs

        def step() -> torch.Tensor:
            with torch.inference_mode():
                return model(*inputs)

        def infer(x: np.ndarray, guide: np.ndarray | None = None) -> np.ndarray:
            with torch.inference_mode():
                return model(*prepared.torch_inputs(x, guide)).numpy()

        return Loaded(step=step, infer=infer, example=prepared.example.numpy())


@register
class TorchCUDA(Runtime):
    """Eager on the GPU, timed by CUDA events around each round (``clock.CudaEventClock``),
    which wait for the device once per round; the output stays on the device."""

    name = "torch-cuda"
    order = 1
    marker = "^"
    colour = "#cc78bc"
    device = "cuda"
    times_copies = True
    runs_export = False

    def unavailable(self) -> str | None:
        if not torch.cuda.is_available():
            return f"torch {torch.__version__} sees no CUDA device"
        return None

    def load(self, prepared: Prepared) -> Loaded:
        reason = self.unavailable()
        if reason:
            raise RuntimeSkipped(reason)
        model = copy.deepcopy(prepared.model).to("cuda")
        inputs = tuple(t.to("cuda") for t in prepared.inputs)
        clock = CudaEventClock()

        def step() -> torch.Tensor:
            with torch.inference_mode():
                return model(*inputs)

        def with_copies() -> np.ndarray:
            with torch.inference_mode():
                return model(*(t.to("cuda") for t in prepared.inputs)).cpu().numpy()

        def infer(x: np.ndarray, guide: np.ndarray | None = None) -> np.ndarray:
            with torch.inference_mode():
                out = model(*(t.to("cuda") for t in prepared.torch_inputs(x, guide)))
            return out.cpu().numpy()

        def bound_output() -> np.ndarray:
            return step().cpu().numpy()

        return Loaded(
            step=step,
            infer=infer,
            example=prepared.example.numpy(),
            with_copies=with_copies,
            bound_output=bound_output,
            clock=clock,
        )
