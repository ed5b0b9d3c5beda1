"""torch → ONNX with the case's exporter at its opset (by default the dynamo exporter at a pinned
opset), converted to its precision, checked, inventoried and cached."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import nn

from . import precision as precisions
from .atomic import atomic_path
from .case import Case
from .distributions import ort_package
from .errors import first_line
from .exporters import INPUT_NAME, OPSET, OUTPUT_NAME, get_exporter
from .quiet import captured_output

#: Bump when the export recipe changes, so that cached models are not reused across recipes.
RECIPE = 1
__all__ = ["INPUT_NAME", "OPSET", "OUTPUT_NAME", "ExportError", "export_case"]

#: Attributes that decide an op's numbers (not just its shape), recorded per node.
NUMERICS_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "Resize": (
        "mode",
        "coordinate_transformation_mode",
        "nearest_mode",
        "cubic_coeff_a",
        "exclude_outside",
        "antialias",
    ),
    "DepthToSpace": ("mode", "blocksize"),
    "ConvTranspose": ("kernel_shape", "strides", "pads", "output_padding", "group"),
    "Conv": ("kernel_shape", "strides", "pads", "group"),
    "Pad": ("mode",),
    "GridSample": ("mode", "padding_mode", "align_corners"),
    "QuantizeLinear": ("axis",),
}


class ExportError(RuntimeError):
    """The exporter, the checker or shape inference refused the model."""


@dataclass
class Exported:
    path: Path
    cached: bool
    opset: int
    ops: dict[str, int]
    numerics: list[dict[str, Any]]
    output_shape: list[int]
    exporter: str = "dynamo"
    precision: str = "fp32"
    #: the stored weights' element types, with how many tensors of each
    weight_types: dict[str, int] | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "opset": self.opset,
            "ops": self.ops,
            "numerics": self.numerics,
            "cached": self.cached,
            "file": self.path.name,
            "exporter": self.exporter,
            "precision": self.precision,
            "weight_types": self.weight_types,
        }


def library_versions() -> dict[str, str]:
    return {name: version(name) for name in ("torch", "onnx", "onnxscript")}


def cache_key(case: Case, model: nn.Module) -> str:
    """Hash of everything that decides the exported file: the resolved stages, the shapes, the
    weights' bytes, the exporter and opset, the precision and its recipe, the export recipe and
    the exporting libraries' versions (with onnxruntime's, whose tools convert precisions)."""
    digest = hashlib.sha256()
    recipe = {
        "stages": [{"method": s.method, **s.params} for s in case.stages],
        "input_shape": case.input_shape,
        "opset": case.opset,
        "recipe": RECIPE,
        "versions": library_versions(),
    }
    if case.guide is not None:  # a one-input case keeps the key it always had
        recipe["guide"] = case.guide.describe()
    if case.deployed:  # the default export keeps the key it always had
        recipe |= {
            "exporter": case.exporter,
            "precision": case.precision,
            "precision_recipe": precisions.RECIPE,
            "seed": case.seed,  # an int8 calibration maps the photographs by the seed
            "onnxruntime": ort_package(),  # its converter and quantizer write the file
        }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def export_case(
    case: Case,
    model: nn.Module,
    example: torch.Tensor | tuple[torch.Tensor, ...],
    cache_dir: Path,
    may_export: bool = True,
) -> Exported:
    """Export (or reuse the cached export of) ``model`` called on ``example`` (the input, or the
    inputs: the features, then a guide); check it fully and infer its shapes.
    ``may_export=False`` (a timing process): only a cached export will do."""
    path = Path(cache_dir) / f"{cache_key(case, model)}.onnx"
    cached = path.exists()
    if not cached and not may_export:
        raise ExportError(
            f"{path.name} is not in {cache_dir}: a timing process times the model prepare "
            "exported and exports nothing itself"
        )
    if not cached:
        _export_to(path, model, example, case)
    proto = onnx.load(path)
    try:
        onnx.checker.check_model(proto, full_check=True)
        inferred = onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ExportError(f"onnx checker: {first_line(exc)}") from exc
    return Exported(
        path=path,
        cached=cached,
        opset=_opset(proto),
        ops=op_inventory(proto),
        numerics=numerics_attributes(proto),
        output_shape=_output_shape(inferred),
        exporter=case.exporter,
        precision=case.precision,
        weight_types=weight_types(proto),
    )


def _export_to(
    path: Path, model: nn.Module, example: torch.Tensor | tuple[torch.Tensor, ...], case: Case
) -> None:
    """Export with the exporter's chatter held back (it prints pages; the suite's own output
    stays clean), convert to the case's precision, and write atomically: a reader never sees a
    half-written model."""
    exporter = get_exporter(case.exporter)
    with atomic_path(path, ".onnx") as partial:
        with captured_output():
            try:
                inputs = example if isinstance(example, tuple) else (example,)
                proto = exporter.export(model, inputs, case.opset)
            except Exception as exc:
                raise ExportError(
                    f"torch.onnx.export ({exporter.name}): {first_line(exc)}"
                ) from exc
        if _opset(proto) != case.opset:
            raise ExportError(f"{exporter.name} wrote opset {_opset(proto)}, not {case.opset}")
        try:
            proto = precisions.get_precision(case.precision).convert(proto, case)
        except Exception as exc:
            raise ExportError(f"{case.precision}: {first_line(exc)}") from exc
        onnx.save(proto, partial)


def weight_types(proto: onnx.ModelProto) -> dict[str, int]:
    """The element types of the model's stored weights (initializers and constant nodes'
    tensors): float16 after an fp16 conversion, int8 beside float32 scales after int8."""
    tensors = list(proto.graph.initializer) + [
        attribute.t
        for node in proto.graph.node
        if node.op_type == "Constant"
        for attribute in node.attribute
        if attribute.name == "value"
    ]
    counts: dict[str, int] = {}
    for tensor in tensors:
        name = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).name
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def op_inventory(proto: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in proto.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return dict(sorted(counts.items()))


def numerics_attributes(proto: onnx.ModelProto) -> list[dict[str, Any]]:
    """Per node of a numerics-relevant op, the effective value of each attribute that decides its
    numbers: the value set on the node, else the op schema's default at the model's opset."""
    opset = _opset(proto)
    records = []
    for node in proto.graph.node:
        names = NUMERICS_ATTRIBUTES.get(node.op_type)
        if names is None:
            continue
        given = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        schema = onnx.defs.get_schema(node.op_type, opset)
        record: dict[str, Any] = {"op": node.op_type}
        for name in names:
            if name in given:
                value = given[name]
            elif name in schema.attributes and schema.attributes[name].default_value.name:
                value = onnx.helper.get_attribute_value(schema.attributes[name].default_value)
            else:
                continue
            record[name] = _plain(value)
        records.append(record)
    return records


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def _opset(proto: onnx.ModelProto) -> int:
    return next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def _output_shape(proto: onnx.ModelProto) -> list[int]:
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else -1 for d in dims]
