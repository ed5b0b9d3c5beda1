"""Timing processes: a run times its cases in several fresh interpreters, one after another.

Rounds inside one process share its memory layout, thread placement and allocator state, so they
move together and are not independent samples (docs/measurements.md, "Where the latency noise
lives"); the process is the smallest unit that replicates. The run's own process builds,
exports, checks and analyses every case, then starts ``Timing.processes`` children, each
``python -m suite.bench.worker SPEC.json``: it loads the same cases (the exported models come
from the cache), checks parity again, times every case on every timed runtime in
``Timing.sessions`` fresh sessions, measures the machine's ceilings (``ceilings.py``) and writes
what it measured to the file the spec names. A child that fails or overruns cuts the run's timing
short: the run says so, exits 1, and neither ``baseline`` nor ``gate`` accepts it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ..atomic import write_json_atomic
from ..casefile import case_files, load_cases
from ..errors import first_line
from ..results import TIMING_DIR
from .cluster import shipped_exports
from .errorlog import ErrorLog
from .latency import Latency
from .options import Options
from .plugin import BenchPlugin, pytest_args
from .progress import Progress
from .roles import timer_resource, timing_task
from .session import BenchSession
from .timing import LATENCY, WITH_COPIES
from .weights import write_weights

#: where in DIR/timing/ the trained cases' fitted weights wait for the timing processes
WEIGHTS_DIR = "weights"
#: A timing process that runs longer than this is stopped (and the run's timing is cut short).
PROCESS_TIMEOUT_S = 1800.0


@dataclass
class TimingResult:
    """What the run's timing processes measured, merged over the processes that finished."""

    planned: int
    #: per process that finished: {case id: {runtime: latency}}
    latencies: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    #: per process that finished: {case id: {runtime: latency with copies}}, where timed
    with_copies: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    #: per process that finished: the machine's ceilings as it measured them
    ceilings: list[dict[str, Any]] = field(default_factory=list)
    #: per process that finished: the ceilings it measured again (``plausible.remeasure``)
    remeasured: list[dict[str, Any]] = field(default_factory=list)
    #: per process that finished: {case id: seconds it spent on the case}
    busy: list[dict[str, float]] = field(default_factory=list)
    #: when each process began, seconds into the run
    starts_s: list[float] = field(default_factory=list)
    #: why the timing stopped early, or None
    cut_short: str | None = None

    def latency(self, case_id: str, runtime: str, figure: str = LATENCY) -> dict[str, Any] | None:
        """The case's latency (or ``latency_with_copies``) on the runtime over every process,
        or None where a process lacks it (then it is not comparable between processes)."""
        processes = self.latencies if figure == LATENCY else self.with_copies
        parts = [process.get(case_id, {}).get(runtime) for process in processes]
        if not parts or any(part is None for part in parts):
            return None
        merged = Latency.merge([Latency.from_dict(part) for part in parts], "processes")
        merged.process_starts_s = self.starts_s[: len(parts)]
        return merged.to_dict()

    def busy_s(self) -> dict[str, float]:
        """Per case, the seconds every timing process together spent on it."""
        total: dict[str, float] = {}
        for process in self.busy:
            for case_id, seconds in process.items():
                total[case_id] = total.get(case_id, 0.0) + seconds
        return total

    def describe(self, timing: dict[str, Any]) -> dict[str, Any]:
        return {
            **timing,
            "processes_done": len(self.latencies),
            "process_starts_s": self.starts_s,
            "cut_short": self.cut_short,
        }


def _spec(session: BenchSession, paths: list[str], index: int, folder: Path) -> dict[str, Any]:
    options = session.options
    return {
        "paths": [str(p) for p in paths],
        "case_ids": [case.id for case in session.cases],
        # each of these must prepare again here: one that fails (its export missing from a
        # timer's cache) would otherwise drop out of the timing without a word
        "prepared_ids": [i for i, work in session.work.items() if work.error is None],
        "runtimes": session.timed_runtimes,
        "quick": options.quick,
        "processes": options.processes,
        "threads": options.threads,
        "cache_dir": str(options.cache_dir),
        "out_dir": str(folder),
        "benchmark_json": str(folder / f"benchmark-process{index + 1}.json"),
        "result": str(folder / f"process{index + 1}.json"),
        "weights_dir": str(folder / WEIGHTS_DIR),
        "with_copies": options.with_copies,
    }


def fitted(session: BenchSession) -> dict[str, bytes]:
    """The trained cases' fitted weights, as prepared: every timing process times them."""
    return {i: w.fitted for i, w in session.work.items() if w.fitted is not None}


def run_timing_processes(
    session: BenchSession, paths: list[str], progress: Progress, klass: str | None = None
) -> TimingResult:
    """Start the run's timing processes one after another, on the run's own timer class or on
    another one of its cluster (``klass``, in a folder of its own); stop at the first that
    fails."""
    planned = session.timing.processes
    result = TimingResult(planned)
    if not session.timed_runtimes or not any(w.error is None for w in session.work.values()):
        return result
    folder = session.options.out_dir / TIMING_DIR
    if klass is not None:
        folder = folder / klass
    folder.mkdir(parents=True, exist_ok=True)
    # The children import what this process imported, factories included.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    checkpoints = session.checkpoints
    write_weights(folder / WEIGHTS_DIR, fitted(session))
    on = f" on {klass}" if klass else ""
    progress.phase("time", planned, f"{planned} timing processes, one after another{on}")
    for index in range(planned):
        progress.stage("timing", f"process {index + 1} of {planned}", is_case=False)
        # each process judges its ceilings against those of the processes before it
        spec = {**_spec(session, paths, index, folder), "earlier_ceilings": result.ceilings}
        began = checkpoints.timed(index, klass) if checkpoints else None
        if began is None:  # not finished by an earlier attempt of this run: time it
            began = time.monotonic() - session.started
            spec_path = folder / f"process{index + 1}.spec.json"
            write_json_atomic(spec_path, spec)
            if session.client is not None:
                problem = _run_on_timer(session, spec, index, paths, klass)
            else:
                problem = _run_child(spec_path, env, session.log)
            if problem:
                result.cut_short = f"timing process {index + 1} of {planned}: {problem}"
                break
            if checkpoints:
                checkpoints.save_timed(index, began, klass)
        data = json.loads(Path(spec["result"]).read_text(encoding="utf-8"))
        result.starts_s.append(began)
        result.latencies.append(data["latencies"])
        result.with_copies.append(data.get("with_copies", {}))
        result.ceilings.append(data["ceilings"])
        result.remeasured.append(data.get("ceilings_remeasured", {}))
        result.busy.append(data["busy_s"])
        progress.advance()
    if checkpoints:
        checkpoints.write_run()
    return result


def _run_on_timer(
    session: BenchSession,
    spec: dict[str, Any],
    index: int,
    paths: list[str],
    klass: str | None = None,
) -> str | None:
    """The timing process as a task on a timer worker of the run's machine class, which runs
    one at a time, with the case files, the fitted weights and the exports it times; its files
    come back here, where a local timing process writes them."""
    resource = timer_resource(klass or session.timer_class)
    # the timer may share no file system with this process: the case files travel as text
    spec = {**spec, "case_files": [[str(p), p.read_text("utf-8")] for p in case_files(paths)]}
    future = session.client.submit(
        timing_task,
        spec,
        fitted(session),
        shipped_exports(session),
        PROCESS_TIMEOUT_S,
        resources={resource: 1},
        pure=False,
    )
    try:
        outcome = future.result()
    except Exception as exc:  # lost past Dask's retries, or the timeout
        return f"its task on the cluster failed: {first_line(exc)}"
    session.tasks.append(
        {"kind": "time", "what": f"process {index + 1}", "worker": outcome["worker"]}
        | ({"class": klass} if klass else {})
        | {"began": outcome["began"], "ended": outcome["ended"]}
    )
    if outcome["returncode"] != 0:
        session.log.append(f"== timing process {index + 1} on {outcome['worker']}\n")
        session.log.append(f"{outcome['stderr']}\n")
        last = (outcome["stderr"].strip().splitlines() or ["no output"])[-1]
        return f"exited with {outcome['returncode']} on {outcome['worker']} ({last})"
    Path(spec["benchmark_json"]).write_text(outcome["benchmark_json"], encoding="utf-8")
    write_json_atomic(Path(spec["result"]), outcome["result"])
    return None


def _run_child(spec_path: Path, env: dict[str, str], log: ErrorLog) -> str | None:
    command = [sys.executable, "-m", "suite.bench.worker", str(spec_path)]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return f"overran {PROCESS_TIMEOUT_S:g} s and was stopped"
    if done.returncode == 0:
        return None
    log.append(f"== timing process {spec_path.name}: exit {done.returncode}\n{done.stderr}\n")
    last = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return f"exited with {done.returncode} ({last}; errors.log has the rest)"


def main(argv: list[str]) -> int:
    """The child: time the spec's cases and write them to the spec's result file."""
    (spec_path,) = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    wanted = set(spec["case_ids"])
    cases = [case for case in load_cases(spec["paths"]) if case.id in wanted]
    options = Options(
        quick=spec["quick"],
        threads=spec["threads"],
        runtimes=spec["runtimes"],
        cache_dir=Path(spec["cache_dir"]),
        out_dir=Path(spec["out_dir"]),
        processes=spec["processes"],
        role="time",
        weights_dir=Path(spec["weights_dir"]) if spec.get("weights_dir") else None,
        with_copies=spec.get("with_copies", False),
    )
    silent = Console(file=io.StringIO())
    with Progress(len(cases), silent) as progress:
        session = BenchSession(cases, options, progress)
        session.earlier_ceilings = spec.get("earlier_ceilings", [])
        code = pytest.main(pytest_args(spec["benchmark_json"]), plugins=[BenchPlugin(session)])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or session.crashes:
        print(f"the timing session ended with {code!r}: {session.crashes}", file=sys.stderr)
        return 1
    prepared = set(spec.get("prepared_ids", []))
    lost = [f"{i}: {w.error}" for i, w in session.work.items() if i in prepared and w.error]
    if lost:
        more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
        said = f"prepared by the run, failed in this timing process: {lost[0]}{more}"
        print(said, file=sys.stderr)
        return 1
    result = {
        "latencies": _measured(session, LATENCY),
        "with_copies": _measured(session, WITH_COPIES),
        "ceilings": session.ceilings,
        "ceilings_remeasured": session.remeasured,
        "busy_s": session.busy_s(),
    }
    write_json_atomic(Path(spec["result"]), result)
    return 0


def _measured(session: BenchSession, figure: str) -> dict[str, dict[str, Any]]:
    """{case id: {runtime: the figure}} for every runtime this process measured it on."""
    return {
        case_id: {n: getattr(r, figure) for n, r in results.items() if getattr(r, figure)}
        for case_id, results in session.results.items()
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
