"""``python -m suite COMMAND``: exit 0 on success, 1 when a run recorded a failed case, 2 for bad
input (a case file, an option, a path), always with one line per problem and no traceback."""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from .commands import (
    baseline,
    compare,
    docs,
    gate,
    list_cases,
    merge,
    migrate,
    noise,
    plan,
    report,
    run,
    worker,
)
from .errors import UsageError

COMMANDS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        list_cases,
        run,
        compare,
        merge,
        plan,
        report,
        baseline,
        gate,
        noise,
        worker,
        migrate,
        docs,
    )
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
        raise UsageError(f"{self.prog}: {message}")


def _plain(docstring: str | None) -> str | None:
    """A command module's docstring as ``--help`` shows it: without its reST literal quotes."""
    return docstring.replace("``", "") if docstring else docstring


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m suite", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in COMMANDS.items():
        sub = commands.add_parser(name, help=module.HELP, description=_plain(module.__doc__))
        module.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command].main(args)
    except UsageError as exc:
        # Plain writes: one problem per line, never wrapped, so that scripts can grep them.
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no results were written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
