"""docs/contributing.md's runtime walk-through, kept: a runtime added as one new module (a renamed
copy of the reference evaluator's, ``suite/runtimes/onnx_reference.py``) is run by a run, checked
for parity, drawn in the report, gated as it declares, listed in the docs and covered by the tests
parametrized from the registry, with no other file of the suite touched. The module lives in a
temporary folder and is named to the suite by ``UPSAMPLING_BENCH_RUNTIMES``, which the run's
timing processes inherit."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.text import Text

from suite import docs_tables
from suite.cli import main as cli
from suite.gate.baseline import figures as gated_figures
from suite.gate.baseline import from_runs
from suite.gate.checks import Context, compare
from suite.records import CaseRecord, gated_runtimes
from suite.report.context import ReportContext
from suite.report.plots import PLOTS
from suite.runtimes import _REGISTRY, EXTRA_RUNTIMES_ENV, REFERENCE, get_runtime
from suite.runtimes import onnx_reference as copied

pytestmark = pytest.mark.slow

MODULE = "contrib_reference_copy"
NAME = "onnx-reference-copy"
ROOT = Path(__file__).resolve().parents[1]


def renamed_copy() -> str:
    """The reference evaluator's module under another name; it lives outside the package, so
    its relative imports become absolute."""
    source = Path(copied.__file__).read_text()
    for relative, absolute in (
        ("from .. import", "from suite import"),
        ("from ..", "from suite."),
        ("from . import", "from suite.runtimes import"),
        ("from .", "from suite.runtimes."),
        (f'name = "{copied.OnnxReference.name}"', f'name = "{NAME}"'),
        ("class OnnxReference(", "class OnnxReferenceCopy("),
    ):
        source = source.replace(relative, absolute)
    assert f'name = "{NAME}"' in source and "from ." not in source
    return source


@pytest.fixture
def contributed_runtime(tmp_path, monkeypatch):
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / f"{MODULE}.py").write_text(renamed_copy())
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(EXTRA_RUNTIMES_ENV, MODULE)
    importlib.import_module(MODULE)  # what importing suite.runtimes does in a fresh process
    yield folder
    _REGISTRY.pop(NAME, None)
    sys.modules.pop(MODULE, None)


def test_a_runtime_in_its_own_module_is_run_checked_reported_and_gated_as_it_declares(
    contributed_runtime, write_cases, tmp_path, export_cache, capsys
):
    cases = write_cases(
        '[[case]]\nid = "contrib"\nmethod = "resize_conv"\nchannels = 2\nsize = 8\n'
    )
    out = tmp_path / "run"
    assert cli(["run", str(cases), "--out", str(out), "--quick", "--cache", str(export_cache)]) == 0
    results = json.loads((out / "results.json").read_text())
    declared = results["run"]["runtimes"][NAME]
    assert declared == get_runtime(NAME).describe() and not declared["reference"]
    (case,) = results["cases"]
    mine, original = case["runtimes"][NAME], case["runtimes"][copied.OnnxReference.name]
    # parity-checked against the reference: the same evaluator gives the same error, bit for bit
    assert mine["status"] == "ok" and mine["max_rel_err"] is not None, mine
    assert (mine["max_abs_err"], mine["max_rel_err"]) == (
        original["max_abs_err"],
        original["max_rel_err"],
    )
    assert mine["latency"] is None  # it declares itself untimed, as the original does
    # reported: in the terminal's parity list, and drawn in the report's parity plot in the
    # marker and colour it declares
    assert f"contrib · {NAME}: max abs {original['max_abs_err']:.2e}" in capsys.readouterr().out
    ctx = ReportContext(results)
    assert ctx.runtime_look[NAME].colour == copied.OnnxReference.colour
    (parity,) = [p for p in PLOTS if p.name == "parity"]
    drawn = {text.get_text() for text in parity.render(ctx).findobj(Text)}
    assert NAME in drawn and (out / "report" / "index.html").is_file()
    # gated as declared: its parity is a gate row; its latency is not, being untimed
    gated = gated_runtimes(results["run"])
    assert REFERENCE in gated and NAME not in gated
    baseline = from_runs([(f"run{i}", results) for i in range(3)])
    record = CaseRecord.from_dict(case)
    rows = compare(baseline, {case["id"]: gated_figures(record, gated)}, Context(True, ""))
    checked = {row.figure for row in rows if row.case == "contrib"}
    assert f"parity.{NAME}" in checked and f"latency.{NAME}" not in checked
    assert f"latency.{REFERENCE}" in checked and not any(row.failed for row in rows)
    assert f"`{NAME}`" in docs_tables.runtimes()


def test_the_tests_parametrized_from_the_registry_cover_a_contributed_runtime(
    contributed_runtime,
):
    """A fresh pytest, as CI runs it with the variable set: the registry's tests include it."""
    tests = (
        "tests/test_methods.py::test_every_runtime_runs_the_export_and_matches_the_reference",
        "tests/test_runtimes.py::test_what_a_runtime_times_writes_what_it_answers",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(contributed_runtime), str(ROOT)])}
    chosen = f"{NAME} and (interpolate or what_a_runtime)"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider", "-k", chosen],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout, done.stdout[-2000:]
