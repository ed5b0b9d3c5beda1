"""docs/contributing.md's "A plot", done as it says: one module, written outside the suite and
named by ``UPSAMPLING_BENCH_PLOTS``, is drawn into the report of a small existing run, and a
second plot under its name is refused (the name is its PNG's file name)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plot_runs import factory_run

from suite.report.plots import EXTRA_PLOTS_ENV, registry

ROOT = Path(__file__).resolve().parents[1]
MODULE = "team_plots"
NAME = "cases-per-family"
TITLE = "Cases per family, as a team counts them"
SOURCE = f'''
"""A team's plot: how many cases each method family has in the run."""

import matplotlib.pyplot as plt

from suite.report.plots import plot


@plot(
    "{NAME}",
    "{TITLE}",
    "One bar per family, in the report's order and colours.",
    place=2000,
)
def cases_per_family(ctx):
    counts = ctx.cases["family"].value_counts()
    families = [f for f in ctx.families if f in counts]
    figure, axes = plt.subplots(figsize=(6, 3))
    colours = [ctx.colours.get(f, "#555555") for f in families]
    axes.bar(families, [int(counts[f]) for f in families], color=colours)
    axes.set_ylabel("cases")
    return figure
'''


@pytest.fixture
def team_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / f"{MODULE}.py").write_text(textwrap.dedent(SOURCE))
    return folder


@pytest.mark.slow
def test_a_plot_in_its_own_module_is_drawn_into_the_report(team_folder: Path, tmp_path: Path):
    """In a fresh process, as ``python -m suite report`` runs: nothing of the suite edited."""
    run = factory_run(tmp_path / "run")
    env = {
        **os.environ,
        EXTRA_PLOTS_ENV: MODULE,
        "PYTHONPATH": os.pathsep.join([str(team_folder), str(ROOT)]),
    }
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "suite", "report", str(run), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    # drawn last (its place is after every suite plot), under its name
    assert pngs[-1].endswith(f"-{NAME}.png"), pngs
    assert (out / "plots" / pngs[-1]).stat().st_size > 5_000  # a real picture, not a stub
    page = (out / "index.html").read_text()
    assert TITLE in page and page.count("data:image/png;base64,") == len(pngs)


def test_a_second_plot_under_a_taken_name_is_refused(team_folder, monkeypatch):
    """The second registration raises, naming both draw functions; the first stays."""
    (team_folder / "team_again.py").write_text(
        textwrap.dedent(SOURCE).replace("def cases_per_family", "def cases_again")
    )
    monkeypatch.syspath_prepend(str(team_folder))
    monkeypatch.setattr(registry, "PLOTS", list(registry.PLOTS))  # the suite's list untouched
    try:
        importlib.import_module(MODULE)
        with pytest.raises(ValueError, match=f"plot '{NAME}' is registered twice") as refused:
            importlib.import_module("team_again")
    finally:
        sys.modules.pop(MODULE, None), sys.modules.pop("team_again", None)
    assert "team_plots.cases_per_family" in str(refused.value)
    assert "team_again.cases_again" in str(refused.value)
    assert [p.name for p in registry.PLOTS].count(NAME) == 1
