"""What a run's summary and its report both say of it: the counts, the cases that need a look,
the parity checked at another size, and the runtimes that never ran; from the typed records
(``records.py``), importing neither torch nor onnxruntime."""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import STATUSES, CaseRecord

#: cases named in a line that stands for several (``by_what``)
MAX_NAMED = 4


@dataclass(frozen=True)
class Problem:
    """A case that needs a look: failed, or a runtime outside its parity tolerance."""

    file: str
    case: str
    status: str
    detail: str


@dataclass(frozen=True)
class RunSummary:
    """What both the terminal summary and the report's summary.md say of a run."""

    counts: dict[str, int]
    problems: list[Problem]
    #: each parity checked at another input size than its case's (``parity_at``), in words
    reduced: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, cases: list[CaseRecord]) -> RunSummary:
        counts = {status: sum(c.status == status for c in cases) for status in STATUSES}
        problems = [_problem(c) for c in cases if c.status in ("failed", "mismatch")]
        return cls(counts, problems, by_what([line for c in cases for line in _reduced(c)]))

    @property
    def cases(self) -> int:
        return sum(self.counts.values())

    def counts_text(self, *, zeros: bool = True) -> str:
        """``"6 cases: 5 ok, 1 failed"`` (with ``zeros``, every status, ``0 mismatch`` too)."""
        parts = [f"{n} {status}" for status, n in self.counts.items() if n or zeros]
        return f"{self.cases} cases: " + ", ".join(parts)


def by_what(found: list[str]) -> list[str]:
    """``case · what`` lines with the same ``what`` as one line naming their cases: a sweep's
    hundred cases checked the same way say so once."""
    cases: dict[str, list[str]] = {}
    for line in found:
        case, _, what = line.partition(" · ")
        cases.setdefault(what, []).append(case)
    return [
        f"{names[0]} · {what}"
        if len(names) == 1
        else f"{what} ({len(names)} cases: "
        + ", ".join(names[:MAX_NAMED])
        + (", ..." if len(names) > MAX_NAMED else "")
        + ")"
        for what, names in cases.items()
    ]


def _reduced(case: CaseRecord) -> list[str]:
    """``case · runtime: ok at input 40x40, not 64x64: why`` per parity of another size (and
    ``skipped ...: why; the reason`` where the module would not export at that size)."""
    return [
        f"{case.id} · {name}: {r.status} at input {_hw(r.parity_at['input_size'])}, "
        f"not {_hw(case.keys['size'])}: {r.reason if r.status == 'skipped' else r.parity_at['why']}"
        for name, r in case.runtimes.items()
        if r.parity_at
    ]


def _hw(size: list[int]) -> str:
    return "x".join(map(str, size))


def _problem(case: CaseRecord) -> Problem:
    mismatches = [
        f"{name} rel {r.max_rel_err:.1e} > tolerance"
        + (f" at input {_hw(r.parity_at['input_size'])}" if r.parity_at else "")
        if r.max_rel_err is not None
        else f"{name}: {r.reason}"  # a wrong shape: no error to measure
        for name, r in case.runtimes.items()
        if r.status == "mismatch"
    ]
    return Problem(case.file, case.id, case.status, case.status_error or ", ".join(mismatches))


def skipped_runtimes(cases: list[CaseRecord]) -> dict[str, str]:
    """Each runtime that never ran, with its (first) reason."""
    reasons: dict[str, str] = {}
    ran = set()
    for case in cases:
        for name, result in case.runtimes.items():
            if result.status == "skipped" and not (result.reason or "").startswith("case failed"):
                reasons.setdefault(name, result.reason or "")
            elif result.status != "skipped":
                ran.add(name)
    return {name: reason for name, reason in reasons.items() if name not in ran}
