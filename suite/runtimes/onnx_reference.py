"""onnx's own ReferenceEvaluator: a slow, independent NumPy implementation of the ONNX ops.

It is the oracle that tells whether a torch-vs-onnxruntime difference is the exporter's or the
runtime's; it runs only on small cases and is never timed.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

from ..export import INPUT_NAME
from . import register
from .base import Loaded, Prepared, Runtime, RuntimeSkipped

#: Largest output (elements) the evaluator is asked for; beyond it, it takes seconds per case.
MAX_OUTPUT_ELEMENTS = 1 << 19


@register
class OnnxReference(Runtime):
    name = "onnx-reference"
    order = 6
    marker = "x"
    colour = "#029e73"
    timed = False
    analysed = False

    def load(self, prepared: Prepared) -> Loaded:
        elements = int(np.prod(prepared.output_shape))
        if elements > MAX_OUTPUT_ELEMENTS:
            raise RuntimeSkipped(
                f"output has {elements} elements; the reference evaluator runs up to "
                f"{MAX_OUTPUT_ELEMENTS}"
            )
        evaluator = ReferenceEvaluator(onnx.load(prepared.onnx_path))
        example = prepared.example.numpy()

        def infer(x: np.ndarray) -> np.ndarray:
            return np.asarray(evaluator.run(None, {INPUT_NAME: np.asarray(x, np.float32)})[0])

        return Loaded(step=lambda: infer(example), infer=infer, example=example)
