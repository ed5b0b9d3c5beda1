"""What a runtime really computed, read from one profiled inference rather than from the graph
that was handed to it.

A converted graph says what was asked; the provider decides what runs. onnxruntime's CPU
provider has no float16 kernel for most ops and computes them in float32 behind casts it
inserts itself; a QDQ graph's op whose quantized form the provider lacks (ConvTranspose on the
CPU provider) stays DequantizeLinear → float32 op → QuantizeLinear; a GPU provider hands the
nodes it has no kernel for to the CPU. None of these fails or changes parity much, so without
this record a reduced-precision figure would silently be a float32 one.

``from_profile`` turns the node events of onnxruntime's profiler into op, provider and
element-type counts; ``summarise`` names the ops computed off the variant's precision and off
the runtime's provider. Pure: the report reads what ``results.json`` recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: onnxruntime's names for element types, as numpy spells them
ORT_TYPE_NAMES = {"float": "float32", "double": "float64"}
FLOATING = frozenset({"float16", "bfloat16", "float32", "float64"})


def from_profile(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each (op, provider, element type of its first output) the inference ran, with how many
    nodes, in the order first seen. ``events`` is onnxruntime's profile (Chrome trace) JSON."""
    counts: dict[tuple[str, str, str], int] = {}
    for event in events:
        if event.get("cat") != "Node" or not str(event.get("name", "")).endswith("_kernel_time"):
            continue
        args = event.get("args", {})
        outputs = args.get("output_type_shape") or [{}]
        kind = next(iter(outputs[0]), "unknown")
        key = (args.get("op_name", "?"), args.get("provider", "?"), ORT_TYPE_NAMES.get(kind, kind))
        counts[key] = counts.get(key, 0) + 1
    return [
        {"op": op, "provider": provider, "type": kind, "count": count}
        for (op, provider, kind), count in counts.items()
    ]


def summarise(
    ops: list[dict[str, Any]],
    computes_in: Iterable[str],
    conversions: Iterable[str],
    provider: str,
) -> dict[str, Any]:
    """The record: every op as run; beside the precision's own conversions (Cast,
    QuantizeLinear ...), the ops computed at the variant's precision (``computes_in``) and those
    whose floating-point result is at another; and the ops the runtime's ``provider`` did not
    run. An op is labelled with its type (``Resize (float32)``) or provider."""
    wanted, glue = set(computes_in), set(conversions)
    at_precision: dict[str, int] = {}
    off_precision: dict[str, int] = {}
    off_provider: dict[str, int] = {}
    for node in ops:
        label = f"{node['op']} ({node['type']})"
        if node["op"] in glue:
            pass
        elif node["type"] in wanted:
            at_precision[label] = at_precision.get(label, 0) + node["count"]
        elif node["type"] in FLOATING:
            off_precision[label] = off_precision.get(label, 0) + node["count"]
        if node["provider"] != provider:
            label = f"{node['op']} ({node['provider']})"
            off_provider[label] = off_provider.get(label, 0) + node["count"]
    return {
        "provider": provider,
        "computes_in": sorted(wanted),
        "ops": ops,
        "at_precision": at_precision,
        "off_precision": off_precision,
        "off_provider": off_provider,
    }


def counted(ops: Mapping[str, int]) -> str:
    """``{"Reshape (float32)": 4, "Div (float32)": 1}`` as ``Reshape (float32) ×4, Div
    (float32)``."""
    return ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in ops.items())
