"""Synthetic scenes with exact masks, for the task probe (``task_probe``).

A scene is a textured background cut from one of the photographs scikit-image ships (camera,
astronaut, brick, grass: ``suite.photos``), with shapes drawn over it by ``skimage.draw``
(disks, ellipses, polygons), later shapes covering earlier ones. A shape's class is its look, not
its outline: class k is filled with its own saturated colour, modulated by a texture cut from a
photograph, so that a per-pixel linear probe can tell the classes apart and every error it makes
sits where the features blur or misplace an edge. The background is desaturated towards grey so
that no class colour is also a background colour. Label 0 is the background, 1..4 the classes.

Everything follows from (height, width, seed, index): the same arguments give the same scene,
bit for bit. Images are float64 RGB in [0, 1], shape (3, H, W); labels int64, shape (H, W).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import skimage.draw

from ..photos import LUMA, photo

#: The photographs the textures are cut from (all 512 x 512 in scikit-image).
TEXTURES = ("camera", "astronaut", "brick", "grass")
#: Fill colour of classes 1..4 (RGB): red, green, blue, yellow.
CLASS_COLOURS = np.array([[0.85, 0.15, 0.15], [0.15, 0.7, 0.2], [0.15, 0.3, 0.9], [0.9, 0.8, 0.1]])
CLASSES = 1 + len(CLASS_COLOURS)
#: How much of the background's own colour is kept (the rest is its luminance).
BACKGROUND_SATURATION = 0.3
#: A fill's brightness is its colour times (FILL_FLOOR + (1 - FILL_FLOOR) * texture).
FILL_FLOOR = 0.75
#: Shapes per scene (inclusive range) and their radius as a share of the shorter side.
SHAPES_PER_SCENE = (4, 8)
RADIUS_SHARE = (0.07, 0.2)

Pixels = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # (3, H, W) float64 RGB in [0, 1]
    labels: np.ndarray  # (H, W) int64: 0 background, 1..CLASSES-1 the shapes' classes


@cache
def _source(name: str, height: int, width: int) -> np.ndarray:
    """The photograph at height x width, one copy per size (textures are windows of it)."""
    return photo(name, height, width)


def texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """An RGB window (3, H, W) of a photograph at its own resolution, from a random offset (the
    photograph is resized up first where the window is larger than it)."""
    name = TEXTURES[rng.integers(len(TEXTURES))]
    side_h, side_w = max(height, 512), max(width, 512)
    whole = _source(name, side_h, side_w)
    top = rng.integers(side_h - height + 1)
    left = rng.integers(side_w - width + 1)
    return whole[:, top : top + height, left : left + width]


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return np.einsum("r,rhw->hw", LUMA, rgb)


def _radius(rng: np.random.Generator, shape: tuple[int, int]) -> float:
    return float(rng.uniform(*RADIUS_SHARE) * min(shape))


def _centre(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[float, float]:
    return float(rng.uniform(0, shape[0])), float(rng.uniform(0, shape[1]))


def _disk(rng: np.random.Generator, shape: tuple[int, int]) -> Pixels:
    return skimage.draw.disk(_centre(rng, shape), _radius(rng, shape), shape=shape)


def _ellipse(rng: np.random.Generator, shape: tuple[int, int]) -> Pixels:
    (r, c), radius = _centre(rng, shape), _radius(rng, shape)
    rotation = float(rng.uniform(-np.pi, np.pi))
    squash = float(rng.uniform(0.4, 0.8))
    return skimage.draw.ellipse(r, c, radius, radius * squash, shape=shape, rotation=rotation)


def _polygon(rng: np.random.Generator, shape: tuple[int, int]) -> Pixels:
    """A star-shaped polygon of 3 to 7 vertices at random angles and radii around a centre."""
    (r, c), radius = _centre(rng, shape), _radius(rng, shape)
    vertices = int(rng.integers(3, 8))
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    radii = radius * rng.uniform(0.5, 1.0, vertices)
    rows, cols = r + radii * np.sin(angles), c + radii * np.cos(angles)
    return skimage.draw.polygon(rows, cols, shape=shape)


#: The shape kinds by name: each draws the pixels of one shape from a generator.
SHAPES: dict[str, Callable[[np.random.Generator, tuple[int, int]], Pixels]] = {
    "disk": _disk,
    "ellipse": _ellipse,
    "polygon": _polygon,
}


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    rgb = texture(rng, height, width)
    grey = _luminance(rgb)[None]
    return BACKGROUND_SATURATION * rgb + (1 - BACKGROUND_SATURATION) * grey


def _fill(rng: np.random.Generator, label: int, height: int, width: int) -> np.ndarray:
    shade = FILL_FLOOR + (1 - FILL_FLOOR) * _luminance(texture(rng, height, width))
    return CLASS_COLOURS[label - 1][:, None, None] * shade[None]


def scene(height: int, width: int, seed: int, index: int) -> Scene:
    """Scene ``index`` of the set drawn from ``seed``, at height x width."""
    rng = np.random.default_rng([seed, index])
    shape = (height, width)
    image = _background(rng, height, width)
    labels = np.zeros(shape, dtype=np.int64)
    kinds = list(SHAPES)
    for _ in range(rng.integers(SHAPES_PER_SCENE[0], SHAPES_PER_SCENE[1] + 1)):
        label = int(rng.integers(1, CLASSES))
        rows, cols = SHAPES[kinds[rng.integers(len(kinds))]](rng, shape)
        image[:, rows, cols] = _fill(rng, label, height, width)[:, rows, cols]
        labels[rows, cols] = label
    return Scene(image.clip(0.0, 1.0), labels)


def scenes(height: int, width: int, seed: int, indices: range) -> list[Scene]:
    return [scene(height, width, seed, index) for index in indices]
