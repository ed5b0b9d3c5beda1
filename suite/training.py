"""The ``trained`` init: a short, seeded, bounded fit of a case as a ×scale super-resolution
model on photograph patches, on the CPU, so that the artifacts of trained networks (Odena's
figures) can be measured too. Starts from the ``random`` init; same case, same thread count,
same weights.

A guided layer (issue 35) is fitted the same way, called with each patch's guide: the guide of
its source photograph at full size (``guides.guide_for``), cut where the patch is cut, so that
the encoder's features of a patch are those of the photograph it comes from."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .guides import Guide, guide_for
from .photos import FIT_PHOTOS, area_downsample, probe, to_channels

STEPS = 150
BATCH = 4
PATCH = 16  # low-resolution patch side, pixels
LEARNING_RATE = 2e-3
PROBES = FIT_PHOTOS  # never a probe of any figure (photos.py)
SOURCE_SIZE = 256


def fit_super_resolution(
    model: nn.Module, channels: int, scale: int, seed: int, guide: Guide | None = None
) -> dict:
    """Adam on the mean squared error between the model's output for area-downsampled patches and
    the high-resolution patches (with their guide's patches where ``guide`` is given); returns
    how it was trained. The patches drawn do not depend on the guide. What a layer draws while
    training (the dropout of FeatUp's JBU range kernel) comes from ``seed`` too, on torch's
    generator forked for the fit: same case, same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _fit(model, channels, scale, seed, guide)


def _fit(model: nn.Module, channels: int, scale: int, seed: int, guide: Guide | None) -> dict:
    rng = np.random.default_rng(seed)
    size = max(SOURCE_SIZE, 2 * PATCH * scale)
    photos = [probe(name, size, size) for name in PROBES]
    sources = [to_channels(rgb, channels, seed) for rgb in photos]
    guides = [guide_for(guide, rgb, seed)[0] for rgb in photos] if guide else []
    high = PATCH * scale
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    losses = []
    model.train()
    for _ in range(STEPS):
        batch, extra = _patches(rng, sources, guides, size, high)
        target = torch.from_numpy(batch).float()
        low = torch.from_numpy(np.stack([area_downsample(b, scale) for b in batch])).float()
        output = model(low, *extra)
        h, w = min(output.shape[-2], high), min(output.shape[-1], high)
        loss = nn.functional.mse_loss(output[..., :h, :w], target[..., :h, :w])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    return {
        "steps": STEPS,
        "batch": BATCH,
        "patch": PATCH,
        "optimizer": "adam",
        "learning_rate": LEARNING_RATE,
        "probes": list(PROBES),
        **({"guide": guide.describe()} if guide else {}),
        "loss_initial": losses[0],
        "loss_final": float(np.mean(losses[-10:])),
    }


def _patches(
    rng: np.random.Generator, sources: list, guides: list, size: int, high: int
) -> tuple[np.ndarray, tuple[torch.Tensor, ...]]:
    """BATCH high-resolution patches, and their guide's patches where there is one."""
    batch, guide_batch = [], []
    for _ in range(BATCH):
        index = rng.integers(len(sources))
        top, left = rng.integers(0, size - high + 1, size=2)
        window = np.s_[:, top : top + high, left : left + high]
        batch.append(sources[index][window])
        if guides:
            guide_batch.append(guides[index][window])
    extra = (torch.from_numpy(np.stack(guide_batch)).float(),) if guides else ()
    return np.stack(batch), extra
