"""The guided upsamplers (``suite/guided``: FADE, SAPA-B, FeatUp's JBU stack, AnyUp) as
registered methods: each case file names one with its guide, ``guide = "encoder"`` or
``"image"`` (``suite/guides.py``), and ``guide_channels`` where the default does not suit.

A guided method's module takes two inputs, the features and the guide at the output size; it is
a case's only stage (its guide is at the case's output size). ``init = "random"`` is the
authors' own initialisation; ``"trained"`` fits it from there as every trained case is fitted
(``suite/training.py``), each patch with its guide."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import ParamError
from ..guided import GUIDED, Guided
from ..guides import ENCODER, GUIDE_KINDS, Guide
from .base import Method, Param, Size, times_scale
from .registry import register

GUIDE = Param(
    "guide",
    "choice",
    None,
    "a guided method's second input at the output size: encoder (features of the probe's "
    "seeded encoder) or image (the scene's RGB mapped to guide_channels); required",
    choices=GUIDE_KINDS,
)
GUIDE_CHANNELS = Param(
    "guide_channels",
    "int",
    None,
    "channels of the guide; by default the case's channels for encoder, 3 for image",
)
GUIDE_KEYS = (GUIDE.name, GUIDE_CHANNELS.name)
#: Input pixels that zero padding can reach through each method's windows (``Method.reach``):
#: FADE reassembles 5x5 with kernels from a 3x3 encoder; SAPA reassembles 5x5; the JBU stack's
#: range kernel spans its radius (3) both ways; AnyUp's 5x5 filter bank zero-pads (its windows
#: are clipped, its convolutions reflect).
REACH = {"fade": 8, "sapa": 5, "jbu": 7, "anyup": 7}
ORDER = {"fade": 100, "sapa": 110, "jbu": 120, "anyup": 130}
#: ``Method.whole_image``: what makes a method's every output pixel depend on the whole input
WHOLE_IMAGE = {
    "sapa": "GroupNorm of the features and of the guide, over the whole map",
    "anyup": "GroupNorm in its encoders, and attention windows a tenth of the image's size",
}
#: SAPA's GroupNorm(32) takes multiples of 32 channels, features and guide alike
EXAMPLE_CHANNELS = {"sapa": 32}


class GuidedMethod(Method):
    """A registered guided upsampler (one subclass per ``suite.guided`` entry)."""

    guided: ClassVar[Guided]
    takes_guide = True
    has_bias = True
    params = (
        Param("scale", "int", 2, "upsampling factor along H and W (a power of two)"),
        GUIDE,
        GUIDE_CHANNELS,
    )
    inits = ("random", "trained")
    variant_keys = (GUIDE.name,)

    @classmethod
    def derive(cls, values: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        if values["scale"] not in cls.guided.scales:
            scales = ", ".join(map(str, cls.guided.scales))
            raise ParamError("scale", f"{cls.name} upsamples by {scales}, not {values['scale']}")
        if values[GUIDE.name] is None:
            others = " or ".join(repr(k) for k in GUIDE_KINDS if k != cls.guided.guide)
            raise ParamError(
                GUIDE.name,
                f"{cls.name} upsamples with a guide: give guide = {cls.guided.guide!r} (its "
                f"authors') or {others}",
            )
        return values

    @classmethod
    def guide_of(cls, params: dict[str, Any], channels: int) -> Guide:
        kind = params[GUIDE.name]
        given = params.get(GUIDE_CHANNELS.name)
        return Guide(kind, given if given is not None else (channels if kind == ENCODER else 3))

    @classmethod
    def probe(cls, params: dict[str, Any], channels: int, size: Size) -> None:
        """Build it once at the case's channels: the authors' own rules (FADE's equal channels,
        SAPA's GroupNorm of 32) refuse a guide that does not suit, naming ``guide_channels``."""
        guide = cls.guide_of(params, channels)
        try:
            cls.guided.build(channels, guide.channels, params["scale"], 0)
        except ValueError as exc:
            why = f"{guide.kind} guide of {guide.channels}: {exc}"
            raise ParamError(GUIDE_CHANNELS.name, why) from None

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        return REACH[cls.name]

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        return times_scale(params, size)

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        guide = cls.guide_of(params, channels)
        return cls.guided.build(channels, guide.channels, params["scale"], seed)


def _register(guided: Guided) -> type[GuidedMethod]:
    attributes = {
        "__doc__": f"{guided.summary}. Authors' defaults: {guided.defaults}; parameter count "
        f"as {guided.reference.repository} at {guided.reference.commit[:7]}.",
        "name": guided.name,
        "summary": guided.summary,
        "guided": guided,
        "order": ORDER[guided.name],
        "example": {GUIDE.name: guided.guide},
        "example_channels": EXAMPLE_CHANNELS.get(guided.name, 3),
        "whole_image": WHOLE_IMAGE.get(guided.name, ""),
    }
    return register(type(f"{guided.name.title()}Method", (GuidedMethod,), attributes))


for _guided in GUIDED.values():
    _register(_guided)

__all__ = ["GUIDE_KEYS", "GuidedMethod"]
