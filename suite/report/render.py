"""Write a run's report: PNG plots, one self-contained ``index.html`` (images embedded) and
``summary.md`` (GitHub-flavoured, for a CI step summary), from results.json and samples.npz."""

from __future__ import annotations

import base64
import math
import os
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from ..analysis.registry import Metric, list_metrics
from ..results import load_run
from ..run_summary import RunSummary, skipped_runtimes
from ..samplefile import load_samples
from . import lecture  # noqa: F401  (registers the lecture's figures)
from .classes import CLASS_COLUMNS, class_cells, own_class
from .context import NoData, ReportContext
from .decision import decision_markdown, decision_values
from .deployment import (
    EXPORTER_COLUMNS,
    PRECISION_COLUMNS,
    deployment_findings,
    exporter_cells,
    precision_cells,
)
from .plots import PLOTS, Plot
from .runtime_setup import COPIES_COLUMNS, OPTION_COLUMNS, copies_cells, option_cells
from .style import apply_theme, save_png
from .verdict import (
    CLAIM,
    PAIRING,
    THRESHOLDS,
    claim_comparisons,
    claim_summary,
    verdict_table,
)

SECTIONS = (("comparison", "Comparison plots"), ("lecture", "The lecture, reproduced"))
PLOTS_DIR = "plots"


@dataclass
class Figure:
    name: str
    title: str
    caption: str
    section: str
    file: str | None = None
    data_uri: str | None = None
    missing: str | None = None
    #: the samples it was drawn from
    sample_keys: frozenset[str] = frozenset()

    @property
    def shown(self) -> bool:
        """On the page: drawn, or failed (a bug is reported in its place); a plot this run has
        no data for is left out."""
        return self.data_uri is not None or (self.missing or "").startswith("failed")


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


def fmt(value: Any, spec: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, str):
        return value
    return format(value, spec)


def _draw(plot: Plot, ctx: ReportContext, folder: Path, number: int) -> Figure:
    caption = plot.caption.format(comparison=_comparison_name(ctx))
    figure = Figure(plot.name, plot.title, caption, plot.section)
    ctx.used.clear()
    try:
        drawn = plot.render(ctx)
    except NoData as exc:
        figure.missing = str(exc)
        return figure
    except Exception as exc:  # a bug in one plot must not lose the others; it is reported
        figure.missing = (
            f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        return figure
    figure.sample_keys = frozenset(ctx.used)
    name = f"{number:02d}-{plot.name}.png"
    data = save_png(drawn, folder / PLOTS_DIR / name)
    figure.file = f"{PLOTS_DIR}/{name}"
    figure.data_uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return figure


def _comparison_name(ctx: ReportContext) -> str:
    try:
        return f"Comparison set: {ctx.comparison_name}"
    except NoData:
        return "No comparison set"


VERDICT_FORMATS = {
    "worst ripple": ".3f",
    "worst checkerboard %": ".2f",
    "worst phase energy %": ".1f",
    "hypercolumn PSNR dB": ".1f",
    "parity worst rel err": ".1e",
}


def verdict_cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    if table.empty:
        return [], []
    most_levels = table["_levels"].max()
    levels = table.pop("_levels")
    table = table.drop(columns="family")
    columns = list(table.columns)
    rows = []
    for (_, row), level in zip(table.iterrows(), levels, strict=True):
        cells = []
        for column in columns:
            value = row[column]
            if column.endswith("÷ fastest clean"):
                cells.append(fmt(value, ".2f") + ("×" if fmt(value) != "–" else ""))
            else:
                cells.append(fmt(value, VERDICT_FORMATS.get(column, "")))
            if column == "hypercolumn PSNR dB" and level < most_levels and fmt(value) != "–":
                # fewer pyramid levels (a size the pyramid does not divide, or a method that
                # changes the channel count): not like for like
                cells[-1] += f" ({level:.0f} level{'s' if level > 1 else ''})"
        rows.append(cells)
    return columns, rows


def claim_cells(ctx: ReportContext) -> tuple[list[str], list[list[str]], str]:
    comparisons = claim_comparisons(ctx.cases, ctx.runtimes)
    runtimes = list(dict.fromkeys(r for c in comparisons for r in c.latency_ratio))
    columns = [
        "geometry",
        "transposed (random)",
        "bilinear + 1x1 (random)",
        "checkerboard % T / M",
        "verdict T / M",
        "PSNR dB T / M",
        *[f"{r}: time M ÷ T" for r in runtimes],
    ]
    rows = [
        [
            c.geometry,
            c.questioned,
            c.proposed,
            f"{fmt(c.questioned_checkerboard_pct, '.2f')} / "
            f"{fmt(c.proposed_checkerboard_pct, '.2f')}",
            f"{fmt(c.questioned_verdict)} / {fmt(c.proposed_verdict)}",
            f"{fmt(c.questioned_psnr_db, '.1f')} / {fmt(c.proposed_psnr_db, '.1f')}",
            *[fmt(c.latency_ratio.get(r), ".2f") for r in runtimes],
        ]
        for c in comparisons
    ]
    return columns, rows, claim_summary(comparisons)


def case_columns(ctx: ReportContext) -> list[str]:
    """id, file, method, status, every registered figure (with its interval where it has one),
    the verdict, each timed runtime's median and the worst parity."""
    timed = list(dict.fromkeys(ctx.runtimes.dropna(subset=["median_s"])["runtime"]))
    figures = [f"{m.label}" + (" [95% CI]" if m.interval else "") for m in list_metrics()]
    return [
        "id",
        "file",
        "method",
        "status",
        *figures,
        "verdict",
        *[f"{r} ms" for r in timed],
        "worst parity rel",
    ]


def _with_interval(metric: Metric, case: pd.Series) -> str:
    text = metric.format(_plain(case[metric.name]))
    low, high = case.get(f"{metric.name}_low"), case.get(f"{metric.name}_high")
    if metric.interval and _plain(low) is not None and _plain(high) is not None:
        text += f" [{metric.format(low)}, {metric.format(high)}]"
    return text


def _plain(value: Any) -> Any:
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else value
    )


def case_cells(ctx: ReportContext) -> list[list[str]]:
    rows = []
    timed = list(dict.fromkeys(ctx.runtimes.dropna(subset=["median_s"])["runtime"]))
    medians = ctx.runtimes.set_index(["index", "runtime"])["median_s"] if len(ctx.runtimes) else {}
    for _, case in ctx.cases.iterrows():
        others = ctx.runtimes[(ctx.runtimes["index"] == case["index"]) & ~ctx.runtimes["reference"]]

        def ms(runtime: str, index: int = case["index"]) -> str:
            value = medians.get((index, runtime)) if len(medians) else None
            return fmt(value * 1e3 if value is not None and not pd.isna(value) else None)

        rows.append(
            [
                case["id"],
                case["file"],
                case["variant"],
                case["status"],
                *[_with_interval(metric, case) for metric in list_metrics()],
                fmt(_plain(case["verdict"])),
                *[ms(runtime) for runtime in timed],
                fmt(others["max_rel_err"].max() if len(others) else None, ".1e"),
            ]
        )
    return rows


LINEAR_COLUMNS = [
    "id",
    "method",
    "exact",
    "equivalent layer",
    "parameters: case / equivalent",
    "FLOPs: case / equivalent",
    "checkerboard gain",
    "imaging ratio",
]


def _count(value: Any) -> str:
    value = _plain(value)
    return "–" if value is None else f"{int(value):,}"


def linear_cells(ctx: ReportContext) -> tuple[list[list[str]], list[str]]:
    """The linear cases, each beside the single transposed convolution it equals, and the
    findings: cases that spend more than twice the FLOPs of their equivalent layer."""
    rows, findings = [], []
    linear = ctx.cases[ctx.cases["linear"] == True]  # noqa: E712 (object column)
    for _, case in linear.iterrows():
        if _plain(case["equivalent_flops"]) is None:
            continue
        flops, equivalent = _plain(case["flops"]), case["equivalent_flops"]
        rows.append(
            [
                case["id"],
                case["variant"],
                "yes" if case["exact"] else "at the centre",
                f"{case['equivalent_kernel']} transposed conv, stride {case['scale']}"
                + (" + a constant (biases)" if case["affine"] else ""),
                f"{_count(case['parameters'])} / {_count(case['equivalent_parameters'])}",
                f"{fmt(flops, '.3g')} / {fmt(equivalent, '.3g')}",
                fmt(_plain(case["checkerboard_gain"]), ".3g"),
                fmt(_plain(case["imaging_ratio"]), ".3g"),
            ]
        )
        if flops and case["stages"] == 1 and flops > 2 * equivalent and case["parameters"]:
            findings.append(
                f"{case['id']} ({case['variant']}) has no nonlinearity: it computes exactly what "
                f"one {case['equivalent_kernel']} transposed convolution of stride {case['scale']}"
                + (" plus a constant (its biases)" if case["affine"] else "")
                + f" computes ({_count(case['equivalent_parameters'])} parameters, "
                f"{fmt(equivalent, '.3g')} FLOPs), with {_count(case['parameters'])} "
                f"parameters and {fmt(flops, '.3g')} FLOPs: {flops / equivalent:.1f}× the work"
                + ("" if case["exact"] else " (align_corners: the centre's filter)")
            )
    return rows, findings


CALIBRATION_COLUMNS = [
    "layer",
    "figure",
    "injected %",
    "expected",
    "measured",
    "tolerance",
    "passed",
]


def calibration_cells(results: dict[str, Any]) -> list[list[str]]:
    return [
        [
            row["layer"],
            row["metric"],
            fmt(row.get("injected"), "g"),
            ("≥ " if row.get("check") == "above" else "") + fmt(row["expected"], ".4g"),
            fmt(row["measured"], ".4g"),
            "" if row.get("check") == "above" else f"±{row['tolerance']:.3g}",
            "yes" if row["passed"] else "NO",
        ]
        for row in results["run"].get("calibration") or []
    ]


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
    run = ctx.results["run"]
    summary = RunSummary.of(ctx.records)  # the same counts and problems as the terminal's
    verdict_columns, verdict_rows = verdict_cells(verdict_table(ctx.cases, ctx.runtimes))
    claim_columns, claim_rows, summary_line = claim_cells(ctx)
    linear_rows, linear_findings = linear_cells(ctx)
    exporter_rows, exporter_findings = exporter_cells(ctx.records)
    git = run.get("git") or {}
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
        "claim": CLAIM,
        "claim_summary": summary_line,
        "claim_columns": claim_columns,
        "claim_rows": claim_rows,
        "thresholds": THRESHOLDS[0].upper() + THRESHOLDS[1:],
        "verdict_columns": verdict_columns,
        "verdict_rows": verdict_rows,
        "sections": SECTIONS,
        "figures": figures,
        "case_columns": case_columns(ctx),
        "case_rows": case_cells(ctx),
        "pairing": PAIRING,
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
        "precision_columns": PRECISION_COLUMNS,
        "precision_rows": precision_cells(ctx.records, ctx.runtime_look),
        "exporter_columns": EXPORTER_COLUMNS,
        "exporter_rows": exporter_rows,
        "deployment_findings": exporter_findings
        + deployment_findings(ctx.records, ctx.runtime_look),
        "deployment_note": DEPLOYMENT_NOTE,
        "metrics": [m.caption for m in list_metrics()],
        "results_cases": ctx.results["cases"],
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


def md_escape(text: str) -> str:
    """Markdown table cell: pipes escaped, HTML's special characters as entities."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(columns: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(map(md_escape, columns)) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(map(md_escape, row)) + " |" for row in rows]
    return "\n".join(lines)


def _md_head(values: dict[str, Any]) -> list[str]:
    run = values["run"]
    parts = [
        f"## upsampling-bench · run `{md_escape(run['id'])}`",
        "",
        f"{values['counts']} · {run['wall']} · {md_escape(values['machine'])} · "
        f"{md_escape(values['versions'])} · commit `{values['commit']}`",
        "",
    ]
    return parts


def _md_notes(values: dict[str, Any]) -> list[str]:
    """What needs a look, and the parity checked at another size, after the decision."""
    parts = []
    if values["problems"]:
        parts += ["**Problems**", "", *[f"- {md_escape(p)}" for p in values["problems"]], ""]
    if values["reduced"]:
        parts += ["**Parity checked at a reduced input size**", ""]
        parts += [*[f"- {md_escape(line)}" for line in values["reduced"]], ""]
    return parts


def _md_claim(values: dict[str, Any]) -> list[str]:
    parts = [f"> **The lecture's claim:** “{values['claim']}.”", f"> {values['claim_summary']}", ""]
    if values["claim_rows"]:
        table = md_table(values["claim_columns"], values["claim_rows"])
        parts += [table, "", values["pairing"] + ".", ""]
    return parts


def _md_findings(values: dict[str, Any]) -> list[str]:
    parts = ["### Verdict", "", values["thresholds"] + ".", ""]
    parts += [md_table(values["verdict_columns"], values["verdict_rows"]), ""]
    if values["linear_findings"]:
        findings = [f"- {md_escape(f)}" for f in values["linear_findings"]]
        parts += ["### Linear cases", "", *findings, ""]
    if values["option_rows"]:
        parts += ["### Runtime options unlike the libraries' defaults", ""]
        parts += [md_table(values["option_columns"], values["option_rows"]), ""]
    if values["copies_rows"]:
        parts += ["### Bound vs with copies (fastest sessions)", ""]
        parts += [md_table(values["copies_columns"], values["copies_rows"]), ""]
    if values["class_rows"]:
        parts += ["### Latency on each machine class (fastest sessions)", ""]
        parts += [f"The run's own class: {md_escape(values['own_class'])}.", ""]
        parts += [md_table(values["class_columns"], values["class_rows"]), ""]
    parts += _md_deployment(values)
    if values["calibration_rows"]:
        passed = sum(row[-1] == "yes" for row in values["calibration_rows"])
        total = len(values["calibration_rows"])
        parts += [
            "### Calibration",
            "",
            f"{passed} of {total} known answers read back within their tolerance.",
            "",
        ]
    return parts


def _md_deployment(values: dict[str, Any]) -> list[str]:
    if not (values["precision_rows"] or values["exporter_rows"] or values["deployment_findings"]):
        return []
    parts = ["### Deployment", "", DEPLOYMENT_NOTE, ""]
    if values["precision_rows"]:
        parts += ["#### Precision", ""]
        parts += [md_table(values["precision_columns"], values["precision_rows"]), ""]
    if values["exporter_rows"]:
        parts += ["#### Exporters and opsets", ""]
        parts += [md_table(values["exporter_columns"], values["exporter_rows"]), ""]
    if values["deployment_findings"]:
        parts += [
            "#### Findings",
            "",
            *[f"- {md_escape(f)}" for f in values["deployment_findings"]],
        ]
        parts += [""]
    return parts


#: how to read the deployment section (the same words on the page and in summary.md)
DEPLOYMENT_NOTE = (
    "Each layer's variants: parity against the float32 torch reference under the precision's "
    "bound (suite/parity.py), the reduced precision's error as a PSNR over the reference's "
    "range, the artifact figures on the variant's own outputs, the fastest session, and the "
    "speed-up over the same runtime's float32 variant. int8 is checked on a held-out "
    "photograph, the others on standard-normal noise"
)


def _md_plots(values: dict[str, Any], image_prefix: str) -> list[str]:
    drawn = [f for f in values["figures"] if f.file]
    if not drawn:
        return []
    links = [f"- [{md_escape(f.title)}]({image_prefix}{f.file}): {f.caption}" for f in drawn]
    return ["### Plots", "", *links, ""]


def summary_markdown(values: dict[str, Any], image_prefix: str = "") -> str:
    """summary.md (and the front page's run section): the head and problems from the same
    ``RunSummary`` as the terminal summary, the claim, the verdicts, the findings, the plots."""
    return "\n".join(
        [
            *_md_head(values),
            *decision_markdown(values["decision"], md_escape),
            *_md_notes(values),
            *_md_claim(values),
            *_md_findings(values),
            *_md_plots(values, image_prefix),
        ]
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
        figures = []
        for number, plot in enumerate(PLOTS, start=1):
            if on_plot:
                on_plot(plot.title)
            figures.append(_draw(plot, ctx, scratch, number))
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
