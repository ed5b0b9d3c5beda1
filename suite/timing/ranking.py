"""Whether two runs of the same cases rank the layers alike: the check that the choose policy
(``adaptive.py``) orders the default cases as the gate's five-process policy does.

Per geometry (``decision.geometry``: the layers a user chooses between) and timed runtime, every
pair of layers both runs timed is **decided** in a run when their latency intervals there
(``latency_figure.Latency``: the 95 % interval, or the processes' range) do not overlap. A pair
decided in both runs must be ordered alike; one decided in only one run is counted apart (the
other run could not tell them apart, which is not a contradiction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from ..decision import geometry
from ..latency_figure import Latency
from ..records import cases_of


@dataclass
class Agreement:
    pairs: int = 0
    decided_in_both: int = 0
    decided_in_one: int = 0
    #: pairs both runs decided the other way round: (geometry, runtime, faster in A, in B)
    reversed: list[tuple[str, str, str, str]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "decided_in_both": self.decided_in_both,
            "decided_in_one": self.decided_in_one,
            "reversed": [list(r) for r in self.reversed],
        }


def latencies(results: dict[str, Any]) -> dict[tuple[str, str], dict[str, Latency]]:
    """{(geometry, runtime): {case id: its latency}} of every timed case."""
    found: dict[tuple[str, str], dict[str, Latency]] = {}
    for case in cases_of(results):
        for name, result in case.runtimes.items():
            if result.latency:
                found.setdefault((geometry(case), name), {})[case.id] = Latency.of(result.latency)
    return found


def _order(a: Latency, b: Latency) -> int | None:
    """-1 where ``a`` is surely faster, 1 where ``b`` is, None where the intervals overlap."""
    if a.high < b.low:
        return -1
    if b.high < a.low:
        return 1
    return None


def agreement(first: dict[str, Any], second: dict[str, Any]) -> Agreement:
    """How the two runs' decided pairs compare (see the module's docstring)."""
    found = Agreement()
    one, two = latencies(first), latencies(second)
    for key in sorted(one.keys() & two.keys()):
        common = sorted(one[key].keys() & two[key].keys())
        for a, b in combinations(common, 2):
            found.pairs += 1
            here, there = _order(one[key][a], one[key][b]), _order(two[key][a], two[key][b])
            if here is not None and there is not None:
                found.decided_in_both += 1
                if here != there:
                    faster = (a if here < 0 else b, a if there < 0 else b)
                    found.reversed.append((key[0], key[1], *faster))
            elif here is not None or there is not None:
                found.decided_in_one += 1
    return found
