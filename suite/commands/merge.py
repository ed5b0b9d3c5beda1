"""Merge the run folders of ``run --shard I/N`` (all N of them) into one run: results.json with
every case in the case files' order, samples.npz, and each shard's timing JSON. Nothing is
written unless every shard belongs (same case set, commit, library versions and options; each
shard once); exit 2 with one line per problem otherwise."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from rich.console import Console

from ..errors import UsageError
from ..results import RESULTS_FILE, TIMING_DIR, load_run, validate, write_results
from ..samplefile import load_samples, write_samples
from ..shard import check_shards, merged_cases, renamed_samples

NAME = "merge"
HELP = "merge the run folders of run --shard I/N into the run of every case"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+", type=Path, help="the N shards' run folders")
    parser.add_argument("--out", type=Path, required=True, help="the merged run's folder")
    parser.add_argument("--force", action="store_true", help="replace an existing results.json")


def merged_run(shards: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    """The first shard's run record, as the run of all of them: the longest wall time (shards
    run side by side), every shard's machines, and the names of the runs merged. Each latency
    keeps the machine class it was timed on, so shards timed on different machines merge into
    one run whose latencies the gate compares class by class."""
    run = {key: value for key, value in shards[0]["run"].items() if key != "shard"}
    run["id"] = run_id
    run["machines"] = [m for s in shards for m in s["run"].get("machines", [])]
    run["wall_s"] = max(s["run"]["wall_s"] for s in shards)
    run["finished"] = max(s["run"]["finished"] for s in shards)
    run["merged_from"] = [s["run"]["id"] for s in shards]
    return run


def main(args: argparse.Namespace) -> int:
    out: Path = args.out
    if (out / RESULTS_FILE).exists() and not args.force:
        raise UsageError(f"--out: {out / RESULTS_FILE} exists; pass --force to replace it")
    named = check_shards([(str(d), load_run(d)) for d in args.run_dirs])
    shards = [results for _, results in named]
    folders = {index: Path(name) for index, (name, _) in enumerate(named, start=1)}
    samples = {index: load_samples(folder) for index, folder in folders.items()}
    cases, arrays = [], {}
    for new_index, (shard, _, case) in enumerate(merged_cases(shards)):
        keys, moved = renamed_samples(case, new_index, samples[shard])
        cases.append({**case, "samples": keys})
        arrays.update(moved)
    results = {**shards[0], "run": merged_run(shards, out.name), "cases": cases}
    validate(results)  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    for index, folder in folders.items():
        for timing in sorted((folder / TIMING_DIR).glob("*.json")):
            target = out / TIMING_DIR / f"shard{index}-{timing.name}"
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(timing, target)
    write_samples(out, arrays)
    path = write_results(out, results)
    Console(highlight=False).print(f"merged {len(shards)} shards, {len(cases)} cases: {path}")
    return 0
