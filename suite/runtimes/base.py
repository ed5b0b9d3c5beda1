"""What a runtime is: something that turns a prepared case into a callable producing its output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from ..exporters import INPUT_NAMES
from ..parity import Bound

if TYPE_CHECKING:
    from ..precision import Precision


class RuntimeSkipped(Exception):
    """The runtime cannot run this case here (missing provider, silent fall-back, too large).

    Recorded as ``skipped`` with the message as the reason; never a pass."""


@dataclass
class Prepared:
    """A case made ready for the runtimes: the torch model, the parity input, the ONNX file."""

    model: nn.Module
    example: torch.Tensor
    onnx_path: Path | None
    output_shape: tuple[int, ...]
    threads: int
    #: the run's cache folder: a runtime keeps what it builds per model there (TensorRT engines)
    cache_dir: Path | None = None
    #: a guided layer's second input (``guides.py``), the guide of the parity input's scene
    guide: torch.Tensor | None = None

    @property
    def inputs(self) -> tuple[torch.Tensor, ...]:
        """What the model is called with: the parity input, then the guide where there is one."""
        return (self.example,) if self.guide is None else (self.example, self.guide)

    def feeds(self, x: np.ndarray, guide: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """An ONNX session's feeds for input ``x`` (float32 on the host): with the case's own
        guide, unless ``guide`` gives the guide of ``x``'s scene."""
        feeds = {INPUT_NAMES[0]: np.asarray(x, dtype=np.float32)}
        if self.guide is not None:
            feeds[INPUT_NAMES[1]] = np.asarray(
                self.guide.numpy() if guide is None else guide, dtype=np.float32
            )
        return feeds

    def torch_inputs(
        self, x: np.ndarray, guide: np.ndarray | None = None
    ) -> tuple[torch.Tensor, ...]:
        """``feeds`` as the torch model's arguments, in order."""
        return tuple(torch.from_numpy(v) for v in self.feeds(x, guide).values())


class Clock(Protocol):
    """Times one round on the device that runs it (``timing.time_session``): ``start`` right
    before the round's calls, ``stop`` right after, returning the round's seconds once the
    device has finished them. A runtime without one is timed by the host's clock."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> float: ...

    def synchronize(self) -> None:
        """Wait for the device: for a step read on the host's clock (the yardstick)."""
        ...


@dataclass
class Loaded:
    """A case loaded into a runtime.

    ``step`` is what gets timed: one inference on the parity input, synchronised, with no host
    copies it can avoid (onnxruntime: inputs and outputs bound once, IO binding). ``infer`` runs
    any input of the case's shape (float32, on the host) and returns the output on the host, for
    parity and the artifact metrics; a guided layer's ``infer(x, guide)`` takes the guide of
    ``x``'s scene (by default the parity input's). Where ``step`` avoids copies,
    ``with_copies`` is the same inference as an application calls it (host input in, a new host
    output back: the figure ``latency_with_copies``) and ``bound_output`` reads what ``step``
    wrote, which must equal ``infer``'s answer bit for bit. ``clock`` times rounds on the device
    (CUDA events). ``settle`` (untimed, between rounds) waits until the runtime's own threads
    stop spinning, so that they do not slow the yardstick's rounds or what is timed next.
    """

    step: Callable[[], object]
    infer: Callable[..., np.ndarray]
    example: np.ndarray
    with_copies: Callable[[], object] | None = None
    bound_output: Callable[[], np.ndarray] | None = None
    clock: Clock | None = None
    settle: Callable[[], object] | None = None

    def output(self) -> np.ndarray:
        return self.infer(self.example)


class Runtime:
    """A registered runtime. ``timed``: pytest-benchmark measures it (the ONNX reference
    evaluator is an oracle, not a contender, and is not timed)."""

    name: ClassVar[str]
    #: where it stands in results.json and every table (lower first)
    order: ClassVar[int] = 1000
    #: the one runtime parity is measured against (exactly one registered runtime is)
    reference: ClassVar[bool] = False
    timed: ClassVar[bool] = True
    #: the regression gate compares its latency (``None``: gated exactly when it is timed)
    gated: ClassVar[bool | None] = None
    #: the artifact metrics are computed on this runtime's outputs too
    analysed: ClassVar[bool] = True
    #: its matplotlib marker and colour in every plot (a colour of ``report.style.PALETTE``,
    #: the colour-blind-safe palette; the report replaces another, or a taken one, with a free one)
    marker: ClassVar[str] = "P"
    colour: ClassVar[str] = "#555555"
    #: its parity bound where its numbers are not float32's (``parity.FLOAT16``), else None:
    #: ``parity.DEFAULT``
    parity_bound: ClassVar[Bound | None] = None
    #: where it computes: ``cpu`` or ``cuda`` (``run --runtimes gpu`` takes every ``cuda`` one)
    device: ClassVar[str] = "cpu"
    #: time ``latency_with_copies`` beside ``latency`` by default (a GPU's host-device copies are
    #: what an application pays on top of the kernels; ``run --with-copies`` asks it of all)
    times_copies: ClassVar[bool] = False
    #: left out of a run that does not name it (``--runtimes``): a variant measured on request
    optional: ClassVar[bool] = False
    #: it runs the case's ONNX export (and so its precision and exporter); torch's eager
    #: runtimes run the float32 model every deployment variant of a layer shares
    runs_export: ClassVar[bool] = True
    #: the largest output (elements) it is asked for, or None: on a case whose output is
    #: larger it checks parity on a reduced-size export of the same module
    #: (``bench/reduced.py``), recorded as such
    max_output_elements: ClassVar[int | None] = None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """What a run records of the runtime, so that the report and the gate never import
        torch or onnxruntime to learn it."""
        return {
            "reference": cls.reference,
            "timed": cls.timed,
            "gated": cls.timed if cls.gated is None else cls.gated,
            "marker": cls.marker,
            "colour": cls.colour,
            "device": cls.device,
            "optional": cls.optional,
            "runs_export": cls.runs_export,
            "session_options": cls.session_options(),
        }

    @classmethod
    def session_options(cls) -> dict[str, dict[str, str]]:
        """The options the suite sets that differ from the library's defaults, each with its
        default and why (``{option: {"suite": ..., "default": ..., "why": ...}}``): what a user
        running the defaults should know the figures assumed."""
        return {}

    def unavailable(self) -> str | None:
        """Why this runtime cannot run on this machine at all, or ``None`` if it can."""
        return None

    def executed(self, prepared: Prepared, precision: Precision) -> dict[str, Any] | None:
        """What it really computed on one inference of the case (``executed.summarise``: each
        op with its provider and element type, those off ``precision``, those off its own
        provider), or ``None`` where it cannot say. Untimed, in a session of its own."""
        return None

    def load(self, prepared: Prepared) -> Loaded:
        """Set up (session creation, device copies) and return what to check and time.
        Raises ``RuntimeSkipped`` when the runtime would not really run the case as asked."""
        raise NotImplementedError
