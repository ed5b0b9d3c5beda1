"""The task probe's calibration rows (``probe_battery.toml``), in the calibration battery's form
(``battery.Row``): the ceiling, a blur sweep, a one-pixel shift, nearest against bilinear, and
the probe's invariances (gain, scene seed). What each row expects follows from how the probe is
built (the file says why, row by row), never from a run.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import numpy as np
import scipy.ndimage
import torch
from torch.nn.functional import interpolate

from .battery import Row
from .probe_scores import ProbeScores
from .task_probe import task_probe

ROWS_FILE = "analysis/probe_battery.toml"
#: What a row's metric names read from the probe's figures.
METRICS = {"probe_miou": "miou", "probe_boundary_f": "boundary_f"}


def _interpolate(mode: str) -> Callable[[torch.Tensor, int], torch.Tensor]:
    corners = {} if mode == "nearest" else {"align_corners": False}
    return lambda features, scale: interpolate(features, scale_factor=scale, mode=mode, **corners)


def _identity(features: torch.Tensor, scale: int) -> torch.Tensor:
    if scale != 1:
        raise ValueError("identity brings nothing back: it runs at scale 1 only")
    return features


#: The upsamplers a row can name: each takes (features, scale).
UPSAMPLERS: dict[str, Callable[[torch.Tensor, int], torch.Tensor]] = {
    "identity": _identity,
    "nearest": _interpolate("nearest"),
    "bilinear": _interpolate("bilinear"),
    "bicubic": _interpolate("bicubic"),
}


def _blur(features: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of σ output pixels over rows and columns, edges repeated."""
    return scipy.ndimage.gaussian_filter(features, sigma=(0, 0, sigma, sigma), mode="nearest")


def _shift(features: np.ndarray, by: tuple[int, int]) -> np.ndarray:
    """The map moved by (rows, columns) pixels, its edge repeated into the gap."""
    rows, cols = by
    pad_r, pad_c = abs(rows), abs(cols)
    padded = np.pad(features, ((0, 0), (0, 0), (pad_r, pad_r), (pad_c, pad_c)), mode="edge")
    height, width = features.shape[-2:]
    return padded[..., pad_r - rows : pad_r - rows + height, pad_c - cols : pad_c - cols + width]


def _gain(features: np.ndarray, gain: float) -> np.ndarray:
    return features * gain


#: What a row can do to the upsampled features (1, C, H, W), applied in this order.
TRANSFORMS: dict[str, Callable[[np.ndarray, Any], np.ndarray]] = {
    "blur": _blur,
    "shift": _shift,
    "gain": _gain,
}


@dataclass(frozen=True)
class ProbeSpec:
    """One probe run of a row: an upsampler, its scale, the scene seed, the transforms."""

    upsample: str
    scale: int
    seed: int
    channels: int
    output: int
    transforms: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def read(cls, table: dict[str, Any], defaults: dict[str, Any]) -> ProbeSpec:
        known = {"upsample", "scale", "seed", "transforms"}
        if unknown := set(table) - known:
            raise ValueError(f"unknown probe keys {sorted(unknown)}; allowed: {sorted(known)}")
        transforms = table.get("transforms", {})
        if unknown := set(transforms) - set(TRANSFORMS):
            raise ValueError(f"unknown transforms {sorted(unknown)}; known: {list(TRANSFORMS)}")
        ordered = tuple(
            (name, _frozen(transforms[name])) for name in TRANSFORMS if name in transforms
        )
        seed = table.get("seed", defaults["seed"])
        return cls(
            table["upsample"],
            table["scale"],
            seed,
            defaults["channels"],
            defaults["output"],
            ordered,
        )

    def upsampler(self) -> Callable[[torch.Tensor], np.ndarray]:
        def run(features: torch.Tensor) -> np.ndarray:
            out = UPSAMPLERS[self.upsample](features, self.scale).numpy()
            for name, value in self.transforms:
                out = TRANSFORMS[name](out, value)
            return out

        return run


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@lru_cache(maxsize=64)
def measure(spec: ProbeSpec) -> ProbeScores:
    size = spec.output // spec.scale
    return task_probe(spec.upsampler(), spec.channels, spec.scale, size, spec.seed)


@cache
def row_tables() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The file's defaults and rows."""
    data = tomllib.loads(files("suite").joinpath(ROWS_FILE).read_text(encoding="utf-8"))
    return data["defaults"], data["row"]


def _row(table: dict[str, Any], metric: str, defaults: dict[str, Any]) -> Row:
    name, figure = table["name"], METRICS[metric]
    probe = getattr(measure(ProbeSpec.read(table["probe"], defaults)), figure)
    if "against" not in table:
        return Row(
            name,
            metric,
            None,
            table["expected"],
            probe,
            table.get("tolerance", 0.0),
            table.get("check", "equal"),
        )
    against = measure(ProbeSpec.read(table["against"], defaults))
    if table.get("within"):
        low, high = getattr(against, f"{figure}_ci")
        return Row(name, metric, None, (low + high) / 2, probe, (high - low) / 2)
    drop = getattr(against, figure) - probe
    return Row(
        name,
        metric,
        None,
        table["expected"],
        drop,
        table.get("tolerance", 0.0),
        table.get("check", "equal"),
    )


def probe_battery() -> list[Row]:
    """Every row of ``probe_battery.toml``, once per metric it names."""
    defaults, tables = row_tables()
    rows = []
    for table in tables:
        metrics = table["metric"] if isinstance(table["metric"], list) else [table["metric"]]
        rows += [_row(table, metric, defaults) for metric in metrics]
    return rows
