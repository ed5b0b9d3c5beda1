"""A trained case's fitted weights, carried from where it was prepared to every process that
times it. Fitting takes seconds a case and its float rounding may differ between machines: a
timer that fitted again would time (and export, under another cache key) another model."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import torch
from torch import nn


def fitted_weights(model: nn.Module) -> bytes:
    """The fitted model's weights and how it was trained, as bytes that travel anywhere."""
    buffer = io.BytesIO()
    record = getattr(model, "training_record", None)
    torch.save({"state": model.state_dict(), "training_record": record}, buffer)
    return buffer.getvalue()


def weights_file(folder: Path, case_id: str) -> Path:
    return Path(folder) / f"{hashlib.sha256(case_id.encode()).hexdigest()[:20]}.pt"


def write_weights(folder: Path, weights: dict[str, bytes]) -> None:
    """Each case's fitted weights in ``folder``, named by its id."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    for case_id, data in weights.items():
        weights_file(folder, case_id).write_bytes(data)


def read_weights(folder: Path | None, case_id: str) -> dict[str, Any] | None:
    """The case's fitted weights from ``folder``, or None where none travelled."""
    if folder is None or not weights_file(folder, case_id).exists():
        return None
    # weights_only: tensors, dicts, lists, numbers and strings only, never arbitrary objects
    return torch.load(weights_file(folder, case_id), weights_only=True)
