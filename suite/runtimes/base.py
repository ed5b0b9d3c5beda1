"""What a runtime is: something that turns a prepared case into a callable producing its output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn


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


@dataclass
class Loaded:
    """A case loaded into a runtime.

    ``step`` is what gets timed: one inference on the parity input, synchronised, with no host
    copies it can avoid. ``infer`` runs any input of the case's shape (float32, on the host) and
    returns the output on the host, for parity and the artifact metrics.
    """

    step: Callable[[], object]
    infer: Callable[[np.ndarray], np.ndarray]
    example: np.ndarray

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
    #: its matplotlib marker and colour in every plot
    marker: ClassVar[str] = "P"
    colour: ClassVar[str] = "#555555"

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
        }

    def unavailable(self) -> str | None:
        """Why this runtime cannot run on this machine at all, or ``None`` if it can."""
        return None

    def load(self, prepared: Prepared) -> Loaded:
        """Set up (session creation, device copies) and return what to check and time.
        Raises ``RuntimeSkipped`` when the runtime would not really run the case as asked."""
        raise NotImplementedError
