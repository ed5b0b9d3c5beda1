"""Your own upsampling block beside the layers people choose between, at your geometry, in one
command and no case file: ``python -m suite compare mypkg.blocks:make_block --scale 2
--channels 64 --size 64``. It writes the comparison's case file into the run's folder and runs
it as ``python -m suite run`` would (quick timing unless ``--full``); the summary and the report
end and begin with the decision. Exit status as ``run``'s."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from ..casefile import load_text
from ..compare import case_text
from ..errors import UsageError
from ..results import RESULTS_FILE
from . import run

NAME = "compare"
HELP = "run your own block (a factory) beside the reference layers at one geometry"
CASE_FILE = "compare.toml"
#: the options of ``run`` that a comparison passes on as they are
PASSED_ON = ("runtimes", "threads", "workers", "cache", "processes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "factories",
        nargs="+",
        metavar="PACKAGE.MODULE:FUNCTION",
        help="your blocks: each function is called as f(channels=C, scale=S) and returns a "
        "torch.nn.Module mapping (1, C, H, W) to (1, C, S·H, S·W)",
    )
    parser.add_argument("--scale", type=int, default=2, help="upsampling factor (default 2)")
    parser.add_argument("--channels", type=int, default=64, help="channels (default 64)")
    parser.add_argument("--size", default="64", help="input size, N or HxW (default 64)")
    parser.add_argument("--out", type=Path, help="run folder (default: a new one in results/runs)")
    parser.add_argument("--force", action="store_true", help="replace a finished run in --out")
    parser.add_argument(
        "--full",
        action="store_true",
        help="time as the default bench does (fresh processes and sessions) instead of quick",
    )
    parser.add_argument("--no-report", dest="report", action="store_false", help="no report")
    run_options = argparse.ArgumentParser(add_help=False)
    run.add_arguments(run_options)
    for action in run_options._actions:
        if action.dest in PASSED_ON:
            parser._add_action(action)


def main(args: argparse.Namespace) -> int:
    if args.scale < 2:
        raise UsageError(f"--scale: must be >= 2 (an upsampler), got {args.scale}")
    size = args.size if "x" in args.size.lower() else _integer_size(args.size)
    command = "python -m suite compare " + shlex.join(_given(args))
    text = case_text(args.factories, args.scale, args.channels, size, command)
    load_text(text, NAME)  # every problem as one line, before anything is written
    out = args.out or run.RUNS_DIR / run.new_run_id()
    if (out / RESULTS_FILE).exists() and not args.force:
        raise UsageError(f"--out: {out / RESULTS_FILE} exists; pass --force to replace it")
    out.mkdir(parents=True, exist_ok=True)
    (out / CASE_FILE).write_text(text, encoding="utf-8")
    argv = [str(out / CASE_FILE), "--out", str(out), "--force"]
    argv += [] if args.full else ["--quick"]
    argv += [] if args.report else ["--no-report"]
    for name in PASSED_ON:
        if getattr(args, name) is not None:
            argv += [f"--{name}", str(getattr(args, name))]
    parser = argparse.ArgumentParser(prog="python -m suite compare")
    run.add_arguments(parser)
    return run.main(parser.parse_args(argv))


def _integer_size(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"--size: must be a positive integer or HxW, got {text!r}")
    return int(text)


def _given(args: argparse.Namespace) -> list[str]:
    """The comparison's own options as given (the case file's header names them)."""
    words = [*args.factories, "--scale", str(args.scale), "--channels", str(args.channels)]
    return [*words, "--size", str(args.size)]
