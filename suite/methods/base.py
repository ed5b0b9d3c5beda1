"""What every upsampling method declares: its keys, their defaults, its geometry and its build."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from ..errors import ParamError
from ..geometry import conv_out, conv_padding

Size = tuple[int, int]


@dataclass(frozen=True)
class Param:
    """One case-file key a method understands.

    ``kind`` is ``int`` (a positive integer unless ``minimum`` says otherwise), ``bool`` or
    ``choice`` (one of ``choices``). A ``default`` of ``None`` means "derived" (the method's
    ``resolve`` fills it in from other keys) and ``doc`` says how.
    """

    name: str
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int = 1

    def check(self, value: Any) -> Any:
        """Return ``value`` if it is of this key's kind, else raise ``ParamError``."""
        problem = _KIND_CHECKS[self.kind](self, value)
        if problem:
            raise ParamError(self.name, problem)
        return value


def _int_problem(param: Param, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be an integer, got {value!r}"
    if value < param.minimum:
        return f"must be >= {param.minimum}, got {value}"
    return None


def _bool_problem(param: Param, value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def _choice_problem(param: Param, value: Any) -> str | None:
    if value in param.choices:
        return None
    return f"must be one of {', '.join(param.choices)}; got {value!r}"


_KIND_CHECKS = {"int": _int_problem, "bool": _bool_problem, "choice": _choice_problem}


INIT = "init"


class Method:
    """Base of every registered upsampler. Subclasses set the class attributes and implement
    ``output_size`` and ``build``; ``resolve`` may derive defaults and check cross-key rules."""

    name: ClassVar[str]
    summary: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]
    #: weight initialisations this method accepts (empty: no learned weights)
    inits: ClassVar[tuple[str, ...]] = ()
    #: the method takes keys beyond ``keys()`` (a factory passes them on)
    open_keys: ClassVar[bool] = False
    #: where the method stands in every table and plot: the lecture's story, from the
    #: artifact-prone classic to the alternatives (lower first; equal orders sort by name)
    order: ClassVar[int] = 1000
    #: its colour in every plot ("#rrggbb"), distinct from every other method's: one of the
    #: colour-blind-safe palette's (``report.style.PALETTE``); the report gives a method with
    #: another colour, or one taken, a free palette colour
    colour: ClassVar[str | None] = None
    #: it takes a second input, a guide at the output size (``methods/guided.py``): its case
    #: names the guide, and it is the case's only stage
    takes_guide: ClassVar[bool] = False
    #: its learned layers carry a bias (as its paper's reference code has them)
    has_bias: ClassVar[bool] = False
    #: the keys that tell its variants apart in a label (``interpolate bilinear · random``);
    #: by default its init, where it has weights
    variant_keys: ClassVar[tuple[str, ...] | None] = None
    #: keys beyond the defaults that a small example (3 channels) needs to be built
    example: ClassVar[dict[str, Any]] = {}
    #: why each output pixel depends on the whole input (statistics over the map), so that
    #: the input's edge reaches every pixel a little and ``reach`` bounds only its windows'
    #: zero padding; empty for a local layer
    whole_image: ClassVar[str] = ""
    #: the channels a small example needs where 3 will not do (SAPA's GroupNorm of 32)
    example_channels: ClassVar[int] = 3
    #: its side in the lecture's summary claim, which the report checks in numbers
    #: (``report.verdict``): ``"questioned"`` (the layer the claim says to replace),
    #: ``"proposed"`` (its replacement) or ``None``
    lecture_claim: ClassVar[str | None] = None

    @classmethod
    def label_keys(cls) -> tuple[str, ...]:
        if cls.variant_keys is not None:
            return cls.variant_keys
        return (INIT,) if cls.inits else ()

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """What a run records of the method, so that the report never imports the registry."""
        return {
            "order": cls.order,
            "colour": cls.colour,
            "variant_keys": list(cls.label_keys()),
            "summary": cls.summary,
            "lecture_claim": cls.lecture_claim,
        }

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        names = tuple(p.name for p in cls.params)
        return (*names, INIT) if cls.inits else names

    @classmethod
    def param(cls, key: str) -> Param:
        if key == INIT:
            return Param(INIT, "choice", "random", "weight initialisation", choices=cls.inits)
        return next(p for p in cls.params if p.name == key)

    @classmethod
    def resolve(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Type-check the given keys and fill in defaults; raises ``ParamError``."""
        values = {key: cls.param(key).default for key in cls.keys()}
        for key, value in given.items():
            values[key] = cls.param(key).check(value)
        return cls.derive(values, given)

    @classmethod
    def derive(cls, values: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        """Fill derived defaults (``None``) and check rules between keys."""
        return values

    @classmethod
    def output_size(cls, params: dict[str, Any], size: Size) -> Size:
        raise NotImplementedError

    @classmethod
    def reach(cls, params: dict[str, Any]) -> int:
        """Input pixels one output pixel's window spans (its kernel, or its interpolation taps):
        how far zero padding at the input's edge can show in the output, before the scale. The
        artifact figures cut that border (``analysis.analyse.border``)."""
        return params.get("kernel") or 2

    @classmethod
    def default_keys(cls, given: dict[str, Any]) -> set[str]:
        """The ``[defaults]`` keys a case of this method takes (``given``: the case's own keys);
        ``"*"`` in the set takes every one."""
        return set(cls.keys())

    @classmethod
    def probe(cls, params: dict[str, Any], channels: int, size: Size) -> None:
        """Check at load time, with the case's own channels and input size, what only running
        the code can show; raises ``ParamError``. Registered methods' geometry is declared."""

    @classmethod
    def output_channels(cls, params: dict[str, Any], channels: int) -> int:
        """Channels out for ``channels`` in (most methods keep them); raises ``ParamError``
        naming the key when ``channels`` does not suit the method (a group that does not
        divide them)."""
        return channels

    @classmethod
    def build(cls, params: dict[str, Any], channels: int, generator: torch.Generator) -> nn.Module:
        raise NotImplementedError


# Keys shared by several methods, declared once so that their docs agree.
SCALE = Param("scale", "int", 2, "upsampling factor along H and W")
KERNEL = Param("kernel", "int", 3, "square kernel size of the (transposed) convolution")
PADDING = Param(
    "padding",
    "int",
    None,
    "zero padding; by default the padding that keeps the output exactly scale × the input",
    minimum=0,
)
MODE = Param(
    "mode", "choice", "nearest", "interpolation mode", choices=("nearest", "bilinear", "bicubic")
)
ALIGN_CORNERS = Param(
    "align_corners",
    "bool",
    None,
    "torch's align_corners for bilinear and bicubic modes (default false); refused for nearest",
)


#: Input pixels an interpolation mode reads per axis.
INTERPOLATION_TAPS = {"nearest": 1, "bilinear": 2, "bicubic": 4}


def times_scale(params: dict[str, Any], size: Size) -> Size:
    """Output size of a layer that makes every side exactly ``scale`` times longer."""
    return size[0] * params["scale"], size[1] * params["scale"]


def conv_then_scale(params: dict[str, Any], size: Size) -> Size:
    """Output size of a stride-1 convolution followed by upsampling by ``scale``."""
    pads = conv_padding(params["kernel"], params["padding"])
    h, w = (conv_out(n, params["kernel"], pads) * params["scale"] for n in size)
    return h, w


def derive_align_corners(values: dict[str, Any], given: dict[str, Any]) -> None:
    """align_corners means nothing for nearest, so it is refused there rather than ignored."""
    if values["mode"] == "nearest":
        if "align_corners" in given:
            raise ParamError("align_corners", "applies only to mode bilinear or bicubic")
        values["align_corners"] = None
    elif values["align_corners"] is None:
        values["align_corners"] = False
