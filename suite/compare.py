"""``python -m suite compare``'s case file: the user's blocks beside the layers people choose
between, all at one geometry (channels, input size, scale). The reference layers are data
(``REFERENCE_LAYERS``); the text is an ordinary case file, kept in the run's folder so that
``python -m suite run`` can repeat the comparison."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

#: name -> the case keys of a layer people choose between, for a scale
REFERENCE_LAYERS: dict[str, Callable[[int], dict[str, Any]]] = {
    # a kernel twice the stride: the even-overlap transposed convolution (k4 s2 at ×2)
    "transposed-k{k}s{s}": lambda s: {"method": "transposed", "kernel": 2 * s, "stride": s},
    # Odena et al.'s resize-convolution: nearest, then a 3x3 convolution
    "resize-conv": lambda s: {"method": "resize_conv", "mode": "nearest"},
    # sub-pixel convolution with ICNR initialisation (Aitken et al.): checkerboard-free at init
    "pixel-shuffle-icnr": lambda s: {"method": "pixel_shuffle", "init": "icnr"},
    # the lecture's proposal: bilinear upsampling, then 1x1 channel mixing
    "bilinear-mix": lambda s: {"method": "bilinear_mix"},
    "bilinear": lambda s: {"method": "interpolate", "mode": "bilinear"},
}


def block_ids(specs: list[str]) -> dict[str, str]:
    """Each factory's case id: its function's name, or its whole spec where two share a name."""
    names = [spec.partition(":")[2] or spec for spec in specs]
    return {
        spec: name if names.count(name) == 1 else spec.replace(":", ".")
        for spec, name in zip(specs, names, strict=True)
    }


def case_text(specs: list[str], scale: int, channels: int, size: str, command: str) -> str:
    """The case file: the user's blocks first, then every reference layer."""
    lines = [
        f"# Written by `{command}`: repeat it with `python -m suite run` on this file.",
        "[defaults]",
        f"channels = {channels}",
        f"size = {_toml(size)}",
        f"scale = {scale}",
    ]
    for spec, case_id in block_ids(specs).items():
        lines += ["", "[[case]]", f"id = {_toml(case_id)}", f"factory = {_toml(spec)}"]
    for name, keys in REFERENCE_LAYERS.items():
        values = keys(scale)
        case_id = name.format(k=values.get("kernel"), s=scale)
        lines += ["", "[[case]]", f"id = {_toml(case_id)}"]
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    """A TOML scalar: integers as they are, strings quoted (JSON's quoting is TOML's)."""
    return str(value) if isinstance(value, int) else json.dumps(value)
