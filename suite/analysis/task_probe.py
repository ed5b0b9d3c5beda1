"""The task probe: how well an upsampler brings coarse features back to where the image's edges
are, read as a segmentation would read it (issue 35; the papers' linear probing).

Per scene (``scenes.scene``, exact masks): a fixed seeded encoder (``ProbeEncoder``) takes the
scene at the output size down by the case's scale to the case's channels; the case's upsampler
brings the features back to the output size, with a guide where it takes one; a 1x1 linear probe
fitted in closed form on the training scenes (``probe_scores.fit_probe``) labels every pixel of
the held-out scenes; they score mIoU and boundary F with 95% intervals over the held-out scenes
(``probe_scores.scores``).

Convention of ``upsample``: it is called per scene as ``upsample(features)`` or, with a guide,
``upsample(features, guide)``; features are a float32 torch tensor (1, C, H/scale, W/scale), the
guide a float32 tensor (1, G, H, W); it returns (1, C', H, W) or (C', H, W), as a torch tensor
or a numpy array (C' is free: the probe fits whatever it gets).

Invariances: a gain on the upsampled features (on any channel) leaves every figure as it is (the
fit is the standardised one); the scene seed changes the scenes, and the figures move within
their intervals. The encoded scenes of one geometry are cached, so every case of that geometry
pays for the upsampling, the fit and the scoring only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import numpy as np
import torch
from torch import nn

from ..guides import GUIDE_KINDS, Guide, guide_for
from .errors import MetricError
from .probe_scores import TOLERANCE_PX, ProbeScores, boundary_counts, confusion, fit_probe
from .probe_scores import predict as predict_labels
from .probe_scores import scores as pooled_scores
from .scenes import CLASSES, Scene, scene

Upsample = Callable[..., torch.Tensor | np.ndarray]


@dataclass(frozen=True)
class ProbeSettings:
    """How many scenes fit the probe and how many score it; the boundary tolerance (px)."""

    train_scenes: int = 8
    held_out_scenes: int = 16
    tolerance_px: float = TOLERANCE_PX


SETTINGS = ProbeSettings()
#: The encoder's seed: one fixed encoder for every case, so the case's seed moves only the scenes.
ENCODER_SEED = 0


class ProbeEncoder(nn.Module):
    """Frozen, seeded: a 1x1 convolution RGB -> C and a ReLU at full size, an area pooling by
    ``scale`` (none at 1), a 1x1 convolution C -> C and a ReLU. He-normal weights, biases
    uniform in [-0.5, 0.5], from ``torch.Generator().manual_seed(seed)``. Every layer but the
    pooling is per pixel, so the encoder moves no edge and adds none of its own (a 3x3 layer of
    random weights shifts each channel by a fraction of a pixel and lights texture edges): where
    the probe finds a boundary misplaced, the pooling and the upsampler put it there."""

    def __init__(self, channels: int, scale: int, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.first = self._conv(3, channels, generator)
        self.pool = nn.AvgPool2d(scale) if scale > 1 else nn.Identity()
        self.second = self._conv(channels, channels, generator)
        self.requires_grad_(False).eval()

    @staticmethod
    def _conv(inputs: int, outputs: int, generator: torch.Generator) -> nn.Conv2d:
        conv = nn.Conv2d(inputs, outputs, 1)
        with torch.no_grad():
            weight = torch.randn(conv.weight.shape, generator=generator)
            conv.weight.copy_(weight * (2 / inputs) ** 0.5)
            conv.bias.copy_(torch.rand(outputs, generator=generator) - 0.5)
        return conv

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        features = torch.relu(self.first(image - 0.5))
        return torch.relu(self.second(self.pool(features)))


@dataclass(frozen=True)
class Encoded:
    """One scene: its image (1, 3, H, W), its features (1, C, H/s, W/s) and its labels (H, W)."""

    image: torch.Tensor
    features: torch.Tensor
    labels: np.ndarray


@lru_cache(maxsize=4)
def encoded_scenes(
    channels: int, scale: int, size: tuple[int, int], seed: int, count: int
) -> tuple[Encoded, ...]:
    """Scenes 0..count-1 of ``seed`` at the output size (size x scale), encoded."""
    height, width = size[0] * scale, size[1] * scale
    encoder = ProbeEncoder(channels, scale, ENCODER_SEED)
    out = []
    for index in range(count):
        drawn: Scene = scene(height, width, seed, index)
        image = torch.from_numpy(drawn.image).float()[None]
        with torch.no_grad():
            out.append(Encoded(image, encoder(image), drawn.labels))
    return tuple(out)


def _as_map(output: torch.Tensor | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The upsampler's answer as (C', H, W) float64, refused in one line at the wrong size."""
    if isinstance(output, torch.Tensor):
        output = output.detach().cpu().numpy()
    array = np.asarray(output, dtype=np.float64)
    array = array[0] if array.ndim == 4 else array
    if array.ndim != 3 or array.shape[1:] != shape:
        raise MetricError(
            f"the upsampler gave shape {array.shape}; the probe needs (C, {shape[0]}, {shape[1]})"
        )
    if not np.isfinite(array).all():
        raise MetricError("the upsampler gave non-finite features")
    return array


def upsampled(
    scenes: tuple[Encoded, ...],
    upsample: Upsample,
    guide: str | None,
    guide_channels: int,
    seed: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(upsampled features, labels) per scene, one scene at a time."""
    if guide is not None and guide not in GUIDE_KINDS:
        raise MetricError(f"unknown guide {guide!r}; known: {', '.join(GUIDE_KINDS)}")
    for item in scenes:
        with torch.no_grad():
            if guide is None:
                output = upsample(item.features)
            else:
                made = guide_for(Guide(guide, guide_channels), item.image[0].numpy(), seed)
                output = upsample(item.features, torch.from_numpy(made))
        yield _as_map(output, item.labels.shape), item.labels


def task_probe(
    upsample: Upsample,
    channels: int,
    scale: int,
    size: int | tuple[int, int],
    seed: int,
    guide: str | None = None,
    *,
    guide_channels: int | None = None,
    settings: ProbeSettings = SETTINGS,
) -> ProbeScores:
    """The probe's mIoU and boundary F (with intervals) for ``upsample`` at a case's geometry:
    ``size`` is the input's (the scenes are size x scale), ``guide`` a ``guides.GUIDE_KINDS``
    or None,
    ``guide_channels`` the guide's channels (default: 3 for the image, C for the encoder)."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    count = settings.train_scenes + settings.held_out_scenes
    encoded = encoded_scenes(channels, scale, size, seed, count)
    if guide_channels is None:
        guide_channels = 3 if guide == "image" else channels
    maps = upsampled(encoded, upsample, guide, guide_channels, seed)
    weights = fit_probe(islice(maps, settings.train_scenes), CLASSES)
    confusions, counts = [], []
    for features, labels in maps:
        predicted = predict_labels(weights, features)
        confusions.append(confusion(labels, predicted, CLASSES))
        counts.append(boundary_counts(labels, predicted, settings.tolerance_px))
    return pooled_scores(np.array(confusions), np.array(counts), seed, settings.tolerance_px)
