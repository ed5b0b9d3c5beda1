"""Deployment variants (``precision``, ``exporter``, ``opset``): what each export really is, the
figures measured on the variant's own outputs, and the refusals of what cannot be exported."""

from __future__ import annotations

from collections import Counter

import jsonschema
import numpy as np
import onnx
import pytest

from suite.analysis.analyse import image_metrics
from suite.bench import check
from suite.bench.errorlog import ErrorLog
from suite.bench.pipeline import Settings, prepare_case
from suite.casefile import load_cases
from suite.export import cache_key
from suite.parity import DEFAULT, INT8, psnr_db
from suite.results import schema
from suite.runtimes import get_runtime

pytestmark = pytest.mark.export

VARIANTS = """
[[case]]
id = "t"
method = "transposed"
channels = 4
size = 32
kernel = 4
scale = 2
init = "bilinear"
precision = ["fp32", "fp16", "int8"]

[[case]]
id = "r"
method = "resize_conv"
channels = 4
size = 16
mode = "bilinear"
seed = 3
exporter = ["dynamo", "torchscript"]
opset = 18

[[case]]
id = "rh"
method = "resize_conv"
channels = 4
size = 16
mode = "bilinear"
precision = "fp16"

[[case]]
id = "ri"
method = "resize_conv"
channels = 4
size = 16
mode = "bilinear"
precision = "int8"
"""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, export_cache):
    folder = tmp_path_factory.mktemp("deploy")
    path = folder / "deploy.toml"
    path.write_text(VARIANTS)
    log = ErrorLog(folder / "errors.log")
    return {
        case.id: prepare_case(case, Settings(export_cache, 1, analyse=False), log)
        for case in load_cases([path])
    }


def _graph(work) -> onnx.ModelProto:
    return onnx.load(work.prepared.onnx_path)


def test_an_int8_export_is_qdq_with_per_channel_int8_weights(prepared):
    work = prepared["t[precision=int8]"]
    assert work.error is None
    graph = _graph(work)
    ops = [node.op_type for node in graph.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    assert work.record["onnx"]["precision"] == "int8"
    assert work.record["onnx"]["weight_types"]["int8"] >= 1
    # the weight's DequantizeLinear has one scale per output channel of the transposed conv
    initializers = {t.name: t for t in graph.graph.initializer}
    (weight,) = [  # the kernel: the one four-dimensional int8 tensor (zero points are int8 too)
        t
        for t in graph.graph.initializer
        if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4
    ]
    dequantize = next(n for n in graph.graph.node if n.input[0] == weight.name)
    scale = onnx.numpy_helper.to_array(initializers[dequantize.input[1]])
    assert scale.shape == (4,)
    # the float32 export of the same case has none of it, and a different cache entry
    fp32 = prepared["t[precision=fp32]"]
    assert "QuantizeLinear" not in fp32.record["onnx"]["ops"]
    assert work.prepared.onnx_path != fp32.prepared.onnx_path


def test_an_fp16_export_stores_half_precision_weights_behind_float32_input_and_output(prepared):
    work = prepared["t[precision=fp16]"]
    graph = _graph(work)
    weights = [t.data_type for t in graph.graph.initializer]
    assert weights and set(weights) == {onnx.TensorProto.FLOAT16}
    assert work.record["onnx"]["weight_types"] == {"float16": 1}
    for value in (*graph.graph.input, *graph.graph.output):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_an_fp16_resize_keeps_its_float32_scales_and_passes_the_checker(prepared):
    # Resize's scales must stay float32; the dynamo export also types them in value_info, which
    # the converter used to retype to float16 (checker: "Inferred elem type differs")
    work = prepared["rh"]
    assert work.prepared is not None, work.record.get("error")
    graph = _graph(work)
    onnx.checker.check_model(graph, full_check=True)
    types = {t.name: t.data_type for t in graph.graph.initializer}
    (resize,) = [n for n in graph.graph.node if n.op_type == "Resize"]
    scales = resize.input[2]
    source = next((n.input[0] for n in graph.graph.node if scales in n.output), scales)
    assert types[source] == onnx.TensorProto.FLOAT
    assert onnx.TensorProto.FLOAT16 in types.values()  # the convolution's weights
    result, _ = check.load_and_check(work, "ort-cpu")
    assert result.status == "ok"
    assert result.quantization_psnr_db is not None and result.quantization_psnr_db > 60


def test_the_torchscript_exporter_is_what_produced_its_graph(prepared):
    script = prepared["r[exporter=torchscript]"]
    dynamo = prepared["r[exporter=dynamo]"]
    for work in (script, dynamo):
        assert work.error is None and work.record["onnx"]["opset"] == 18
    # the TorchScript tracer names nodes by module path ("/Resize", "/conv/Conv"), the dynamo
    # exporter by the aten op it lowered ("node_upsample_bilinear2d", "node_conv2d")
    script_names = [n.name for n in _graph(script).graph.node]
    dynamo_names = [n.name for n in _graph(dynamo).graph.node]
    assert all(name.startswith("/") for name in script_names)
    assert all(name.startswith("node_") for name in dynamo_names)
    assert script.record["onnx"]["exporter"] == "torchscript"
    assert dynamo.record["onnx"]["exporter"] == "dynamo"
    # and both compute the same thing, within float32's bound
    for work in (script, dynamo):
        result, _ = check.load_and_check(work, "ort-cpu")
        assert result.status == "ok" and result.max_rel_err < DEFAULT.rtol


def test_int8_artifact_figures_are_computed_on_the_int8_outputs(prepared, tmp_path):
    """An int8 transposed convolution with the bilinear init: ort-cpu's figures on the int8
    case are those of the int8 model's own outputs, not the float32 case's copied over."""
    import onnxruntime

    log = ErrorLog(tmp_path / "errors.log")
    int8, fp32 = prepared["t[precision=int8]"], prepared["t[precision=fp32]"]
    on_int8 = check.check_runtime(int8, "ort-cpu", analyse=True, log=log)
    on_fp32 = check.check_runtime(fp32, "ort-cpu", analyse=True, log=log)
    session = onnxruntime.InferenceSession(
        str(int8.prepared.onnx_path), providers=["CPUExecutionProvider"]
    )
    direct, _ = image_metrics(
        int8.case, lambda x: session.run(None, {"input": np.asarray(x, np.float32)})[0]
    )
    for key in ("checkerboard_pct", "phase_energy_pct", "flat_ripple"):
        assert on_int8.metrics[key] == pytest.approx(direct[key], rel=1e-9), key
    # the bilinear init is checkerboard-free in float32 and in int8 alike, but int8's steps
    # raise the energy locked to the stride's phases (1.54% -> 2.08% here)
    assert on_int8.metrics["phase_energy_pct"] > on_fp32.metrics["phase_energy_pct"] * 1.1


def test_a_reduced_precision_is_checked_against_float32_under_its_own_bound(prepared):
    int8, fp16 = prepared["t[precision=int8]"], prepared["t[precision=fp16]"]
    result, _ = check.load_and_check(int8, "ort-cpu")
    assert result.status == "ok"
    assert result.bound["rtol"] == INT8.rtol
    assert DEFAULT.rtol < result.max_rel_err < INT8.rtol
    assert 20 < result.quantization_psnr_db < 80
    assert result.quantization_psnr_db == pytest.approx(
        psnr_db(result_output(int8), int8.reference)
    )
    # the reference itself runs the float32 model: float32's bound, no quantization figure
    reference, _ = check.load_and_check(int8, "torch-cpu")
    assert reference.bound["rtol"] == DEFAULT.rtol and reference.quantization_psnr_db is None
    # int8 is checked on a held-out photograph (in [0, 1]), fp16 on standard-normal noise
    assert int8.prepared.example.min() >= 0 and int8.prepared.example.max() <= 1
    assert fp16.prepared.example.min() < 0
    assert check.load_and_check(fp16, "ort-cpu")[0].quantization_psnr_db is not None


def test_the_profiled_inference_says_what_the_cpu_provider_really_computed(prepared, tmp_path):
    log = ErrorLog(tmp_path / "errors.log")

    def executed(case_id: str, runtime: str = "ort-cpu"):
        return check.check_runtime(prepared[case_id], runtime, False, log).executed

    # onnxruntime's CPU provider has no float16 ConvTranspose, nor a quantized one: the fp16
    # variant is upcast behind the casts it inserts, the int8 one stays DQ -> float32 -> Q
    fp16, int8 = executed("t[precision=fp16]"), executed("t[precision=int8]")
    assert fp16["off_precision"] == {"ConvTranspose (float32)": 1}
    assert int8["off_precision"] == {"ConvTranspose (float32)": 1}
    assert fp16["computes_in"] == ["float16"] and int8["computes_in"] == ["int8", "uint8"]
    # the int8 resize-conv's convolution really ran quantized
    resize = executed("ri")
    assert resize["at_precision"].get("QLinearConv (uint8)") == 1
    assert not any(op.startswith(("Conv ", "QLinearConv")) for op in resize["off_precision"])
    for record in (fp16, int8, resize):
        assert record["provider"] == "CPUExecutionProvider" and record["off_provider"] == {}
    # the profile names every node of the graph the provider optimised, no more, no fewer
    ort = pytest.importorskip("onnxruntime")
    optimised = tmp_path / "optimised.onnx"
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(optimised)
    ort.InferenceSession(str(prepared["ri"].prepared.onnx_path), options)
    nodes = Counter(node.op_type for node in onnx.load(optimised).graph.node)
    profiled = Counter()
    for node in resize["ops"]:
        profiled[node["op"]] += node["count"]
    assert profiled == nodes
    # float32 exports are what they say, and torch's runtimes do not run the export
    assert executed("t[precision=fp32]") is None
    assert executed("t[precision=int8]", "torch-cpu") is None
    # what results.json records follows its schema
    record = check.check_runtime(prepared["rh"], "ort-cpu", False, log).to_dict()
    jsonschema.validate(record, {"$defs": schema()["$defs"], "$ref": "#/$defs/runtime"})
    assert record["executed"]["off_precision"]


def result_output(work) -> np.ndarray:
    return get_runtime("ort-cpu").load(work.prepared).output()


def test_a_variants_torch_runtimes_are_not_timed_again(prepared, tmp_path):
    timed = []

    def time_it(loaded):
        timed.append(1)
        return {"median_s": 1.0}

    log = ErrorLog(tmp_path / "errors.log")
    int8 = prepared["t[precision=int8]"]
    assert check.check_runtime(int8, "torch-cpu", False, log, time_it).latency is None
    assert check.check_runtime(int8, "ort-cpu", False, log, time_it).latency == {"median_s": 1.0}
    fp32 = prepared["t[precision=fp32]"]
    assert check.check_runtime(fp32, "torch-cpu", False, log, time_it).latency is not None
    assert len(timed) == 2


def test_the_default_exports_cache_key_is_unchanged_and_each_variant_has_its_own(prepared):
    keys = {cid: cache_key(w.case, w.model) for cid, w in prepared.items()}
    assert len(set(keys.values())) == len(keys)
    fp32 = prepared["t[precision=fp32]"]
    assert not fp32.case.deployed and all(
        w.case.deployed for c, w in prepared.items() if c != "t[precision=fp32]"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('precision = "int4"', "precision: unknown precision 'int4'; known: fp32, fp16, int8"),
        ('exporter = "tflite"', "exporter: unknown exporter 'tflite'; known: dynamo, torchscript"),
        ("opset = 17", "opset: the dynamo exporter produces opsets 18-23, not 17"),
        (
            'exporter = "torchscript"\nopset = 21',
            "opset: the torchscript exporter produces opsets 7-20, not 21",
        ),
        (
            'method = "interpolate"\nprecision = "int8"',
            "precision: int8 has nothing to calibrate: interpolate has no learned weights",
        ),
    ],
)
def test_a_deployment_that_cannot_be_exported_is_refused_in_one_line(
    line, message, write_cases, run_suite, capsys, tmp_path
):
    method = "" if "method" in line else 'method = "transposed"\n'
    path = write_cases(f'[[case]]\nid = "b"\n{method}{line}\n')
    assert run_suite(str(path), "--out", str(tmp_path / "run")) == 2
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and said[0].startswith(f"error: {path}: case 'b': {message}")
    assert not (tmp_path / "run").exists()


def test_a_quantization_that_fails_is_that_cases_failure(
    monkeypatch, write_cases, export_cache, tmp_path
):
    import onnxruntime.quantization

    def refuses(*args, **kwargs):
        raise RuntimeError("no calibration for you\nsecond line")

    monkeypatch.setattr(onnxruntime.quantization, "quantize_static", refuses)
    path = write_cases(VARIANTS)
    cases = {c.id: c for c in load_cases([path])}
    log = ErrorLog(tmp_path / "errors.log")
    settings = Settings(tmp_path / "cache", 1, analyse=False)
    work = prepare_case(cases["t[precision=int8]"], settings, log)
    assert work.error == "export: int8: no calibration for you"
    assert prepare_case(cases["t[precision=fp16]"], settings, log).error is None
