"""The verdict table: per method variant and scale, the cases' three-valued artifact verdicts
(``suite/analysis/verdict.py``: thresholds in each figure's own unit, decided on the figures'
95% intervals), hypercolumn PSNR, latency relative to the fastest artifact-free method of the
same geometry on each runtime, and export parity; and the lecture's summary claim checked in
numbers on like-for-like pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis.registry import MEDIAN, Metric, list_metrics
from .style import family_order


def thresholds_text() -> str:
    """The verdict's rule in words, from the registered figures' thresholds."""
    rules = [m.rule for m in list_metrics() if m.threshold is not None]
    listed = ", ".join(rules[:-1]) + (", and " if len(rules) > 1 else "") + rules[-1]
    return (
        f"artifact-free: {listed}; artifacts: an interval wholly above a threshold; undecided: "
        "an interval that straddles one"
    )


def verdict_columns() -> list[Metric]:
    """The registered figures the verdict table shows, each under its ``verdict_column``."""
    return [m for m in list_metrics() if m.verdict_column]


def _summed_up(metric: Metric, values: pd.Series) -> float:
    """A row's cases' figure: their worst by its direction, or their median."""
    known = [float(v) for v in values.dropna()]
    if not known:
        return np.nan
    return float(np.median(known)) if metric.column_summary == MEDIAN else metric.worst(known)


def artifact_free(cases: pd.DataFrame) -> pd.Series:
    """True / False per case from its recorded verdict; NA where it is undecided or missing."""
    verdicts = cases["verdict"]
    clean = (verdicts == "artifact_free").astype("boolean")
    return clean.where(verdicts.isin(["artifact_free", "artifacts"]), pd.NA)


def relative_latency(cases: pd.DataFrame, runtimes: pd.DataFrame) -> pd.DataFrame:
    """Per case and timed runtime: its median over the fastest artifact-free case's median in
    the same geometry (channels, input size, scale) on that runtime; NaN where that geometry has
    no artifact-free case."""
    timed = runtimes.dropna(subset=["median_s"]).merge(
        cases[["index", "geometry", "clean"]], on="index"
    )
    fastest = (
        timed[timed["clean"] == True]  # noqa: E712 (a nullable boolean column)
        .groupby(["geometry", "runtime"])["median_s"]
        .min()
        .rename("fastest_clean_s")
    )
    timed = timed.join(fastest, on=["geometry", "runtime"])
    timed["relative"] = timed["median_s"] / timed["fastest_clean_s"]
    return timed.pivot_table(index="index", columns="runtime", values="relative", aggfunc="first")


def _verdicts(values: pd.Series) -> str:
    """The row's verdicts: one word where every case agrees, else the counts."""
    known = values.dropna()
    if known.empty:
        return "n/a"
    counts = known.value_counts()
    words = {"artifact_free": "artifact-free", "artifacts": "artifacts", "undecided": "undecided"}
    if len(counts) == 1:
        return words[counts.index[0]]
    return ", ".join(f"{n} {words[v]}" for v, n in counts.items())


def verdict_table(cases: pd.DataFrame, runtimes: pd.DataFrame) -> pd.DataFrame:
    """One row per method variant and scale (scale-1 cases, which do not upsample, are left out)."""
    cases = cases[cases["scale"] > 1].copy()
    if cases.empty:
        return pd.DataFrame()
    cases["clean"] = artifact_free(cases)
    # a figure no case of the run has (the task probe's, where no case asks) is no column
    shown = [m for m in verdict_columns() if cases[m.name].notna().any()]
    relative = relative_latency(cases, runtimes)
    checked = runtimes[~runtimes["reference"]]
    rows = []
    order = {name: i for i, name in enumerate(family_order(cases))}
    for (variant, scale), group in cases.groupby(["variant", "scale"], sort=False):
        indices = list(group["index"])
        parity = checked[checked["index"].isin(indices)]
        row = {
            "family": group["family"].iloc[0],
            "method": variant,
            "scale": int(scale),
            "cases": len(group),
            "verdict": _verdicts(group["verdict"]),
            **{m.verdict_column: _summed_up(m, group[m.name]) for m in shown},
            "_levels": group["hypercolumn_levels"].min(),
            "parity worst rel err": parity["max_rel_err"].max() if len(parity) else np.nan,
            "mismatches": int((parity["status"] == "mismatch").sum()),
        }
        for runtime in sorted(relative.columns, key=list(runtimes["runtime"].unique()).index):
            values = relative.loc[relative.index.intersection(indices), runtime].dropna()
            row[f"{runtime} ÷ fastest clean"] = values.median() if len(values) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    table["_order"] = table["family"].map(order)
    return table.sort_values(["_order", "method", "scale"]).drop(columns="_order")


@dataclass(frozen=True)
class ClaimComparison:
    """One like-for-like pair of the lecture's claim: the layer it questions and the one it
    proposes, each by its method's declared ``lecture_claim`` role, with their figures."""

    geometry: str
    questioned: str
    proposed: str
    questioned_checkerboard_pct: float | None
    proposed_checkerboard_pct: float | None
    questioned_verdict: str | None
    proposed_verdict: str | None
    questioned_psnr_db: float | None
    proposed_psnr_db: float | None
    #: the proposed layer's median latency over the questioned one's, per timed runtime
    latency_ratio: dict[str, float]


CLAIM = (
    "Bilinear interpolation and channel mixing is a better alternative (to transposed convolution)"
)


PAIRING = (
    "pairs: a randomly initialised transposed convolution whose kernel is at least its stride "
    "(a smaller kernel leaves holes in the output: a layer no one ships) and a randomly "
    "initialised bilinear + 1x1 mixing block of the same channels, input size and scale"
)


def claim_comparisons(cases: pd.DataFrame, runtimes: pd.DataFrame) -> list[ClaimComparison]:
    """Every pair of a randomly initialised transposed convolution with kernel ≥ stride and a
    randomly initialised bilinear + 1x1 mixing block of the same geometry (like for like:
    neither trained, every output pixel covered)."""
    single = cases[(cases["stages"] == 1) & (cases["init"] == "random")]
    questioned = single[
        (single["lecture_claim"] == "questioned")
        & (single["kernel"].fillna(0) >= single["stride"].fillna(np.inf))
    ]
    proposed = single[single["lecture_claim"] == "proposed"]
    medians = runtimes.dropna(subset=["median_s"]).set_index(["index", "runtime"])["median_s"]
    found = []
    for _, t in questioned.iterrows():
        for _, m in proposed[proposed["geometry"] == t["geometry"]].iterrows():
            ratio = {}
            for runtime in runtimes["runtime"].unique():
                if (m["index"], runtime) in medians and (t["index"], runtime) in medians:
                    ratio[runtime] = float(
                        medians[(m["index"], runtime)] / medians[(t["index"], runtime)]
                    )
            found.append(
                ClaimComparison(
                    t["geometry"],
                    t["id"],
                    m["id"],
                    _number(t["checkerboard_pct"]),
                    _number(m["checkerboard_pct"]),
                    t["verdict"],
                    m["verdict"],
                    _number(t["hypercolumn_psnr_db"]),
                    _number(m["hypercolumn_psnr_db"]),
                    ratio,
                )
            )
    return found


def _times(ratio: float) -> str:
    return f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.2g}"


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def claim_summary(comparisons: list[ClaimComparison]) -> str:
    """One sentence, every number in it computed from the comparisons."""
    if not comparisons:
        return (
            "Not checked: this run has no transposed convolution (kernel ≥ stride) and bilinear "
            "+ 1x1 mixing block of the same geometry (both with random weights)."
        )
    n = len(comparisons)
    fewer_artifacts = sum(
        c.proposed_verdict == "artifact_free" and c.questioned_verdict == "artifacts"
        for c in comparisons
    )
    psnr_pairs = [
        c.proposed_psnr_db - c.questioned_psnr_db
        for c in comparisons
        if c.proposed_psnr_db is not None and c.questioned_psnr_db is not None
    ]
    better_psnr = sum(d > 0 for d in psnr_pairs)
    parts = [
        f"In {fewer_artifacts} of {n} like-for-like pairs the mixing block is artifact-free where "
        "the transposed convolution is not",
    ]
    if psnr_pairs:
        parts.append(
            f"its hypercolumn PSNR is higher in {better_psnr} of {len(psnr_pairs)} "
            f"(by {_span(psnr_pairs, '{:+.1f}', ' to ')} dB)"
        )
    costs = {}
    for c in comparisons:
        for runtime, ratio in c.latency_ratio.items():
            costs.setdefault(runtime, []).append(ratio)
    for runtime, ratios in costs.items():
        parts.append(f"on {runtime} it takes {_span(ratios, '{}', '–', _times)}× the time")
    return "; ".join(parts) + "."


def _span(values: list[float], fmt: str, dash: str, show=None) -> str:
    """``low<dash>high``, or the one value where both ends read the same ("+4.8", not "+4.8 to
    +4.8")."""
    ends = [fmt.format(show(v) if show else v) for v in (min(values), max(values))]
    return ends[0] if ends[0] == ends[1] else dash.join(ends)
