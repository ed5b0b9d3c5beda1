"""What every plot draws from: the run's results as tables, its samples, and one palette."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..records import CaseRecord, RuntimeInfo, cases_of, runtimes_of
from .data import cases_frame, runtimes_frame
from .style import family_order, palette


class NoData(Exception):
    """A plot has nothing to draw in this run; the message says why (shown in its place)."""


@dataclass
class ReportContext:
    results: dict[str, Any]
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    #: sample keys read since the last reset (what a plot drew from; ``publish`` keeps those)
    used: set[str] = field(default_factory=set)

    @cached_property
    def records(self) -> list[CaseRecord]:
        """The run's cases, typed, in results.json's order (a frame's ``index`` is a position
        here)."""
        return cases_of(self.results)

    @cached_property
    def cases(self) -> pd.DataFrame:
        return cases_frame(self.results["run"], self.records)

    @cached_property
    def runtimes(self) -> pd.DataFrame:
        return runtimes_frame(self.results["run"], self.records)

    @cached_property
    def runtime_look(self) -> dict[str, RuntimeInfo]:
        """Each runtime's marker and colour, as the run recorded its registry entry."""
        return runtimes_of(self.results["run"])

    @cached_property
    def families(self) -> list[str]:
        return family_order(self.cases)

    @cached_property
    def colours(self) -> dict[str, Any]:
        return palette(self.cases)

    def sample(self, index: int, name: str) -> np.ndarray | None:
        key = self.records[index].samples.get(name)
        if key in self.samples:
            self.used.add(key)
            return self.samples[key]
        return None

    def case_by_id(self, case_id: str) -> int | None:
        for index, case in enumerate(self.records):
            if case.id == case_id:
                return index
        return None

    @cached_property
    def comparison(self) -> pd.DataFrame:
        """The like-for-like set the galleries and cost plots compare: the group of single-stage
        cases sharing channels and input size (every scale of it) with the most method families,
        in method order."""
        usable = self.cases[(self.cases["stages"] == 1) & (self.cases["status"] != "failed")]
        usable = usable[usable["scale"] > 1]
        if usable.empty:
            raise NoData("no single-stage upsampling case ran")
        key = usable["channels"].astype(str) + "ch " + usable["size"]
        # The set that compares the most kinds of method wins (then the one with most cases):
        # an Odena grid has many cases but two methods.
        scores = usable.groupby(key).agg(families=("family", "nunique"), cases=("id", "size"))
        best = scores.sort_values(["families", "cases"], ascending=False).index[0]
        group = usable[key == best].copy()
        group["_order"] = group["family"].map({f: i for i, f in enumerate(self.families)})
        return group.sort_values(["_order", "scale", "index"]).drop(columns="_order")

    @property
    def comparison_name(self) -> str:
        first = self.comparison.iloc[0]
        return f"{first['channels']} channels, {first['size']} input"
