"""Shards of a run, for CI matrices: ``run --shard I/N`` runs every N-th case from the I-th, and
``merge`` puts the N run folders back together as the run of every case.

A shard records which of how many it is and a digest of the whole case set's ids, so a merge
can refuse what does not belong together (another case set, another commit, other library
versions or options, a shard missing or given twice) before it writes anything. Shards take
cases round-robin, so each gets a share of every method, and the merged run lists them in the
case files' own order again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import UsageError
from .samplefile import Arrays, sample_keys

SHARD = re.compile(r"(\d+)/(\d+)")
#: what every shard of one run must share (``run`` keys; ``options`` whole)
SHARED = ("versions", "options", "files")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = SHARD.fullmatch(text.strip())
        if not match:
            raise UsageError(f"--shard: {text!r} is not I/N (e.g. 2/3)")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard: {text}: I must be between 1 and N (N >= 1)")
        return cls(index, count)

    def select(self, cases: Sequence[Any]) -> list[Any]:
        return list(cases[self.index - 1 :: self.count])

    def describe(self, all_ids: Sequence[str]) -> dict[str, Any]:
        return {
            "index": self.index,
            "count": self.count,
            "cases": len(all_ids),
            "case_set": case_set(all_ids),
        }


def case_set(ids: Sequence[str]) -> str:
    """A digest of a case set's ids, in order."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def check_shards(runs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The (folder, results) pairs in shard order, once every problem that keeps them apart
    is ruled out; else a ``UsageError``, one line per problem, naming the folder."""
    problems = [f"{name}: not a shard (run without --shard)" for name, r in runs if not _of(r)]
    if problems:
        raise UsageError(problems)
    first_name, first = runs[0]
    for name, results in runs[1:]:
        problems += _differences(name, results, first_name, first)
    seen: dict[int, str] = {}
    for name, results in runs:
        index = _of(results)["index"]
        if index in seen:
            problems.append(f"{name}: shard {index} is also {seen[index]}")
        seen[index] = name
    count = _of(first)["count"]
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing and not problems:
        problems.append(f"shard{'s' if len(missing) > 1 else ''} {missing} of {count} not given")
    if problems:
        raise UsageError(problems)
    return sorted(runs, key=lambda item: _of(item[1])["index"])


def _of(results: dict[str, Any]) -> dict[str, Any] | None:
    return results["run"].get("shard")


def _differences(name: str, results: dict, first_name: str, first: dict) -> list[str]:
    run, base = results["run"], first["run"]
    found = []
    if run["git"].get("commit") != base["git"].get("commit"):
        found.append(
            f"{name}: commit {run['git'].get('commit')} is not {first_name}'s "
            f"{base['git'].get('commit')}"
        )
    for key in ("count", "case_set"):
        if _of(results)[key] != _of(first)[key]:
            found.append(f"{name}: another case set or shard count than {first_name}'s")
            break
    found += [
        f"{name}: run.{key} differs from {first_name}'s"
        for key in SHARED
        if run.get(key) != base.get(key)
    ]
    return found


def merged_cases(shards: list[dict[str, Any]]) -> list[tuple[int, int, dict[str, Any]]]:
    """(shard, position in that shard, case) in the full run's order: shard I's k-th case was
    the case set's (I - 1 + k·N)-th."""
    count = len(shards)
    placed = {
        (s - 1) + k * count: (s, k, case)
        for s, shard in enumerate(shards, start=1)
        for k, case in enumerate(shard["cases"])
    }
    ids = [placed[i][2]["id"] for i in sorted(placed)]
    if len(set(ids)) != len(ids) or case_set(ids) != _of(shards[0])["case_set"]:
        raise UsageError("the shards' cases are not the case set they name (duplicate ids?)")
    return [placed[i] for i in sorted(placed)]


def renamed_samples(
    case: dict[str, Any], new_index: int, arrays: Arrays
) -> tuple[dict[str, str], Arrays]:
    """A case's sample keys under its place in the merged run, and its arrays under them."""
    keys = sample_keys(new_index, list(case.get("samples") or {}))
    moved = {keys[name]: arrays[old] for name, old in (case.get("samples") or {}).items()}
    return keys, moved
