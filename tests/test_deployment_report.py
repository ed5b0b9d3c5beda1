"""The report's deployment section from records alone: variants grouped by layer, the speed-up
over the same runtime's float32 variant, and the exporter attributes that differ."""

from __future__ import annotations

from suite.records import CaseRecord, RuntimeInfo, RuntimeResult
from suite.report.deployment import (
    PRECISION_COLUMNS,
    deployment_findings,
    exporter_cells,
    exporter_columns,
    layers,
    parity_runtime,
    precision_cells,
)

RUNTIMES = {
    "torch-cpu": RuntimeInfo("torch-cpu", True, True, True, "o", "#000000", runs_export=False),
    "ort-cpu": RuntimeInfo("ort-cpu", False, True, True, "s", "#111111", runs_export=True),
}


def record(case_id, precision="fp32", exporter="dynamo", opset=20, fastest=1e-3, **more):
    ort = RuntimeResult(
        "ok",
        max_abs_err=1e-3,
        max_rel_err=1e-3,
        latency={"fastest_session_s": fastest, "median_s": fastest},
        metrics={"checkerboard_pct": more.get("checkerboard", 0.5), "phase_energy_pct": 1.0},
        quantization_psnr_db=more.get("psnr"),
        executed=more.get("executed"),
    )
    keys = {
        "id": case_id,
        "method": "resize_conv",
        "size": [8, 8],
        "precision": precision,
        "exporter": exporter,
        "opset": opset,
    }
    onnx = {"numerics": more.get("numerics", [])}
    torch = RuntimeResult("ok", max_abs_err=0.0, max_rel_err=0.0)
    return CaseRecord(keys, {"torch-cpu": torch, "ort-cpu": ort}, None, onnx, None, {}, {}, {})


def test_each_precision_is_compared_with_the_same_runtimes_float32_variant():
    records = [
        record("r[precision=fp32]"),
        record("r[precision=int8]", "int8", fastest=0.5e-3, psnr=41.25, checkerboard=2.0),
        record("other", fastest=9.0),  # another layer: never a variant of r
    ]
    records[2].keys["size"] = [16, 16]
    assert len(layers(records)) == 1
    rows = precision_cells(records, RUNTIMES)
    # torch-cpu runs the float32 model: not a row of the deployment table
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("r", "fp32", "ort-cpu"),
        ("r", "int8", "ort-cpu"),
    ]
    int8 = rows[1]
    assert int8[5] == "41.2" and int8[6] == "2" and int8[-1] == "2.00×"


def test_an_attribute_two_exporters_write_differently_is_a_finding():
    nearest = {"op": "Resize", "mode": "nearest", "coordinate_transformation_mode": "asymmetric"}
    records = [
        record("e[exporter=dynamo]", opset=18, numerics=[nearest]),
        record(
            "e[exporter=torchscript]",
            exporter="torchscript",
            opset=18,
            numerics=[{**nearest, "coordinate_transformation_mode": "half_pixel"}],
        ),
    ]
    rows, findings = exporter_cells(records, parity_runtime(RUNTIMES, records))
    assert len(rows) == 2 and rows[1][1] == "torchscript"
    assert findings == [
        "e: Resize.coordinate_transformation_mode is asymmetric from dynamo · opset 18, "
        "half_pixel from torchscript · opset 18"
    ]
    records[1].onnx["numerics"] = [nearest]
    assert exporter_cells(records, "ort-cpu")[1] == [
        "e: dynamo · opset 18, torchscript · opset 18 agree on every Resize attribute"
    ]


def test_a_variant_that_did_not_run_is_listed_with_its_message():
    failed = record("k[precision=fp16]", "fp16")
    failed.runtimes["ort-cpu"] = RuntimeResult.failed(
        "ort-cpu: NOT_IMPLEMENTED : Could not find an implementation for Conv(11)"
    )
    findings = deployment_findings([record("k"), failed], RUNTIMES)
    # the failed runtime fails the case: the case's error names the runtime and its message
    assert findings == [
        "k[precision=fp16]: ort-cpu: NOT_IMPLEMENTED : Could not find an implementation "
        "for Conv(11)"
    ]
    skipped = record("k[precision=int8]", "int8")
    skipped.runtimes["ort-cpu"] = RuntimeResult.skipped("no QDQ kernel for DepthToSpace")
    assert deployment_findings([record("k"), skipped], RUNTIMES) == [
        "k[precision=int8] · ort-cpu: skipped: no QDQ kernel for DepthToSpace"
    ]


def test_a_runtime_that_ran_no_variant_of_a_layer_is_left_out_of_its_rows_and_findings():
    # the reference evaluator past its size limit skips every variant alike: that says nothing
    # about deployment, while the same runtime's rows stay for a layer it did run
    runtimes = {
        **RUNTIMES,
        "onnx-reference": RuntimeInfo("onnx-reference", False, True, True, "^", "#222222"),
    }
    too_big = RuntimeResult.skipped("output has 589824 elements; the reference runs up to 524288")
    large = [record("big"), record("big[precision=int8]", "int8", psnr=50.0)]
    small = [record("s"), record("s[precision=fp16]", "fp16", psnr=90.0)]
    for case in large:
        case.runtimes["onnx-reference"] = too_big
        case.keys["size"] = [64, 64]
    for case in small:
        case.runtimes["onnx-reference"] = RuntimeResult("ok", max_abs_err=0.0, max_rel_err=0.0)
    records = large + small
    shown = {(r[0], r[2]) for r in precision_cells(records, runtimes)}
    assert ("big", "onnx-reference") not in shown and ("big", "ort-cpu") in shown
    assert ("s", "onnx-reference") in shown
    assert deployment_findings(records, runtimes) == []


def test_what_the_provider_computed_off_the_precision_is_a_column_and_a_finding():
    executed = {
        "provider": "CPUExecutionProvider",
        "computes_in": ["float16"],
        "ops": [],
        "at_precision": {"Reshape (float16)": 2},
        "off_precision": {"Resize (float32)": 1, "Conv (float32)": 1},
        "off_provider": {"GridSample (CPUExecutionProvider)": 1},
    }
    records = [record("r[precision=fp32]"), record("r[precision=fp16]", "fp16", executed=executed)]
    rows = precision_cells(records, RUNTIMES)
    column = PRECISION_COLUMNS.index("computed off its precision")
    assert [r[column] for r in rows] == ["–", "Resize (float32), Conv (float32)"]
    assert deployment_findings(records, RUNTIMES) == [
        "r[precision=fp16] · ort-cpu: computed off float16: Resize (float32), Conv (float32); "
        "in float16: Reshape (float16) ×2",
        "r[precision=fp16] · ort-cpu: not run by CPUExecutionProvider: "
        "GridSample (CPUExecutionProvider)",
    ]
    # a variant computed wholly at its precision says so in its column, with no finding
    executed.update(off_precision={}, off_provider={})
    assert precision_cells(records, RUNTIMES)[1][column] == "none"
    assert deployment_findings(records, RUNTIMES) == []


def test_the_exporter_tables_parity_is_the_first_runtime_that_runs_the_export_and_ran():
    """Read from the run's registry entries (``runs_export``), in the run's order: the torch
    reference runs the float32 model, and a runtime skipped everywhere says nothing."""
    nearest = {"op": "Resize", "mode": "nearest"}
    records = [
        record("e[exporter=dynamo]", numerics=[nearest]),
        record("e[exporter=torchscript]", exporter="torchscript", numerics=[nearest]),
    ]
    assert parity_runtime(RUNTIMES, records) == "ort-cpu"
    rows, _ = exporter_cells(records, "ort-cpu")
    assert [row[-1] for row in rows] == ["1.00e-03", "1.00e-03"]
    assert exporter_columns("ort-cpu")[-1] == "parity (rel, ort-cpu)"
    for case in records:
        case.runtimes["ort-cpu"] = RuntimeResult.skipped("no CPUExecutionProvider")
    assert parity_runtime(RUNTIMES, records) is None
    assert exporter_columns(None)[-1] == "parity (rel)"
    assert [row[-1] for row in exporter_cells(records, None)[0]] == ["–", "–"]
