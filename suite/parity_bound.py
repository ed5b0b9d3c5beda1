"""The bound one runtime's output of one case is held to: the runtime's and the precision's,
the looser of the two, unless the case's own ``[case.tolerance]`` overrides it.

It reads the runtime and precision registries, which themselves import the bounds of
``parity.py``: so it lives above all three, not in ``parity.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .parity import Bound, loosest
from .precision import get_precision
from .runtimes import get_runtime

if TYPE_CHECKING:
    from .case import Tolerance


def bound_for(runtime: str, override: Tolerance | None, precision: str = "fp32") -> Bound:
    base = loosest(get_runtime(runtime).parity_bound, get_precision(precision).parity_bound)
    if override is None:
        return base
    return Bound(
        atol=base.atol if override.atol is None else override.atol,
        rtol=base.rtol if override.rtol is None else override.rtol,
        reason=override.reason,
    )
