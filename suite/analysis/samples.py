"""Pictures of what a case does, kept with the run so that the report can draw its galleries and
the lecture's figures without running any model again.

Every sample is one channel (channel 0) of a torch output, stored as float16 in the run's
``samples.npz``. Large outputs are centre-cropped to ``MAX_SIDE`` pixels a side.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..case import Case
from ..guides import scene_guide
from ..layers import Interpolate
from ..photos import area_downsample, photo, resized, to_channels

#: The gallery's photograph and crop: the astronaut's face, the same pixels for every case.
GALLERY_PHOTO = "astronaut"
GALLERY_BOX = (40, 300, 120, 380)  # top, bottom, left, right in the 512x512 original
GALLERY_INPUT = 64
#: Inputs this small get the lecture's ramp (10, 20, 30, ...) instead of a photograph, so the
#: 2x2 bilinear example is exactly [[10, 20], [30, 40]].
RAMP_MAX_SIDE = 8
MAX_SIDE = 512
#: Channels of an intermediate feature map kept (the lecture shows "4 of 64").
FEATURE_CHANNELS = 4

Arrays = dict[str, np.ndarray]


def _crop(image: np.ndarray, side: int = MAX_SIDE) -> np.ndarray:
    h, w = image.shape[-2:]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return image[..., top : top + side, left : left + side]


def _keep(image: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        image = image.detach().numpy()
    # float16 halves the file; a deep decoder's untrained output can pass its largest finite
    # value (65504), and a picture only needs to show where it saturates, not turn to inf
    top = np.finfo(np.float16).max
    return np.clip(_crop(np.asarray(image)), -top, top).astype(np.float16)


def ramp(height: int, width: int) -> np.ndarray:
    """10, 20, 30, ... in reading order (the lecture's 2x2 example is [[10, 20], [30, 40]])."""
    return 10.0 * np.arange(1, height * width + 1, dtype=np.float64).reshape(height, width)


def gallery_original(height: int, width: int) -> np.ndarray:
    """The gallery crop as RGB in [0, 1] at ``height`` x ``width``."""
    top, bottom, left, right = GALLERY_BOX
    full = photo(GALLERY_PHOTO, 512, 512)[:, top:bottom, left:right]
    return resized(full, height, width)


def _own_input(case: Case) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The case's own input size: the ramp for tiny inputs, else the gallery photograph's
    luminance (the lecture's greyscale pictures), mapped to the case's channels; with a guided
    layer's guide of that scene at the output size (its scene made only for a guided layer)."""
    height, width = case.size
    if max(height, width) <= RAMP_MAX_SIDE:
        plane = ramp(height, width)
        image = np.repeat(plane[None], case.channels, axis=0)
    else:
        image = to_channels(gallery_original(height, width), case.channels, case.seed)
    if case.guide is None:
        return image, ()
    if max(height, width) <= RAMP_MAX_SIDE:  # the ramp held over each pixel's block, in [0, 1]
        scene = np.repeat(np.kron(plane / plane.max(), np.ones((case.scale,) * 2))[None], 3, 0)
    else:
        scene = gallery_original(*case.output_shape[-2:])
    return image, scene_guide(case, scene)


def _run(model: nn.Module, image: np.ndarray, guide: tuple[np.ndarray, ...] = ()) -> torch.Tensor:
    with torch.no_grad():
        after = (torch.from_numpy(np.asarray(g, np.float32)) for g in guide)
        return model(torch.from_numpy(image).float()[None], *after)[0]


def _interpolation_features(model: nn.Module, image: np.ndarray) -> Arrays:
    """The first few channels going into and out of the model's last interpolation layer: the
    lecture's "sample convolution outputs" and "sample upsampled outputs"."""
    layers = [m for m in model.modules() if isinstance(m, Interpolate)]
    if not layers:
        return {}
    seen: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
        seen["before"], seen["after"] = inputs[0][0], output[0]

    handle = layers[-1].register_forward_hook(hook)
    try:
        _run(model, image)
    finally:
        handle.remove()
    return {
        "features": _keep(seen["before"][:FEATURE_CHANNELS]),
        "features_upsampled": _keep(seen["after"][:FEATURE_CHANNELS]),
    }


def case_samples(case: Case, model: nn.Module, flat_output: np.ndarray | None) -> Arrays:
    """Every picture the report draws of this case (channel 0 unless stated)."""
    samples: Arrays = {}
    if flat_output is not None:
        samples["flat"] = _keep(_crop(flat_output[0, 0], 64))

    own, own_guide = _own_input(case)
    samples["input"] = _keep(own[0])
    samples["output"] = _keep(_run(model, own, own_guide)[0])
    if case.channels == 1:  # the lecture's greyscale 1 → 64 → 1 illustration; wider is unused
        samples.update(_interpolation_features(model, own))

    # The gallery: the same photograph crop for every case, its area-downsampled copy in.
    rgb = gallery_original(GALLERY_INPUT * case.scale, GALLERY_INPUT * case.scale)
    high = to_channels(rgb, case.channels, case.seed)
    low = area_downsample(high, case.scale)
    samples["gallery_input"] = _keep(low[0])
    samples["gallery_original"] = _keep(high[0])
    samples["gallery_output"] = _keep(_run(model, low, scene_guide(case, rgb))[0])
    return samples


def hypercolumn_samples(case: Case, pictures: dict[str, np.ndarray]) -> Arrays:
    """The hypercolumn illustration's pictures (see ``hypercolumn_metrics``), prefixed; kept for
    single-channel cases only (the lecture's greyscale examples), which is all the report uses."""
    if case.channels != 1:
        return {}
    return {f"hypercolumn_{name}": _keep(image) for name, image in pictures.items()}
