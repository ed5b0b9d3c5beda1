"""Speed targets, as pytest-benchmark benchmarks (``tox -e perf``). Under ``tox -e py`` they run
once, untimed, as smoke tests; the targets are checked only when benchmarking is on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.analysis.analyse import image_metrics
from suite.case import Case
from suite.methods import Stage, get_method

#: Analysing one 256×256 output (flat field, checkerboard families, spectral deviation over the
#: four probe photographs) on a 2-core machine.
TARGET_S = 1.0


def test_image_metrics_of_a_256_case(benchmark):
    stage = Stage("transposed", get_method("transposed").resolve({"kernel": 3, "stride": 2}))
    case = Case(id="speed", file="bench", stages=(stage,), size=(128, 128), channels=1)
    model = case.build()

    def infer(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    metrics, _ = benchmark(image_metrics, case, infer)
    assert metrics["checkerboard_db"] > 15
    if benchmark.stats is not None:  # timed run (tox -e perf)
        median = benchmark.stats.stats.median
        assert median < TARGET_S, f"analysis of a 256x256 case took {median:.2f} s"


@pytest.mark.parametrize("size", [256])
def test_checkerboard_families_alone(benchmark, size):
    from suite.analysis.spectrum import checkerboard_families

    image = np.random.default_rng(0).standard_normal((4, size, size))
    scores = benchmark(checkerboard_families, image, [2, 4])
    assert set(scores) == {2, 4}
