"""The ``trained`` init: a short, seeded, bounded fit of a case as a ×scale super-resolution
model on photograph patches, on the CPU, so that the artifacts of trained networks (Odena's
figures) can be measured too. Starts from the ``random`` init; same case, same thread count,
same weights."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .photos import FIT_PHOTOS, area_downsample, probe, to_channels

STEPS = 150
BATCH = 4
PATCH = 16  # low-resolution patch side, pixels
LEARNING_RATE = 2e-3
PROBES = FIT_PHOTOS  # never a probe of any figure (photos.py)
SOURCE_SIZE = 256


def fit_super_resolution(model: nn.Module, channels: int, scale: int, seed: int) -> dict:
    """Adam on the mean squared error between the model's output for area-downsampled patches and
    the high-resolution patches; returns how it was trained."""
    rng = np.random.default_rng(seed)
    size = max(SOURCE_SIZE, 2 * PATCH * scale)
    sources = [to_channels(probe(name, size, size), channels, seed) for name in PROBES]
    high = PATCH * scale
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    losses = []
    model.train()
    for _ in range(STEPS):
        batch = []
        for _ in range(BATCH):
            source = sources[rng.integers(len(sources))]
            top, left = rng.integers(0, size - high + 1, size=2)
            batch.append(source[:, top : top + high, left : left + high])
        target = torch.from_numpy(np.stack(batch)).float()
        low = torch.from_numpy(np.stack([area_downsample(b, scale) for b in batch])).float()
        output = model(low)
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
        "loss_initial": losses[0],
        "loss_final": float(np.mean(losses[-10:])),
    }
