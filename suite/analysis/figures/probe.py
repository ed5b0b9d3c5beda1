"""The task probe's figures (``analysis/task_probe.py``): mIoU and boundary F of a linear probe
on the case's upsampled features of synthetic scenes, each with its 95% interval over the
held-out scenes. Computed where the case asks (``probe = true``: a few seconds a case, so the
default bench leaves it off), with the case's guide where its layer takes one. Calibrated by
the probe's own battery rows (``probe_battery.toml``: the ceiling, blur, a one-pixel shift,
gain). No verdict threshold: a probe figure ranks layers, it does not call an artifact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import MetricSkipped
from ..registry import GAIN, HIGHER, MEDIAN, SEED, Measured, Metric, register

if TYPE_CHECKING:
    from ..probe_scores import ProbeScores

#: The layer the probe's invariance claims are checked on (``registry.WITNESSES``).
WITNESS = "probed-bilinear"
#: The last case probed, held with its Measured so that its id is not reused: both figures
#: come from one run of the probe.
_last: list[tuple[Measured, ProbeScores]] = []


def scores_of(measured: Measured) -> ProbeScores:
    """The probe's scores of ``measured``'s layer (its torch reference), run once per case."""
    if _last and _last[0][0] is measured:
        return _last[0][1]
    from ..task_probe import task_probe  # torch: the report lists the figures without it

    case = measured.case
    if not case.probe:
        raise MetricSkipped("the case does not ask for the task probe (probe = true)")
    guide = case.guide
    found = task_probe(
        measured.model,
        case.channels,
        case.scale,
        case.size,
        case.seed,
        None if guide is None else guide.kind,
        guide_channels=None if guide is None else guide.channels,
    )
    _last[:] = [(measured, found)]
    return found


def _miou(measured: Measured) -> tuple[float, list[float]]:
    found = scores_of(measured)
    return found.miou, found.miou_ci


def _boundary_f(measured: Measured) -> tuple[float, list[float]]:
    found = scores_of(measured)
    return found.boundary_f, found.boundary_f_ci


register(
    Metric(
        "probe_miou",
        "probe mIoU",
        "IoU, 0-1",
        HIGHER,
        "mean IoU of a linear probe on the upsampled features of held-out synthetic scenes "
        "(exact masks; a fixed seeded encoder downsamples by the case's scale)",
        (GAIN, SEED),
        0.01,
        ".3f",
        verdict_column="probe mIoU",
        column_summary=MEDIAN,
        witnesses=(WITNESS,),
        compute=_miou,
    )
)
register(
    Metric(
        "probe_boundary_f",
        "probe boundary F",
        "F-score, 0-1",
        HIGHER,
        "boundary F-score of the same probe: its class edges against the masks' (exact pixel, "
        "no tolerance)",
        # not SEED: on the witness's small scenes (48 px) another scene seed moves it by more
        # than 10 %; the battery's row checks that it stays within its interval instead
        (GAIN,),
        0.01,
        ".3f",
        summary=True,
        verdict_column="probe boundary F",
        column_summary=MEDIAN,
        witnesses=(WITNESS,),
        compute=_boundary_f,
    )
)
