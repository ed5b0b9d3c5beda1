"""What two runs of the same cases must agree on: everything but the clock."""

from __future__ import annotations

import json

#: what may differ between two runs of the same cases: the clock, and the cache's hit or miss
TIMED = (
    "latency",
    "latency_with_copies",
    "achieved_gbs",
    "achieved_gflops",
    "roofline_fraction",
    "roofline_bound",
)


def deterministic(case: dict) -> dict:
    """A case record without what timing or the cache's state decides."""
    case = json.loads(json.dumps(case))
    del case["durations_s"]
    (case.get("onnx") or {}).pop("cached", None)
    for result in case["runtimes"].values():
        for key in TIMED:
            result.pop(key, None)
    return case
