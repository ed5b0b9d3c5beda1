"""One-stage cases built in a test as a case file would build them: the method's keys resolved
by its registry entry (defaults filled in, unknown keys refused); and ``Gain``, a module times a
constant, for the gain-invariance checks."""

from __future__ import annotations

from torch import nn

from suite.case import Case
from suite.methods import Stage, get_method


def one_stage_case(
    method: str,
    size: int = 8,
    channels: int = 1,
    seed: int = 0,
    case_id: str | None = None,
    **params,
) -> Case:
    """A square ``size`` case of ``method`` alone, named ``case_id`` (default: the method)."""
    stage = Stage(method, get_method(method).resolve(params))
    return Case(
        id=case_id or method,
        file="test",
        stages=(stage,),
        size=(size, size),
        channels=channels,
        seed=seed,
    )


class Gain(nn.Module):
    """``inner``'s output times ``gain``: a figure that claims gain invariance must not move."""

    def __init__(self, inner: nn.Module, gain: float) -> None:
        super().__init__()
        self.inner, self.gain = inner, gain

    def forward(self, x):
        return self.gain * self.inner(x)
