"""Runs written by an older suite, read by this one: each schema version's step to the next.

A step adds what the newer schema requires from what the older run already recorded, and
nothing it did not measure; a run older than the oldest step must be run again. ``load_results``
applies the steps in memory, so the gate, the report and merge read an older run as they read
a new one; ``python -m suite migrate RUN`` rewrites its ``results.json`` in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .machines import machine_class

Step = Callable[[dict[str, Any]], None]

#: Schema 5 has since gained optional fields, and no step: a run without them reads as before.
#: A runtime's ``parity_at`` (parity at another input size, ``bench/reduced.py``) and
#: ``roofline_omitted``; the ceilings' ``set_aside`` and ``remeasured``, and a ceiling row's
#: ``implausible`` (``timing/plausible.py``); ``metrics.linear``'s ``affine`` and
#: ``constant_rms``. Runs before them may record a roofline fraction over 1 (the summary lists
#: it as left out) and the reference evaluator skipped on a large output.
#: schema version -> the step that takes a run of that version to the next
STEPS: dict[int, Step] = {}


def step(version: int) -> Callable[[Step], Step]:
    def register(function: Step) -> Step:
        STEPS[version] = function
        return function

    return register


@step(4)
def latencies_name_their_machine_class(results: dict[str, Any]) -> None:
    """Schema 5: each latency names the machine class it was timed on. A schema-4 run timed
    every latency on its ``run.machine`` (merged shards of other machines were refused)."""
    timed_on = machine_class(results["run"]["machine"])
    for case in results["cases"]:
        for runtime in case["runtimes"].values():
            if runtime.get("latency"):
                runtime["latency"]["machine_class"] = timed_on


def can_upgrade(version: Any, to: int) -> bool:
    return isinstance(version, int) and all(v in STEPS for v in range(version, to))


def upgrade(results: dict[str, Any], to: int) -> list[int]:
    """Take ``results`` (in place) to schema ``to``; the versions it went through."""
    passed = []
    while (version := results["schema_version"]) < to:
        STEPS[version](results)
        results["schema_version"] = version + 1
        passed.append(version)
    return passed
