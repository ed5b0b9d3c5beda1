"""Keys of what computed a figure: the suite's own source and data files, the library versions
and the thread count. A result cached under such a key is read back only by the same code on the
same libraries; any edit to the suite gives a new key (a stale entry is never read)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from .atomic import write_json_atomic
from .environment import versions

PACKAGE = Path(__file__).parent
#: files whose content decides what the suite computes
SOURCE_SUFFIXES = (".py", ".toml", ".json")


@cache
def source_digest(excluding: frozenset[str] = frozenset()) -> str:
    """sha256 over every source and data file of the package, by relative path and content;
    but ``excluding`` (relative paths: a prepared case digests its method modules apart,
    ``casecode.py``)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.suffix in SOURCE_SUFFIXES):
        if str(path.relative_to(PACKAGE)) not in excluding:
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def code_key(threads: int, **more: Any) -> str:
    """The key of a computation by this code, these libraries and ``threads`` (and ``more``)."""
    parts = {"source": source_digest(), "versions": versions(), "threads": threads, **more}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def read_cached(folder: Path, key: str) -> Any | None:
    """The value stored under ``key``, or None (absent, or unreadable: then computed again)."""
    path = folder / f"{key}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record["value"] if isinstance(record, dict) and record.get("key") == key else None


def write_cached(folder: Path, key: str, value: Any) -> None:
    """Store ``value`` under ``key``, atomically (a half-written entry is never read)."""
    write_json_atomic(folder / f"{key}.json", {"key": key, "value": value})


def cached(
    folder: Path, key: str, compute: Callable[[], Any], fresh: bool = False
) -> tuple[Any, bool]:
    """The value under ``key``, computed and stored where there is none (or ``fresh``: always);
    and whether it was read."""
    value = None if fresh else read_cached(folder, key)
    if value is not None:
        return value, True
    value = compute()
    write_cached(folder, key, value)
    return value, False
