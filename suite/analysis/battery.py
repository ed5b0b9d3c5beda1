"""The calibration battery: layers with a known answer, measured by the suite's own figures.

Each row says what was put in (a pattern of known size, an equal-DC Laplacian phase, an ideal
interpolator, noise that is not periodic, the all-ones resize-convolution decoder), the answer
it must give, what the suite measured and the tolerance. A run records the table
(``run.calibration``), the report draws it, and ``tests/test_calibration.py`` holds every row
to its tolerance. The expected values follow from how each layer is built, never from a run.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import numpy as np
import torch

from .. import calibration
from ..case import Case
from ..methods import Stage, get_method
from .analyse import border, image_metrics, periods, torch_infer
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


def case_of(method: str, size: int = SIZE, channels: int = 1, **params: Any) -> Case:
    stage = Stage(method, get_method(method).resolve(params))
    return Case(id=method, file="battery", stages=(stage,), size=(size, size), channels=channels)


def factory_case(function: str, size: int = SIZE, **keys: Any) -> Case:
    return case_of("factory", size=size, factory=f"suite.calibration:{function}", **keys)


def measure(case: Case) -> dict[str, Any]:
    return image_metrics(case, torch_infer(case.build()))[0]


def measure_with_outputs(case: Case) -> tuple[dict[str, Any], np.ndarray]:
    """The figures and the probe outputs (P, C, H, W) they came from."""
    metrics, outputs = image_metrics(case, torch_infer(case.build()))
    return metrics, outputs["probes"]


def pattern_tolerance(percent: float) -> float:
    """The README's stated tolerance: 10% of the answer, and never under 0.1 pp (the chance
    remnant of a clean interpolator at 96 px)."""
    return max(0.1, 0.1 * percent)


def multiplied_answer(case: Case, percent: float, outputs: np.ndarray) -> float:
    """A modulation depth m on an output b reads m·|mean b| / rms(b·(1 + m·p)) in % (the
    pattern's phase-locked average is m·p·mean b; p has RMS 1), pooled over the probes whose
    modulated ``outputs`` the figure was measured on."""
    from .analyse import SPECTRAL_PROBES, probe_inputs

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
    for period in (2, 3, 4):
        for percent in PERCENTS:
            case = factory_case("injected_pattern", scale=period, percent=percent, mode="bilinear")
            measured = measure(case)["checkerboard_pct"]
            rows.append(
                Row(
                    f"bilinear ×{period} + {percent:g}% period-{period} pattern (added)",
                    "checkerboard_pct",
                    percent,
                    percent,
                    measured,
                    pattern_tolerance(percent),
                    kind="added",
                    period=period,
                )
            )
    for period, percent in itertools.product((2, 3, 4), (1.0, 3.0, 10.0)):
        case = factory_case(
            "injected_pattern", scale=period, percent=percent, kind="multiply", mode="bilinear"
        )
        metrics, outputs = measure_with_outputs(case)
        expected = multiplied_answer(case, percent, outputs)
        rows.append(
            Row(
                f"bilinear ×{period} × (1 + {percent:g}% period-{period} pattern)",
                "checkerboard_pct",
                percent,
                expected,
                metrics["checkerboard_pct"],
                pattern_tolerance(expected),
                kind="multiplied",
                period=period,
            )
        )
    return rows


def lanczos_imaging_ratio(scale: int, lobes: int, points: int = 8192) -> float:
    """From the separable taps' DTFT on a dense grid: energy outside the square below the
    input's Nyquist 1/(2·scale) over the energy inside."""
    taps, _ = calibration.lanczos_taps(scale, lobes)
    freq = np.arange(points) / points - 0.5
    response = np.abs(np.exp(-2j * np.pi * np.outer(freq, np.arange(len(taps)))) @ taps) ** 2
    inside = response[np.abs(freq) < 1 / (2 * scale)].sum()
    total = response.sum()
    return float((total**2 - inside**2) / inside**2)


def clean_rows() -> list[Row]:
    """Layers with no periodic pattern: the answer is 0."""
    layers = {
        "Laplacian-sharpened (0, 0) phase, nearest ×2": factory_case("laplacian_phase", scale=2),
        "Lanczos-3 ×2 (near-ideal)": factory_case("lanczos", scale=2),
        "nearest ×2 + 5% white noise": factory_case("nearest_noise", scale=2, percent=5.0),
        "bilinear ×2": case_of("interpolate", mode="bilinear"),
    }
    rows = [
        Row(name, "checkerboard_pct", None, 0.0, measure(case)["checkerboard_pct"], 0.5)
        for name, case in layers.items()
    ]
    decoder = Case(
        id="all-ones resize-conv decoder",
        file="battery",
        stages=tuple(
            Stage("resize_conv", get_method("resize_conv").resolve({"init": "ones"}))
            for _ in range(3)
        ),
        size=(32, 32),
        channels=8,
    )
    rows.append(
        Row(
            "all-ones resize-conv ×2 ×2 ×2 decoder",
            "checkerboard_pct",
            None,
            0.0,
            measure(decoder)["checkerboard_pct"],
            0.5,
        )
    )
    lanczos = factory_case("lanczos", scale=2)
    rows.append(
        Row(
            "Lanczos-3 ×2 (near-ideal)",
            "imaging_ratio",
            None,
            lanczos_imaging_ratio(2, 3),
            linear_analysis(lanczos, lanczos.build()).get("imaging_ratio"),
            1e-3,
        )
    )
    laplacian = factory_case("laplacian_phase", scale=2)
    rows.append(
        Row(
            "Laplacian-sharpened (0, 0) phase, nearest ×2",
            "phase_energy_pct",
            None,
            30.0,
            measure(laplacian)["phase_energy_pct"],
            0.0,
            check="above",
        )
    )
    return rows


def exact_rows() -> list[Row]:
    """All-ones transposed convolutions at stride 2: |G(1/2, 0)| / |G(0)| is
    |Σ_n (-1)^n| / k per axis over the k taps: 1/3, 0 and 1/5 for k = 3, 4, 5."""
    rows = []
    for kernel in (3, 4, 5):
        case = case_of("transposed", kernel=kernel, stride=2, init="ones")
        expected = (kernel % 2) / kernel
        found = linear_analysis(case, case.build()).get("checkerboard_gain")
        rows.append(
            Row(
                f"all-ones {kernel}x{kernel} transposed, stride 2",
                "checkerboard_gain",
                None,
                expected,
                found,
                1e-12,
            )
        )
    return rows


def battery() -> list[Row]:
    return [*pattern_rows(), *clean_rows(), *exact_rows()]


@cache
def battery_record() -> list[dict[str, Any]]:
    """The table as results.json keeps it."""
    return [{**asdict(row), "passed": row.passed} for row in battery()]


__all__ = ["Row", "battery", "battery_record", "periods", "torch_infer"]
