"""List every case the given files (or folders of files) expand into, with resolved keys."""

from __future__ import annotations

import argparse

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..casefile import load_cases

NAME = "list"
#: the width a piped listing is drawn at: wide enough that no id or key is folded
PIPED_WIDTH = 1000
HELP = "show every expanded case of the given case files or folders"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", help="case files (*.toml) or folders of them")


def _keys(params: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items() if v is not None)


def main(args: argparse.Namespace) -> int:
    cases = load_cases(args.paths)
    table = Table(
        title=f"{len(cases)} cases",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )
    table.add_column("id", no_wrap=True)  # whole, for copying into a case file or grep
    table.add_column("method", overflow="fold", max_width=12)
    table.add_column("C×H×W\nin → out", no_wrap=True)
    table.add_column("keys\n(a line per stage)", overflow="fold", ratio=1, min_width=12)
    for case in cases:
        keys = "\n".join(_keys(stage.params) for stage in case.stages)
        shapes = "\n→ ".join(
            "×".join(map(str, s[1:])) for s in (case.input_shape, case.output_shape)
        )
        # Text, not str: ids like "base[kernel=3]" must not be read as rich markup.
        method = case.method.replace(">", ">\n")  # a decoder: a stage a line
        table.add_row(*(Text(cell) for cell in (case.id, method, shapes, keys)))
    console = Console()
    if not console.is_terminal:  # piped or captured: whole lines, for grep
        console = Console(width=PIPED_WIDTH)
    console.print(table)
    return 0
