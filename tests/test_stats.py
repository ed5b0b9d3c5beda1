"""The suite's statistics (suite/stats.py) against answers known without it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from suite.stats import (
    mean_interval,
    percentile_interval,
    pooled_log_spread,
    predict,
    resample_counts,
    run_figure,
    session_medians,
)


def test_the_interval_is_the_2_5th_to_97_5th_percentile():
    # 0..1000: the p-th percentile of an evenly spaced ramp is 10·p (linear interpolation)
    low, high = percentile_interval(np.arange(1001.0))
    assert low == pytest.approx(25.0, abs=1e-9) and high == pytest.approx(975.0, abs=1e-9)


def test_a_resample_draws_as_many_as_there_are_units():
    counts = resample_counts(np.random.default_rng(0), 7, (500,))
    assert counts.shape == (500, 7) and (counts.sum(axis=1) == 7).all()
    # each unit is drawn once per resample on average: 500 × 7 draws, 1/7 each
    assert counts.mean(axis=0) == pytest.approx(np.ones(7), abs=0.15)


def test_the_mean_interval_holds_the_mean_and_none_for_no_values():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    low, high = mean_interval(values, seed=0)
    # the bootstrap mean's spread is sd/sqrt(n) = 1.41/2.24 = 0.63: ±1.96 of it is about ±1.24
    assert low < 3.0 < high and high - low == pytest.approx(2 * 1.96 * math.sqrt(2 / 5), rel=0.2)
    assert mean_interval([], seed=0) is None and mean_interval(None, seed=0) is None


def test_session_medians_and_the_run_figure():
    rounds = [5.0, 1.0, 3.0, 9.0, 8.0, 7.0, 2.0, 6.0, 4.0, 0.5, 0.7, 0.6]
    medians = session_medians(rounds, processes=2, sessions=2)
    assert medians == [[3.0, 8.0], [4.0, 0.6]]
    assert run_figure(medians) == 0.6
    with pytest.raises(ValueError, match="do not split into 5 equal parts"):
        session_medians(rounds, processes=5, sessions=1)


def test_the_pooled_spread_of_logs():
    # logs 0 and ln 2 (sd ln2/√2) and a single value that has no spread of its own
    spread = pooled_log_spread([[1.0, 2.0], [5.0]])
    assert spread == pytest.approx(math.log(2) / math.sqrt(2), rel=1e-12)
    assert pooled_log_spread([[3.0]]) is None


def test_the_prediction_test_against_its_formula():
    base, new = [1.0, math.e, math.e**2], math.e**3  # logs 0, 1, 2; new log 3
    test = predict(base, new)
    # shift 3 - 1; s = 1; spread s·sqrt(1 + 1/3); 2 degrees of freedom, whose t has the closed
    # form cdf(t) = 1/2 + t / (2·sqrt(2 + t²))
    assert test.shift == pytest.approx(2.0) and test.df == 2
    assert test.spread == pytest.approx(math.sqrt(4 / 3))
    t = 2.0 / math.sqrt(4 / 3)
    assert test.p_above == pytest.approx(0.5 - t / (2 * math.sqrt(2 + t * t)), rel=1e-9)
    assert test.p_below == pytest.approx(1 - test.p_above, rel=1e-9)
    # the t quantile at 0.99 for 2 degrees of freedom is 6.9646
    assert test.margin(0.99) == pytest.approx(6.9646 * math.sqrt(4 / 3), rel=1e-4)
    flat = predict([2.0, 2.0, 2.0], 2.2)  # no spread: any rise is beyond it
    assert (flat.p_above, flat.p_below) == (0.0, 1.0)
