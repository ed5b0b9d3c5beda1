"""The run's one-screen summary: its figure columns come from the metric registry."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from suite import summary
from suite.analysis.registry import get_metric

#: A reference runtime as a run records it: the summary reads its name from the run.
REFERENCE_INFO = {
    "reference": True,
    "timed": True,
    "gated": True,
    "marker": "o",
    "colour": "#000000",
}


def summary_case(method: str, pct: float, db: float, verdict: str) -> dict:
    """An ``ok`` case with a pattern, a PSNR and a verdict, run on the reference runtime."""
    return {
        "id": method,
        "file": "f",
        "method": method,
        "status": "ok",
        "error": None,
        # an ``ok`` case is one whose runtimes ran: a record is checked, not trusted
        "runtimes": {
            "ref-rt": {
                "status": "ok",
                "reason": None,
                "max_abs_err": 0.0,
                "max_rel_err": 0.0,
                "latency": None,
            }
        },
        "metrics": {
            "checkerboard_pct": pct,
            "hypercolumn_psnr_db": db,
            "verdict": {"verdict": verdict},
        },
    }


def summary_run(cases: list[dict]) -> dict:
    """A run of ``cases`` in 1 s over 5 timing processes, without machine ceilings."""
    return {
        "run": {
            "id": "r",
            "wall_s": 1.0,
            "timing": {"processes": 5, "processes_done": 5},
            "ceilings": None,
            "runtimes": {"ref-rt": REFERENCE_INFO},
        },
        "cases": cases,
    }


def test_a_metrics_worst_follows_its_direction():
    psnr, pattern = get_metric("hypercolumn_psnr_db"), get_metric("checkerboard_pct")
    assert psnr.worst([20.0, 30.0]) == 20.0 and pattern.worst([0.1, 5.0]) == 5.0
    assert get_metric("spectral_leakage_db").worst([3.0, -9.0]) == -9.0


def test_the_run_summary_shows_the_registered_figures_worst_by_their_direction():
    cases = [
        summary_case("a", 0.2, 30.0, "artifact_free"),
        summary_case("a", 7.5, 21.0, "artifacts"),
    ]
    console = Console(width=200, record=True)
    console.print(summary.render(summary_run(cases), Path("results.json"), []))
    text = console.export_text()
    assert "checkerboard" in text and "7.50" in text and "21.0" in text  # worst of each
    assert "1 free 1 art" in text  # the row's verdicts counted
    # Without machine ceilings the headline still names the run, its counts and its time.
    assert "run r: 2 cases: 2 ok, 0 mismatch, 0 failed, 0 skipped; 1 s; timed in 5" in text
    assert "machine ceilings not measured" in text


def test_a_roofline_left_out_is_shown_with_its_reason_never_over_100_percent():
    def runtime(**roofline):
        parity = {"status": "ok", "reason": None, "max_abs_err": 0.0, "max_rel_err": 0.0}
        return {**parity, "latency": None, **roofline}

    omitted = "copy-1MiB could not be believed (0.2 GB/s, below the 1 GB/s of any machine)"
    cases = [
        {"id": "kept", "runtimes": {"ref-rt": runtime(roofline_fraction=0.5)}},
        {"id": "left", "runtimes": {"ref-rt": runtime(roofline_omitted=omitted)}},
        {"id": "older run", "runtimes": {"ref-rt": runtime(roofline_fraction=47.18)}},
    ]
    row = {"median": 50.0, "min": 50.0, "max": 50.0}
    ceilings = {
        "copy_gbs": {"65536": row, "1048576": {**row, "median": 0.2, "implausible": "busy"}},
        "compute_gflops": {"median": 100.0, "min": 90.0, "max": 110.0},
        "processes": 1,
    }
    results = {
        "run": {
            "id": "r",
            "wall_s": 1.0,
            "timing": {"processes": 1, "processes_done": 1},
            "ceilings": ceilings,
            "runtimes": {"ref-rt": REFERENCE_INFO},
        },
        "cases": [
            {"file": "f", "method": "m", "status": "ok", "error": None, "metrics": {}, **case}
            for case in cases
        ],
    }
    console = Console(width=250, record=True)
    console.print(summary.render(results, Path("results.json"), []))
    text = console.export_text()
    assert (
        "copy 50-50 GB/s by working set, peak compute 110 GFLOP/s (1 MiB copy: implausible" in text
    )
    assert f"roofline left out (no bound to trust there):\n  left · ref-rt: {omitted}" in text
    assert "older run · ref-rt: 4718% of the roofline" in text
    assert "kept · ref-rt" not in text.split("roofline left out")[1]
