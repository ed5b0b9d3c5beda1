"""The report's deployment section: what each layer becomes once exported at another precision
or by another exporter. Read from results.json alone (no torch, no onnxruntime).

A layer is the case's keys other than its id and how it is deployed (precision, exporter,
opset): its variants are the cases that share them. For each, the precision table puts fp32,
fp16 and int8 side by side on every runtime that runs the export (parity against the float32
torch reference, the quantization PSNR, the artifact figures on the variant's own outputs, the
latency and the speed-up over the same runtime's float32 variant); the exporter table lists the
Resize and ConvTranspose attributes each exporter and opset wrote, with the parity each gives.
"""

from __future__ import annotations

import json
from typing import Any

from ..executed import counted
from ..records import CaseRecord, RuntimeInfo
from ..run_summary import skipped_runtimes

#: what a run before the deployment keys recorded: the default export
DEFAULTS = {"precision": "fp32", "exporter": "dynamo", "opset": 20}
DEPLOYMENT_KEYS = tuple(DEFAULTS)
#: the ops whose attributes decide where two exporters' graphs compute differently
COMPARED_OPS = ("Resize", "ConvTranspose")
PRECISION_COLUMNS = [
    "layer",
    "precision",
    "runtime",
    "status",
    "parity (rel)",
    "quantization PSNR dB",
    "checkerboard %",
    "phase energy %",
    "computed off its precision",
    "latency (ms)",
    "speed-up over fp32",
]
EXPORTER_COLUMNS = ["layer", "exporter", "opset", "op", "attributes", "parity (rel)"]


def deployment(case: CaseRecord) -> dict[str, Any]:
    return {key: case.keys.get(key, default) for key, default in DEFAULTS.items()}


def layer_of(case: CaseRecord) -> str:
    """What the variants of one layer share: every resolved key but the id and the deployment."""
    keys = {k: v for k, v in case.keys.items() if k not in ("id", *DEPLOYMENT_KEYS)}
    return json.dumps(keys, sort_keys=True, default=str)


def _label(case: CaseRecord) -> str:
    """The case id without its deployment suffixes (``t[precision=int8]`` -> ``t``)."""
    text = case.id
    for key in DEPLOYMENT_KEYS:
        text = text.replace(f"{key}={case.keys.get(key)}", "")
    return text.replace("[,", "[").replace(",]", "]").replace(",,", ",").replace("[]", "")


def layers(records: list[CaseRecord]) -> dict[str, list[CaseRecord]]:
    """The layers that have more than one variant in the run, in the run's order."""
    grouped: dict[str, list[CaseRecord]] = {}
    for case in records:
        grouped.setdefault(layer_of(case), []).append(case)
    return {key: cases for key, cases in grouped.items() if len(cases) > 1}


def export_runtimes(runtimes: dict[str, RuntimeInfo], records: list[CaseRecord]) -> list[str]:
    """The runtimes that run the export and ran somewhere in the run (one absent from this
    machine, a missing provider, is in the report's skipped list, not in every row)."""
    absent = skipped_runtimes(records)
    return [
        name
        for name, info in runtimes.items()
        if (info.runs_export if info.runs_export is not None else not name.startswith("torch"))
        and name not in absent
    ]


def ran_on_layer(cases: list[CaseRecord], name: str) -> bool:
    """Whether the runtime ran any variant of the layer: one that ran none (the reference
    evaluator past its size limit) says nothing about deployment and is left out of its rows."""
    return any((result := c.runtimes.get(name)) is not None and result.ran for c in cases)


def _fastest(result) -> float | None:
    return result.latency["fastest_session_s"] if result and result.latency else None


def precision_cells(records: list[CaseRecord], runtimes: dict[str, RuntimeInfo]) -> list[list[str]]:
    rows = []
    names = export_runtimes(runtimes, records)
    for cases in layers(records).values():
        same_export = [
            c
            for c in cases
            if {k: deployment(c)[k] for k in ("exporter", "opset")}
            == {k: DEFAULTS[k] for k in ("exporter", "opset")}
        ]
        by_precision = {deployment(c)["precision"]: c for c in same_export}
        if len(by_precision) < 2:
            continue
        fp32 = by_precision.get("fp32")
        shown = [name for name in names if ran_on_layer(cases, name)]
        for precision, case in by_precision.items():
            for name in shown:
                result = case.runtimes.get(name)
                if result is None:
                    continue
                base = _fastest(fp32.runtimes.get(name)) if fp32 else None
                mine = _fastest(result)
                metrics = result.metrics or {}
                rows.append(
                    [
                        _label(case),
                        precision,
                        name,
                        result.status if result.ran else f"{result.status}: {result.reason}",
                        _number(result.max_rel_err, ".2e"),
                        _psnr(result),
                        _number(metrics.get("checkerboard_pct"), ".3g"),
                        _number(metrics.get("phase_energy_pct"), ".3g"),
                        _off_precision(result),
                        _number(mine * 1e3 if mine else None, ".4g"),
                        f"{base / mine:.2f}×" if base and mine else "–",
                    ]
                )
    return rows


def _off_precision(result) -> str:
    """The ops the provider computed off the variant's precision, from its profiled run."""
    if not result.executed:
        return "–"
    return counted(result.executed["off_precision"]) or "none"


def _psnr(result) -> str:
    if result.quantization_psnr_db is not None:
        return f"{result.quantization_psnr_db:.1f}"
    return "identical" if result.ran and result.max_abs_err == 0 else "–"


def _number(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def parity_runtime(runtimes: dict[str, RuntimeInfo], records: list[CaseRecord]) -> str | None:
    """The runtime whose parity the exporter table shows: the first, in the run's order, that
    runs the export and ran (the CPU provider, in a default run)."""
    return next(iter(export_runtimes(runtimes, records)), None)


def exporter_columns(runtime: str | None) -> list[str]:
    """The exporter table's header, its parity column naming the runtime it was measured on."""
    return [*EXPORTER_COLUMNS[:-1], f"parity (rel, {runtime})" if runtime else "parity (rel)"]


def exporter_cells(
    records: list[CaseRecord], runtime: str | None
) -> tuple[list[list[str]], list[str]]:
    """The Resize and ConvTranspose attributes of each exporter's graph, with its parity on
    ``runtime`` (``parity_runtime``), and the findings: each attribute on which two variants of
    one layer at the same precision differ."""
    rows, findings = [], []
    for cases in layers(records).values():
        variants = [c for c in cases if deployment(c)["precision"] == "fp32" and c.onnx]
        if len({(deployment(c)["exporter"], deployment(c)["opset"]) for c in variants}) < 2:
            continue
        written: dict[str, list[dict[str, Any]]] = {}
        for case in variants:
            where = f"{deployment(case)['exporter']} · opset {deployment(case)['opset']}"
            nodes = [n for n in case.onnx.get("numerics", []) if n["op"] in COMPARED_OPS]
            written[where] = nodes
            result = case.runtimes.get(runtime) if runtime else None
            parity = _number(result.max_rel_err, ".2e") if result and result.ran else "–"
            for node in nodes or [{"op": "–"}]:
                attributes = ", ".join(f"{k}={v}" for k, v in node.items() if k != "op")
                rows.append(
                    [
                        _label(case),
                        deployment(case)["exporter"],
                        str(deployment(case)["opset"]),
                        node["op"],
                        attributes or "–",
                        parity,
                    ]
                )
        findings += _differences(_label(variants[0]), written)
    return rows, findings


def _differences(label: str, written: dict[str, list[dict[str, Any]]]) -> list[str]:
    found = []
    (first, nodes), *others = written.items()
    for other, other_nodes in others:
        for mine, theirs in zip(nodes, other_nodes, strict=False):
            for key in sorted(set(mine) | set(theirs)):
                if mine.get(key) != theirs.get(key):
                    found.append(
                        f"{label}: {mine['op']}.{key} is {mine.get(key, 'unset')} from {first}, "
                        f"{theirs.get(key, 'unset')} from {other}"
                    )
        if [n["op"] for n in nodes] != [n["op"] for n in other_nodes]:
            found.append(
                f"{label}: {first} writes {[n['op'] for n in nodes]}, "
                f"{other} {[n['op'] for n in other_nodes]}"
            )
    if not found and any(written.values()):
        ops = sorted({n["op"] for nodes in written.values() for n in nodes})
        found.append(f"{label}: {', '.join(written)} agree on every {'/'.join(ops)} attribute")
    return found


def deployment_findings(records: list[CaseRecord], runtimes: dict[str, RuntimeInfo]) -> list[str]:
    """Variants that did not run: a conversion the export refused, a runtime without a kernel
    for the variant's ops, each with the message it gave; then the variants a provider ran but
    computed off their precision, or partly on another provider (``executed_findings``)."""
    return _not_run(records, runtimes) + executed_findings(records, runtimes)


def executed_findings(records: list[CaseRecord], runtimes: dict[str, RuntimeInfo]) -> list[str]:
    """Where the profiled inference says a variant is not what its precision promises: the ops
    computed at another floating-point type (an fp16 op the CPU provider upcast behind casts,
    an int8 op left DequantizeLinear → float32 op → QuantizeLinear), and the nodes another
    provider ran (a GPU provider without the kernel). Nothing fails in these cases, so this is
    the only place they show."""
    found = []
    names = export_runtimes(runtimes, records)  # reads every record: once, not per case
    for case in records:
        for name in names:
            result = case.runtimes.get(name)
            executed = result.executed if result is not None else None
            if not executed:
                continue
            where = f"{case.id} · {name}"
            if off := executed["off_precision"]:
                wanted = "/".join(executed["computes_in"])
                kept = counted(executed["at_precision"]) or "none"
                found.append(f"{where}: computed off {wanted}: {counted(off)}; in {wanted}: {kept}")
            if off := executed["off_provider"]:
                found.append(f"{where}: not run by {executed['provider']}: {counted(off)}")
    return found


def _not_run(records: list[CaseRecord], runtimes: dict[str, RuntimeInfo]) -> list[str]:
    found = []
    names = export_runtimes(runtimes, records)
    grouped = {case.id: cases for cases in layers(records).values() for case in cases}
    for case in records:
        if deployment(case) == DEFAULTS:
            continue
        if case.status == "failed" and case.status_error:
            found.append(f"{case.id}: {case.status_error}")
            continue
        for name in names:
            result = case.runtimes.get(name)
            if result is None or result.ran or (result.reason or "").startswith("case failed"):
                continue
            if not ran_on_layer(grouped.get(case.id, [case]), name):
                continue
            found.append(f"{case.id} · {name}: {result.status}: {result.reason}")
    return found
