"""Probe photographs, shipped inside scikit-image's wheel (nothing is downloaded): which picture
serves which purpose, and how one is cut, resized, mapped onto a case's channels and downsampled.
Every probe is float64 RGB in [0, 1], shape (3, H, W); ``to_channels`` maps it onto a case's C
channels. This module sits below ``case``, ``training`` and ``analysis``, which all draw on it.

Channel mapping (documented convention): C = 1 takes the Rec. 601 luminance; C = 3 keeps RGB; any
other C takes a fixed convex mix of R, G and B per channel, its weights drawn from the case's seed
(non-negative, summing to 1, so every channel stays in [0, 1]).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import skimage.data  # a lazy loader: the pictures' modules load when one is first read

from .analysis.errors import ProbeError

LUMA = np.array([0.299, 0.587, 0.114])
#: Three disjoint sets of photographs, so that no figure is scored on a picture that fitted it:
#: the ``trained`` init and the hypercolumn readout are fitted on FIT_PHOTOS; the checkerboard and
#: spectral figures probe ARTIFACT_PHOTOS; the hypercolumn figures are scored on HELD_OUT_PHOTOS.
FIT_PHOTOS = ("astronaut", "coffee", "chelsea")
ARTIFACT_PHOTOS = ("camera", "brick", "grass", "moon", "coins", "clock")
HELD_OUT_PHOTOS = ("rocket", "gravel", "immunohistochemistry", "cell", "page")
PHOTOS = (*FIT_PHOTOS, *ARTIFACT_PHOTOS, *HELD_OUT_PHOTOS)


@cache
def _photo(name: str) -> np.ndarray:
    image = getattr(skimage.data, name)().astype(np.float64) / 255.0
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3].transpose(2, 0, 1))


def photo(name: str, height: int, width: int) -> np.ndarray:
    """The centre crop of the photograph with the target aspect ratio, resized (anti-aliased)."""
    return _resized_photo(name, height, width).copy()


@cache
def _resized_photo(name: str, height: int, width: int) -> np.ndarray:
    image = _photo(name)
    _, h, w = image.shape
    scale = min(h / height, w / width)
    crop_h, crop_w = round(height * scale), round(width * scale)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    crop = image[:, top : top + crop_h, left : left + crop_w]
    if crop.shape[1:] == (height, width):
        return crop
    return resized(crop, height, width)


def resized(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """``rgb`` (3, H, W) resized to (3, height, width): bicubic, anti-aliased, clipped to [0, 1]."""
    # skimage.transform brings scipy.ndimage (0.25 s): loaded by the first resize, not by every
    # process that imports this module (a timing process of unguided cases resizes nothing)
    from skimage.transform import resize

    return resize(rgb, (3, height, width), order=3, anti_aliasing=True, mode="reflect").clip(0, 1)


def list_probes() -> list[str]:
    return list(PHOTOS)


def probe(name: str, height: int, width: int) -> np.ndarray:
    """The probe ``name`` as RGB float64 in [0, 1], shape (3, height, width)."""
    if name in PHOTOS:
        return photo(name, height, width)
    raise ProbeError(f"unknown probe {name!r}; known: {', '.join(list_probes())}")


def channel_mix(channels: int, seed: int) -> np.ndarray:
    """The (C, 3) matrix that maps RGB onto C channels (see the module docstring)."""
    if channels == 1:
        return LUMA[None, :]
    if channels == 3:
        return np.eye(3)
    weights = np.random.default_rng(seed).random((channels, 3))
    return weights / weights.sum(axis=1, keepdims=True)


def to_channels(rgb: np.ndarray, channels: int, seed: int) -> np.ndarray:
    return np.einsum("cr,rhw->chw", channel_mix(channels, seed), rgb)


def area_downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor×factor blocks (the "area" filter); H and W must be multiples of factor."""
    c, h, w = image.shape
    if h % factor or w % factor:
        raise ProbeError(f"size {h}x{w} is not a multiple of the downsampling factor {factor}")
    return image.reshape(c, h // factor, factor, w // factor, factor).mean(axis=(2, 4))
