"""Atomic writes: a file is written beside its target and renamed over it, so a reader (or a
run killed midway) sees the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """A scratch path beside ``path`` to write to; renamed over ``path`` if the block ends
    normally, removed if it raises. ``suffix`` keeps a writer that insists on an extension
    (``numpy.savez`` adds ``.npz``) from writing elsewhere."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial{suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def atomic_write(path: Path, write: Callable[[Path], Any], suffix: str = "") -> None:
    """``write(scratch)`` then rename the scratch file over ``path``."""
    with atomic_path(path, suffix) as partial:
        write(partial)


def write_json_atomic(path: Path, data: Any) -> None:
    """JSON (no NaN: it is not JSON) written atomically."""
    text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    atomic_write(path, lambda partial: partial.write_text(text, encoding="utf-8"))
