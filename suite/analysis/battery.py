"""The calibration battery: layers with a known answer, measured by the suite's own figures.

Each row says what was put in (a pattern of known size, an equal-DC Laplacian phase, an ideal
interpolator, noise that is not periodic, the all-ones resize-convolution decoder), the answer
it must give, what the suite measured and the tolerance. A run records the table
(``run.calibration``), the report draws it, and ``tests/test_calibration.py`` holds every row
to its tolerance. The expected values follow from how each layer is built, never from a run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import as_file, files
from typing import Any

import numpy as np
import torch

from .. import calibration
from ..case import Case
from ..casefile import load_cases
from .analyse import SPECTRAL_PROBES, border, image_metrics, periods, probe_inputs, torch_infer
from .linear import linear_analysis

#: Input side of the battery's cases (the output is scale × this).
SIZE = 48
PERCENTS = (0.1, 0.3, 1.0, 3.0, 10.0)


@dataclass(frozen=True)
class Row:
    layer: str
    metric: str
    injected: float | None  # the pattern's size, % (None where nothing is injected)
    expected: float
    measured: float | None
    tolerance: float
    #: "equal": |measured - expected| <= tolerance; "above": measured >= expected
    check: str = "equal"
    #: for an injected pattern: "added" or "multiplied", and its period
    kind: str | None = None
    period: int | None = None

    @property
    def passed(self) -> bool:
        if self.measured is None:
            return False
        if self.check == "above":
            return self.measured >= self.expected
        return abs(self.measured - self.expected) <= self.tolerance


#: The battery's layers, as a case file beside this module.
LAYERS_FILE = "analysis/battery.toml"


@cache
def layers() -> dict[str, Case]:
    """The battery's layers by case id (``battery.toml``)."""
    with as_file(files("suite").joinpath(LAYERS_FILE)) as path:
        return {case.id: case for case in load_cases([path])}


def layer(case_id: str) -> Case:
    return layers()[case_id]


def keys_of(case: Case) -> dict[str, Any]:
    """A single-stage layer's resolved keys."""
    (stage,) = case.stages
    return stage.params


def measure(case: Case) -> dict[str, Any]:
    return image_metrics(case, torch_infer(case.build()))[0]


def measure_with_outputs(case: Case) -> tuple[dict[str, Any], np.ndarray]:
    """The figures and the probe outputs (P, C, H, W) they came from."""
    metrics, outputs = image_metrics(case, torch_infer(case.build()))
    return metrics, outputs["probes"]


def pattern_tolerance(percent: float) -> float:
    """The stated tolerance (docs/metrics.md, "Calibration"): 10% of the answer, and never under
    0.1 pp (the chance remnant of a clean interpolator at 96 px)."""
    return max(0.1, 0.1 * percent)


def multiplied_answer(case: Case, percent: float, outputs: np.ndarray) -> float:
    """A modulation depth m on an output b reads m·|mean b| / rms(b·(1 + m·p)) in % (the
    pattern's phase-locked average is m·p·mean b; p has RMS 1), pooled over the probes whose
    modulated ``outputs`` the figure was measured on."""
    clean = calibration.injected_pattern(1, case.scale, 0.0, kind="multiply", mode="bilinear")
    inputs, _ = probe_inputs(case, SPECTRAL_PROBES)
    cut = border(case)
    means, squares = [], []
    for x, out in zip(inputs, outputs.astype(np.float64), strict=True):
        with torch.no_grad():
            base = clean(torch.from_numpy(x[None]))[0].double().numpy()
        h, w = base.shape[-2:]
        whole = np.s_[..., cut : h - cut, cut : w - cut]
        means.append(base[whole].mean() ** 2)
        squares.append((out[whole] ** 2).mean())
    return percent * float(np.sqrt(np.sum(means) / np.sum(squares)))


def pattern_rows() -> list[Row]:
    rows = []
    for case_id, case in layers().items():
        if case_id.startswith("added["):
            period, percent = keys_of(case)["scale"], keys_of(case)["percent"]
            rows.append(
                Row(
                    f"bilinear ×{period} + {percent:g}% period-{period} pattern (added)",
                    "checkerboard_pct",
                    percent,
                    percent,
                    measure(case)["checkerboard_pct"],
                    pattern_tolerance(percent),
                    kind="added",
                    period=period,
                )
            )
    for case_id, case in layers().items():
        if case_id.startswith("multiplied["):
            rows.append(_multiplied_row(case))
    return rows


def _multiplied_row(case: Case) -> Row:
    period, percent = keys_of(case)["scale"], keys_of(case)["percent"]
    metrics, outputs = measure_with_outputs(case)
    expected = multiplied_answer(case, percent, outputs)
    return Row(
        f"bilinear ×{period} × (1 + {percent:g}% period-{period} pattern)",
        "checkerboard_pct",
        percent,
        expected,
        metrics["checkerboard_pct"],
        pattern_tolerance(expected),
        kind="multiplied",
        period=period,
    )


def lanczos_imaging_ratio(scale: int, lobes: int, points: int = 8192) -> float:
    """From the separable taps' DTFT on a dense grid: energy outside the square below the
    input's Nyquist 1/(2·scale) over the energy inside."""
    taps, _ = calibration.lanczos_taps(scale, lobes)
    freq = np.arange(points) / points - 0.5
    response = np.abs(np.exp(-2j * np.pi * np.outer(freq, np.arange(len(taps)))) @ taps) ** 2
    inside = response[np.abs(freq) < 1 / (2 * scale)].sum()
    total = response.sum()
    return float((total**2 - inside**2) / inside**2)


#: Layers with no periodic pattern, by what a reader calls them: the answer is 0.
CLEAN = {
    "Laplacian-sharpened (0, 0) phase, nearest ×2": "laplacian-phase",
    "Lanczos-3 ×2 (near-ideal)": "lanczos",
    "nearest ×2 + 5% white noise": "nearest-noise",
    "bilinear ×2": "bilinear",
    "all-ones resize-conv ×2 ×2 ×2 decoder": "ones-decoder",
}


def clean_rows() -> list[Row]:
    """Layers with no periodic pattern: the answer is 0; Lanczos's imaging ratio follows from
    its taps; the Laplacian-sharpened phase carries at least 30% more detail than the others."""
    rows = [
        Row(name, "checkerboard_pct", None, 0.0, measure(layer(case_id))["checkerboard_pct"], 0.5)
        for name, case_id in CLEAN.items()
    ]
    lanczos = layer("lanczos")
    found = linear_analysis(lanczos, lanczos.build()).get("imaging_ratio")
    expected = lanczos_imaging_ratio(2, 3)
    rows.append(Row("Lanczos-3 ×2 (near-ideal)", "imaging_ratio", None, expected, found, 1e-3))
    measured = measure(layer("laplacian-phase"))["phase_energy_pct"]
    name = "Laplacian-sharpened (0, 0) phase, nearest ×2"
    rows.append(Row(name, "phase_energy_pct", None, 30.0, measured, 0.0, check="above"))
    return rows


def exact_rows() -> list[Row]:
    """All-ones transposed convolutions at stride 2: |G(1/2, 0)| / |G(0)| is
    |Σ_n (-1)^n| / k per axis over the k taps: 1/3, 0 and 1/5 for k = 3, 4, 5."""
    rows = []
    for case_id, case in layers().items():
        if not case_id.startswith("ones-transposed["):
            continue
        kernel = keys_of(case)["kernel"]
        found = linear_analysis(case, case.build()).get("checkerboard_gain")
        name = f"all-ones {kernel}x{kernel} transposed, stride 2"
        rows.append(Row(name, "checkerboard_gain", None, (kernel % 2) / kernel, found, 1e-12))
    return rows


def battery() -> list[Row]:
    from .probe_battery import probe_battery  # it builds its rows from this module's Row

    return [*pattern_rows(), *clean_rows(), *exact_rows(), *probe_battery()]


@cache
def battery_record() -> list[dict[str, Any]]:
    """The table as results.json keeps it."""
    return [{**asdict(row), "passed": row.passed} for row in battery()]


__all__ = ["Row", "battery", "battery_record", "layer", "periods", "torch_infer"]
