"""Which layer to pick: per geometry and timed runtime, the fastest artifact-free layer, the
Pareto front of artifact-free layers on (latency, hypercolumn PSNR), and where the user's own
blocks (factory cases) stand against it. Every word is generated from the recorded figures.

A layer's latency is its run figure (the fastest session median, ``stats.py``) with the
spread of the run's independent units: the timing processes' own figures where there are two or
more; with one process only its rounds' interquartile range, which is said to be within one
process (rounds of one process are not independent). Ties are named where the runner-up's
interval reaches the pick's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from .analysis.registry import list_metrics
from .latency_figure import Latency, ms_text
from .records import CaseRecord, runtimes_of

FACTORY = "factory"
PSNR = "hypercolumn_psnr_db"


def thresholds_text() -> str:
    """The verdict's rule in a line, from the registered figures' thresholds."""
    rules = [m.short_rule for m in list_metrics() if m.threshold is not None]
    return f"artifact-free: {', '.join(rules)}, each with its 95 % interval"


@dataclass(frozen=True)
class Layer:
    """One case as a candidate on one runtime."""

    id: str
    own: bool
    verdict: str | None
    psnr_db: float | None
    latency: Latency
    checkerboard_pct: float | None = None
    #: the PSNR's 95 % interval over held-out photographs
    psnr_ci: tuple[float, float] | None = None
    #: whether it has weights (mixes channels); None where the run recorded no cost
    learned: bool | None = None
    #: the task probe's boundary F, where the case asked for the probe
    boundary_f: float | None = None

    def words(self) -> str:
        psnr = "no PSNR" if self.psnr_db is None else f"PSNR {self.psnr_db:.1f} dB"
        if self.boundary_f is not None:
            psnr += f", probe boundary F {self.boundary_f:.3f}"
        weights = " (no weights: it mixes no channels)" if self.learned is False else ""
        return f"{self.id}: {_verdict(self.verdict)}, {self.latency.text()}, {psnr}{weights}"

    def psnr_overlaps(self, other: Layer) -> bool:
        """Whether the two PSNR intervals overlap: a difference the photographs cannot tell."""
        if self.psnr_ci is None or other.psnr_ci is None:
            return False
        return self.psnr_ci[0] <= other.psnr_ci[1] and other.psnr_ci[0] <= self.psnr_ci[1]


@dataclass(frozen=True)
class Standing:
    """A user's block against its rival: the runtime's fastest artifact-free layer, or, where
    that one has no weights and the block has, the fastest artifact-free layer with weights (a
    learned block is not replaced by plain interpolation)."""

    layer: Layer
    times_fastest: float | None
    psnr_delta_db: float | None
    on_front: bool
    #: the block is itself its rival
    is_pick: bool = False
    rival: Layer | None = None
    #: the rival is the fastest clean layer with weights, not the pick (which has none)
    weighted_rival: bool = False

    def words(self, runtime: str) -> str:
        parts = [_verdict(self.layer.verdict), self.layer.latency.text()]
        if self.layer.verdict != "artifact_free" and self.layer.checkerboard_pct is not None:
            parts[0] += f" (checkerboard {self.layer.checkerboard_pct:.2g} %)"
        rival = self._rival_name()
        if self.is_pick:
            return f"your {self.layer.id} is {rival} on {runtime} (above)"
        if self.times_fastest is not None:
            parts.append(f"{_relative(self.times_fastest)} {rival} on {runtime}")
        if self.psnr_delta_db is not None:
            parts.append(f"{self.psnr_delta_db:+.1f} dB PSNR")
            if self.rival is not None and self.layer.psnr_overlaps(self.rival):
                parts[-1] += " (within the 95 % intervals)"
        if self.layer.verdict == "artifact_free":
            parts.append("on the front" if self.on_front else "not on the front")
        return f"your {self.layer.id}: " + ", ".join(parts)

    def _rival_name(self) -> str:
        if self.rival is not None and self.weighted_rival:
            return f"the fastest clean layer with weights ({self.rival.id})"
        return "the fastest clean layer"


@dataclass(frozen=True)
class Decision:
    """One geometry on one timed runtime."""

    geometry: str
    runtime: str
    pick: Layer | None
    ties: list[Layer] = field(default_factory=list)
    front: list[Layer] = field(default_factory=list)
    own: list[Standing] = field(default_factory=list)
    #: layers left out, with why (a mismatch on this runtime, a failed case)
    left_out: list[str] = field(default_factory=list)
    #: every layer considered
    layers: list[Layer] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The decision in words: the pick, the front, the user's blocks, what was left out."""
        if self.pick is None:
            head = f"no artifact-free layer here ({self._undecided()})"
        else:
            head = f"pick {self.pick.words()}"
            if self.ties:
                head += f"; within its spread: {', '.join(t.id for t in self.ties)}"
        lines = [head]
        learned = self.learned_pick
        if learned is not None and learned is not self.pick:
            lines.append(f"with weights: {learned.words()}")
        if self.front:
            lines.append("front (faster → higher PSNR): " + " · ".join(map(_point, self.front)))
        lines += [standing.words(self.runtime) for standing in self.own]
        if self.left_out:
            lines.append("left out: " + "; ".join(self.left_out))
        return lines

    @property
    def learned_pick(self) -> Layer | None:
        """The fastest artifact-free layer with weights, where the pick has none."""
        if self.pick is None or self.pick.learned is not False:
            return None
        clean = [x for x in self.layers if x.verdict == "artifact_free" and x.learned]
        return min(clean, key=_seconds, default=None)

    def _undecided(self) -> str:
        """Why no layer was picked: how many layers have each verdict."""
        counts = Counter(_verdict(layer.verdict) for layer in self.layers)
        found = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
        own = [s.layer for s in self.own]
        yours = ", ".join(f"{o.id} {_verdict(o.verdict)}" for o in own)
        return found + (f"; yours: {yours}" if own else "")


def decisions(run: dict[str, Any], cases: list[CaseRecord]) -> list[Decision]:
    """Per geometry of two or more upsampling layers (user's blocks first) and timed runtime."""
    timed = [info.name for info in runtimes_of(run).values() if info.timed]
    groups: dict[str, list[CaseRecord]] = {}
    for case in cases:
        if (case.keys.get("scale") or 1) > 1:
            groups.setdefault(geometry(case), []).append(case)
    # the user's blocks' geometries first, then those with the most layers to choose from
    ordered = sorted(groups.items(), key=lambda item: (not any(map(_own, item[1])), -len(item[1])))
    return [
        decide(name, runtime, group)
        for name, group in ordered
        if len(group) > 1 or any(_own(c) for c in group)
        for runtime in timed
        if any(c.median_s(runtime) for c in group)
    ]


def decide(geometry_name: str, runtime: str, cases: list[CaseRecord]) -> Decision:
    """The decision for one geometry on one runtime, from the cases' recorded figures."""
    layers, left_out = [], []
    for case in cases:
        result = case.runtimes.get(runtime)
        if result is None or result.status == "skipped" or not result.latency:
            if case.status == "failed":
                left_out.append(f"{case.id} failed ({case.status_error})")
            continue
        if result.status == "mismatch":
            left_out.append(f"{case.id} computes otherwise on {runtime} (parity mismatch)")
            continue
        layers.append(_layer(case, result.latency))
    clean = sorted((x for x in layers if x.verdict == "artifact_free"), key=_seconds)
    pick = clean[0] if clean else None
    ties = [x for x in clean[1:] if pick and x.latency.low <= pick.latency.high]
    front = pareto_front(clean)
    decision = Decision(geometry_name, runtime, pick, ties, front, [], left_out, layers)
    learned = decision.learned_pick
    for layer in (x for x in layers if x.own):
        weighted = learned is not None and bool(layer.learned)
        standing = _standing(layer, learned if weighted else pick, front)
        decision.own.append(replace(standing, weighted_rival=weighted))
    return decision


def _layer(case: CaseRecord, latency: dict[str, Any]) -> Layer:
    parameters = (case.cost or {}).get("parameters")
    ci = case.metrics.get(f"{PSNR}_ci")
    return Layer(
        case.id,
        _own(case),
        case.verdict,
        case.metrics.get(PSNR),
        Latency.of(latency),
        case.metrics.get("checkerboard_pct"),
        tuple(ci) if ci else None,
        None if parameters is None else parameters > 0,
        case.metrics.get("probe_boundary_f"),
    )


def pareto_front(layers: list[Layer]) -> list[Layer]:
    """The layers no other beats on both latency (lower) and PSNR (higher), fastest first;
    layers without a PSNR are left out."""
    front: list[Layer] = []
    for layer in sorted((x for x in layers if x.psnr_db is not None), key=_seconds):
        if not front or layer.psnr_db > front[-1].psnr_db:
            front.append(layer)
    return front


def geometry(case: CaseRecord) -> str:
    """The like-for-like set a layer competes in: channels, input size and scale."""
    size = "x".join(map(str, case.keys.get("size") or []))
    return f"{case.keys.get('channels')}ch {size} ×{case.keys.get('scale')}"


def _standing(layer: Layer, rival: Layer | None, front: list[Layer]) -> Standing:
    if rival is None:
        return Standing(layer, None, None, False)
    if layer is rival:
        return Standing(layer, None, 0.0, layer in front, is_pick=True, rival=rival)
    gap = rival.psnr_db
    delta = None if layer.psnr_db is None or gap is None else layer.psnr_db - gap
    ratio = layer.latency.seconds / rival.latency.seconds
    return Standing(layer, ratio, delta, layer in front, rival=rival)


def _own(case: CaseRecord) -> bool:
    return any(stage.get("method") == FACTORY for stage in case.keys.get("stages") or [])


def _seconds(layer: Layer) -> float:
    return layer.latency.seconds


def _point(layer: Layer) -> str:
    return f"{layer.id} {ms_text(layer.latency.seconds)} ms {layer.psnr_db:.1f} dB"


def _verdict(verdict: str | None) -> str:
    return {"artifact_free": "artifact-free", None: "no verdict"}.get(verdict, verdict)


def _relative(ratio: float) -> str:
    """``2.3× the time of`` or, below 1, ``3.2× faster than``: never ``0.31×``."""
    if ratio >= 1:
        return f"{_times(ratio)} the time of"
    return f"{_times(1 / ratio)} faster than"


def _times(ratio: float) -> str:
    """A ratio a person reads: ``2.3×``, ``0.52×``, ``1/250×`` (never ``0.00×``)."""
    if ratio >= 10:
        return f"{ratio:.0f}×"
    if ratio >= 1:
        return f"{ratio:.1f}×"  # 1.0×, not 1×: a ratio near one keeps its decimal
    if ratio >= 0.1:
        return f"{ratio:.2g}×"
    return f"1/{1 / ratio:.0f}×"
