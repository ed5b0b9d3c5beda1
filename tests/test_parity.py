"""Parity arithmetic and the tolerance table."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from suite.bench.check import check_runtime
from suite.bench.errorlog import ErrorLog
from suite.bench.reduced import BUDGET_SHARE, reduced_size
from suite.case import Case, Tolerance
from suite.methods import Stage, get_method
from suite.parity import DEFAULT, Bound, NonFiniteOutput, check_finite, compare
from suite.parity_bound import bound_for
from suite.records import CaseRecord, RuntimeResult
from suite.report.markdown import _md_notes, md_escape
from suite.run_summary import RunSummary
from suite.runtimes import get_runtime


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


# -- the independent oracle at every size (suite/bench/reduced.py) --------------------------------

#: a budget the small case below is over: its output has 2 x 64 x 64 = 8192 elements
BUDGET = 2048


@pytest.fixture
def over_budget(monkeypatch, export_cache, tmp_path):
    """A resize-convolution case prepared as a run prepares it, with the reference evaluator's
    output budget below its output (a 64-channel 128² output is over the real one)."""
    from suite.bench.pipeline import Settings, prepare_case

    monkeypatch.setattr(get_runtime("onnx-reference"), "max_output_elements", BUDGET)
    stage = Stage("resize_conv", get_method("resize_conv").resolve({}))
    case = Case(id="big", file="test", stages=(stage,), size=(32, 32), channels=2)
    log = ErrorLog(tmp_path / "errors.log")
    work = prepare_case(case, Settings(export_cache, 1, analyse=False), log)
    assert work.error is None
    return work, log


def test_the_reduced_size_is_the_largest_within_the_budget_keeping_divisibility():
    def case(size, channels=64):
        stage = Stage("resize_conv", get_method("resize_conv").resolve({}))
        return Case(id="c", file="t", stages=(stage,), size=size, channels=channels)

    # 64 channels, 64² in, 128² out: 1048576 elements; 40² in (a multiple of 8) is 409600
    assert reduced_size(case((64, 64)), 1 << 19) == (40, 40)
    # 90 x 60 x 64 out, over 2^15 by 10.5x: each side / sqrt(10.5), 45 keeping no factor, 30 its 2
    assert reduced_size(case((45, 30)), 1 << 15) == (13, 8)
    assert np.prod(case((13, 8)).output_shape) <= 1 << 15 < np.prod(case((14, 10)).output_shape)
    assert reduced_size(case((8, 8), channels=4096), 1 << 12) is None
    # what the check asks for first: an eighth of the evaluator's budget (BUDGET_SHARE)
    assert reduced_size(case((64, 64)), (1 << 19) // BUDGET_SHARE) == (16, 16)


def test_a_case_over_the_evaluators_budget_gets_a_real_parity_at_a_reduced_size(over_budget):
    work, log = over_budget
    result = check_runtime(work, "onnx-reference", analyse=False, log=log)
    assert result.status == "ok", result.reason
    assert result.parity_at["input_size"] == [16, 16]
    assert result.parity_at["output_shape"] == [1, 2, 32, 32]
    assert (
        result.parity_at["why"]
        == f"the output has 8192 elements and onnx-reference runs up to {BUDGET}"
    )
    assert "exported again at input 16x16 (the case's is 32x32)" in result.parity_at["checked"]
    # measured (nearest and a 3x3 convolution: the evaluator's sums may equal torch's exactly);
    # that it is the evaluator on the reduced export that is compared, the broken export shows
    assert result.max_abs_err is not None and result.max_rel_err < DEFAULT.rtol
    assert result.bound["rtol"] == DEFAULT.rtol
    assert RuntimeResult.from_dict(result.to_dict()).to_dict() == result.to_dict()
    # ort still runs at the case's own size
    assert check_runtime(work, "ort-cpu", analyse=False, log=log).parity_at is None


def test_a_broken_export_at_the_reduced_size_is_caught(over_budget, monkeypatch, tmp_path):
    import onnx
    from onnx import numpy_helper

    from suite.bench import reduced

    real = reduced.export_case

    def broken(case, model, example, cache):
        """The export at the reduced size with its convolution's weights 1% off."""
        exported = real(case, model, example, cache)
        proto = onnx.load(exported.path)
        (weight,) = [w for w in proto.graph.initializer if len(w.dims) == 4]
        weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * 1.01, weight.name))
        onnx.save(proto, tmp_path / "broken.onnx")
        return replace(exported, path=tmp_path / "broken.onnx")

    monkeypatch.setattr(reduced, "export_case", broken)
    work, log = over_budget
    result = check_runtime(work, "onnx-reference", analyse=False, log=log)
    assert result.status == "mismatch" and result.parity_at["input_size"] == [16, 16]
    assert result.max_rel_err > 1e-3
    case = CaseRecord(work.case.describe(), {"onnx-reference": result})
    (problem,) = RunSummary.of([case]).problems
    assert (
        problem.detail == f"onnx-reference rel {result.max_rel_err:.1e} > tolerance at input 16x16"
    )


def test_a_module_that_does_not_export_at_the_reduced_size_is_a_skip_with_why(
    over_budget, monkeypatch
):
    from suite.bench import reduced

    def refuses(case, model, example, cache):
        raise ValueError("bound to its input size")

    monkeypatch.setattr(reduced, "export_case", refuses)
    work, log = over_budget
    result = check_runtime(work, "onnx-reference", analyse=False, log=log)
    assert result.status == "skipped"
    assert result.reason.endswith("does not export at input 16x16: bound to its input size")
    assert result.parity_at["checked"].startswith("nothing: the module does not export")
    case = CaseRecord(work.case.describe(), {"onnx-reference": result})
    assert RunSummary.of([case]).reduced == [
        f"big · onnx-reference: skipped at input 16x16, not 32x32: {result.reason}"
    ]


def test_the_summary_and_the_report_list_each_parity_of_another_size(over_budget):
    from rich.console import Console

    from suite import summary

    work, log = over_budget
    result = check_runtime(work, "onnx-reference", analyse=False, log=log)
    case = CaseRecord(work.case.describe(), {"onnx-reference": result})
    line = (
        f"big · onnx-reference: ok at input 16x16, not 32x32: the output has 8192 elements and "
        f"onnx-reference runs up to {BUDGET}"
    )
    assert RunSummary.of([case]).reduced == [line]
    info = {"timed": False, "gated": False, "marker": "o", "colour": "#000000"}
    run = {
        "id": "r",
        "wall_s": 1.0,
        "timing": {"processes": 1, "processes_done": 1},
        "ceilings": None,
        "runtimes": {
            "torch-cpu": {**info, "reference": True},
            "onnx-reference": {**info, "reference": False},
        },
    }
    console = Console(width=250, record=True)
    console.print(summary.render({"run": run, "cases": [case.to_dict()]}, Path("r.json"), []))
    assert f"parity checked at a reduced input size (parity_at):\n  {line}" in console.export_text()
    values = {"run": {"id": "r", "wall": "1 s"}, "problems": [], "reduced": [line]}
    values |= {"counts": "1 case", "machine": "m", "versions": "v", "commit": "c"}
    assert f"- {md_escape(line)}" in _md_notes(values)  # summary.md; index.html lists the same
