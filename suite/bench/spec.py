"""What a run is asked to do, decided once from its command line (``RunSpec.from_args``) and
passed down frozen: its cases and runtimes, its options, where it prepares and times, where it
writes, and whether it resumes an unfinished run. Nothing downstream reads ``args``; every bad
option is refused here, in one line, before anything is written."""

from __future__ import annotations

import argparse
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..case import Case
from ..casefile import load_cases
from ..commands.run_options import RUNS_DIR, runtimes_asked
from ..environment import git_commit, versions
from ..errors import UsageError
from ..results import RESULTS_FILE
from ..shard import Shard, case_set
from ..timing.policy import DEFAULT_TIMING
from .checkpoint import CHECKPOINT_DIR
from .options import Options


def new_run_id(started: datetime | None = None) -> str:
    """A run's id: when it started (UTC), and four hex digits against a clash."""
    started = started or datetime.now(UTC)
    return started.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass(frozen=True)
class Where:
    """Where the run prepares and times: ``workers`` LocalCluster processes (0: this process),
    or a real cluster (``cluster`` or ``scheduler_file``) whose timers of ``timer_class`` (where
    it has several classes) time the run's own latencies."""

    workers: int
    cluster: str | None = None
    scheduler_file: str | None = None
    timer_class: str | None = None
    #: after a serial prepare, measure this many workers sharing the cores (``sharing.py``)
    sharing: int | None = None

    @property
    def engine(self) -> str:
        """The executor's key (``executors.EXECUTORS``)."""
        if self.cluster or self.scheduler_file:
            return "cluster"
        return "local" if self.workers else "serial"


@dataclass(frozen=True)
class RunSpec:
    #: the case files as given, their cases (this shard's), and every case's id in them
    paths: tuple[str, ...]
    cases: tuple[Case, ...]
    all_ids: tuple[str, ...]
    options: Options
    where: Where
    #: the run folder, the run's id (``out.name`` when --out names it) and its start
    out: Path
    run_id: str
    started: datetime
    #: finish the unfinished run in ``out`` (``checkpoint.py``)
    resume: bool
    shard: Shard | None
    #: draw the report, and whose pictures samples.npz keeps (``run --samples``)
    report: bool
    samples: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunSpec:
        _check(args)
        cases = load_cases(args.paths)
        all_ids = tuple(case.id for case in cases)
        runtimes = tuple(runtimes_asked(args.runtimes))
        started = datetime.now(UTC)
        run_id = new_run_id(started)
        out = _out_dir(args, run_id)
        options = Options(
            "quick" if args.quick else args.timing,
            args.threads,
            runtimes,
            args.cache,
            out,
            args.processes,
            analyse=args.analyse,
            with_copies=args.with_copies,
            fresh=args.fresh,
        )
        where = Where(
            args.workers, args.cluster, args.scheduler_file, args.timer_class, args.measure_sharing
        )
        return cls(
            tuple(str(path) for path in args.paths),
            tuple(args.shard.select(cases) if args.shard else cases),
            all_ids,
            options,
            where,
            out,
            out.name if args.out else run_id,
            started,
            args.resume,
            args.shard,
            args.report and args.analyse,
            args.samples,
        )

    @property
    def runtimes(self) -> list[str]:
        return list(self.options.runtimes)

    def asked(self) -> dict[str, Any]:
        """What the run is asked to do, as a resume must ask for it again (``checkpoint.py``):
        everything that decides a figure, and the code and libraries that compute them."""
        options = self.options
        return {
            "cases": case_set([case.id for case in self.cases]),
            "shard": self.shard.describe(self.all_ids) if self.shard else None,
            "runtimes": self.runtimes,
            "threads": options.threads,
            "timing": options.policy,
            "processes": options.processes,
            "analyse": options.analyse,
            "with_copies": options.with_copies,
            "cache": str(options.cache_dir.resolve()),
            "git": git_commit(Path.cwd()),
            "versions": versions(),
            **({"timer_class": self.where.timer_class} if self.where.timer_class else {}),
        }


def _check(args: argparse.Namespace) -> None:
    if args.threads < 1:
        raise UsageError(f"--threads: must be >= 1, got {args.threads}")
    if args.workers < 0:
        raise UsageError(
            f"--workers: must be >= 0 (0: prepare in this process), got {args.workers}"
        )
    if args.processes is not None and not 1 <= args.processes <= 100:
        raise UsageError(f"--processes: must be between 1 and 100, got {args.processes}")
    if args.quick and args.timing not in ("quick", DEFAULT_TIMING):
        raise UsageError(f"--quick is --timing quick: not with --timing {args.timing}")
    if args.cluster and args.scheduler_file:
        raise UsageError("--cluster and --scheduler-file: give one")
    if args.timer_class and not (args.cluster or args.scheduler_file):
        raise UsageError("--timer-class: only with --cluster or --scheduler-file")
    _check_sharing(args)


def _check_sharing(args: argparse.Namespace) -> None:
    if args.measure_sharing is None:
        return
    if args.workers or args.cluster or args.scheduler_file:
        raise UsageError(
            "--measure-sharing: only with --workers 0 (it measures beside a serial run)"
        )
    if args.measure_sharing < 1:
        raise UsageError(f"--measure-sharing: must be >= 1, got {args.measure_sharing}")


def _out_dir(args: argparse.Namespace, run_id: str) -> Path:
    if args.resume and (args.out is None or args.force):
        raise UsageError("--resume: name the unfinished run's folder with --out, without --force")
    out = args.out or RUNS_DIR / run_id
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a folder")
    if (out / RESULTS_FILE).exists() and args.resume:
        raise UsageError(f"--resume: {out / RESULTS_FILE} exists: that run finished")
    if (out / RESULTS_FILE).exists() and not args.force:
        raise UsageError(f"--out: {out / RESULTS_FILE} exists; pass --force to replace it")
    if (out / CHECKPOINT_DIR).exists() and not (args.resume or args.force):
        raise UsageError(
            f"--out: {out} holds an unfinished run's checkpoints; pass --resume to finish it "
            "or --force to start again"
        )
    return out
