"""The precisions a case's export can be deployed at, a registry keyed by the ``precision`` key.

``fp32`` is the export as it comes. ``fp16`` converts its weights and arithmetic to float16,
keeping the model's input and output float32 (onnxruntime's converter; ops it cannot convert
stay float32 behind casts). ``int8`` is onnxruntime's static QDQ quantization: per-channel int8
weights, uint8 activations whose ranges are calibrated on the suite's fitting photographs
(``photos.FIT_PHOTOS``), never on those the figures score. Its weights use 7 bits
(``reduce_range``): on CPUs without VNNI (AVX2, this project's machines) the u8×s8 products
saturate int16 pairs, and full-range weights put 18–26% of the output range of error into
resize-conv, pixel shuffle and bilinear + 1x1 here (1.4–2.6% with 7 bits).

Each precision declares its parity bound (``parity.py``) and whether it is calibrated: a
calibrated precision's parity input is a held-out photograph mapped onto the case's channels
(``case.PARITY_PHOTO``), since an int8 model only means something on inputs like those it
was calibrated on; the others keep the standard-normal parity input.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import onnx

from .exporters import INPUT_NAME
from .parity import FLOAT16, INT8, Bound
from .photos import FIT_PHOTOS, photo, to_channels
from .quiet import captured_output


class CaseInput(Protocol):
    """What a conversion reads of a case (``case.Case``, which reads this registry): the size,
    channels and seed its calibration photographs are mapped by."""

    @property
    def size(self) -> tuple[int, int]: ...
    @property
    def channels(self) -> int: ...
    @property
    def seed(self) -> int: ...


#: Bump when a conversion's recipe changes, so that cached exports are not reused across recipes.
RECIPE = 2


class PrecisionError(RuntimeError):
    """The conversion refused the model, or produced one that is not what was asked."""


@dataclass(frozen=True)
class Precision:
    name: str
    summary: str
    convert: Callable[[onnx.ModelProto, CaseInput], onnx.ModelProto]
    #: its parity bound against the float32 torch reference, or None: float32's
    parity_bound: Bound | None = None
    #: its ranges come from calibration data: it needs learned weights to quantize, and is
    #: checked on a held-out photograph rather than on standard-normal noise
    calibrated: bool = False
    #: the element types its arithmetic is meant to run in, and the ops that only convert into
    #: and out of them: what ``executed.summarise`` holds each op a provider ran against
    computes_in: tuple[str, ...] = ("float32",)
    conversions: tuple[str, ...] = ()

    @property
    def reduced(self) -> bool:
        return self.name != FP32


def _as_exported(proto: onnx.ModelProto, case: CaseInput) -> onnx.ModelProto:
    return proto


def _to_float16(proto: onnx.ModelProto, case: CaseInput) -> onnx.ModelProto:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    # The dynamo exporter also lists initializers in value_info; the converter retypes those
    # entries to float16 while keeping an initializer it must leave float32 (Resize's scales), and
    # the checker then refuses the model. An initializer's own type is all the graph needs.
    initializers = {t.name for t in proto.graph.initializer}
    kept = [v for v in proto.graph.value_info if v.name not in initializers]
    del proto.graph.value_info[:]
    proto.graph.value_info.extend(kept)
    with captured_output():  # it warns about every constant it truncates
        converted = convert_float_to_float16(proto, keep_io_types=True)
    # it appends the casts of the float32 input after the nodes that read them
    return topologically_sorted(converted)


def topologically_sorted(proto: onnx.ModelProto) -> onnx.ModelProto:
    """The graph's nodes reordered so that each comes after the nodes whose outputs it reads
    (ONNX requires it; the relative order of independent nodes is kept)."""
    graph = proto.graph
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        runnable = [n for n in pending if all(name in ready for name in n.input)]
        if not runnable:
            raise PrecisionError(f"a cycle or a dangling input among {len(pending)} nodes")
        for node in runnable:
            ready.update(node.output)
        ordered += runnable
        placed = {id(node) for node in runnable}
        pending = [n for n in pending if id(n) not in placed]
    del graph.node[:]
    graph.node.extend(ordered)
    return proto


def calibration_inputs(case: CaseInput) -> list[np.ndarray]:
    """The fitting photographs at the case's size, on its channels, each also mirrored: the
    data the int8 ranges are read from (the figures are scored on other photographs)."""
    height, width = case.size
    inputs = []
    for name in FIT_PHOTOS:
        image = to_channels(photo(name, height, width), case.channels, case.seed)
        for picture in (image, image[:, :, ::-1]):
            inputs.append(np.ascontiguousarray(picture[None], dtype=np.float32))
    return inputs


def _to_int8(proto: onnx.ModelProto, case: CaseInput) -> onnx.ModelProto:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Photographs(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter({INPUT_NAME: x} for x in calibration_inputs(case))

        def get_next(self):
            return next(self.feeds, None)

    with tempfile.TemporaryDirectory() as folder, captured_output():
        source, target = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        onnx.save(proto, source)
        quantize_static(
            str(source),
            str(target),
            Photographs(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        quantized = onnx.load(target)
    if not any(node.op_type == "QuantizeLinear" for node in quantized.graph.node):
        raise PrecisionError("int8: onnxruntime's quantizer found no op to quantize")
    return quantized


FP32 = "fp32"
_REGISTRY: dict[str, Precision] = {
    p.name: p
    for p in (
        Precision(FP32, "the export as it comes", _as_exported),
        Precision(
            "fp16",
            "float16 weights and arithmetic, float32 input and output",
            _to_float16,
            parity_bound=FLOAT16,
            computes_in=("float16",),
            conversions=("Cast",),
        ),
        Precision(
            "int8",
            "static QDQ: per-channel 7-bit int8 weights, uint8 activations calibrated on "
            "the fitting photographs",
            _to_int8,
            parity_bound=INT8,
            calibrated=True,
            computes_in=("uint8", "int8"),
            conversions=("QuantizeLinear", "DequantizeLinear", "Cast"),
        ),
    )
}


def list_precisions() -> list[str]:
    return list(_REGISTRY)


def get_precision(name: str) -> Precision:
    return _REGISTRY[name]
