"""The case-level keys whose values are checked on their own (sizes, integers, tolerance and
gate overrides, the deployment keys), each problem a ``ParamError`` naming the key; the case file
(``casefile.py``) adds the file and the case."""

from __future__ import annotations

import math
from typing import Any

from .case import Tolerance
from .errors import ParamError
from .exporters import DYNAMO, OPSET, get_exporter, list_exporters
from .methods import Method, Stage, get_method, list_methods
from .methods.factory import FACTORY
from .methods.guided import GUIDE_KEYS
from .precision import FP32, get_precision, list_precisions

TOLERANCE_KEYS = ("atol", "rtol", "reason")
#: ``slowdown``: the timing processes call the case ``slowdown`` times per call on average, a
#: known slowdown for measuring what the latency gate catches (docs/gate.md, "How the gate's
#: catch is measured").
GATE_KEYS = ("min_effect", "slowdown", "reason")


def deployment(merged: dict[str, Any], stages: tuple[Stage, ...]) -> dict[str, Any]:
    """The precision, exporter and opset keys, each checked against its registry."""
    precision = _choice("precision", merged.get("precision", FP32), list_precisions())
    exporter = _choice("exporter", merged.get("exporter", DYNAMO), list_exporters())
    opset = integer("opset", merged.get("opset", OPSET), minimum=1)
    if opset not in (produces := get_exporter(exporter)).opsets:
        span = produces.opset_range()
        raise ParamError("opset", f"the {exporter} exporter produces opsets {span}, not {opset}")
    # a method with no learned weights gives onnxruntime's quantizer nothing to quantize
    # (interpolate, bilinear additive: it leaves their graphs as they are)
    weighted = [s.method for s in stages if get_method(s.method).inits or s.method == FACTORY]
    if get_precision(precision).calibrated and not weighted:
        methods = ", ".join(dict.fromkeys(s.method for s in stages))
        raise ParamError(
            "precision",
            f"{precision} has nothing to calibrate: {methods} has no learned weights, and "
            "onnxruntime quantizes no op without them",
        )
    guided = [s.method for s in stages if get_method(s.method).takes_guide]
    if get_precision(precision).calibrated and guided:
        raise ParamError(
            "precision",
            f"{precision} calibrates one input; {guided[0]} takes a guide as well: deploy a "
            "guided layer at fp32 or fp16",
        )
    return {"precision": precision, "exporter": exporter, "opset": opset}


def _choice(key: str, value: Any, known: list[str]) -> str:
    if not isinstance(value, str) or value not in known:
        raise ParamError(key, f"unknown {key} {value!r}; known: {', '.join(known)}")
    return value


def integer(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(key, f"must be an integer, got {value!r}")
    if value < minimum:
        raise ParamError(key, f"must be >= {minimum}, got {value}")
    return value


def applies(method: type[Method], key: str, prefix: str) -> None:
    """A stage's key that its method takes, else refused: a guide's key on a method that takes
    none names the guided ones; any other, the keys the method takes."""
    if key in GUIDE_KEYS and not method.takes_guide:
        guided = ", ".join(m for m in list_methods() if get_method(m).takes_guide)
        raise ParamError(
            f"{prefix}{key}", f"method {method.name!r} takes no guide (guided: {guided})"
        )
    if key not in method.keys() and not method.open_keys:
        uses = ", ".join(method.keys()) or "no keys"
        raise ParamError(
            f"{prefix}{key}", f"does not apply to method {method.name!r} (it uses: {uses})"
        )


def guided_alone(stage: Stage, index: int, stages: int) -> None:
    """A guided layer takes its guide at the case's output size: it is the case's only stage."""
    if stage.spec.takes_guide and stages > 1:
        raise ParamError(
            f"stage[{index}].method",
            f"{stage.method} takes a guide at the case's output size: it must be the case's "
            "only stage",
        )


def boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(key, f"must be true or false, got {value!r}")
    return value


def size_of(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        parts = value.lower().split("x")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ParamError("size", f"must be an integer or 'HxW', got {value!r}")
        height, width = (int(p) for p in parts)
    else:
        height = width = integer("size", value, minimum=1)
    if height < 1 or width < 1:
        raise ParamError("size", f"height and width must be positive, got {value!r}")
    return height, width


def tolerance(value: Any) -> Tolerance | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParamError("tolerance", "must be a table {atol = ..., rtol = ..., reason = ...}")
    for key in value:
        if key not in TOLERANCE_KEYS:
            raise ParamError(
                f"tolerance.{key}", f"unknown key; allowed: {', '.join(TOLERANCE_KEYS)}"
            )
    reason = value.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ParamError("tolerance.reason", "an override must say why (reason = '...')")
    bounds = {}
    for key in ("atol", "rtol"):
        bound = value.get(key)
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            raise ParamError(f"tolerance.{key}", f"must be a number, got {bound!r}")
        if bound is not None and bound < 0:
            raise ParamError(f"tolerance.{key}", f"must be >= 0, got {bound}")
        bounds[key] = None if bound is None else float(bound)
    if bounds["atol"] is None and bounds["rtol"] is None:
        raise ParamError("tolerance", "give atol, rtol or both")
    return Tolerance(bounds["atol"], bounds["rtol"], reason.strip())


def gate(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParamError("gate", "must be a table {min_effect = ..., reason = ...}")
    for key in value:
        if key not in GATE_KEYS:
            raise ParamError(f"gate.{key}", f"unknown key; allowed: {', '.join(GATE_KEYS)}")
    reason = value.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ParamError("gate.reason", "an override must say why (reason = '...')")
    if "min_effect" not in value and "slowdown" not in value:
        raise ParamError("gate", "give min_effect, slowdown or both")
    gate: dict[str, Any] = {"reason": reason.strip()}
    for key, low, high in (("min_effect", 0.0, math.inf), ("slowdown", 1.0, 100.0)):
        if key in value:
            number = value[key]
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ParamError(f"gate.{key}", f"must be a number, got {number!r}")
            if not low < number <= high and not (key == "slowdown" and number == low):
                raise ParamError(f"gate.{key}", f"must be in ({low:g}, {high:g}], got {number!r}")
            gate[key] = float(number)
    return gate
