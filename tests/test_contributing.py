"""docs/contributing.md's promise, kept: a method written in a module of its own and registered
there is built, exported, run on every runtime, analysed, drawn in the report and gated, with no
other file of the suite touched. The module lives in a temporary folder and is named to the suite by
``UPSAMPLING_BENCH_METHODS``, which the run's timing processes inherit."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap

import pytest

from suite.cli import main as cli
from suite.gate.baseline import figures as gated_figures
from suite.gate.baseline import from_runs
from suite.gate.checks import Context, compare
from suite.methods import _REGISTRY, EXTRA_METHODS_ENV
from suite.records import CaseRecord, gated_runtimes
from suite.report.context import ReportContext
from suite.report.style import PALETTE

pytestmark = pytest.mark.slow

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
