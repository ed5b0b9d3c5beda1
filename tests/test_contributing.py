"""docs/contributing.md's promises, kept: a method written in a module of its own and registered
there is built, exported, run on every runtime, analysed, drawn in the report and gated; a figure
(metric) in a module of its own is computed, counted in the verdict, reported, gated and tested
for the invariances it claims; with no other file of the suite touched. Each module lives in a
temporary folder and is named to the suite by ``UPSAMPLING_BENCH_METHODS`` or
``UPSAMPLING_BENCH_METRICS``, which the run's processes inherit."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from suite.analysis import registry as metric_registry
from suite.analysis.registry import EXTRA_METRICS_ENV, list_metrics
from suite.cli import main as cli
from suite.gate.baseline import figures as gated_figures
from suite.gate.baseline import from_runs
from suite.gate.checks import Context, compare
from suite.gate.rows import Outcome
from suite.methods import _REGISTRY, EXTRA_METHODS_ENV
from suite.records import CaseRecord, gated_runtimes
from suite.report.context import ReportContext
from suite.report.style import PALETTE

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]

MODULE = "contrib_nearest_conv"
METHOD = "contrib_nearest_conv"
COLOUR = "#123456"

SOURCE = f'''
"""A team's own upsampler: nearest ×scale, then a 3x3 convolution without bias."""

from torch import nn

from suite.methods import register
from suite.methods.base import SCALE, Method, times_scale


@register
class ContribNearestConv(Method):
    name = "{METHOD}"
    summary = "nearest ×scale, then a 3x3 convolution (a contributor's method)"
    order = 75
    colour = "{COLOUR}"
    params = (SCALE,)
    inits = ("random",)

    @classmethod
    def output_size(cls, params, size):
        return times_scale(params, size)

    @classmethod
    def reach(cls, params):
        return 3

    @classmethod
    def build(cls, params, channels, generator):
        conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        conv.weight.data = 0.3 * nn.init.normal_(conv.weight.data.clone(), generator=generator)
        return nn.Sequential(nn.Upsample(scale_factor=params["scale"], mode="nearest"), conv)
'''


@pytest.fixture
def contributed_method(tmp_path, monkeypatch):
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(EXTRA_METHODS_ENV, MODULE)
    importlib.import_module(MODULE)  # what importing suite.methods does in a fresh process
    yield
    _REGISTRY.pop(METHOD, None)
    sys.modules.pop(MODULE, None)


def test_a_method_in_its_own_module_is_built_exported_run_analysed_plotted_and_gated(
    contributed_method, write_cases, tmp_path, export_cache
):
    cases = write_cases(
        f"""
        [[case]]
        id = "contrib"
        method = "{METHOD}"
        channels = 2
        size = 24
        """
    )
    out = tmp_path / "run"
    code = cli(["run", str(cases), "--out", str(out), "--quick", "--cache", str(export_cache)])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    (case,) = results["cases"]
    assert case["status"] == "ok" and case["onnx"]["ops"], case
    # run on every runtime present here, timed in the timing process (which imported it too)
    for name in ("torch-cpu", "ort-cpu", "onnx-reference"):
        assert case["runtimes"][name]["status"] == "ok", name
    assert case["runtimes"]["ort-cpu"]["latency"]["rounds"] > 0
    # analysed: the registered figures were computed on its outputs
    assert case["metrics"]["checkerboard_pct"] is not None
    assert case["metrics"]["hypercolumn_psnr_db"] is not None
    # plotted: in the place its class declares, and in a colour of the colour-blind-safe
    # palette (its own, off the palette, is replaced by the first free one)
    assert (out / "report" / "index.html").read_text().count("contrib") > 0
    ctx = ReportContext(results)
    assert ctx.families == [METHOD] and ctx.colours[METHOD] == PALETTE[0]
    # gated: its figures and its latency on each gated runtime are rows of the gate
    baseline = from_runs([(f"run{i}", results) for i in range(3)])
    rows = compare(
        baseline,
        {case["id"]: gated_figures(CaseRecord.from_dict(case), gated_runtimes(results["run"]))},
        Context(True, ""),
    )
    checked = {row.figure for row in rows if row.case == "contrib"}
    assert {"latency.torch-cpu", "latency.ort-cpu", "metrics.checkerboard_pct"} <= checked
    assert not any(row.failed for row in rows)


FIGURE_MODULE = "contrib_peak_figure"
FIGURE = "contrib_peak_over_rms"

FIGURE_SOURCE = f'''
"""A team's own figure: how far the probe outputs' peaks stand above their RMS."""

import numpy as np

from suite.analysis.analyse import border
from suite.analysis.registry import GAIN, LOWER, Measured, Metric, register


def peak_over_rms(measured: Measured) -> float:
    cut = border(measured.case)
    inner = measured.outputs["probes"][..., cut : -cut or None, cut : -cut or None]
    return float(np.abs(inner).max() / np.sqrt((inner**2).mean()))


register(
    Metric(
        "{FIGURE}",
        "peak / RMS",
        "ratio",
        LOWER,
        "the probe outputs' largest magnitude over their RMS",
        (GAIN,),
        1e-6,
        ".2f",
        interval=False,
        threshold=1000.0,
        verdict_column="worst peak / RMS",
        compute=peak_over_rms,
    )
)
'''


@pytest.fixture
def contributed_figure(tmp_path, monkeypatch):
    folder = tmp_path / "team-figure"
    folder.mkdir()
    (folder / f"{FIGURE_MODULE}.py").write_text(textwrap.dedent(FIGURE_SOURCE))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(EXTRA_METRICS_ENV, FIGURE_MODULE)
    list_metrics()  # the suite's own first, as in a fresh process
    importlib.import_module(FIGURE_MODULE)  # what listing the figures does in a fresh process
    yield folder
    metric_registry._REGISTRY.pop(FIGURE, None)
    sys.modules.pop(FIGURE_MODULE, None)


def test_a_figure_in_its_own_module_is_computed_reported_gated_and_tested(
    contributed_figure, write_cases, tmp_path, export_cache
):
    cases = write_cases(
        """
        [[case]]
        id = "figured"
        method = "transposed"
        kernel = 3
        channels = 2
        size = 24
        """
    )
    out = tmp_path / "run"
    assert cli(["run", str(cases), "--out", str(out), "--quick", "--cache", str(export_cache)]) == 0
    results = json.loads((out / "results.json").read_text())
    (case,) = results["cases"]
    # computed by its hook on the reference outputs, and counted in the verdict
    assert case["metrics"][FIGURE] > 1.0
    assert case["metrics"]["verdict"]["figures"][FIGURE]["threshold"] == 1000.0
    # reported: its column in the verdict table and in the table of cases, its caption
    page = (out / "report" / "index.html").read_text()
    assert "worst peak / RMS" in page and "largest magnitude over their RMS" in page
    # gated: a row of the gate, passing against a baseline of the same run
    baseline = from_runs([(f"run{i}", results) for i in range(3)])
    figures = {case["id"]: gated_figures(CaseRecord.from_dict(case), [])}
    rows = compare(baseline, figures, Context(True, ""))
    (row,) = [row for row in rows if row.figure == f"metrics.{FIGURE}"]
    assert row.outcome is Outcome.PASS and row.new == case["metrics"][FIGURE]
    # tested: its claimed invariance is checked on each default witness (fresh process)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(contributed_figure), str(REPO)])}
    checked = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_invariances.py", "-q", "-k", FIGURE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0 and "3 passed" in checked.stdout, checked.stdout[-2000:]
