"""The report begins with the decision (``suite/decision.py``): every geometry on every timed
runtime, the same words as the terminal's, which shows the first few."""

from __future__ import annotations

from typing import Any

from ..decision import decisions, thresholds_text
from ..records import CaseRecord, runtimes_of
from ..run_summary import skipped_runtimes


def decision_values(run: dict[str, Any], records: list[CaseRecord]) -> dict[str, Any]:
    """The page's and summary.md's decision: a titled block of lines per geometry and runtime,
    the thresholds it rests on, and the timed runtimes that did not run."""
    timed = {info.name for info in runtimes_of(run).values() if info.timed}
    return {
        "blocks": [
            {"title": f"{d.geometry} on {d.runtime}", "lines": d.lines()}
            for d in decisions(run, records)
        ],
        "rule": thresholds_text()[0].upper() + thresholds_text()[1:],
        "not_run": {n: r for n, r in skipped_runtimes(records).items() if n in timed},
    }


def decision_markdown(decision: dict[str, Any], escape) -> list[str]:
    """summary.md's decision section (``escape``: its Markdown escaping)."""
    if not decision["blocks"]:
        return []
    parts = ["### Decision", "", escape(decision["rule"]) + ".", ""]
    for block in decision["blocks"]:
        parts += [f"**{escape(block['title'])}**", ""]
        parts += [f"- {escape(line)}" for line in block["lines"]] + [""]
    if decision["not_run"]:
        absent = "; ".join(f"{n} ({r})" for n, r in decision["not_run"].items())
        parts += [f"Not run here: {escape(absent)}.", ""]
    return parts
