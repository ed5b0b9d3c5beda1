"""Speed targets, as pytest-benchmark benchmarks (``tox -e perf``). Under ``tox -e py`` they run
once, untimed, as smoke tests; the targets are checked only when benchmarking is on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.analysis.analyse import image_metrics
from suite.case import Case
from suite.methods import Stage, get_method

#: Analysing one 256×256 output (flat field, phase-locked pattern, spectral bands over the six
#: probe photographs) on a 2-core machine, with and without the bootstrap intervals.
TARGET_S = 0.25
TARGET_WITH_INTERVALS_S = 0.5


@pytest.mark.parametrize(
    ("intervals", "target"), [(False, TARGET_S), (True, TARGET_WITH_INTERVALS_S)]
)
def test_image_metrics_of_a_256_case(benchmark, intervals, target):
    stage = Stage("transposed", get_method("transposed").resolve({"kernel": 3, "stride": 2}))
    case = Case(id="speed", file="bench", stages=(stage,), size=(128, 128), channels=1)
    model = case.build()

    def infer(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    metrics, _ = benchmark(image_metrics, case, infer, intervals=intervals)
    assert metrics["checkerboard_pct"] > 10
    if benchmark.stats is not None:  # timed run (tox -e perf)
        median = benchmark.stats.stats.median
        assert median < target, f"analysis of a 256x256 case took {median:.2f} s"


def test_phase_tiles_alone(benchmark):
    from suite.analysis.periodic import phase_tiles

    outputs = np.random.default_rng(0).standard_normal((6, 4, 256, 256))
    tiles = benchmark(phase_tiles, outputs, [2, 4], 8)
    assert set(tiles.pattern) == {2, 4}
