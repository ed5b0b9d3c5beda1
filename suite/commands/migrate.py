"""Rewrite runs of an older results schema in place, in this suite's (``suite/migrate.py``):
each file is validated before it is replaced, atomically, so a run is either migrated or left
as it was."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..atomic import write_json_atomic
from ..results import RESULTS_FILE, SCHEMA_VERSION, load_run

NAME = "migrate"
HELP = "rewrite runs of an older results schema in this suite's"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", type=Path, nargs="+", help="run folders to migrate")


def main(args: argparse.Namespace) -> int:
    for run_dir in args.run_dirs:
        path = run_dir / RESULTS_FILE
        results = load_run(run_dir)  # migrated in memory and validated, or one line
        before = json.loads(path.read_text(encoding="utf-8"))["schema_version"]
        if before == SCHEMA_VERSION:
            print(f"{path}: already schema {SCHEMA_VERSION}")
            continue
        write_json_atomic(path, results)
        print(f"{path}: schema {before} -> {SCHEMA_VERSION}")
    return 0
