"""A case: one model (one or more upsampling stages) on one input, with its own tolerances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from . import training
from .exporters import DYNAMO, OPSET
from .guides import Guide, guide_for
from .methods import Stage
from .photos import HELD_OUT_PHOTOS, photo, to_channels
from .precision import FP32, get_precision

Size = tuple[int, int]

#: Keys that belong to the case as a whole rather than to one of its stages.
CASE_KEYS: dict[str, str] = {
    "id": "name of the case, unique across the files of a run",
    "method": "registered method of a single-stage case",
    "stage": "array of [[case.stage]] tables, one per layer, for a multi-stage decoder",
    "size": "input height and width: an integer (square) or a string 'HxW' (default 64)",
    "channels": "channels in and out of every stage (default 1)",
    "seed": "seed of the weights and of the parity input (default 0)",
    "seeds": "weight seeds the image figures and their intervals pool (seed, seed + 1, ...; "
    "default 1)",
    "tolerance": "parity override: {atol, rtol, reason}; reason is required",
    "gate": "latency gate override: {min_effect, slowdown, reason}; reason is required "
    "(slowdown: an injected slowdown factor, for measuring what the gate catches)",
    "precision": "what the export is deployed at: fp32 (default), fp16 or int8 (static QDQ, "
    "calibrated on the fitting photographs)",
    "exporter": "what exports the model: dynamo (default) or torchscript",
    "opset": f"the ONNX opset the exporter targets (default {OPSET})",
    "probe": "score the layer with the task probe (mIoU and boundary F of a linear probe on "
    "synthetic scenes, ~1-10 s a case): true or false (default false)",
}
DEFAULT_SIZE = 64
DEFAULT_CHANNELS = 1
DEFAULT_SEED = 0
#: The parity input is drawn from its own stream, so that adding a stage leaves it unchanged.
INPUT_STREAM = 0x5EED
#: A calibrated precision's parity input: a photograph its calibration never saw.
PARITY_PHOTO = HELD_OUT_PHOTOS[0]


@dataclass(frozen=True)
class Tolerance:
    """A per-case parity override: |y - ref| <= atol + rtol · max|ref| elementwise max."""

    atol: float | None
    rtol: float | None
    reason: str


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    stages: tuple[Stage, ...]
    size: Size = (DEFAULT_SIZE, DEFAULT_SIZE)
    channels: int = DEFAULT_CHANNELS
    seed: int = DEFAULT_SEED
    #: weight seeds the artifact figures pool: seed, seed + 1, ..., seed + seeds - 1
    seeds: int = 1
    tolerance: Tolerance | None = None
    #: the regression gate's smallest latency change that counts, with its reason
    gate: dict[str, Any] | None = field(default=None, hash=False)
    #: how the model is deployed: its export's precision, exporter and opset
    precision: str = FP32
    exporter: str = DYNAMO
    opset: int = OPSET
    #: the task probe scores it (``analysis/task_probe.py``)
    probe: bool = False

    @property
    def method(self) -> str:
        return ">".join(stage.method for stage in self.stages)

    @property
    def scale(self) -> int:
        total = 1
        for stage in self.stages:
            total *= stage.scale
        return total

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (1, self.channels, *self.size)

    @property
    def stage_channels(self) -> list[int]:
        """Channels into each stage, then out of the last (a channel-reducing stage, such as
        bilinear additive upsampling, hands fewer to the next)."""
        flow = [self.channels]
        for stage in self.stages:
            flow.append(stage.output_channels(flow[-1]))
        return flow

    @property
    def out_channels(self) -> int:
        return self.stage_channels[-1]

    @property
    def guide(self) -> Guide | None:
        """The guide its (only) stage takes, or None for a layer of one input."""
        stage = self.stages[0]
        if not stage.spec.takes_guide:
            return None
        return stage.spec.guide_of(stage.params, self.channels)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        size = self.size
        for stage in self.stages:
            size = stage.output_size(size)
        return (1, self.out_channels, *size)

    @property
    def deployed(self) -> bool:
        """Exported otherwise than by default: a deployment variant. Its torch runtimes run the
        float32 model every variant shares, so only the runtimes of its export are timed."""
        return (self.precision, self.exporter, self.opset) != (FP32, DYNAMO, OPSET)

    @property
    def trained(self) -> bool:
        return any(stage.params.get("init") == "trained" for stage in self.stages)

    def build(self, fitted: dict[str, Any] | None = None) -> nn.Module:
        """The seeded torch model, in eval mode. Stages draw weights in order from one stream.
        With ``init = "trained"`` the model is then fitted (suite/training.py) and carries
        how in ``model.training_record``; or, given ``fitted`` (``fitted_weights`` of the
        model as fitted elsewhere), takes those weights: every process times the same model."""
        generator = torch.Generator().manual_seed(self.seed)
        layers = [
            stage.build(channels, generator)
            for stage, channels in zip(self.stages, self.stage_channels, strict=False)
        ]
        model = layers[0] if len(layers) == 1 else nn.Sequential(*layers)
        if self.trained and fitted is not None:
            model.load_state_dict(fitted["state"])
            model.training_record = fitted["training_record"]
        elif self.trained:
            model.training_record = training.fit_super_resolution(
                model, self.channels, self.scale, self.seed, self.guide
            )
        return model.eval()

    def make_input(self) -> torch.Tensor:
        """The seeded parity input: standard normal, float32, batch 1; for a calibrated
        precision (int8), a held-out photograph on the case's channels."""
        if get_precision(self.precision).calibrated:
            image = to_channels(photo(PARITY_PHOTO, *self.size), self.channels, self.seed)
            return torch.from_numpy(np.ascontiguousarray(image[None], dtype=np.float32))
        generator = torch.Generator().manual_seed(self.seed ^ INPUT_STREAM)
        return torch.randn(self.input_shape, generator=generator)

    def make_guide(self) -> torch.Tensor | None:
        """The parity input's guide: that of a held-out photograph at the output size (the
        parity features are noise; the guide is a scene, as a guided layer meets one)."""
        if self.guide is None:
            return None
        rgb = photo(PARITY_PHOTO, *self.output_shape[-2:])
        return torch.from_numpy(guide_for(self.guide, rgb, self.seed))

    def make_inputs(self) -> tuple[torch.Tensor, ...]:
        """What the model is called with: the parity input, then its guide where it takes one."""
        guide = self.make_guide()
        return (self.make_input(),) if guide is None else (self.make_input(), guide)

    def describe(self) -> dict[str, Any]:
        """The resolved keys as results.json records them."""
        single = self.stages[0].params if len(self.stages) == 1 else {}
        record: dict[str, Any] = {
            "id": self.id,
            "file": self.file,
            "method": self.method,
            "kernel": single.get("kernel"),
            "stride": single.get("stride"),
            "scale": self.scale,
            "size": list(self.size),
            "channels": self.channels,
            "seed": self.seed,
            "seeds": self.seeds,
            "stages": [{"method": s.method, **s.params} for s in self.stages],
            "tolerance": None,
            "gate": self.gate,
            "precision": self.precision,
            "exporter": self.exporter,
            "opset": self.opset,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "guide": None if self.guide is None else self.guide.describe(),
            "probe": self.probe,
        }
        if self.tolerance is not None:
            record["tolerance"] = {
                "atol": self.tolerance.atol,
                "rtol": self.tolerance.rtol,
                "reason": self.tolerance.reason,
            }
        return record
