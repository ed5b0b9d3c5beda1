"""summary.md: the report as GitHub-flavoured Markdown (a CI step summary, the front page's run
section), from the same page values as index.html (``render.page_values``)."""

from __future__ import annotations

from typing import Any

from .decision import decision_markdown


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
