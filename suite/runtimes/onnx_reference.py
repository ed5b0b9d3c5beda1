"""onnx's own ReferenceEvaluator: a slow, independent NumPy implementation of the ONNX ops.

It is the oracle that tells whether a torch-vs-onnxruntime difference is the exporter's or the
runtime's; it is never timed. It runs outputs up to ``MAX_OUTPUT_ELEMENTS``: on a larger case
it checks a reduced-size export of the same module and weights instead (``bench/reduced.py``).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

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
    max_output_elements = MAX_OUTPUT_ELEMENTS

    def load(self, prepared: Prepared) -> Loaded:
        elements = int(np.prod(prepared.output_shape))
        if elements > self.max_output_elements:
            raise RuntimeSkipped(
                f"output has {elements} elements; the reference evaluator runs up to "
                f"{self.max_output_elements}"
            )
        evaluator = ReferenceEvaluator(onnx.load(prepared.onnx_path))
        example = prepared.example.numpy()

        def infer(x: np.ndarray, guide: np.ndarray | None = None) -> np.ndarray:
            return np.asarray(evaluator.run(None, prepared.feeds(x, guide))[0])

        return Loaded(step=lambda: infer(example), infer=infer, example=example)
