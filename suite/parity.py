"""Parity of a runtime's output with the torch reference, against one table of tolerances.

Convention: ``max_abs_err = max |y - ref|`` and ``max_rel_err = max_abs_err / max |ref|`` (the
error relative to the output's dynamic range, which stays meaningful where ref crosses zero).
A runtime passes when ``max_abs_err <= atol + rtol · max |ref|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .finite import nonfinite


@dataclass(frozen=True)
class Bound:
    atol: float
    rtol: float
    reason: str


#: float32 accumulations in a different order (im2col vs direct, fused vs unfused, another
#: interpolation formula) differ by a few ulps of the output's range: 2^-23 ≈ 1.2e-7 per operation,
#: growing about with the square root of the terms summed (64 channels × 3x3 = 576 → ~3e-6).
#: 1e-5 of the range sits above that noise and far below a wrong coordinate mode or padding (~1e-1).
DEFAULT = Bound(atol=1e-6, rtol=1e-5, reason="float32 rounding of a reordered accumulation")

#: float16 kernels (TensorRT with fp16 allowed; inputs and outputs stay float32): each rounding
#: costs up to 2^-11 ≈ 4.9e-4 of the value, and a 64-channel 3x3 sum of 576 such terms reaches
#: ~1e-2 of the range at worst. 2e-2 sits above that and still an order of magnitude below a
#: wrong coordinate mode or padding (~1e-1).
FLOAT16 = Bound(atol=1e-4, rtol=2e-2, reason="float16 rounding of the kernels' products and sums")

#: int8 QDQ (onnxruntime's static quantization, ``suite/precision.py``), on a photograph the
#: quantizer was not calibrated on: activations step by 1/255 of each tensor's calibrated range,
#: weights by 1/63 of each output channel's largest (7-bit, ``reduce_range``), and each quantized
#: op adds its steps to what it was given. Measured here on the 64-channel methods at scale 2: a
#: worst error of 0.65% (transposed) to 2.6% (bilinear + 1x1) of the range. 5e-2 sits above
#: that and still half a wrong coordinate mode's ~1e-1.
INT8 = Bound(atol=1e-3, rtol=5e-2, reason="int8 QDQ steps of the calibrated ranges, compounded")

#: A runtime whose numbers are not float32's declares its bound on its registry entry
#: (``Runtime.parity_bound``: one of the bounds above, with its reason); the others use
#: ``DEFAULT`` (the ONNX reference evaluator's NumPy float32 kernels round like onnxruntime's).
#: A case exported at a reduced precision (``precision = "fp16"`` or ``"int8"``) is compared with
#: the float32 torch reference under its precision's bound (``Precision.parity_bound``): the
#: looser of the two applies. A case's own [case.tolerance] wins over all of them
#: (``parity_bound.bound_for``).


class NonFiniteOutput(ValueError):
    """The output holds NaN or Inf: nothing can be compared or analysed."""


def loosest(*bounds: Bound | None) -> Bound:
    """The bound that admits the errors of every one given (``DEFAULT`` where none is)."""
    given = [bound for bound in bounds if bound is not None]
    if not given:
        return DEFAULT
    if len(given) == 1:
        return given[0]
    return Bound(
        atol=max(b.atol for b in given),
        rtol=max(b.rtol for b in given),
        reason="; ".join(dict.fromkeys(b.reason for b in given)),
    )


def psnr_db(output: np.ndarray, reference: np.ndarray) -> float | None:
    """The reduced precision's error as a PSNR against the float32 reference, over the
    reference's own range (``quantization_psnr_db``); None where there is no range to speak of
    or no error at all (then ``max_abs_err`` is 0: JSON has no infinity)."""
    if output.shape != reference.shape:
        return None
    reference = reference.astype(np.float64)
    span = float(reference.max(initial=0.0) - reference.min(initial=0.0))
    if span == 0:
        return None
    mse = float(np.mean((output.astype(np.float64) - reference) ** 2))
    return None if mse == 0 else float(10 * np.log10(span**2 / mse))


def check_finite(output: np.ndarray, where: str) -> None:
    if problem := nonfinite(output):
        raise NonFiniteOutput(f"{where} output {problem}")


def compare(output: np.ndarray, reference: np.ndarray, bound: Bound) -> dict:
    """Errors of ``output`` against ``reference`` and whether they are within ``bound``."""
    if output.shape != reference.shape:
        return {
            "max_abs_err": None,
            "max_rel_err": None,
            "within_tolerance": False,
            "error": f"output shape {list(output.shape)} != reference {list(reference.shape)}",
        }
    diff = np.abs(output.astype(np.float64) - reference.astype(np.float64))
    max_abs = float(diff.max(initial=0.0))
    scale = float(np.abs(reference).max(initial=0.0))
    return {
        "max_abs_err": max_abs,
        "max_rel_err": max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf")),
        "within_tolerance": bool(max_abs <= bound.atol + bound.rtol * scale),
        "atol": bound.atol,
        "rtol": bound.rtol,
        "tolerance_reason": bound.reason,
    }
