"""What a guide is: the second input of a guided upsampler, at the output size, made from the
same scene as the features it upsamples (issue 35).

``image``: the scene's RGB mapped onto the guide's channels (``photos.to_channels``: the RGB
itself at 3). ``encoder``: the task probe's fixed seeded encoder (``analysis.task_probe.
ProbeEncoder``) at scale 1, so features of the same encoder that made the coarse ones, at full
size. Every figure that shows an upsampler a scene shows a guided one that scene as its guide:
the parity photograph for parity and timing, each probe photograph for the image figures, a
flat grey field for the flat-field ripple.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from .photos import to_channels

IMAGE, ENCODER = "image", "encoder"
GUIDE_KINDS = (IMAGE, ENCODER)
#: The grey of the flat scene behind a constant input (the flat-field ripple's guide).
FLAT_GREY = 0.5


@dataclass(frozen=True)
class Guide:
    """A case's guide: what it is and its channels (its size is the case's output size)."""

    kind: str
    channels: int

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "channels": self.channels}


def guide_for(guide: Guide, rgb: np.ndarray, seed: int) -> np.ndarray:
    """The guide of the scene ``rgb`` (3, H, W) in [0, 1]: float32 (1, channels, H, W).
    ``seed``: the case's, which maps RGB onto channels as its features are mapped."""
    if guide.kind == IMAGE:
        mapped = to_channels(np.asarray(rgb, np.float64), guide.channels, seed)
        return np.ascontiguousarray(mapped[None], dtype=np.float32)
    if guide.kind == ENCODER:
        from .analysis.task_probe import ENCODER_SEED, ProbeEncoder  # the probe's own encoder

        image = torch.from_numpy(np.asarray(rgb, np.float32))[None]
        with torch.no_grad():
            features = ProbeEncoder(guide.channels, 1, ENCODER_SEED)(image)
        return features.numpy()
    raise ValueError(f"unknown guide {guide.kind!r}; known: {', '.join(GUIDE_KINDS)}")


class Guided(Protocol):
    """What a case tells the guide of a scene (``case.Case``)."""

    @property
    def guide(self) -> Guide | None: ...

    seed: int

    @property
    def output_shape(self) -> tuple[int, int, int, int]: ...


def scene_guide(case: Guided, rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    """What a call of ``case``'s layer on the scene ``rgb`` (3, H, W at the output size) passes
    after the features: its guide, or nothing for a layer of one input."""
    return () if case.guide is None else (guide_for(case.guide, rgb, case.seed),)


def flat_scene_guide(case: Guided) -> tuple[np.ndarray, ...]:
    """``scene_guide`` of a flat grey scene at the case's output size."""
    return scene_guide(case, np.full((3, *case.output_shape[-2:]), FLAT_GREY))
