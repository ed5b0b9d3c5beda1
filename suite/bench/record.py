"""results.json's ``run``: where, how and on what a run ran, as it finished; and the calibration
battery's table that a run records beside its cases."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..analysis.battery import battery_record
from ..casefile import case_files
from ..codekey import cached, code_key
from ..environment import git_commit, machine, versions
from ..methods import get_method
from ..runtimes import get_runtime
from ..samplefile import SAMPLES_FILE
from ..timing.result import TimingResult
from ..timing.yardstick import yardstick_case
from .options import Options
from .phases import Run

#: the calibration battery's tables, by the key of the code that computed them (in --cache)
CALIBRATION_DIR = "calibration"


def run_record(run: Run, timing: TimingResult, phases: dict, clock: float) -> dict[str, Any]:
    """results.json's ``run``; ``clock`` is ``time.perf_counter`` when the run began."""
    spec, options, checkpoints = run.spec, run.spec.options, run.state.checkpoints
    record = {
        "id": checkpoints.run_id,
        "started": datetime.fromisoformat(checkpoints.started).isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "wall_s": time.perf_counter() - clock,
        "git": git_commit(Path.cwd()),
        "machine": machine(options.threads),
        "versions": versions(),
        "options": {
            "quick": options.quick,
            "timing": options.policy,
            "analyse": options.analyse,
            "runtimes": spec.runtimes,
            "threads": options.threads,
            "with_copies": options.with_copies,
        },
        "runtimes": {name: get_runtime(name).describe() for name in spec.runtimes},
        "methods": methods_used(spec.cases),
        "timing": timing.describe(options.timing.describe()),
        "phases": phases,
        "ceilings": timing.run_ceilings,
        "files": [str(p) for p in case_files(spec.paths)],
        "samples": SAMPLES_FILE,
        "samples_kept": "all",
        "yardstick": {k: v for k, v in yardstick_case().describe().items() if k != "file"},
        "calibration": calibration_table(options, phases) if options.analyse else [],
    }
    return record | where_it_ran(run, record["machine"])


def where_it_ran(run: Run, here: dict[str, Any]) -> dict[str, Any]:
    """``machine`` (on a cluster, the timer's: the latencies, ceilings and gate are its),
    ``machines``, and ``shard``, ``resumed`` and ``tasks`` where the run has them."""
    spec, executor, checkpoints = run.spec, run.executor, run.state.checkpoints
    found: dict[str, Any] = {
        "machine": executor.timer_machine() or here,
        "machines": executor.machines({"worker": None, "roles": [], "machine": here}),
    }
    if spec.shard:
        found["shard"] = spec.shard.describe(spec.all_ids)
    if checkpoints.this_resume:
        found["resumed"] = checkpoints.resumed()
    if executor.tasks:
        found["tasks"] = executor.tasks
    return found


def methods_used(cases) -> dict[str, dict]:
    """Each method the cases use, as its registry entry declares it (``Method.describe``)."""
    names = sorted({stage.method for case in cases for stage in case.stages})
    return {name: get_method(name).describe() for name in names}


def calibration_table(options: Options, phases: dict) -> list[dict]:
    """The calibration battery's table (known answers against the suite's own figures), run
    after the timing so that it never shares the machine with a measurement. A function of the
    code alone: read from the cache when this code on these libraries computed it before
    (``codekey.py``), unless the run is ``--fresh``; ``phases["calibration"]`` says which."""
    began = time.perf_counter()
    folder, key = options.cache_dir / CALIBRATION_DIR, code_key(options.threads)
    table, read = cached(folder, key, battery_record, fresh=options.fresh)
    phases["calibration"] = {"wall_s": time.perf_counter() - began, "cached": read}
    return table
