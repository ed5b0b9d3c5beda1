"""The verdict table: per method variant and scale, artifact-free or not (from stated thresholds),
hypercolumn PSNR, latency relative to the fastest artifact-free method of the same geometry on
each runtime, and export parity; and the lecture's summary claim checked in numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .style import family_order

#: A case is artifact-free when its flat-field ripple (std / rms of a constant input's response)
#: and its worst checkerboard family both stay under these. Bicubic interpolation of photographs
#: scores under 3 dB; a trained 3x3 stride-2 transposed convolution still scores ~11 dB.
RIPPLE_MAX = 0.01
CHECKERBOARD_MAX_DB = 3.0
THRESHOLDS = (
    f"artifact-free: flat-field ripple ≤ {RIPPLE_MAX} and checkerboard score ≤ "
    f"{CHECKERBOARD_MAX_DB:g} dB in every case of the row"
)


def artifact_free(cases: pd.DataFrame) -> pd.Series:
    """True / False per case; NA where either metric is missing (too small, stride 1)."""
    known = cases["flat_ripple"].notna() & cases["checkerboard_db"].notna()
    clean = (cases["flat_ripple"] <= RIPPLE_MAX) & (cases["checkerboard_db"] <= CHECKERBOARD_MAX_DB)
    return clean.astype("boolean").where(known, pd.NA)


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


def _yes_no(values: pd.Series) -> str:
    known = values.dropna()
    if known.empty:
        return "n/a"
    clean = int(known.sum())
    if clean == len(known):
        return "yes"
    return "no" if clean == 0 else f"{clean} of {len(known)}"


def verdict_table(cases: pd.DataFrame, runtimes: pd.DataFrame) -> pd.DataFrame:
    """One row per method variant and scale (scale-1 cases, which do not upsample, are left out)."""
    cases = cases[cases["scale"] > 1].copy()
    if cases.empty:
        return pd.DataFrame()
    cases["clean"] = artifact_free(cases)
    relative = relative_latency(cases, runtimes)
    checked = runtimes[~runtimes["reference"]]
    rows = []
    order = {name: i for i, name in enumerate(family_order(list(cases["family"].unique())))}
    for (variant, scale), group in cases.groupby(["variant", "scale"], sort=False):
        indices = list(group["index"])
        parity = checked[checked["index"].isin(indices)]
        psnr = group["hypercolumn_psnr_db"].dropna()
        row = {
            "family": group["family"].iloc[0],
            "method": variant,
            "scale": int(scale),
            "cases": len(group),
            "artifact-free": _yes_no(group["clean"]),
            "worst ripple": group["flat_ripple"].max(),
            "worst checkerboard dB": group["checkerboard_db"].max(),
            "hypercolumn PSNR dB": psnr.median() if len(psnr) else np.nan,
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
    geometry: str
    transposed: str
    mixing: str
    transposed_checkerboard_db: float | None
    mixing_checkerboard_db: float | None
    transposed_psnr_db: float | None
    mixing_psnr_db: float | None
    #: mixing's median latency over transposed's, per timed runtime
    latency_ratio: dict[str, float]


CLAIM = (
    "Bilinear interpolation and channel mixing is a better alternative (to transposed convolution)"
)


def claim_comparisons(cases: pd.DataFrame, runtimes: pd.DataFrame) -> list[ClaimComparison]:
    """Every pair of a randomly initialised transposed convolution and a randomly initialised
    bilinear + 1x1 mixing block of the same geometry (like for like: neither trained)."""
    single = cases[cases["stages"] == 1]
    transposed = single[
        (single["family"] == "transposed") & single["variant"].str.endswith("random")
    ]
    mixing = single[(single["family"] == "bilinear_mix") & single["variant"].str.endswith("random")]
    medians = runtimes.dropna(subset=["median_s"]).set_index(["index", "runtime"])["median_s"]
    found = []
    for _, t in transposed.iterrows():
        for _, m in mixing[mixing["geometry"] == t["geometry"]].iterrows():
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
                    _number(t["checkerboard_db"]),
                    _number(m["checkerboard_db"]),
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
            "Not checked: this run has no transposed convolution and bilinear + 1x1 mixing block "
            "of the same geometry (both with random weights)."
        )
    n = len(comparisons)
    fewer_artifacts = sum(
        c.mixing_checkerboard_db is not None
        and c.transposed_checkerboard_db is not None
        and c.mixing_checkerboard_db <= CHECKERBOARD_MAX_DB < c.transposed_checkerboard_db
        for c in comparisons
    )
    psnr_pairs = [
        c.mixing_psnr_db - c.transposed_psnr_db
        for c in comparisons
        if c.mixing_psnr_db is not None and c.transposed_psnr_db is not None
    ]
    better_psnr = sum(d > 0 for d in psnr_pairs)
    parts = [
        f"In {fewer_artifacts} of {n} like-for-like pairs the mixing block is artifact-free where "
        "the transposed convolution is not",
    ]
    if psnr_pairs:
        parts.append(
            f"its hypercolumn PSNR is higher in {better_psnr} of {len(psnr_pairs)} "
            f"(by {min(psnr_pairs):+.1f} to {max(psnr_pairs):+.1f} dB)"
        )
    costs = {}
    for c in comparisons:
        for runtime, ratio in c.latency_ratio.items():
            costs.setdefault(runtime, []).append(ratio)
    for runtime, ratios in costs.items():
        parts.append(f"on {runtime} it takes {_times(min(ratios))}–{_times(max(ratios))}× the time")
    return "; ".join(parts) + "."
