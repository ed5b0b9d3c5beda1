"""What a runtime really computed, from onnxruntime's profile: op, provider and element type per
node, and the ops off the variant's precision or off the runtime's provider."""

from __future__ import annotations

from suite.executed import counted, from_profile, summarise
from suite.precision import get_precision


def node(op: str, out: str, provider: str = "CPUExecutionProvider", name: str = "n") -> dict:
    """One node event as onnxruntime's profiler writes it (Chrome trace format)."""
    return {
        "cat": "Node",
        "name": f"{name}_kernel_time",
        "args": {
            "op_name": op,
            "provider": provider,
            "output_type_shape": [{out: [1, 4, 8, 8]}],
            "input_type_shape": [{"float": [1, 4, 4, 4]}],
        },
    }


TRACE = [
    {"cat": "Session", "name": "model_run", "args": {}},
    {"cat": "Node", "name": "n_fence_before", "args": {"op_name": "Cast"}},
    node("Cast", "float"),
    node("ConvTranspose", "float"),
    node("Reshape", "float16"),
    node("Reshape", "float16"),
    node("Shape", "int64"),
    node("Resize", "float16", provider="CUDAExecutionProvider"),
]


def test_the_profile_counts_each_op_provider_and_type_once_in_order():
    assert from_profile(TRACE) == [
        {"op": "Cast", "provider": "CPUExecutionProvider", "type": "float32", "count": 1},
        {"op": "ConvTranspose", "provider": "CPUExecutionProvider", "type": "float32", "count": 1},
        {"op": "Reshape", "provider": "CPUExecutionProvider", "type": "float16", "count": 2},
        {"op": "Shape", "provider": "CPUExecutionProvider", "type": "int64", "count": 1},
        {"op": "Resize", "provider": "CUDAExecutionProvider", "type": "float16", "count": 1},
    ]


def test_ops_off_the_precision_leave_its_conversions_and_integer_shapes_aside():
    fp16 = get_precision("fp16")
    record = summarise(
        from_profile(TRACE), fp16.computes_in, fp16.conversions, "CUDAExecutionProvider"
    )
    assert record["off_precision"] == {"ConvTranspose (float32)": 1}  # not the Cast, not Shape
    assert record["at_precision"] == {"Reshape (float16)": 2, "Resize (float16)": 1}
    # the nodes the GPU provider handed to the CPU, the Cast included
    assert record["off_provider"] == {
        "Cast (CPUExecutionProvider)": 1,
        "ConvTranspose (CPUExecutionProvider)": 1,
        "Reshape (CPUExecutionProvider)": 2,
        "Shape (CPUExecutionProvider)": 1,
    }
    # at float32 the same run is off precision only where it computed in float16
    fp32 = get_precision("fp32")
    record = summarise(from_profile(TRACE), fp32.computes_in, fp32.conversions, "x")
    assert record["off_precision"] == {"Reshape (float16)": 2, "Resize (float16)": 1}
    assert counted(record["off_precision"]) == "Reshape (float16) ×2, Resize (float16)"


def test_int8_counts_dequantized_float32_arithmetic_as_off_its_precision():
    int8 = get_precision("int8")
    trace = [
        node("QuantizeLinear", "uint8"),
        node("QLinearConv", "uint8"),
        node("DequantizeLinear", "float"),
        node("ConvTranspose", "float"),
    ]
    record = summarise(
        from_profile(trace), int8.computes_in, int8.conversions, "CPUExecutionProvider"
    )
    assert record["at_precision"] == {"QLinearConv (uint8)": 1}
    assert record["off_precision"] == {"ConvTranspose (float32)": 1}
    assert record["off_provider"] == {}
