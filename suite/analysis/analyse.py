"""The artifact metrics of one case on one runtime, each recorded with its value or the reason it
has none; never an exception out of here for a metric that cannot be computed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from torch import nn

from ..case import Case
from ..guides import flat_scene_guide, scene_guide
from ..photos import ARTIFACT_PHOTOS, ProbeError, area_downsample, probe, to_channels
from ..stats import BOOTSTRAP_REPLICATES, mean_interval, percentile_interval, resample_counts
from .errors import MetricError, MetricSkipped, record
from .hypercolumn import hypercolumn_metrics
from .linear import linear_analysis
from .metrics import flat_ripple, ripple_parts, spectral_bands
from .periodic import bootstrap_draws, pattern_percent, phase_energy_percent, phase_tiles
from .registry import Measured, compute_hooked
from .verdict import case_verdict

#: Photographs the checkerboard and spectral figures probe (disjoint from the ones anything is
#: fitted on and from the hypercolumns' held-out ones: ``photos.py``).
SPECTRAL_PROBES = ARTIFACT_PHOTOS
#: Pixels each upsampling stage's edge handling (zero padding, clamped taps) may reach into its
#: output, beyond the stage's own window (``Method.reach``): cut before every image figure.
EDGE_MARGIN = 2

#: infer(x) for a layer of one input; infer(x, guide) for a guided one, the guide of x's scene
Infer = Callable[..., np.ndarray]


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
    """Output pixels that zero padding can reach: each stage's reach grows by its window (its
    method's ``reach``: kernel, interpolation taps, CARAFE's reassembly and encoder windows,
    DySample's offsets) plus a margin, then scales with it."""
    reach = 0
    for stage in case.stages:
        reach = (reach + stage.reach + EDGE_MARGIN) * stage.scale
    return reach


def _reach(case: Case) -> int:
    """Input pixels one input pixel's influence can spread to in the output, per side."""
    return -(-border(case) // case.scale)


def probe_inputs(case: Case, probes: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """(input batch for ``probes``, their high-resolution originals), each input the
    area-downsampled original, mapped to the case's channels."""
    inputs, originals, _ = probe_scenes(case, probes)
    return inputs, originals


def probe_scenes(
    case: Case, probes: Sequence[str]
) -> tuple[np.ndarray, list[np.ndarray], list[tuple[np.ndarray, ...]]]:
    """``probe_inputs`` and, per probe, what a call passes after its input (``guides.
    scene_guide``: a guided layer sees the probe's own scene as its guide)."""
    height, width = case.size
    originals, inputs, guides = [], [], []
    for name in probes:
        rgb = probe(name, height * case.scale, width * case.scale)
        high = to_channels(rgb, case.channels, case.seed)
        originals.append(high)
        inputs.append(area_downsample(high, case.scale)[None].astype(np.float32))
        guides.append(scene_guide(case, rgb))
    return np.concatenate(inputs), originals, guides


def _rounded(values: dict[int, float]) -> dict[str, float]:
    return {str(p): round(float(v), 4) for p, v in values.items()}


@dataclass
class _Measure:
    """One call of ``image_metrics``: the case, what runs it, and what it has found so far."""

    case: Case
    infer: Infer
    more_seeds: Sequence[Infer]
    intervals: bool
    cut: int
    periods: list[int]
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)


def image_metrics(
    case: Case,
    infer: Infer,
    probes: Sequence[str] = SPECTRAL_PROBES,
    intervals: bool = False,
    more_seeds: Sequence[Infer] = (),
) -> tuple[dict, dict[str, np.ndarray]]:
    """Flat-field ripple, the phase-locked pattern (first and second order, per period family)
    and the signed spectral figures from one runtime's ``infer``; with ``intervals``, a 95%
    bootstrap interval beside each (units: the probes, under each of the weight seeds whose
    models ``more_seeds`` run). Returns the metrics and the outputs they came from (for
    cross-runtime parity)."""
    run = _Measure(case, infer, more_seeds, intervals, border(case), periods(case))
    run.metrics["probes"] = {"flat": "constant", "artifact": list(probes)}
    run.metrics["flat_ripple"] = record(run.notes, "flat_ripple", lambda: _flat_ripple(run))
    originals, stack, problem = _probe_stack(run, probes)

    def tiles():
        if not run.periods:
            raise MetricSkipped("no stage upsamples (stride 1): no checkerboard period")
        if problem:
            raise MetricError(problem)
        return phase_tiles(stack, run.periods, run.cut, groups=1 + len(more_seeds))

    _phase_figures(run, record(run.notes, "checkerboard_families", tiles))
    _spectral_figures(run, originals, stack, problem)
    run.metrics["seeds"] = 1 + len(more_seeds)
    run.metrics["notes"] = run.notes
    return run.metrics, run.outputs


def _flat_ripple(run: _Measure) -> float:
    ones = np.ones(run.case.input_shape, dtype=np.float32)
    guide = flat_scene_guide(run.case)  # a guided layer's flat field has a flat scene
    run.outputs["flat"] = run.infer(ones, *guide)
    if not run.more_seeds:
        return flat_ripple(run.outputs["flat"][0], run.cut, run.periods)
    # pooled over the seeds (variances and mean squares summed), its interval over them
    outs = (run.outputs["flat"], *(other(ones, *guide) for other in run.more_seeds))
    parts = np.array([ripple_parts(out[0], run.cut, run.periods) for out in outs])
    if run.intervals:
        rng = np.random.default_rng(run.case.seed)
        draws = resample_counts(rng, len(parts), BOOTSTRAP_REPLICATES) @ parts
        run.metrics["flat_ripple_ci"] = percentile_interval(np.sqrt(draws[:, 0] / draws[:, 1]))
    return float(np.sqrt(parts[:, 0].sum() / parts[:, 1].sum()))


def _probe_stack(run: _Measure, probes: Sequence[str]):
    """(originals, the probe outputs of every seed stacked, None), or (None, None, why not)."""
    try:
        inputs, originals, guides = probe_scenes(run.case, probes)
        count = len(probes)
        outputs = [run.infer(inputs[i : i + 1], *guides[i])[0] for i in range(count)]
        run.outputs["probes"] = np.stack(outputs)
        units = [run.outputs["probes"]]
        for other in run.more_seeds:
            units.append(np.stack([other(inputs[i : i + 1], *guides[i])[0] for i in range(count)]))
        return originals, np.concatenate(units), None
    except (MetricError, ProbeError) as exc:
        return None, None, str(exc)


def _phase_figures(run: _Measure, found) -> None:
    """The phase-locked pattern and the phase energies, per period family and worst, with
    their intervals; null (with the reason in the notes) where the tiles could not be had."""
    metrics = run.metrics
    for name, statistic in (
        ("checkerboard", pattern_percent),
        ("phase_energy", phase_energy_percent),
    ):
        metrics[f"{name}_pct"] = metrics[f"{name}_families"] = None
        if found is None:
            continue
        families = statistic(found)
        metrics[f"{name}_families"] = _rounded(families)
        metrics[f"{name}_pct"] = round(float(max(families.values())), 4)
        if run.intervals:
            draws = bootstrap_draws(found, statistic, seed=run.case.seed)
            metrics[f"{name}_pct_ci"] = percentile_interval(np.max(list(draws.values()), axis=0))
            metrics[f"{name}_families_ci"] = {
                str(p): percentile_interval(d) for p, d in draws.items()
            }
    if found is None and "checkerboard_families" in run.notes:
        run.notes["phase_energy_families"] = run.notes["checkerboard_families"]


def _spectral_figures(run: _Measure, originals, stack, problem: str | None) -> None:
    case = run.case

    def spectral() -> dict:
        if problem:
            raise MetricError(problem)
        if case.scale < 2:
            raise MetricSkipped("the case does not upsample: no band above the input's Nyquist")
        seeds = 1 + len(run.more_seeds)
        reference = np.concatenate([np.concatenate(originals)] * seeds)
        return spectral_bands(
            np.concatenate(list(stack)),
            reference,
            case.scale,
            units=len(stack),
            replicates=BOOTSTRAP_REPLICATES if run.intervals else 0,
        )

    bands = record(run.notes, "spectral", spectral) or {}
    for name in ("fidelity", "leakage"):
        run.metrics[f"spectral_{name}_db"] = bands.get(f"{name}_db")
        if run.intervals:
            run.metrics[f"spectral_{name}_db_ci"] = bands.get(f"{name}_ci")
    run.metrics["spectral_curves"] = bands.get("curves")


def _other_seeds(case: Case) -> list[tuple[Case, nn.Module]]:
    """The case under each of its other weight seeds (``seeds`` > 1), with its model."""
    others = [replace(case, seed=case.seed + k, seeds=1) for k in range(1, case.seeds)]
    return [(other, other.build()) for other in others]


def torch_infer(model: nn.Module) -> Infer:
    """A torch model as an ``Infer``: float32 arrays in and out (the input, then a guided
    layer's guide), no gradients."""
    import torch

    def infer(*inputs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(*(torch.from_numpy(np.asarray(v, np.float32)) for v in inputs)).numpy()

    return infer


def reference_metrics(
    case: Case, model: nn.Module, infer: Infer, probes: Sequence[str] = SPECTRAL_PROBES
) -> tuple[dict, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The torch reference's figures: the image metrics with their intervals, the exact analysis
    of a linear case, the hypercolumn reconstruction and, for a trained case, how it was trained;
    the verdict; with the outputs they came from and the hypercolumn illustration's pictures
    (empty when the case has no hypercolumn figures). ``probes``: the image figures' photographs
    (the hypercolumns keep their own held-out ones)."""
    others = _other_seeds(case)
    more_seeds = [torch_infer(other_model) for _, other_model in others]
    metrics, outputs = image_metrics(case, infer, probes, True, more_seeds)
    notes = metrics["notes"]
    metrics["linear"] = record(notes, "linear", lambda: linear_analysis(case, model, _reach(case)))
    hyper = _hypercolumn_figures(case, model, others, metrics)
    metrics["training"] = getattr(model, "training_record", None)
    compute_hooked(Measured(case, model, infer, outputs, metrics), notes)
    metrics["verdict"] = case_verdict(metrics)
    pictures = hyper.pop("pictures") if hyper else {}
    return metrics, outputs, pictures


def _hypercolumn_figures(case: Case, model: nn.Module, others, metrics: dict) -> dict | None:
    """The hypercolumn figures pooled over the weight seeds into ``metrics``; the first seed's
    reconstruction (None where there is none)."""
    notes = metrics["notes"]
    hyper = record(notes, "hypercolumn", lambda: _hypercolumn(case, model))
    # with seeds = N, every (seed, held-out photograph) pair is a unit of the mean and interval
    units = [hyper["per_probe"]] if hyper else []
    for other_case, other_model in others if hyper else []:
        other = record(notes, "hypercolumn", lambda c=other_case, m=other_model: _hypercolumn(c, m))
        units += [other["per_probe"]] if other else []
    for name in ("mse", "psnr_db", "ssim", "checkerboard_energy"):
        pooled = [value for unit in units for value in unit[name]]
        metrics[f"hypercolumn_{name}"] = float(np.mean(pooled)) if pooled else None
        if name in ("psnr_db", "ssim"):
            metrics[f"hypercolumn_{name}_ci"] = mean_interval(pooled, case.seed)
    if hyper:
        metrics["probes"]["hypercolumn"] = {
            "train": hyper["train_probes"],
            "test": hyper["test_probes"],
            "levels": hyper["levels"],
        }
    return hyper


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
        # a channel-changing upsampler cannot take its own output, nor a guided one (its guide
        # is at the output size): level 1 only
        repeatable=case.out_channels == case.channels and case.guide is None,
        border=border(case),
        guide_of=lambda rgb: scene_guide(case, rgb),
    )
