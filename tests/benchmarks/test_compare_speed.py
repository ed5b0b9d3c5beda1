"""The front door's speed target: ``python -m suite compare`` of one block at 64 channels, 64²
input, ×2 answers in 60 s on 2 cores (build, export, parity on every runtime, the figures, quick
timing, the calibration battery and the report). A benchmark, not a timed test: ``tox -e perf``
times it. Untimed (``tox -e py``) it skips: its smoke run at a small geometry cost the tests 43
CPU seconds to show what the session's compare run (tests/test_compare.py) shows, a compare of
one block that answers with a decision."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: seconds for the whole command on a 2-core machine (the issue's target)
TARGET_S = 60.0
TESTS = Path(__file__).parents[1]


def compare(out: Path, cache: Path, geometry: list[str]) -> None:
    command = [sys.executable, "-m", "suite", "compare", "factories:nearest_conv_bias", *geometry]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    env.pop("UPSAMPLING_BENCH_WORKERS", None)  # as a user runs it: a worker per core
    result = subprocess.run(
        [*command, "--out", str(out), "--force", "--cache", str(cache)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "decision (" in result.stdout


def test_compare_of_one_block_answers_within_a_minute(benchmark, tmp_path):
    if benchmark.disabled:
        pytest.skip("a speed target: timed under tox -e perf; the session's compare run smokes it")
    geometry = ["--channels", "64", "--size", "64"]
    # a fresh cache for each round: every round exports and calibrates from nothing, as a new
    # user's first compare does
    rounds = iter(range(100))

    def once() -> None:
        n = next(rounds)
        compare(tmp_path / f"run{n}", tmp_path / f"cache{n}", geometry)

    benchmark.pedantic(once, rounds=3, iterations=1)
    median = benchmark.stats.stats.median
    assert median < TARGET_S, f"compare took {median:.0f} s (target {TARGET_S:.0f} s)"
