"""The artifact metrics of one case on one runtime, each recorded with its value or the reason it
has none; never an exception out of here for a metric that cannot be computed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from ..case import Case
from .errors import MetricError, MetricSkipped
from .hypercolumn import hypercolumn_metrics
from .metrics import checkerboard, crop_to_periods, flat_ripple, spectral_deviation
from .probes import area_downsample, probe, to_channels

#: Photographs whose outputs' spectra are summed for the checkerboard and spectral metrics. Not
#: ``camera``: at small sizes its large flat areas with axis-aligned edges sit ~6 dB above the
#: others even for clean upsamplers.
SPECTRAL_PROBES = ("astronaut", "coffee", "grass", "brick")
#: Pixels each upsampling stage's edge handling (zero padding, clamped taps) may reach into its
#: output, beyond the stage's kernel: cut before the flat-field and spectral figures.
EDGE_MARGIN = 2

Infer = Callable[[np.ndarray], np.ndarray]


def periods(case: Case) -> list[int]:
    """Checkerboard periods in output pixels: the product of the scales from each stage to the
    output (a decoder of two stride-2 stages has periods 2 and 4)."""
    found, period = [], 1
    for stage in reversed(case.stages):
        period *= stage.scale
        if period > 1 and period not in found:
            found.append(period)
    return found


def border(case: Case) -> int:
    """Output pixels that zero padding can reach: each stage's reach grows by its kernel (or its
    interpolation taps) plus a margin, then scales with it."""
    reach = 0
    for stage in case.stages:
        kernel = stage.params.get("kernel") or 2
        reach = (reach + kernel + EDGE_MARGIN) * stage.scale
    return reach


def _finite(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or bool(np.isfinite(value))


def _record(notes: dict, name: str, compute: Callable[[], Any]) -> Any:
    """The value of ``compute()``, or ``None`` with the reason in ``notes[name]``."""
    try:
        value = compute()
        if not _finite(value):
            raise MetricError(f"the computation gave a non-finite value: {value!r}"[:200])
        return value
    except MetricSkipped as exc:
        notes[name] = f"skipped: {exc}"
    except MetricError as exc:
        notes[name] = f"failed: {exc}"
    return None


def probe_inputs(case: Case, probes: tuple[str, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(input batch for ``probes``, their high-resolution originals), each input the
    area-downsampled original, mapped to the case's channels."""
    height, width = case.size
    originals, inputs = [], []
    for name in probes:
        rgb = probe(name, height * case.scale, width * case.scale)
        high = to_channels(rgb, case.channels, case.seed)
        originals.append(high)
        inputs.append(area_downsample(high, case.scale)[None].astype(np.float32))
    return np.concatenate(inputs), originals


def image_metrics(
    case: Case, infer: Infer, probes: tuple[str, ...] = SPECTRAL_PROBES
) -> tuple[dict, dict[str, np.ndarray]]:
    """Flat-field ripple, checkerboard families and spectral deviation from one runtime's
    ``infer``; returns the metrics and the outputs they came from (for cross-runtime parity)."""
    metrics: dict[str, Any] = {"probes": {"flat": "constant", "spectral": list(probes)}}
    notes: dict[str, str] = {}
    outputs: dict[str, np.ndarray] = {}
    cut = border(case)
    family_periods = periods(case)

    def flat() -> float:
        outputs["flat"] = infer(np.ones(case.input_shape, dtype=np.float32))
        return flat_ripple(outputs["flat"][0], cut)

    metrics["flat_ripple"] = _record(notes, "flat_ripple", flat)

    try:
        inputs, originals = probe_inputs(case, probes)
        outputs["probes"] = np.stack([infer(inputs[i : i + 1])[0] for i in range(len(probes))])
        probe_problem = None
    except MetricError as exc:
        originals, probe_problem = None, str(exc)

    def families() -> dict[str, float]:
        if not family_periods:
            raise MetricSkipped("no stage upsamples (stride 1): no checkerboard period")
        if probe_problem:
            raise MetricError(probe_problem)
        stack = outputs["probes"]
        h, w = stack.shape[-2:]
        if min(h, w) - 2 * cut < max(family_periods):
            raise MetricError(f"output {h}x{w} has no whole period once a border of {cut} is cut")
        interior = stack[..., cut : h - cut, cut : w - cut].reshape(-1, h - 2 * cut, w - 2 * cut)
        scores = checkerboard(crop_to_periods(interior, family_periods), family_periods)
        return {str(p): round(v, 3) for p, v in scores.items()}

    metrics["checkerboard_families"] = _record(notes, "checkerboard_families", families)
    if metrics["checkerboard_families"]:
        metrics["checkerboard_db"] = max(metrics["checkerboard_families"].values())
    else:
        metrics["checkerboard_db"] = None

    def deviation() -> dict:
        if probe_problem:
            raise MetricError(probe_problem)
        stack = np.concatenate(list(outputs["probes"]))
        return spectral_deviation(stack, np.concatenate(originals))

    spectral = _record(notes, "spectral_deviation_db", deviation)
    metrics["spectral_deviation_db"] = spectral["deviation_db"] if spectral else None
    metrics["spectral_curves"] = spectral["curves"] if spectral else None
    metrics["notes"] = notes
    return metrics, outputs


def reference_metrics(
    case: Case, model: nn.Module, infer: Infer
) -> tuple[dict, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The torch reference's figures: the image metrics, the hypercolumn reconstruction and, for
    a trained case, how it was trained; with the outputs they came from and the hypercolumn
    illustration's pictures (empty when the case has no hypercolumn figures)."""
    metrics, outputs = image_metrics(case, infer)
    notes = metrics["notes"]
    hyper = _record(notes, "hypercolumn", lambda: _hypercolumn(case, model))
    metrics["hypercolumn_mse"] = hyper["mse"] if hyper else None
    metrics["hypercolumn_psnr_db"] = hyper["psnr_db"] if hyper else None
    metrics["hypercolumn_ssim"] = hyper["ssim"] if hyper else None
    metrics["hypercolumn_checkerboard_energy"] = hyper["checkerboard_energy"] if hyper else None
    if hyper:
        metrics["probes"]["hypercolumn"] = {
            "train": hyper["train_probes"],
            "test": hyper["test_probes"],
            "levels": hyper["levels"],
        }
    metrics["training"] = getattr(model, "training_record", None)
    pictures = hyper.pop("pictures") if hyper else {}
    return metrics, outputs, pictures


def _hypercolumn(case: Case, model: nn.Module) -> dict:
    expected = (case.size[0] * case.scale, case.size[1] * case.scale)
    if tuple(case.output_shape[-2:]) != expected:
        raise MetricSkipped(
            f"output {case.output_shape[-2]}x{case.output_shape[-1]} is not scale × input"
        )
    return hypercolumn_metrics(
        model,
        case.channels,
        expected,
        case.scale,
        case.seed,
        periods(case),
        # a channel-changing upsampler cannot take its own output: level 1 only
        repeatable=case.out_channels == case.channels,
    )
