"""Every invariance a registered figure claims, checked: one test per figure, claim and witness
layer (``registry.WITNESSES``), generated from the registry, so that a figure registered with a
claim it does not keep fails here (a figure of one's own too, named by UPSAMPLING_BENCH_METRICS).

The stated tolerances (docs/metrics.md, "Calibration"): gain changes nothing beyond float noise
(1e-4); another output size or the other set of photographs moves a figure by at most 10% of it,
and never more than its gate tolerance where it reads near 0; another case seed (which mixes the
photographs' channels and draws the bootstrap) with the same weights moves it by the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pytest
from stage_cases import Gain
from torch import nn

from suite.analysis.analyse import SPECTRAL_PROBES, reference_metrics, torch_infer
from suite.analysis.registry import (
    GAIN,
    PROBE,
    SEED,
    SIZE,
    WITNESSES,
    Metric,
    get_metric,
    list_metrics,
    register,
)
from suite.case import Case
from suite.methods import Stage, get_method
from suite.photos import HELD_OUT_PHOTOS

#: The witnesses' input side: small, so every check stays under a second or two.
SIDE = 24


def witness(name: str, side: int = SIDE) -> Case:
    keys = dict(WITNESSES[name])
    method, channels = keys.pop("method"), keys.pop("channels", 1)
    probe = keys.pop("probe", False)
    stage = Stage(method, get_method(method).resolve(keys))
    return Case(
        id=name,
        file="witness",
        stages=(stage,),
        size=(side, side),
        channels=channels,
        probe=probe,
    )


@dataclass(frozen=True)
class Transform:
    """What an invariance changes: the case, the model run, the photographs."""

    changes: Callable[[Case, nn.Module], tuple[Case, nn.Module, tuple[str, ...]]]
    rel: float
    #: the absolute floor: the figure's gate tolerance (True) or 1e-4 (False)
    gate_floor: bool


def _size(case: Case, model: nn.Module):
    bigger = replace(case, size=(2 * SIDE, 2 * SIDE))
    return bigger, bigger.build(), SPECTRAL_PROBES


TRANSFORMS: dict[str, list[Transform]] = {
    GAIN: [
        Transform(lambda c, m, g=g: (c, Gain(m, g), SPECTRAL_PROBES), 1e-4, False)
        for g in (0.1, 10.0)
    ],
    SIZE: [Transform(_size, 0.10, True)],
    PROBE: [Transform(lambda c, m: (c, m, HELD_OUT_PHOTOS), 0.10, True)],
    # the same weights (built from the first seed) under another case seed
    SEED: [Transform(lambda c, m: (replace(c, seed=c.seed + 5), m, SPECTRAL_PROBES), 0.10, True)],
}


@cache
def measured(name: str, invariance: str | None = None, index: int = 0) -> dict[str, Any]:
    """The witness's figures as measured, or under the ``index``-th change of ``invariance``."""
    case = witness(name)
    model = case.build()
    probes: tuple[str, ...] = SPECTRAL_PROBES
    if invariance is not None:
        case, model, probes = TRANSFORMS[invariance][index].changes(case, model)
    return reference_metrics(case, model, torch_infer(model), probes)[0]


def check_invariance(metric: Metric, invariance: str, name: str) -> None:
    before = metric.value(measured(name))
    assert before is not None, f"{metric.name} reads nothing on {name}: not a witness of it"
    for index, transform in enumerate(TRANSFORMS[invariance]):
        after = metric.value(measured(name, invariance, index))
        floor = metric.gate_tolerance if transform.gate_floor else 1e-4
        assert after == pytest.approx(before, rel=transform.rel, abs=floor), (
            f"{metric.name} claims {invariance} invariance: {before} on {name}, {after} changed"
        )


CLAIMS = [
    pytest.param(m.name, invariance, name, id=f"{m.name}-{invariance}-{name}".replace(" ", "-"))
    for m in list_metrics()
    for invariance in m.invariances
    for name in m.witnesses
]


def test_every_claim_is_checked():
    """The parameter set cannot be empty, and every invariance the suite names is claimed."""
    assert len(CLAIMS) >= len(list_metrics())
    assert {claim.values[1] for claim in CLAIMS} == set(TRANSFORMS)


@pytest.mark.parametrize(("figure", "invariance", "name"), CLAIMS)
def test_a_figure_keeps_the_invariances_it_claims(figure, invariance, name):
    check_invariance(get_metric(figure), invariance, name)


def _output_rms(measured_by) -> float:
    return float((measured_by.outputs["probes"] ** 2).mean() ** 0.5)


LIAR = Metric(
    "output_rms_liar",
    "output RMS",
    "output units",
    "lower is better",
    "the probe outputs' RMS: it scales with the model's gain",
    (GAIN,),
    1e-6,
    compute=_output_rms,
    interval=False,
)


@pytest.fixture
def liar():
    from suite.analysis import registry

    register(LIAR)
    measured.cache_clear()  # the hooked figure is computed with the others
    yield LIAR
    registry._REGISTRY.pop(LIAR.name)
    measured.cache_clear()


def test_a_figure_that_claims_an_invariance_it_lacks_fails(liar):
    with pytest.raises(AssertionError, match="output_rms_liar claims gain invariance"):
        check_invariance(liar, GAIN, "random-transposed")
