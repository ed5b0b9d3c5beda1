"""The report: every plot drawn from a real quick run, regenerated from the run's files alone,
escaped, atomic, published, and opened in a real browser (headless Chromium)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

from suite.cli import main as cli_main
from suite.report.plots import PLOTS, pareto_front
from suite.report.publish import FRONT_PAGE_PLOTS, publish
from suite.report.render import Report, write_report
from suite.report.verdict import (
    ClaimComparison,
    artifact_free,
    claim_comparisons,
    claim_summary,
)
from suite.samplefile import SAMPLES_FILE, load_samples

# The lecture's cases (every lecture figure) plus a small like-for-like comparison set (scored
# by the task probe, a guided layer among them) and an Odena grid, at sizes that keep the run
# short.
REPORT_CASES = """
[[case]]
id = "grid-transposed"
method = "transposed"
channels = 4
size = 32
kernel = [3, 4]
stride = 2

[[case]]
id = "grid-resize-conv"
method = "resize_conv"
channels = 4
size = 32
kernel = [3, 4]
scale = 2

[[case]]
id = "cmp"
method = ["transposed", "resize_conv", "interpolate", "bilinear_mix"]
channels = 8
size = 32
scale = 2
probe = true

# a guided layer beside them: two inputs through export, runtimes, timing, figures and report
[[case]]
id = "cmp-fade"
method = "fade"
guide = "encoder"
channels = 8
size = 32
scale = 2
probe = true
"""


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory, export_cache: Path, run_suite) -> Path:
    root = tmp_path_factory.mktemp("report-run")
    (root / "extra.toml").write_text(REPORT_CASES)
    out = root / "run"
    code = run_suite(
        "cases/seed.toml",
        str(root / "extra.toml"),
        "--out",
        str(out),
        "--quick",
        "--cache",
        str(export_cache),
        report=True,
    )
    assert code == 0
    return out


@pytest.fixture(scope="module")
def regenerated(report_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The report drawn again from a copy of the run's files alone (results.json and the
    samples), once for the tests that read a redrawn report: each draw takes 13 s."""
    copy = tmp_path_factory.mktemp("copy")
    for name in ("results.json", SAMPLES_FILE):
        shutil.copyfile(report_run / name, copy / name)
    return write_report(copy)


@pytest.mark.slow
def test_every_plot_is_drawn_with_a_title_and_caption(report_run: Path):
    report = report_run / "report"
    html = (report / "index.html").read_text()
    assert "Not drawn" not in html
    for number, plot in enumerate(PLOTS, start=1):
        png = report / "plots" / f"{number:02d}-{plot.name}.png"
        assert png.stat().st_size > 5_000, png
        assert str(escape(plot.title)) in html
    # Self-contained: every image is embedded, none is fetched from anywhere.
    assert html.count('src="data:image/png;base64,') == len(PLOTS)
    assert "http://" not in html and "https://" not in html


@pytest.mark.slow
def test_the_report_begins_with_the_decision(report_run: Path):
    """Both summary.md and the page put the decision first, in the terminal's words."""
    from suite.decision import decisions
    from suite.records import cases_of

    results = json.loads((report_run / "results.json").read_text())
    found = decisions(results["run"], cases_of(results))
    assert found  # the comparison set has clean layers to choose between
    summary = (report_run / "report" / "summary.md").read_text()
    sections = [line for line in summary.splitlines() if line.startswith("###")]
    assert sections[0] == "### Decision"
    html = (report_run / "report" / "index.html").read_text()
    assert html.index('id="decision"') < html.index('id="verdict"')
    for decision in found:
        assert f"**{decision.geometry} on {decision.runtime}**" in summary
        assert str(escape(decision.lines()[0])) in html


@pytest.mark.slow
def test_summary_holds_the_verdict_and_the_claim_in_numbers(report_run: Path):
    summary = (report_run / "report" / "summary.md").read_text()
    results = json.loads((report_run / "results.json").read_text())
    assert "| method | scale | cases | verdict |" in summary
    # The claim is checked on the comparison set: 1 pair (cmp[method=transposed] and
    # cmp[method=bilinear_mix]) plus the lecture's 224 pair, which have the same geometry.
    assert "In 2 of 2 like-for-like pairs the mixing block is artifact-free" in summary
    by_id = {c["id"]: c for c in results["cases"]}
    mixing = by_id["cmp[method=bilinear_mix]"]["metrics"]["checkerboard_pct"]
    assert f"/ {mixing:.2f}" in summary  # the table's figure is the run's own
    assert "known answers read back within their tolerance" in summary
    # what the suite set unlike onnxruntime's and torch's defaults, from the run's own record
    assert "### Runtime options unlike the libraries' defaults" in summary
    spinning = results["run"]["runtimes"]["ort-cpu"]["session_options"]
    assert spinning["session.intra_op.allow_spinning"] == {
        "suite": "0",
        "default": "1",
        "why": spinning["session.intra_op.allow_spinning"]["why"],
    }
    assert "| session.intra_op.allow_spinning | 0 | 1 |" in summary


@pytest.mark.slow
def test_report_regenerates_from_the_run_files_alone(report_run: Path, regenerated: Report):
    """(``suite report`` itself is run in test_case_ids_and_file_names_are_escaped.)"""
    original = (report_run / "report" / "summary.md").read_text()
    assert (regenerated.out_dir / "summary.md").read_text() == original
    assert sorted(p.name for p in (regenerated.out_dir / "plots").iterdir()) == sorted(
        p.name for p in (report_run / "report" / "plots").iterdir()
    )


@pytest.mark.slow
def test_case_ids_and_file_names_are_escaped(quick_run: dict, tmp_path: Path):
    """Over the session's quick run (six small cases, every sample kept): a report of its own,
    where the report run's lecture cases would only make it slower to draw."""
    results = json.loads((quick_run["out"] / "results.json").read_text())
    results["cases"][0]["id"] = "<script>alert(1)</script>"
    results["cases"][0]["file"] = "<img src=x onerror=alert(2)>.toml"
    copy = tmp_path / "hostile"
    copy.mkdir()
    (copy / "results.json").write_text(json.dumps(results))
    shutil.copyfile(quick_run["out"] / SAMPLES_FILE, copy / SAMPLES_FILE)
    assert cli_main(["report", str(copy)]) == 0
    html = (copy / "report" / "index.html").read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    summary = (copy / "report" / "summary.md").read_text()
    assert "<script>" not in summary


@pytest.mark.slow
def test_a_plot_that_breaks_is_reported_and_the_others_still_drawn(
    report_run: Path, tmp_path: Path, monkeypatch, capsys
):
    import dataclasses

    import suite.report.drawing as drawing

    def broken(ctx):
        raise RuntimeError("a bug in this plot")

    plots = [dataclasses.replace(p, draw=broken) if p.name == "latency" else p for p in PLOTS]
    monkeypatch.setattr(drawing, "PLOTS", plots)
    out = tmp_path / "report"
    assert cli_main(["report", str(report_run), "--out", str(out)]) == 1
    assert (
        "error: plot latency: failed: RuntimeError: a bug in this plot" in capsys.readouterr().err
    )
    html = (out / "index.html").read_text()
    assert "Not drawn: failed: RuntimeError: a bug in this plot" in html
    assert len(list((out / "plots").glob("*.png"))) == len(PLOTS) - 1


def test_report_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys):
    assert cli_main(["report", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nowhere'}: not a run folder"

    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["report", str(empty)]) == 2
    assert "no results.json in this folder" in capsys.readouterr().err


@pytest.mark.slow
def test_a_broken_samples_file_leaves_the_old_report_whole(
    report_run: Path, tmp_path: Path, capsys
):
    copy = tmp_path / "broken"
    shutil.copytree(report_run, copy)
    before = (copy / "report" / "index.html").read_bytes()
    (copy / SAMPLES_FILE).write_bytes((copy / SAMPLES_FILE).read_bytes()[:1000])
    assert cli_main(["report", str(copy)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {copy / SAMPLES_FILE}: not a readable samples file")
    assert "\n" not in error
    assert (copy / "report" / "index.html").read_bytes() == before
    assert not [p for p in copy.iterdir() if p.name.startswith(".report")]


@pytest.mark.slow
def test_publish_writes_the_front_page_and_a_run_it_regenerates_from(
    report_run: Path, regenerated: Report, tmp_path: Path
):
    page = publish(report_run, regenerated, root=tmp_path / "results")
    text = page.read_text()
    assert "| method | scale | cases | verdict |" in text
    machine = json.loads((report_run / "results.json").read_text())["run"]["machine"]
    assert f"{machine['cpu']}, {machine['usable_cores']} cores" in text  # the machine is named
    plots = sorted((tmp_path / "results" / "reference" / "plots").iterdir())
    assert [p.stem.split("-", 1)[1] for p in plots] == sorted(
        FRONT_PAGE_PLOTS, key=[p.name for p in PLOTS].index
    )
    for plot in plots:
        assert f"reference/plots/{plot.name}" in text
    # The committed copy keeps only the samples the front page drew from.
    kept = load_samples(tmp_path / "results" / "reference" / "run")
    assert 0 < len(kept) < len(load_samples(report_run))
    again = write_report(tmp_path / "results" / "reference" / "run", tmp_path / "again")
    drawn = {f.name for f in again.figures if f.file}
    assert set(FRONT_PAGE_PLOTS) <= drawn


def test_artifact_free_follows_the_recorded_verdicts():
    cases = pd.DataFrame({"verdict": ["artifact_free", "artifacts", "undecided", None]})
    assert artifact_free(cases).tolist() == [True, False, pd.NA, pd.NA]


def test_the_claim_pairs_only_transposed_kernels_at_least_their_stride():
    # the claim's two sides come from the methods' declared lecture_claim, not their names
    claims = {"transposed": "questioned", "bilinear_mix": "proposed"}

    def row(index, family, kernel, stride):
        return {
            "index": index,
            "id": f"{family}{kernel}x{stride}",
            "stages": 1,
            "family": family,
            "lecture_claim": claims[family],
            "init": "random",
            "variant": f"{family} · random",
            "kernel": kernel,
            "stride": stride,
            "geometry": f"g{stride}",
            "checkerboard_pct": 1.0,
            "verdict": "artifacts",
            "hypercolumn_psnr_db": 20.0,
        }

    cases = pd.DataFrame(
        [row(0, "transposed", 3, 4), row(1, "transposed", 8, 4), row(2, "bilinear_mix", 3, None)]
    )
    cases.loc[2, "geometry"] = "g4"
    runtimes = pd.DataFrame({"index": [], "runtime": [], "median_s": []})
    pairs = claim_comparisons(cases, runtimes)
    assert [p.questioned for p in pairs] == ["transposed8x4"]  # 3x3 at stride 4 leaves holes


def test_pareto_front_keeps_only_the_undominated_points():
    points = pd.DataFrame(
        {"median_s": [1.0, 2.0, 3.0, 2.5, 0.5], "hypercolumn_psnr_db": [20.0, 25.0, 24.0, 26.0, 10]}
    )
    front = pareto_front(points)
    assert front.index.tolist() == [4, 0, 1, 3]  # (3.0, 24) is beaten by (2.0, 25)


def test_claim_summary_counts_and_ranges_come_from_the_pairs():
    pairs = [
        ClaimComparison(
            "a", "t1", "m1", 29.0, 0.1, "artifacts", "artifact_free", 20.0, 24.0, {"ort-cpu": 0.5}
        ),
        ClaimComparison(
            "b", "t2", "m2", 29.0, 5.0, "artifacts", "undecided", 22.0, 21.0, {"ort-cpu": 2.0}
        ),
    ]
    assert claim_summary(pairs) == (
        "In 1 of 2 like-for-like pairs the mixing block is artifact-free where the transposed "
        "convolution is not; its hypercolumn PSNR is higher in 1 of 2 (by -1.0 to +4.0 dB); "
        "on ort-cpu it takes 0.5–2× the time."
    )
    assert claim_summary([]).startswith("Not checked")
    # one pair: one figure each, not a range from a value to itself
    assert claim_summary(pairs[:1]).endswith("(by +4.0 dB); on ort-cpu it takes 0.5× the time.")


# -- the page in a real browser ------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
REQUIRE_BROWSER = os.environ.get("UPSAMPLING_BENCH_REQUIRE_BROWSER") == "1"


#: A quiet, isolated headless browser at a laptop's screen size.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1366,900",
)


def headless_chromium(profile: Path):
    """A selenium driver of headless chromium keeping the browser's console log; skips where
    chromium or its driver is missing (fails where a CI job says they must be there)."""
    if not (CHROMIUM and CHROMEDRIVER):
        if REQUIRE_BROWSER:
            pytest.fail("chromium and chromedriver are required here (.ci/run installs them)")
        pytest.skip("no chromium/chromedriver (Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.mark.slow
def test_page_opens_in_headless_chromium_with_every_image_and_no_console_error(
    report_run: Path, tmp_path: Path
):
    driver = headless_chromium(tmp_path / "profile")
    try:
        driver.get((report_run / "report" / "index.html").resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);"
        )
        assert len(images) == len(PLOTS)
        assert all(complete and width > 100 for complete, width, _ in images), images
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        # No horizontal scrolling on a laptop screen: wide tables scroll inside their box.
        scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
        assert scroll_width <= 1366
        shots = Path(os.environ.get("UPSAMPLING_BENCH_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shots / "report-top.png"))
        driver.execute_script("document.getElementById('lecture').scrollIntoView()")
        assert driver.save_screenshot(str(shots / "report-lecture.png"))
    finally:
        driver.quit()


def test_samples_round_trip_float16(tmp_path: Path):
    from suite.samplefile import write_samples

    write_samples(tmp_path, {"c000.flat": np.linspace(0, 1, 16, dtype=np.float16).reshape(4, 4)})
    loaded = load_samples(tmp_path)
    assert loaded["c000.flat"].dtype == np.float32
    np.testing.assert_allclose(loaded["c000.flat"][-1, -1], 1.0)
    assert not list(tmp_path.glob(".*partial*"))


def test_latency_tick_labels_stay_distinct_when_long_ids_share_a_prefix():
    """Cut at 34 characters, these four all read ``interpolate-bilinear[align_corner…``."""
    from suite.report.plots import tick_labels

    ids = [f"interpolate-bilinear[align_corners=true,scale={s}]" for s in (2, 3, 4, 8)]
    labels = tick_labels(ids)
    assert len(set(labels)) == 4
    assert all(len(line) <= 34 for label in labels for line in label.splitlines())
    assert [label.replace("\n", "") for label in labels] == ids  # folded, nothing cut
    assert tick_labels(["short", "other"]) == ["short", "other"]


def test_the_report_summary_and_gate_import_neither_torch_nor_onnxruntime():
    """They read the reference, the timed and gated runtimes and each method's look from the
    run's results.json (run.runtimes, run.methods), not from the registries."""
    import subprocess
    import sys

    code = (
        "import sys; import suite.report.render, suite.summary, suite.commands.gate, "
        "suite.commands.baseline, suite.commands.noise; "
        "print(sorted(m for m in ('torch', 'onnxruntime', 'onnx') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_run_keeps_only_the_samples_its_report_drew(
    report_run: Path, regenerated: Report, quick_run
):
    results = json.loads((report_run / "results.json").read_text())
    assert results["run"]["samples_kept"] == "report"
    named = {key for case in results["cases"] for key in case["samples"].values()}
    assert named == set(load_samples(report_run))
    assert any(not case["samples"] for case in results["cases"] if case["status"] == "ok")
    # drawn again from what was kept, the plots draw the same samples and none goes missing
    assert regenerated.sample_keys == named and not regenerated.failed
    # a run that draws no report keeps every case's: a report drawn later needs them
    assert quick_run["results"]["run"]["samples_kept"] == "all"
    ok = [case for case in quick_run["results"]["cases"] if case["status"] == "ok"]
    assert ok and all(case["samples"] for case in ok)


def test_an_affine_case_is_shown_as_its_linear_part_plus_a_constant():
    from types import SimpleNamespace

    from suite.report.cells import linear_cells

    def row(case_id: str, affine: bool) -> dict:
        return {
            **{"id": case_id, "variant": "resize_conv · random", "stages": 1, "scale": 2},
            **{"linear": True, "exact": True, "affine": affine, "equivalent_kernel": "4x4"},
            **{"parameters": 1000, "equivalent_parameters": 144, "flops": 1e7},
            **{"equivalent_flops": 1e5, "checkerboard_gain": 0.0, "imaging_ratio": 0.5},
        }

    cases = pd.DataFrame([row("biased", True), row("plain", False)])
    rows, findings = linear_cells(SimpleNamespace(cases=cases))
    assert rows[0][3] == "4x4 transposed conv, stride 2 + a constant (biases)"
    assert rows[1][3] == "4x4 transposed conv, stride 2"
    assert "of stride 2 plus a constant (its biases) computes (144 parameters" in findings[0]
    assert "of stride 2 computes (144 parameters" in findings[1]
