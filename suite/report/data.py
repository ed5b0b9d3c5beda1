"""A run's results.json as tidy tables: one row per case, one row per case and runtime."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analysis.registry import list_metrics
from ..records import CaseRecord, MethodInfo, methods_of, reference_of

#: The family of a case of several stages (a decoder): its own colour, and its place after the
#: registered methods' (``Method.order``) but before a team's own (which default to 1000).
DECODER = "decoder"
DECODER_ORDER = 999
DECODER_COLOUR = "#56b4e9"
#: A stage that names its own module (the case file's ``factory`` key) is no registered method's
#: variant: each such case is a series of its own, named by its id.
OWN_MODULE_KEY = "factory"


def variant(case: CaseRecord, methods: dict[str, MethodInfo]) -> str:
    """The method as a reader names it: ``interpolate bicubic``, ``transposed · ones``, from the
    keys its method declares (``Method.variant_keys``); a decoder is its stages joined by ``>``
    with the shared init; a user's own block (a factory case) is its case id."""
    stages = case.keys["stages"]
    if len(stages) > 1:
        inits = {s.get("init") for s in stages} - {None}
        return case.method + (f" · {inits.pop()}" if len(inits) == 1 else "")
    stage = stages[0]
    if own_module(case):  # a user's own block: never merged with another
        return case.id
    label, init = stage["method"], None
    for key in methods[stage["method"]].variant_keys:
        value = stage.get(key)
        if key == "init":
            init = value
        elif value is True:
            label += f" {key}"
        elif value not in (None, False):
            label += f" {value}"
    return label + (f" · {init}" if init else "")


def family(case: CaseRecord) -> str:
    """The base method (the palette's key): a decoder of several stages is ``decoder``."""
    stages = case.keys["stages"]
    return DECODER if len(stages) > 1 else stages[0]["method"]


def own_module(case: CaseRecord) -> bool:
    return any(OWN_MODULE_KEY in stage for stage in case.keys["stages"])


def series(case: CaseRecord) -> str:
    """What a plot draws as one series (one colour, one legend entry): the method's family, or
    the case itself where it is its own module (two factories are not one method)."""
    return case.id if own_module(case) else family(case)


def family_look(name: str, methods: dict[str, MethodInfo]) -> dict[str, Any]:
    """A family's place and colour in every plot, and its side in the lecture's claim: its
    method's, or the decoder's."""
    if name == DECODER:
        return {"order": DECODER_ORDER, "colour": DECODER_COLOUR, "lecture_claim": None}
    method = methods[name]
    return {"order": method.order, "colour": method.colour, "lecture_claim": method.lecture_claim}


def init(case: CaseRecord) -> str | None:
    """The weight initialisation its stages share, or ``None`` (none, or several)."""
    inits = {stage.get("init") for stage in case.keys["stages"]}
    return inits.pop() if len(inits) == 1 else None


def case_row(index: int, case: CaseRecord, methods: dict[str, MethodInfo]) -> dict[str, Any]:
    """What the case is, and the reference runtime's figures."""
    metrics, cost, keys = case.metrics, case.cost or {}, case.keys
    levels = ((metrics.get("probes") or {}).get("hypercolumn") or {}).get("levels") or []
    return {
        "index": index,
        "id": case.id,
        "file": case.file,
        "method": case.method,
        "family": family(case),
        **family_look(family(case), methods),
        "variant": variant(case, methods),
        "series": series(case),
        # a plot's row or legend entry: the variant, or the case id of a case that is its own
        "series_label": case.id if own_module(case) else variant(case, methods),
        "init": init(case),
        "stages": len(keys["stages"]),
        **{key: keys[key] for key in ("kernel", "stride", "scale")},
        "channels": keys.get("channels"),
        "size": "x".join(map(str, keys.get("size") or [])),
        "status": case.status,
        "parameters": cost.get("parameters"),
        "flops": cost.get("flops"),
        **_figures(metrics),
        # pyramid levels behind the PSNR: a channel-changing method gets only level 1
        "hypercolumn_levels": len(levels) or None,
    }


def cases_frame(run: dict[str, Any], cases: list[CaseRecord]) -> pd.DataFrame:
    """One row per case (``case_row``), with its like-for-like comparison set (``geometry``)."""
    methods = methods_of(run)
    frame = pd.DataFrame([case_row(i, case, methods) for i, case in enumerate(cases)])
    if frame.empty:
        return frame
    # The like-for-like comparison set of a case: same channels, input size and scale.
    frame["geometry"] = (
        frame["channels"].astype(str) + "ch " + frame["size"] + " ×" + frame["scale"].astype(str)
    )
    return frame


def _figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """Every registered figure, its interval's ends where it has one, the verdict and the
    linear analysis's equivalent layer."""
    row: dict[str, Any] = {}
    for metric in list_metrics():
        row[metric.name] = metric.value(metrics)
        interval = metrics.get(f"{metric.name}_ci") if metric.interval else None
        row[f"{metric.name}_low"], row[f"{metric.name}_high"] = interval or (None, None)
    linear = metrics.get("linear") or {}
    equivalent = linear.get("equivalent") or {}
    row.update(
        verdict=(metrics.get("verdict") or {}).get("verdict"),
        linear=linear.get("linear"),
        exact=linear.get("exact"),
        affine=bool(linear.get("affine")),  # its linear part's figures, plus a constant
        equivalent_kernel="x".join(map(str, equivalent.get("kernel") or [])) or None,
        equivalent_parameters=equivalent.get("parameters"),
        equivalent_flops=equivalent.get("flops"),
    )
    return row


def runtimes_frame(run: dict[str, Any], cases: list[CaseRecord]) -> pd.DataFrame:
    """One row per case and runtime that ran (skipped runtimes are left out); every column is
    there even where no runtime ran (a run whose every case failed)."""
    reference = reference_of(run)
    rows = [
        _runtime_row(index, case.id, name, name == reference, result)
        for index, case in enumerate(cases)
        for name, result in case.runtimes.items()
        if result.status != "skipped"
    ]
    return pd.DataFrame(rows, columns=RUNTIME_COLUMNS).astype({"reference": bool})


RUNTIME_COLUMNS = (
    *("index", "id", "runtime", "reference", "status", "reason", "max_abs_err", "max_rel_err"),
    *("rtol", "atol", "median_s", "iqr_s", "fastest_process_s", "slowest_process_s", "noisy"),
    *("roofline_fraction", "roofline_bound", "roofline_omitted"),
)


def _runtime_row(index: int, case_id: str, name: str, reference: bool, result) -> dict[str, Any]:
    latency = result.latency or {}
    return {
        "index": index,
        "id": case_id,
        "runtime": name,
        "reference": reference,
        "status": result.status,
        "reason": result.reason,
        "max_abs_err": result.max_abs_err,
        "max_rel_err": result.max_rel_err,
        "rtol": result.bound.get("rtol"),
        "atol": result.bound.get("atol"),
        "median_s": latency.get("median_s"),
        "iqr_s": latency.get("iqr_s"),
        # the spread between the run's timing processes, its independent units
        "fastest_process_s": _process_medians(latency, min),
        "slowest_process_s": _process_medians(latency, max),
        "noisy": latency.get("noisy"),
        "roofline_fraction": result.roofline_fraction,
        "roofline_bound": result.roofline.get("roofline_bound"),
        "roofline_omitted": result.roofline.get("roofline_omitted"),
    }


def _process_medians(latency: dict[str, Any], pick) -> float | None:
    """The fastest or slowest (``pick``) of the timing processes' median rounds."""
    if not latency.get("data_s"):
        return None
    parts = np.array_split(np.asarray(latency["data_s"]), latency.get("processes", 1))
    return float(pick(np.median(part) for part in parts))
