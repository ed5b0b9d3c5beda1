"""Timing processes: a run times its cases in several fresh interpreters, one after another.

Rounds inside one process share its memory layout, thread placement and allocator state, so they
move together and are not independent samples (docs/measurements.md, "Where the latency noise
lives"); the process is the smallest unit that replicates. The run's own process builds,
exports, checks and analyses every case, then starts ``Timing.processes`` children, each
``python -m suite.timing.process SPEC.json``: it loads the same cases (the exported models come
from the cache), checks parity again, times every case on every timed runtime in
``Timing.sessions`` fresh sessions, measures the machine's ceilings (``ceilings.py``) and writes
what it measured to the file the spec names. A child that fails or overruns cuts the run's timing
short: the run says so, exits 1, and neither ``baseline`` nor ``gate`` accepts it. Under
``--timing quick`` the same work is done in the run's own process (``run_here``,
``policy.IN_RUN_PROCESS``), and a timing that breaks there cuts the timing short the same way.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ..atomic import write_json_atomic
from ..bench.book import CaseBook
from ..bench.errorlog import ErrorLog
from ..bench.localcluster import environment_kept
from ..bench.options import Options
from ..bench.progress import Progress
from ..casefile import load_cases
from ..errors import first_line
from .plugin import BenchPlugin, pytest_args
from .policy import LATENCY, WITH_COPIES
from .session import TimingSession, timed_runtimes

#: where in DIR/timing/ the trained cases' fitted weights wait for the timing processes
WEIGHTS_DIR = "weights"
#: A timing process that runs longer than this is stopped (and the run's timing is cut short).
PROCESS_TIMEOUT_S = 1800.0
#: What pytest-xdist writes into its workers' environment. pytest-benchmark reads the first and
#: disables itself, but a timing process started from an xdist worker (the unit tests run on
#: every core) inherits it, and its own pytest session is no xdist worker (``bench_session``).
XDIST_WORKER_ENV = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


def process_spec(
    options: Options,
    book: CaseBook,
    paths: tuple[str, ...],
    index: int,
    folder: Path,
    targets: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Timing process ``index``'s spec file: what it times (every case on every timed runtime,
    or only ``targets``: {case id: [runtime]}), how, and where it writes."""
    wanted = (lambda case_id: case_id in targets) if targets is not None else (lambda _: True)
    return {
        "paths": list(paths),
        "case_ids": [case.id for case in book.cases if wanted(case.id)],
        # each of these must prepare again here: one that fails (its export missing from a
        # timer's cache) would otherwise drop out of the timing without a word
        "prepared_ids": [case_id for case_id in book.prepared_ids() if wanted(case_id)],
        "runtimes": timed_runtimes(options.runtimes),
        "targets": targets,
        "policy": options.policy,
        "processes": options.processes,
        "threads": options.threads,
        "cache_dir": str(options.cache_dir),
        "out_dir": str(folder),
        "benchmark_json": str(folder / f"benchmark-process{index + 1}.json"),
        "result": str(folder / f"process{index + 1}.json"),
        "weights_dir": str(folder / WEIGHTS_DIR),
        "with_copies": options.with_copies,
    }


def run_child(spec_path: Path, log: ErrorLog) -> str | None:
    """``python -m suite.timing.process SPEC``, a child of this process; what went wrong, or
    None."""
    # The children import what this process imported, factories included.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-m", "suite.timing.process", str(spec_path)]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return f"overran {PROCESS_TIMEOUT_S:g} s and was stopped"
    if done.returncode == 0:
        return None
    last = _logged(log, f"timing process {spec_path.name}", done.returncode, done.stderr)
    return f"exited with {done.returncode} ({last}; errors.log has the rest)"


def run_here(spec_path: Path, log: ErrorLog) -> str | None:
    """The timing process's work, done in this process (``policy.IN_RUN_PROCESS``); what went
    wrong, said as ``run_child`` says it, or None."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            code = main([str(spec_path)])
    except Exception as exc:  # a timing that breaks cuts the timing short; the run goes on
        code = 1
        said.write(f"{type(exc).__name__}: {first_line(exc)}\n")
    if code == 0:
        return None
    last = _logged(log, f"timing in the run's process ({spec_path.name})", code, said.getvalue())
    return f"failed ({last}; errors.log has the rest)"


def _logged(log: ErrorLog, what: str, code: int, stderr: str) -> str:
    """A failed timing's stderr into errors.log; its last line, for the one-line message."""
    log.append(f"== {what}: exit {code}\n{stderr}\n")
    return (stderr.strip().splitlines() or ["no output"])[-1]


def main(argv: list[str]) -> int:
    """The child: time the spec's cases and write them to the spec's result file."""
    (spec_path,) = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    wanted = set(spec["case_ids"])
    cases = [case for case in load_cases(spec["paths"]) if case.id in wanted]
    options = spec_options(spec)
    book = CaseBook(cases, list(options.runtimes), ErrorLog(options.out_dir / "errors.log"))
    with Progress(len(cases), Console(file=io.StringIO())) as progress:
        earlier = spec.get("earlier_ceilings", [])
        session = TimingSession(book, options, progress, earlier, spec.get("targets"))
        code = bench_session(spec["benchmark_json"], BenchPlugin(session))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or book.crashes:
        print(f"the timing session ended with {code!r}: {book.crashes}", file=sys.stderr)
        return 1
    prepared = set(spec.get("prepared_ids", []))
    lost = [f"{i}: {w.error}" for i, w in book.work.items() if i in prepared and w.error]
    if lost:
        more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
        said = f"prepared by the run, failed in this timing process: {lost[0]}{more}"
        print(said, file=sys.stderr)
        return 1
    result = {
        "latencies": book.measured(LATENCY),
        "with_copies": book.measured(WITH_COPIES),
        "ceilings": session.ceilings,
        "ceilings_remeasured": session.remeasured,
        "busy_s": book.busy_s(),
    }
    write_json_atomic(Path(spec["result"]), result)
    return 0


def bench_session(benchmark_json: str | None, plugin: BenchPlugin) -> int | pytest.ExitCode:
    """The bench's own pytest session, with xdist's worker variables out of the environment
    while it runs, and the environment as it was after (``main`` also runs in a test's own
    process)."""
    with environment_kept():
        for name in XDIST_WORKER_ENV:
            os.environ.pop(name, None)
        return pytest.main(pytest_args(benchmark_json), plugins=[plugin])


def spec_options(spec: dict[str, Any]) -> Options:
    """A timing process's options, as its spec file (``process_spec``) gives them."""
    return Options(
        policy=spec["policy"],
        threads=spec["threads"],
        runtimes=tuple(spec["runtimes"]),
        cache_dir=Path(spec["cache_dir"]),
        out_dir=Path(spec["out_dir"]),
        processes=spec["processes"],
        role="time",
        weights_dir=Path(spec["weights_dir"]) if spec.get("weights_dir") else None,
        with_copies=spec.get("with_copies", False),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
