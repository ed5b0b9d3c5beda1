"""results/README.md: the findings of a reference run, committed so that a visitor sees them
without running anything. ``python -m suite report RUN --publish`` regenerates it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_json_atomic
from ..results import PUBLISH_DIR, RESULTS_FILE
from ..samplefile import load_samples, write_samples
from .cells import fmt
from .markdown import summary_markdown
from .render import Report

#: The verdicts of the reference run a newer one replaced, kept to say what moved.
PREVIOUS_FILE = "previous-verdicts.json"
#: The rule of suites before the three-valued verdict: ripple ≤ 0.01 and checkerboard ≤ 3 dB.
OLD_RIPPLE, OLD_CHECKERBOARD_DB = 0.01, 3.0
REFERENCE = "reference"
#: The plots the front page shows (the rest are in the run's own report).
FRONT_PAGE_PLOTS = (
    "checkerboard-heatmap",
    "photo-gallery",
    "psnr-vs-latency",
    "lecture-decoders",
    "parity",
)


def publish(run_dir: Path, report: Report, root: Path = PUBLISH_DIR) -> Path:
    """Copy the run (results.json, samples.npz) and the front page's plots under
    ``root/reference`` and write ``root/README.md``."""
    reference = root / REFERENCE
    run_copy = reference / "run"
    shown = [f for f in report.figures if f.name in FRONT_PAGE_PLOTS and f.file]
    if Path(run_dir).resolve() != run_copy.resolve():
        _copy_run(Path(run_dir), run_copy, reference, shown)
    plots = reference / "plots"
    shutil.rmtree(plots, ignore_errors=True)
    plots.mkdir(parents=True)
    for figure in shown:
        shutil.copyfile(report.out_dir / figure.file, plots / Path(figure.file).name)
    lines = [
        "# Reference results",
        "",
        "What the suite finds on this project's reference machine, from one full run of the "
        "default cases (`tox -e bench`). Every number and plot below is generated; nothing is "
        "typed by hand.",
        "",
        summary_markdown({**report.values, "figures": []}).replace(
            "## upsampling-bench", "## Run", 1
        ),
        *changes_section(reference / PREVIOUS_FILE, report),
        *_figure_sections(shown),
        *_regenerate_section(run_copy),
    ]
    page = root / "README.md"
    page.write_text("\n".join(lines), encoding="utf-8")
    return page


def _copy_run(run_dir: Path, run_copy: Path, reference: Path, shown: list) -> None:
    """The run as committed: results.json, and only the samples the front page draws from (a
    full run's are megabytes), so the page can be regenerated from the repository alone; the
    verdicts of the run it replaces are kept, to say what moved."""
    if (run_copy / RESULTS_FILE).exists():
        old = json.loads((run_copy / RESULTS_FILE).read_text())
        write_json_atomic(reference / PREVIOUS_FILE, verdicts_of(old))
    run_copy.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / RESULTS_FILE, run_copy / RESULTS_FILE)
    keys = set().union(*(f.sample_keys for f in shown))
    write_samples(run_copy, load_samples(run_dir, keys, dtype=np.float16))


def _figure_sections(shown: list) -> list[str]:
    lines = []
    for figure in shown:
        image = f"{REFERENCE}/plots/{Path(figure.file).name}"
        lines += [f"### {figure.title}", "", f"![{figure.title}]({image})", "", figure.caption, ""]
    return lines


def _regenerate_section(run_copy: Path) -> list[str]:
    return [
        "## Regenerate",
        "",
        "From the committed run (no model is run again):",
        "",
        "```bash",
        f"python -m suite report {run_copy} --publish",
        "```",
        "",
        "From a new run on your machine (the default cases, then this page; the run's own folder "
        "keeps every sample, the committed copy only those the plots above use):",
        "",
        "```bash",
        "python -m suite run cases/seed.toml cases/odena.toml cases/methods.toml "
        "--out results/runs/reference --force",
        "python -m suite report results/runs/reference --publish",
        "```",
        "",
    ]


def verdicts_of(results: dict[str, Any]) -> dict[str, Any]:
    """Per case id: its verdict and the figures behind it. A run from before the three-valued
    verdict is read with the rule of its day (flat ripple ≤ 0.01 and checkerboard ≤ 3 dB)."""
    found = {}
    for case in results["cases"]:
        metrics = case.get("metrics") or {}
        if "verdict" in metrics:
            verdict = metrics["verdict"]["verdict"]
            figures = f"pattern {fmt(metrics.get('checkerboard_pct'))}%, ripple " + fmt(
                metrics.get("flat_ripple")
            )
        else:
            ripple, score = metrics.get("flat_ripple"), metrics.get("checkerboard_db")
            verdict = None
            if ripple is not None and score is not None:
                clean = ripple <= OLD_RIPPLE and score <= OLD_CHECKERBOARD_DB
                verdict = "artifact_free" if clean else "artifacts"
            figures = f"checkerboard {fmt(score)} dB, ripple {fmt(ripple)}"
        found[case["id"]] = {"verdict": verdict, "figures": figures}
    return {"run": results["run"]["id"], "cases": found}


#: Why a verdict moves from the old rule (a point score in dB, no interval) to the new one.
MOVES = {
    ("artifact_free", "undecided"): "the old rule judged a point with no interval; the new 95% "
    "interval (over six photographs at this size) cannot rule out a pattern over the threshold",
    ("artifacts", "artifact_free"): "the old dB score rose with the image size and the floor's "
    "annulus; the new figure's interval lies under every threshold",
    ("artifact_free", "artifacts"): "the new figures see a pattern over a threshold that the old "
    "dB score missed",
    ("artifacts", "undecided"): "the old rule judged a point; the new interval straddles a "
    "threshold",
}


def _moved_row(case: dict[str, Any], before: dict[str, Any]) -> str | None:
    """The table row of a case whose verdict moved, or ``None`` where it did not."""
    verdict = (case.get("metrics") or {}).get("verdict") or {}
    if before["verdict"] == verdict.get("verdict"):
        return None
    now = verdicts_of({"run": {"id": ""}, "cases": [case]})["cases"][case["id"]]
    move = MOVES.get((before["verdict"], verdict.get("verdict")), "")
    gain = ((case.get("metrics") or {}).get("linear") or {}).get("checkerboard_gain")
    if gain is not None:
        move += f" (exact checkerboard gain {gain:.2g})"
    return (
        f"| {case['id']} | {before['verdict'] or '–'} ({before['figures']}) | "
        f"{verdict.get('verdict') or '–'} ({now['figures']}) | {move}: "
        f"{verdict.get('why', '')} |"
    )


def changes_section(previous: Path, report: Report) -> list[str]:
    """Which verdicts moved against the reference run this one replaced, and why (the new
    verdict's own reason)."""
    if not previous.exists():
        return []
    old = json.loads(previous.read_text())
    moved = (
        _moved_row(case, old["cases"][case["id"]])
        for case in report.values["results_cases"]
        if case["id"] in old["cases"]
    )
    rows = [row for row in moved if row is not None]
    if not rows:
        return [
            "### Verdicts against the previous reference run",
            "",
            f"No verdict moved against run `{old['run']}`.",
            "",
        ]
    return [
        "### Verdicts that moved against the previous reference run",
        "",
        f"Against run `{old['run']}` (read with the rule of its day: flat ripple ≤ "
        f"{OLD_RIPPLE:g} and checkerboard ≤ {OLD_CHECKERBOARD_DB:g} dB), {len(rows)} case "
        "verdicts moved. Why: what changed between the two rules, then the new verdict's own "
        "reason.",
        "",
        "| case | before | now | why now |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
