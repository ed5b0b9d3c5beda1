"""The roles of a real cluster's workers (``python -m suite worker --role``) and the timing task.

A prepare worker holds the ``prepare`` resource, and every prepare task asks for it, so no
prepare task can land on a timer. A timer holds one ``timer-<class>`` resource, where the class
names what it times on (CPU model, family/model/stepping, usable cores), and each timing task
asks for one: a timer runs one timing process at a time. The run prepares everything before it
times anything, so no prepare task overlaps timing, on a host with both roles or any other.
With timers of several classes, ``run --timer-class`` names the run's own; the others time the
same cases after it, one class at a time. A timing task carries what it reads (case files,
fitted weights, exports), so a timer shares no file system with the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..environment import cpu_id, cpu_model, git_commit, machine, versions
from ..errors import UsageError
from .connect import connect, option
from .weights import write_weights

PREPARE_RESOURCE = "prepare"
TIMER_PREFIX = "timer-"
#: the thread variables a timing process must not inherit from the worker that starts it
FORCED_THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def machine_class() -> str:
    """This host's machine class: timings are comparable within a class only."""
    name = f"{cpu_model()} {cpu_id() or ''} {len(os.sched_getaffinity(0))}c"
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def timer_resource(klass: str) -> str:
    return f"{TIMER_PREFIX}{klass}"


def timers(workers: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Machine class -> the timer workers of that class, from the scheduler's worker table."""
    found: dict[str, list[str]] = {}
    for address, info in workers.items():
        for resource in info.get("resources", {}):
            if resource.startswith(TIMER_PREFIX):
                found.setdefault(resource.removeprefix(TIMER_PREFIX), []).append(address)
    return found


def preparers(workers: dict[str, dict[str, Any]]) -> list[str]:
    return [a for a, info in workers.items() if PREPARE_RESOURCE in info.get("resources", {})]


def timing_task(
    spec: dict[str, Any],
    fitted: dict[str, bytes],
    exports: list[tuple[str, bytes]],
    timeout_s: float,
) -> dict:
    """One timing process, on a timer worker: ``python -m suite.timing.process`` with the run's
    thread settings. Everything it reads travels with the task: the case files (``spec``'s
    ``case_files``), the trained cases' ``fitted`` weights (in a scratch folder) and the
    ``exports`` (in this worker's own cache, kept for its later timing tasks), so a timer
    shares no file system with the run. What it measured (and pytest-benchmark's JSON) goes
    back to the run, with where and when it ran."""
    from distributed import get_worker

    began = time.time()
    env = {k: v for k, v in os.environ.items() if k not in FORCED_THREADS}
    cache = Path(get_worker().local_directory) / "upsampling-bench-cache"
    store_exports(cache, exports)
    with tempfile.TemporaryDirectory(prefix="upsampling-bench-timing-") as scratch:
        here = Path(scratch)
        spec = local_spec(spec, here, cache)
        write_weights(here / "weights", fitted)
        (here / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        command = [sys.executable, "-m", "suite.timing.process", str(here / "spec.json")]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s)
        outcome = {
            "returncode": done.returncode,
            "stderr": done.stderr,
            "result": None,
            "benchmark_json": None,
        }
        if done.returncode == 0:
            outcome["result"] = json.loads((here / "result.json").read_text(encoding="utf-8"))
            outcome["benchmark_json"] = (here / "benchmark.json").read_text(encoding="utf-8")
    return {**outcome, "worker": get_worker().address, "began": began, "ended": time.time()}


def local_spec(spec: dict[str, Any], here: Path, cache: Path) -> dict[str, Any]:
    """The run's timing spec as a timer runs it: the case files that travelled with it written
    under ``here`` and read from there, the exports read from ``cache``, and every file the
    process writes in ``here``."""
    paths = []
    for index, (original, text) in enumerate(spec.get("case_files", [])):
        path = here / "cases" / str(index) / Path(original).name
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return {
        **spec,
        "paths": paths or spec["paths"],
        "cache_dir": str(cache),
        "out_dir": str(here),
        "benchmark_json": str(here / "benchmark.json"),
        "result": str(here / "result.json"),
        "weights_dir": str(here / "weights"),
    }


def store_exports(cache: Path, exports: list[tuple[str, bytes]]) -> None:
    """The exports in ``cache`` under their names; a name is a digest of what produced the
    file (``export.cache_key``), so one already there is the same file and is kept."""
    cache.mkdir(parents=True, exist_ok=True)
    for name, data in exports:
        target = cache / name
        if not target.exists():
            partial = target.with_suffix(f".{os.getpid()}.partial")
            partial.write_bytes(data)
            partial.replace(target)


@dataclass
class Cluster:
    """A real cluster, as a run uses it."""

    client: Any
    #: the machine classes that time there (``machine_class``), the run's own first: its
    #: latencies are ``latency``, each other's ``latency_by_class`` (none where nothing is timed)
    timer_classes: list[str]
    #: every worker: its address, its role and its machine's record (``run.machines``)
    machines: list[dict[str, Any]]
    #: each timer class's machine record, as read on one of its workers
    timer_records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def timer_class(self) -> str | None:
        return self.timer_classes[0] if self.timer_classes else None

    def timer_machine(self) -> dict[str, Any] | None:
        """The record of the machine that times the run's own latencies."""
        return self.timer_records.get(self.timer_class) if self.timer_class else None


def worker_machines(client: Any, workers: dict[str, dict[str, Any]], threads: int) -> list:
    """Each worker's machine record, as it reads it there, with the role its resources give."""
    records = client.run(machine, threads)
    return [
        {
            "worker": address,
            # a prepare task checks the case it prepared (``cluster.prepare_task``)
            "roles": ["time"] if address not in preparers(workers) else ["prepare", "check"],
            "machine": records[address],
        }
        for address in sorted(records)
    ]


@contextmanager
def cluster_client(
    address: str | None,
    scheduler_file: str | None,
    timed: bool,
    threads: int,
    timer_class: str | None = None,
) -> Iterator[Cluster]:
    """The run's cluster, once it is fit to run on: a prepare worker, a timer (where anything
    is timed; with timers of several classes, ``timer_class`` names the run's own), and every
    worker with this run's library versions; else one line saying what is missing."""
    client, where = connect(address, scheduler_file)
    flag = option(address)
    with client:
        workers = client.scheduler_info(n_workers=-1)["workers"]
        if not preparers(workers):
            raise UsageError(
                f"{flag}: {where} has no prepare worker; start one with "
                "`python -m suite worker ADDRESS --role prepare`"
            )
        classes = timers(workers) if timed else {}
        ordered = _timer_classes(sorted(classes), timer_class, where, timed, flag)
        _check_versions(client, where, flag)
        machines = worker_machines(client, workers, threads)
        by_address = {m["worker"]: m["machine"] for m in machines}
        records = {k: by_address[classes[k][0]] for k in ordered}
        yield Cluster(client, ordered, machines, records)


def _timer_classes(
    found: list[str], wanted: str | None, where: str, timed: bool, flag: str
) -> list[str]:
    """The classes that time, the run's own first; refused in one line where there is no timer,
    or several classes and none named, or the named one is not there."""
    if not timed:
        return []
    if not found:
        raise UsageError(
            f"{flag}: {where} has timer workers of 0 machine classes; start one with "
            "`python -m suite worker ADDRESS --role timer`"
        )
    if wanted is None and len(found) > 1:
        raise UsageError(
            f"{flag}: {where} has timer workers of {len(found)} machine classes "
            f"({', '.join(found)}); name the one whose latencies are the run's own with "
            "--timer-class (the others are timed too, into latency_by_class)"
        )
    if wanted is not None and wanted not in found:
        raise UsageError(
            f"--timer-class: {where} has no timer of class {wanted} (it has {', '.join(found)})"
        )
    wanted = wanted or found[0]
    return [wanted, *(k for k in found if k != wanted)]


def code_and_versions() -> dict[str, Any]:
    """What computes a figure here: the suite's own commit (and whether its tree is dirty) and
    the libraries' versions."""
    return {"suite": git_commit(Path(__file__).resolve().parent), **versions()}


def _check_versions(client: Any, where: str, flag: str) -> None:
    """Every worker must compute with this run's code and libraries, or its figures are not
    this run's."""
    mine = code_and_versions()
    for worker, theirs in client.run(code_and_versions).items():
        differ = sorted(k for k in mine if theirs.get(k) != mine[k])
        if differ:
            name, more = differ[0], f" (and {len(differ) - 1} more)" if len(differ) > 1 else ""
            raise UsageError(
                f"{flag}: worker {worker} at {where} has {name} {theirs.get(name)}, "
                f"this run {mine[name]}{more}"
            )
