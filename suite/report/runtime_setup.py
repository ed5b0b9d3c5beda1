"""How the runtimes were run, for the report: the options the suite sets that differ from each
library's defaults (what a user running the defaults should know the latencies assumed), and
where both were timed, the IO-bound latency beside the one with copies, as an application
calls the runtime. Read from results.json alone: no torch, no onnxruntime."""

from __future__ import annotations

from typing import Any

from ..records import CaseRecord

OPTION_COLUMNS = ["runtimes", "option", "the suite's", "the library's default", "why"]
COPIES_COLUMNS = ["case", "runtime", "bound (ms)", "with copies (ms)", "copies add", "clock"]


def option_cells(run: dict[str, Any]) -> list[list[str]]:
    """One row per option, naming every runtime that sets it the same way."""
    rows: dict[tuple[str, str, str, str], list[str]] = {}
    for name, info in run["runtimes"].items():
        for option, how in (info.get("session_options") or {}).items():
            key = (option, how["suite"], how["default"], how["why"])
            rows.setdefault(key, []).append(name)
    return [[", ".join(names), *key] for key, names in rows.items()]


def copies_cells(records: list[CaseRecord]) -> list[list[str]]:
    """Each case and runtime timed both ways: fastest sessions, and what the copies add."""
    rows = []
    for case in records:
        for name, result in case.runtimes.items():
            bound, copies = result.latency, result.latency_with_copies
            if not (bound and copies):
                continue
            fast, slow = bound["fastest_session_s"], copies["fastest_session_s"]
            rows.append(
                [
                    case.id,
                    name,
                    f"{fast * 1e3:.4g}",
                    f"{slow * 1e3:.4g}",
                    f"{(slow - fast) / fast:+.0%}",
                    bound.get("clock", "host"),
                ]
            )
    return rows
