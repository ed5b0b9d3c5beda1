"""The exporters a case can be exported with, a registry keyed by the ``exporter`` key.

``dynamo`` is torch.export with the dynamo-based ONNX exporter, torch's default since 2.9; it
has implementations from opset 18 on (below that torch converts its opset-18 graph with onnx's
version converter, which is not the exporter producing the opset, so the suite refuses it).
``torchscript`` is the legacy tracer, still what many runtimes' tool chains expect; it targets
opsets up to 20. Both write the same input and output names, so every runtime feeds them alike.
"""

from __future__ import annotations

import functools
import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass

import onnx
import torch
from torch import nn

INPUT_NAME = "input"
OUTPUT_NAME = "output"
#: The inputs' names: the features, then a guided layer's guide (``guides.py``).
INPUT_NAMES = (INPUT_NAME, "guide")
#: The opset a case is exported at unless it asks for another (torch 2.13's native one: no
#: version conversion).
OPSET = 20


@dataclass(frozen=True)
class Exporter:
    name: str
    summary: str
    #: the opsets it produces itself
    opsets: range
    #: export(model, its inputs (the features, then a guide where it takes one), opset)
    export: Callable[[nn.Module, tuple[torch.Tensor, ...], int], onnx.ModelProto]

    def opset_range(self) -> str:
        return f"{self.opsets.start}-{self.opsets.stop - 1}"


#: Where torch 2.13's exporter reads onnxscript's torchlib functions from, afresh on every
#: export (``ONNXRegistry.from_torchlib``).
TORCHLIB_APIS = "onnxscript._framework_apis.torch_2_11"


def memoise_torchlib_ops() -> bool:
    """Read onnxscript's torchlib functions once per process, not once per export. Listing them
    parses the source of every function (0.26 s here, a third of a small case's export); it is a
    function of the installed onnxscript alone, a list of frozen records, so every export builds
    its own registry from the same functions. False (nothing changed) where this onnxscript
    lays its API out otherwise: exports are then only slower."""
    try:
        apis = importlib.import_module(TORCHLIB_APIS)
    except ImportError:
        return False
    listed = getattr(apis, "get_torchlib_ops", None)
    if listed is None:
        return False
    if not hasattr(listed, "cache_info"):
        cached = functools.cache(lambda: tuple(listed()))
        memoised = functools.wraps(listed)(lambda: list(cached()))
        memoised.cache_info = cached.cache_info
        apis.get_torchlib_ops = memoised
    return True


def _dynamo(model: nn.Module, inputs: tuple[torch.Tensor, ...], opset: int) -> onnx.ModelProto:
    memoise_torchlib_ops()
    program = torch.onnx.export(
        model,
        inputs,
        dynamo=True,
        opset_version=opset,
        input_names=list(INPUT_NAMES[: len(inputs)]),
        output_names=[OUTPUT_NAME],
        external_data=False,
        verbose=False,
    )
    return program.model_proto


def _torchscript(model: nn.Module, inputs: tuple[torch.Tensor, ...], opset: int) -> onnx.ModelProto:
    buffer = io.BytesIO()
    torch.onnx.export(
        model,
        inputs,
        buffer,
        dynamo=False,
        opset_version=opset,
        input_names=list(INPUT_NAMES[: len(inputs)]),
        output_names=[OUTPUT_NAME],
    )
    return onnx.load_from_string(buffer.getvalue())


DYNAMO = "dynamo"
_REGISTRY: dict[str, Exporter] = {
    e.name: e
    for e in (
        Exporter(DYNAMO, "torch.export and the dynamo-based ONNX exporter", range(18, 24), _dynamo),
        Exporter(
            "torchscript",
            "the legacy TorchScript tracer (torch.onnx, dynamo=False)",
            range(7, 21),
            _torchscript,
        ),
    )
}


def list_exporters() -> list[str]:
    return list(_REGISTRY)


def get_exporter(name: str) -> Exporter:
    return _REGISTRY[name]
