"""samples.npz: the run's pictures for the report, stored beside results.json (float16), written
atomically and read back by key. Reading them needs numpy alone: the report runs no model."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import UsageError
from .results import validate, write_results

Arrays = dict[str, np.ndarray]

SAMPLES_FILE = "samples.npz"


def sample_keys(index: int, names: list[str]) -> dict[str, str]:
    """Where the ``index``-th case of a run keeps its samples in samples.npz, by picture name."""
    return {name: f"c{index:03d}.{name}" for name in names}


def write_samples(out_dir: Path, arrays: Arrays) -> Path:
    """All the run's samples in one compressed file, written beside results.json atomically."""
    path = Path(out_dir) / SAMPLES_FILE
    atomic_write(path, lambda partial: np.savez_compressed(partial, **arrays), ".npz")
    return path


def load_samples(run_dir: Path, keys: set[str] | None = None, dtype=np.float32) -> Arrays:
    """The run's samples by key (only ``keys`` when given: each is decompressed on its own);
    empty when the run kept none (an older run, or none written)."""
    path = Path(run_dir) / SAMPLES_FILE
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle, np.load(handle) as data:
            wanted = data.files if keys is None else [k for k in data.files if k in keys]
            return {key: data[key].astype(dtype) for key in wanted}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise UsageError(f"{path}: not a readable samples file: {exc}") from None


def keep_drawn_samples(out: Path, results: dict, keys: set[str]) -> None:
    """Keep only the samples the report drew (a sweep's pictures are megabytes a case): each
    case's ``samples`` names only those kept, results.json first, so that a run killed between
    the two writes names no picture samples.npz lacks."""
    for case in results["cases"]:
        case["samples"] = {name: key for name, key in case["samples"].items() if key in keys}
    results["run"]["samples_kept"] = "report"
    validate(results)
    write_results(out, results)
    write_samples(out, load_samples(out, keys, dtype=np.float16))
