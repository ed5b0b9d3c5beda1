"""The independent oracle at every size: a runtime with an output budget (the ONNX reference
evaluator, ``Runtime.max_output_elements``), on a case whose output exceeds it, checks parity on a
reduced-size export of the same module instead of skipping the case.

The module is the same object, with the same weights; it is exported again at a smaller input
(the case's aspect and divisibility kept, the output within the budget), and the runtime's
output on that export is compared with torch's on the same reduced input, under the case's own
bound. The record says so (``RuntimeResult.parity_at``: the input size checked, the output
shape, why, and the export's file), and the summary and the report list every such check: a
parity figure of another size is never passed off as the case's own.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from ..case import Case
from ..errors import first_line
from ..export import export_case
from ..parity import Bound, check_finite, compare
from ..records import RuntimeResult
from ..runtimes import REFERENCE, Prepared, get_runtime
from .pipeline import PreparedCase

#: The reduced input keeps the case's divisibility by up to this (a stride-2 stage inside a
#: block wants an even size; 8 covers three such stages), so that the same graph exports.
KEEP_DIVISOR = 8
#: The reduced export aims at this share of the budget: the reference evaluator is plain
#: Python, and its ConvTranspose took 12 s on a 64-channel output at the whole budget (2 cores);
#: an eighth (a 64×32×32 output) still runs every op of the same graph and weights, borders
#: and interior, in about a second. Where no input fits that share, the whole budget is used.
BUDGET_SHARE = 8


def elements(shape) -> int:
    return math.prod(shape)


def over_budget(case: Case, name: str) -> int | None:
    """The runtime's output budget where the case's output exceeds it, else None."""
    budget = get_runtime(name).max_output_elements
    return budget if budget is not None and elements(case.output_shape) > budget else None


def reduced_size(case: Case, budget: int) -> tuple[int, int] | None:
    """The largest input (height, width) at the case's aspect whose output fits ``budget``
    elements: each side scaled by sqrt(budget / output elements), rounded down to a multiple of
    what divides the case's own (up to ``KEEP_DIVISOR``), stepped down until it fits; None
    where no input does."""
    ratio = math.sqrt(budget / elements(case.output_shape))
    steps = [math.gcd(side, KEEP_DIVISOR) for side in case.size]
    size = [
        max(step, int(side * ratio) // step * step)
        for side, step in zip(case.size, steps, strict=True)
    ]
    while not _fits(case, size, budget):
        if size == steps:
            return None
        size = [max(step, side - step) for side, step in zip(size, steps, strict=True)]
    return size[0], size[1]


def _fits(case: Case, size: list[int], budget: int) -> bool:
    try:
        return elements(replace(case, size=tuple(size)).output_shape) <= budget
    except Exception:  # a size the method refuses: a smaller one is tried
        return False


def check_reduced(work: PreparedCase, name: str, budget: int, bound: Bound) -> RuntimeResult:
    """The runtime (``name``) against torch on a reduced-size export of the case's module,
    within the case's ``bound``; a skip with the reason where the module does not run or export
    at that size (a module bound to its input size). Raises what the runtime raised (a
    failure, as it would be at the case's size)."""
    case = work.case
    size = reduced_size(case, budget // BUDGET_SHARE) or reduced_size(case, budget)
    why = f"the output has {elements(case.output_shape)} elements and {name} runs up to {budget}"
    if size is None:
        return RuntimeResult.skipped(f"{why}; no smaller input of this case fits")
    small = replace(case, size=size)
    at = {"input_size": list(size), "output_shape": list(small.output_shape), "why": why}
    try:
        prepared, onnx_path = _prepare(work, small)
        reference = get_runtime(REFERENCE).load(prepared).output()
    except Exception as exc:  # listed with the others: the oracle was tried, and why not
        refused = f"the module does not export at input {_hw(size)}: {first_line(exc)}"
        result = RuntimeResult.skipped(f"{why}; {refused}")
        result.parity_at = {**at, "checked": f"nothing: {refused}"}
        return result
    check_finite(reference, f"{REFERENCE} at input {_hw(size)}")
    output = get_runtime(name).load(prepared).output()
    check_finite(output, f"{name} at input {_hw(size)}")
    result = RuntimeResult.from_parity(compare(output, reference, bound))
    result.parity_at = {
        **at,
        "checked": f"the same module and weights, exported again at input {_hw(size)} (the "
        f"case's is {_hw(case.size)}), against {REFERENCE} at that size",
        "onnx_file": onnx_path.name,
    }
    return result


def _prepare(work: PreparedCase, small: Case) -> tuple[Prepared, Path]:
    """The case's own module, exported again at the reduced case's input size."""
    cache = work.prepared.onnx_path.parent
    threads = work.prepared.threads
    # the features, then a guided layer's guide at the small size
    prepared = Prepared(
        work.model, small.make_input(), None, small.output_shape, threads, cache, small.make_guide()
    )
    exported = export_case(small, work.model, prepared.inputs, cache)
    if exported.output_shape != list(small.output_shape):
        raise ValueError(
            f"ONNX shape inference gives {exported.output_shape}, "
            f"the geometry {list(small.output_shape)}"
        )
    prepared.onnx_path = exported.path
    return prepared, exported.path


def _hw(size) -> str:
    return "x".join(str(int(side)) for side in size)
