"""Guided upsamplers: two inputs, the low-resolution features x (N, C, h, w) and a
high-resolution guide g (encoder features or the image, N, C_g, s·h, s·w), one output
(N, C, s·h, s·w). ``suite/methods/guided.py`` registers each as a method that a case names
with its guide (``suite/guides.py``)."""

from __future__ import annotations

from .anyup import ANYUP
from .base import Guided, Reference, parameter_count
from .fade import FADE
from .jbu import JBU
from .sapa import SAPA

GUIDED: dict[str, Guided] = {}
for _method in (FADE, SAPA, JBU, ANYUP):
    if _method.name in GUIDED:
        raise ValueError(f"guided method {_method.name!r} is registered twice")
    GUIDED[_method.name] = _method

__all__ = ["GUIDED", "Guided", "Reference", "parameter_count"]
