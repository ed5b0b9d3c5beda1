"""Write a run's report: PNG plots, one self-contained ``index.html`` (images embedded) and
``summary.md`` (GitHub-flavoured, for a CI step summary), from results.json and samples.npz."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from ..analysis.registry import list_metrics
from ..results import load_run
from ..run_summary import RunSummary, skipped_runtimes
from ..samplefile import load_samples
from . import lecture  # noqa: F401  (registers the lecture's figures)
from .cells import (
    CALIBRATION_COLUMNS,
    LINEAR_COLUMNS,
    calibration_cells,
    case_cells,
    case_columns,
    claim_cells,
    linear_cells,
    verdict_cells,
)
from .classes import CLASS_COLUMNS, class_cells, own_class
from .context import ReportContext
from .decision import decision_values
from .deployment import (
    PRECISION_COLUMNS,
    deployment_findings,
    exporter_cells,
    exporter_columns,
    parity_runtime,
    precision_cells,
)
from .drawing import PLOTS_DIR, Figure, draw_all
from .markdown import DEPLOYMENT_NOTE, summary_markdown
from .runtime_setup import COPIES_COLUMNS, OPTION_COLUMNS, copies_cells, option_cells
from .style import apply_theme
from .verdict import (
    CLAIM,
    PAIRING,
    thresholds_text,
    verdict_table,
)

SECTIONS = (("comparison", "Comparison plots"), ("lecture", "The lecture, reproduced"))


@dataclass
class Report:
    out_dir: Path
    figures: list[Figure]
    #: what the page shows (tables, headline figures), for ``publish``
    values: dict[str, Any]

    @property
    def failed(self) -> list[Figure]:
        return [f for f in self.figures if f.missing and f.missing.startswith("failed")]

    @property
    def sample_keys(self) -> set[str]:
        """Every sample some plot drew."""
        return set().union(*(figure.sample_keys for figure in self.figures))


def _machine(run: dict[str, Any]) -> str:
    machine = run["machine"]
    text = (
        f"{machine.get('cpu', '?')}, {machine.get('usable_cores', '?')} cores, "
        f"{machine.get('threads', '?')} threads, {machine.get('arch', '?')}"
    )
    if gpu := machine.get("gpu"):
        text += (
            f"; GPU {gpu['name']} ({gpu.get('memory_gib')} GiB, compute {gpu.get('capability')}), "
            f"driver {gpu.get('driver')}, CUDA {gpu.get('cuda')}, cuDNN {gpu.get('cudnn')}"
        )
    return text


def _versions(run: dict[str, Any]) -> str:
    versions = run["versions"]
    keys = ("python", "torch", "onnx", "onnxruntime", "onnxruntime_gpu", "opset")
    return ", ".join(f"{k} {versions[k]}" for k in keys if versions.get(k))


def page_values(ctx: ReportContext, figures: list[Figure]) -> dict[str, Any]:
    """Everything the page and summary.md show: the head and what needs a look, the decision,
    the verdicts and the claim, the tables, the deployment findings, and the plots."""
    return {
        **_head_values(ctx),
        **_verdict_values(ctx),
        **_table_values(ctx),
        **_deployment_values(ctx),
        "sections": SECTIONS,
        "figures": figures,
        "metrics": [m.caption for m in list_metrics()],
        "results_cases": ctx.results["cases"],
    }


def _head_values(ctx: ReportContext) -> dict[str, Any]:
    run, git = ctx.results["run"], ctx.results["run"].get("git") or {}
    summary = RunSummary.of(ctx.records)  # the same counts and problems as the terminal's
    return {
        "run": {
            "id": run["id"],
            "started": run["started"][:19].replace("T", " ") + " UTC",
            "wall": f"{run.get('wall_s', 0):.0f} s",
        },
        "counts": summary.counts_text(zeros=False),
        "machine": _machine(run),
        "versions": _versions(run),
        "commit": (git.get("commit") or "unknown")[:10] + (" (dirty)" if git.get("dirty") else ""),
        "problems": [f"{p.case}: {p.status}: {p.detail}" for p in summary.problems],
        "skipped": skipped_runtimes(ctx.records),
        "reduced": summary.reduced,
        "decision": decision_values(run, ctx.records),
    }


def _verdict_values(ctx: ReportContext) -> dict[str, Any]:
    verdict_columns, verdict_rows = verdict_cells(verdict_table(ctx.cases, ctx.runtimes))
    claim_columns, claim_rows, summary_line = claim_cells(ctx)
    return {
        "claim": CLAIM,
        "claim_summary": summary_line,
        "claim_columns": claim_columns,
        "claim_rows": claim_rows,
        "pairing": PAIRING,
        "thresholds": thresholds_text()[0].upper() + thresholds_text()[1:],
        "verdict_columns": verdict_columns,
        "verdict_rows": verdict_rows,
    }


def _table_values(ctx: ReportContext) -> dict[str, Any]:
    run = ctx.results["run"]
    linear_rows, linear_findings = linear_cells(ctx)
    return {
        "case_columns": case_columns(ctx),
        "case_rows": case_cells(ctx),
        "linear_columns": LINEAR_COLUMNS,
        "linear_rows": linear_rows,
        "linear_findings": linear_findings,
        "calibration_columns": CALIBRATION_COLUMNS,
        "calibration_rows": calibration_cells(ctx.results),
        "option_columns": OPTION_COLUMNS,
        "option_rows": option_cells(run),
        "copies_columns": COPIES_COLUMNS,
        "copies_rows": copies_cells(ctx.records),
        "class_columns": CLASS_COLUMNS,
        "class_rows": class_cells(ctx.records),
        "own_class": own_class(ctx.records),
    }


def _deployment_values(ctx: ReportContext) -> dict[str, Any]:
    runtime = parity_runtime(ctx.runtime_look, ctx.records)
    exporter_rows, exporter_findings = exporter_cells(ctx.records, runtime)
    return {
        "precision_columns": PRECISION_COLUMNS,
        "precision_rows": precision_cells(ctx.records, ctx.runtime_look),
        "exporter_columns": exporter_columns(runtime),
        "exporter_rows": exporter_rows,
        "deployment_findings": exporter_findings
        + deployment_findings(ctx.records, ctx.runtime_look),
        "deployment_note": DEPLOYMENT_NOTE,
    }


def _environment() -> jinja2.Environment:
    templates = files("suite.report").joinpath("templates")
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: templates.joinpath(name).read_text("utf-8")),
        autoescape=True,  # case ids and file names come from case files: always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_report(run_dir: Path, out_dir: Path | None = None, on_plot=None) -> Report:
    """Draw every plot and write ``out_dir`` (default ``RUN/report``) whole or not at all: it is
    built in a scratch folder beside it and swapped in at the end."""
    run_dir = Path(run_dir)
    out_dir = Path(out_dir) if out_dir else run_dir / "report"
    results = load_run(run_dir)
    ctx = ReportContext(results, load_samples(run_dir))
    scratch = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / PLOTS_DIR).mkdir(parents=True)
    try:
        apply_theme()
        figures = draw_all(ctx, scratch, on_plot)
        values = page_values(ctx, figures)
        html = _environment().get_template("index.html.j2").render(**values)
        (scratch / "index.html").write_text(html, encoding="utf-8")
        (scratch / "summary.md").write_text(summary_markdown(values), encoding="utf-8")
        _swap_in(scratch, out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Report(out_dir, figures, values)


def _swap_in(scratch: Path, out_dir: Path) -> None:
    old = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.old")
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(scratch, out_dir)
    shutil.rmtree(old, ignore_errors=True)
