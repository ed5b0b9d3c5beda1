"""Runs to draw the report's plots over, built from the committed reference run without running
anything: its records, edited. ``factory_run`` holds two cases that are their own modules."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from suite.samplefile import SAMPLES_FILE, write_samples

REFERENCE_RUN = Path(__file__).resolve().parent.parent / "results" / "reference" / "run"
#: the two cases of their own (``factory``), made from two of the comparison set's records
FACTORY_CASES = {
    "mine-sharp": ("resize-conv[mode=nearest,scale=2]", 3),
    "mine-soft": ("pixel-shuffle[init=icnr,scale=2]", 5),
}
#: a small comparison set (64 channels, 48×48), a corner of Odena's grid, and the lecture's cases
KEPT = (
    "transposed[scale=2]",
    "transposed[scale=4]",
    "resize-conv[mode=bilinear,scale=2]",
    "resize-conv[mode=bilinear,scale=4]",
    "interpolate[mode=bicubic,scale=2]",
    "bilinear-mix[scale=2]",
    "bilinear-mix[scale=4]",
    "odena-transposed[kernel=3,stride=2]",
    "odena-transposed[kernel=4,stride=2]",
    "odena-resize-conv[kernel=3,scale=2]",
    "odena-resize-conv[kernel=4,scale=2]",
)
#: the latencies are spread over this span (ms): less than two decades, as in the issue
LATENCY_MS = (4.7, 52.0)


def reference_results() -> dict:
    return json.loads((REFERENCE_RUN / "results.json").read_text())


def factory_case(record: dict, case_id: str, kernel: int) -> dict:
    """``record`` as a case of its own: a factory with a kernel, in a case file of its own."""
    case = copy.deepcopy(record)
    stage = {"method": "factory", "factory": "suite.methods.factory:nearest_then_conv"}
    case.update(id=case_id, file="cases/mine.toml", method="factory", kernel=kernel, stride=None)
    case["stages"] = [{**stage, "scale": case["scale"], "kernel": kernel}]
    return case


def spread_latencies(cases: list[dict]) -> None:
    """Every timed result moved onto ``LATENCY_MS`` (its rank kept), its rounds scaled with it."""
    timed = [r for c in cases for r in c["runtimes"].values() if r.get("latency")]
    targets = np.geomspace(*LATENCY_MS, len(timed)) / 1e3
    ranked = sorted(timed, key=lambda r: r["latency"]["median_s"])
    for result, target in zip(ranked, targets, strict=True):
        latency = result["latency"]
        factor = target / latency["median_s"]
        for key in ("median_s", "iqr_s", "mean_s", "min_s", "fastest_session_s"):
            if latency.get(key) is not None:
                latency[key] *= factor
        latency["data_s"] = [t * factor for t in latency["data_s"]]


def add_a_gpu_runtime(case: dict) -> None:
    """ort-cuda as if it ran: ort-cpu's result, twice as fast, with twice the error."""
    result = copy.deepcopy(case["runtimes"]["ort-cpu"])
    if result.get("latency"):
        result["latency"] = {
            k: v / 2 if isinstance(v, float) and k.endswith("_s") else v
            for k, v in result["latency"].items()
        }
        result["latency"]["data_s"] = [t / 2 for t in result["latency"]["data_s"]]
    if result.get("max_rel_err"):
        result["max_rel_err"] *= 2
    case["runtimes"]["ort-cuda"] = result


def add_probe_figures(cases: list[dict]) -> None:
    """Task-probe figures (as ``probe = true`` would record them) on the comparison set's cases,
    so that the boundary-F plot has points: drawn, not measured (the plots only need numbers)."""
    rng = np.random.default_rng(35)
    for case in cases:
        if case["id"] not in KEPT[:7]:
            continue
        for name in ("probe_miou", "probe_boundary_f"):
            value = float(rng.uniform(0.3, 0.9))
            case["metrics"][name] = value
            case["metrics"][f"{name}_ci"] = [value - 0.03, value + 0.03]


def pictures(case: dict, names: list[str]) -> dict[str, np.ndarray]:
    """Noise of the shape each named sample has (the plots only need something to show)."""
    rng = np.random.default_rng(len(case["id"]))
    h, w = case["input_shape"][-2:]
    oh, ow = case["output_shape"][-2:]
    shapes = {"input": (h, w), "features": (4, 32, 32), "features_upsampled": (4, 64, 64)}
    shapes.update(hypercolumn_level1=(32, 32), hypercolumn_level2=(16, 16))
    return {
        name: rng.standard_normal(shapes.get(name, (oh, ow))).astype(np.float16) for name in names
    }


def with_samples(cases: list[dict]) -> dict[str, np.ndarray]:
    """Every sample a plot can draw, for every case: the lecture's as named, the comparison
    set's flat field and gallery."""
    arrays = {}
    for index, case in enumerate(cases):
        names = list(case["samples"]) or ["flat", "gallery_output", "gallery_original"]
        case["samples"] = {name: f"s{index:03d}.{name}" for name in names}
        for name, array in pictures(case, names).items():
            arrays[case["samples"][name]] = array
    return arrays


def factory_run(folder: Path) -> Path:
    """A run of the lecture's cases, a small comparison set (some with task-probe figures) and
    two cases of their own, with every sample, latencies within two decades, a third runtime,
    one bit-exact result of a factory and one mismatch; the run records its methods' and
    runtimes' colours as an older suite did (the report must still keep them apart)."""
    results = reference_results()
    by_id = {case["id"]: case for case in results["cases"]}
    cases = [c for c in results["cases"] if c["id"].startswith("lecture-")]
    cases += [copy.deepcopy(by_id[case_id]) for case_id in KEPT]
    cases += [factory_case(by_id[src], new, k) for new, (src, k) in FACTORY_CASES.items()]
    for case in cases:
        add_a_gpu_runtime(case)
    add_probe_figures(cases)
    spread_latencies(cases)
    mine = cases[-1]["runtimes"]
    mine["ort-cpu"].update(max_rel_err=0.0, max_abs_err=0.0)
    mine["ort-cuda"].update(status="mismatch", max_rel_err=3e-4, max_abs_err=3e-4)
    cases[-1]["status"] = "mismatch"
    results["run"]["methods"]["factory"] = {
        "order": 1000,
        "colour": "#222222",
        "variant_keys": [],
        "summary": "a torch module from the case's own factory function",
        "lecture_claim": None,
    }
    results["cases"] = cases
    folder.mkdir(parents=True, exist_ok=True)
    write_samples(folder, with_samples(cases))
    (folder / "results.json").write_text(json.dumps(results))
    assert (folder / SAMPLES_FILE).exists()
    return folder
