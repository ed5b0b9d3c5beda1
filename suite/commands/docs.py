"""Write the docs' reference pages, docs/reference/*.md, from the registries they describe (case
keys, methods, runtimes, figures, the command line): ``suite/docs_tables.py``.

``--check`` writes nothing: it exits 1, naming each page that differs from what the registries
give now (or is missing, or is no generated page), so that CI fails on stale docs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError

NAME = "docs"
HELP = "write docs/reference/*.md from the registries (--check: exit 1 if one is stale)"
REFERENCE_DIR = Path("docs/reference")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=REFERENCE_DIR,
        help=f"the reference pages' folder (default: {REFERENCE_DIR}, from the repository root)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every page that is stale, missing or not generated",
    )


def stale_pages(folder: Path, pages: dict[str, str]) -> list[str]:
    """One line per page of ``folder`` that differs from ``pages``, is missing, or is a Markdown
    file no table generates."""
    problems = []
    for name, text in pages.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: stale (it differs from what the registries give now)")
    for path in sorted(folder.glob("*.md")):
        if path.name not in pages:
            problems.append(f"{path}: no table generates it")
    return problems


def main(args: argparse.Namespace) -> int:
    # the registries it reads load onnxruntime, which no other command needs
    from ..docs_tables import pages as generated

    pages = generated()
    if args.check:
        if not args.out.is_dir():
            raise UsageError(f"{args.out}: not a folder (run from the repository root)")
        problems = stale_pages(args.out, pages)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run `python -m suite docs` and commit docs/reference/", file=sys.stderr)
        return 1 if problems else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(pages)} pages to {args.out}")
    return 0
