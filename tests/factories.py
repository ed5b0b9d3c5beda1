"""Factories named by test case files (``factory = "factories:..."``)."""

from __future__ import annotations

import os
import sys

import torch
from torch import nn

from suite.methods import create_upsampler


class Repeated(nn.Module):
    """Runs the inner upsampler ``repeat`` times and returns the last result: the same output
    and, once the exporter drops the unused copies, the same ONNX graph, but ``repeat`` times the
    work in torch eager. The gate tests' injected slowdown."""

    def __init__(self, inner: nn.Module, repeat: int) -> None:
        super().__init__()
        self.inner = inner
        self.repeat = repeat

    def forward(self, x):
        for _ in range(self.repeat - 1):
            self.inner(x)
        return self.inner(x)


def repeated_resize_conv(channels: int, scale: int, repeat: int = 1) -> nn.Module:
    # Draw from torch's default stream, which the suite seeds from the case's seed.
    seed = int(torch.randint(0, 2**31 - 1, (1,)))
    model, _ = create_upsampler(
        "resize_conv", channels=channels, scale=scale, mode="bilinear", seed=seed
    )
    return Repeated(model, repeat)


class NanOnProbes(nn.Module):
    """Nearest ×scale, but NaN wherever the input is not constant: fine on the flat field, NaN on
    every probe photograph."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x):
        out = torch.nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest")
        if float(x.std()) > 0:
            return out * float("nan")
        return out


def nan_on_probes(channels: int, scale: int) -> nn.Module:
    return NanOnProbes(scale)


class DiesWhenTimed(nn.Module):
    """Nearest ×scale that ends the process it runs in when that is a timing process: a timing
    process that fails, for the tests of a run whose timing is cut short."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x):
        main = sys.modules["__main__"]
        if getattr(main.__spec__, "name", None) == "suite.timing.process":
            os._exit(3)
        return torch.nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest")


def dies_when_timed(channels: int, scale: int) -> nn.Module:
    return DiesWhenTimed(scale)


class FailsToExport(nn.Module):
    """Nearest ×scale that raises while torch.export traces it: a case that loads, builds and
    runs in torch but fails at its ``export`` stage, in whichever process prepares it."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x):
        if torch.compiler.is_exporting():
            raise ValueError("this layer will not be exported")
        return torch.nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest")


def fails_to_export(channels: int, scale: int) -> nn.Module:
    return FailsToExport(scale)


#: a file the first Dask worker to build ``kills_its_worker_once`` creates before it dies
KILL_MARKER_ENV = "UPSAMPLING_BENCH_TEST_KILL_MARKER"


def kills_its_worker_once(channels: int, scale: int) -> nn.Module:
    """Nearest ×scale, except that the first Dask worker process to build it SIGKILLs itself
    mid-task (a lost worker: no exception, no reply, the process gone); the marker file the
    environment names says it happened, so the retry builds it normally."""
    import signal
    from pathlib import Path

    from distributed import get_worker

    marker = Path(os.environ[KILL_MARKER_ENV])
    try:
        get_worker()
    except ValueError:  # not in a Dask worker: the run's own or a timing process
        pass
    else:
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
    return nn.Upsample(scale_factor=scale, mode="nearest")


# Broken factories, each refused at load time in one line (tests/test_casefile.py).


def raises(channels: int, scale: int) -> nn.Module:
    raise RuntimeError("this factory is broken")


def not_a_module(channels: int, scale: int) -> int:
    return channels


def doubles_channels(channels: int, scale: int) -> nn.Module:
    return nn.Sequential(nn.Upsample(scale_factor=scale), nn.Conv2d(channels, 2 * channels, 1))


def wrong_scale(channels: int, scale: int) -> nn.Module:
    return nn.Upsample(scale_factor=scale + 1)


class _Constant(nn.Module):
    def __init__(self, scale: int, value: float) -> None:
        super().__init__()
        self.scale, self.value = scale, value

    def forward(self, x):
        up = torch.nn.functional.interpolate(x, scale_factor=self.scale)
        return up * 0 + self.value


def returns_nan(channels: int, scale: int) -> nn.Module:
    return _Constant(scale, float("nan"))


def returns_inf(channels: int, scale: int) -> nn.Module:
    return _Constant(scale, float("inf"))


def fails_on_input(channels: int, scale: int) -> nn.Module:
    return nn.Conv2d(channels + 1, channels, 1)


def slow_to_build(channels: int, scale: int) -> nn.Module:
    import time

    time.sleep(0.3)
    return nn.Upsample(scale_factor=scale)


def returns_tuple(channels: int, scale: int) -> nn.Module:
    class Pair(nn.Module):
        def forward(self, x):
            up = torch.nn.functional.interpolate(x, scale_factor=scale)
            return up, up

    return Pair()


def nearest_conv_bias(channels: int, scale: int, kernel: int = 3) -> nn.Module:
    """Stable Diffusion's VAE upsampler: nearest ×scale, then a convolution with a bias."""
    return nn.Sequential(
        nn.Upsample(scale_factor=scale, mode="nearest"),
        nn.Conv2d(channels, channels, kernel, padding=kernel // 2),
    )
