"""List every case the given files (or folders of files) expand into, with resolved keys."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..casefile import load_cases

NAME = "list"
HELP = "show every expanded case of the given case files or folders"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="case files (*.toml) or folders of them")


def _keys(params: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items() if v is not None)


def main(args: argparse.Namespace) -> int:
    cases = load_cases(args.paths)
    table = Table(title=f"{len(cases)} cases", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("method")
    table.add_column("keys (one line per stage)", overflow="fold")
    table.add_column("input C×H×W", no_wrap=True)
    table.add_column("output C×H×W", no_wrap=True)
    for case in cases:
        keys = "\n".join(_keys(stage.params) for stage in case.stages)
        shape = "×".join(map(str, case.input_shape[1:]))
        out = "×".join(map(str, case.output_shape[1:]))
        # Text, not str: ids like "base[kernel=3]" must not be read as rich markup.
        table.add_row(*(Text(cell) for cell in (case.id, case.method, keys, shape, out)))
    Console(width=max(Console().width, 140)).print(table)
    return 0
