"""Parity arithmetic and the tolerance table."""

from __future__ import annotations

import numpy as np
import pytest

from suite.case import Tolerance
from suite.parity import DEFAULT, Bound, NonFiniteOutput, bound_for, check_finite, compare


def test_errors_are_absolute_and_relative_to_the_range():
    reference = np.array([0.0, -4.0, 2.0])
    output = np.array([1e-4, -4.0, 2.0])
    parity = compare(output, reference, Bound(atol=0.0, rtol=1e-5, reason="test"))
    assert parity["max_abs_err"] == pytest.approx(1e-4)
    assert parity["max_rel_err"] == pytest.approx(1e-4 / 4)
    assert parity["within_tolerance"] is False  # 1e-4 > 0 + 1e-5 · 4
    loose = compare(output, reference, Bound(atol=0.0, rtol=3e-5, reason="test"))
    assert loose["within_tolerance"] is True  # 1e-4 <= 3e-5 · 4


def test_shape_mismatch_is_reported_not_raised():
    parity = compare(np.zeros((1, 2)), np.zeros((2, 1)), DEFAULT)
    assert parity["within_tolerance"] is False
    assert "shape" in parity["error"]


def test_case_override_wins_and_keeps_its_reason():
    bound = bound_for("ort-cpu", Tolerance(atol=None, rtol=1e-3, reason="known drift"))
    assert (bound.atol, bound.rtol, bound.reason) == (DEFAULT.atol, 1e-3, "known drift")
    assert bound_for("ort-cpu", None) == DEFAULT


def test_nan_and_inf_are_named():
    with pytest.raises(NonFiniteOutput, match="ort-cpu output holds 1 NaN and 2 Inf values"):
        check_finite(np.array([np.nan, np.inf, -np.inf, 0.0]), "ort-cpu")
    check_finite(np.zeros(3), "torch-cpu")
