"""results/README.md: the findings of a reference run, committed so that a visitor sees them
without running anything. ``python -m suite report RUN --publish`` regenerates it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..analysis.samples import load_samples, write_samples
from ..results import RESULTS_FILE
from .render import Report, summary_markdown

PUBLISH_DIR = Path("results")
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
        # The committed copy keeps only the samples the front page draws from (a full run's
        # are megabytes), so the page can be regenerated from the repository alone.
        run_copy.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(run_dir) / RESULTS_FILE, run_copy / RESULTS_FILE)
        keys = set().union(*(f.sample_keys for f in shown))
        write_samples(run_copy, load_samples(run_dir, keys, dtype=np.float16))
    plots = reference / "plots"
    shutil.rmtree(plots, ignore_errors=True)
    plots.mkdir(parents=True)
    for figure in shown:
        shutil.copyfile(report.out_dir / figure.file, plots / Path(figure.file).name)

    values = report.values
    lines = [
        "# Reference results",
        "",
        "What the suite finds on this project's reference machine, from one full run of the "
        "default cases (`tox -e bench`). Every number and plot below is generated; nothing is "
        "typed by hand.",
        "",
        summary_markdown({**values, "figures": []}).replace("## upsampling-bench", "## Run", 1),
    ]
    for figure in shown:
        lines += [
            f"### {figure.title}",
            "",
            f"![{figure.title}]({REFERENCE}/plots/{Path(figure.file).name})",
            "",
            figure.caption,
            "",
        ]
    lines += [
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
    page = root / "README.md"
    page.write_text("\n".join(lines), encoding="utf-8")
    return page
