"""Device-side clocks for ``timing.time_session``: a round timed by CUDA events recorded on the
stream that runs it, read once the device has finished, so that the host's launch overhead and
its clock's view of asynchronous work do not enter the figure. The timing code is the CPU path's
(``time_session``); only the clock differs."""

from __future__ import annotations

import torch

from .base import Clock


class CudaEventClock:
    """Two CUDA events around a round, on ``stream`` (torch's current stream by default)."""

    name = "cuda-events"

    def __init__(self, stream: torch.cuda.Stream | None = None) -> None:
        self.stream = stream or torch.cuda.current_stream()
        self.began = torch.cuda.Event(enable_timing=True)
        self.ended = torch.cuda.Event(enable_timing=True)

    def start(self) -> None:
        self.began.record(self.stream)

    def stop(self) -> float:
        self.ended.record(self.stream)
        self.ended.synchronize()
        return self.began.elapsed_time(self.ended) / 1e3  # milliseconds -> seconds

    def synchronize(self) -> None:
        self.stream.synchronize()


def cuda_event_clock() -> Clock | None:
    """A CUDA-event clock where torch sees a CUDA device, else None (timed by the host clock,
    each call synchronised): onnxruntime-gpu beside torch's CPU wheel has no events to use."""
    return CudaEventClock() if torch.cuda.is_available() else None
