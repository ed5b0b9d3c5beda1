"""Typed records of a run, and what a run says of its registries.

results.json records each runtime and method as its registry entry declares it (``run.runtimes``,
``run.methods``), so that the summary, the report and the gate read the reference runtime, the
timed and gated ones, and each method's order and colour from the run itself: none of them
imports torch or onnxruntime, and none keeps a second table of names. This module imports
neither either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: A case's (and a runtime's) outcomes, in the order every table lists them.
STATUSES = ("ok", "mismatch", "failed", "skipped")
#: results.json keeps a runtime's parity bound and roofline figures beside its other fields
BOUND_KEYS = ("atol", "rtol", "tolerance_reason")
ROOFLINE_KEYS = (
    "achieved_gbs",
    "achieved_gflops",
    "roofline_fraction",
    "roofline_bound",
    "roofline_omitted",
)
#: what a case record holds besides its keys (``CaseRecord.to_dict``)
RECORD_KEYS = ("onnx", "cost", "metrics", "status", "error", "runtimes", "samples", "durations_s")


class RecordError(ValueError):
    """A results.json record that contradicts itself (a status its runtimes do not give)."""


@dataclass(frozen=True)
class RuntimeInfo:
    """A runtime as the run recorded it (``runtimes.base.Runtime.describe``)."""

    name: str
    reference: bool
    timed: bool
    gated: bool
    marker: str
    colour: str
    #: where it computes (``cpu``, ``cuda``); runs of schema 5 before it was recorded: cpu
    device: str = "cpu"
    #: measured only where a run named it (``Runtime.optional``); older runs: False
    optional: bool = False
    #: runs the case's ONNX export (its precision and exporter); older runs: all but torch's
    runs_export: bool | None = None
    #: the options the suite sets that differ from the library's defaults (``Runtime``)
    session_options: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class MethodInfo:
    """A method as the run recorded it (``methods.base.Method.describe``)."""

    name: str
    order: int
    colour: str | None
    variant_keys: tuple[str, ...]
    summary: str
    lecture_claim: str | None = None


def runtimes_of(run: dict[str, Any]) -> dict[str, RuntimeInfo]:
    """The run's runtimes in the order it ran them."""
    return {name: RuntimeInfo(name, **info) for name, info in run["runtimes"].items()}


def reference_of(run: dict[str, Any]) -> str:
    """The runtime parity was measured against."""
    return next(info.name for info in runtimes_of(run).values() if info.reference)


def gated_runtimes(run: dict[str, Any]) -> list[str]:
    return [info.name for info in runtimes_of(run).values() if info.gated]


def methods_of(run: dict[str, Any]) -> dict[str, MethodInfo]:
    return {
        name: MethodInfo(name, **{**info, "variant_keys": tuple(info["variant_keys"])})
        for name, info in run["methods"].items()
    }


@dataclass
class RuntimeResult:
    """One runtime's outcome for one case: its status, parity against the reference, its
    latency (timed runtimes) and the artifact metrics on its own outputs (analysed ones)."""

    status: str
    reason: str | None = None
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    latency: dict[str, Any] | None = None
    #: the bound parity was checked against: atol, rtol, tolerance_reason
    bound: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None
    #: the roofline's bound and fraction (``timing.ceilings.roofline``), once the run is timed
    roofline: dict[str, Any] = field(default_factory=dict)
    #: the same inference as an application calls it, host copies and output allocation
    #: included (``runtimes.base.Loaded.with_copies``), where it was timed; ``latency`` is bound
    latency_with_copies: dict[str, Any] | None = None
    #: a reduced precision's error against the float32 reference, as a PSNR over its range
    #: (``parity.psnr_db``), on a runtime that runs the export of an fp16 or int8 case
    quantization_psnr_db: float | None = None
    #: what the runtime really computed on one profiled inference (``executed.summarise``),
    #: recorded on reduced-precision exports and GPU runtimes
    executed: dict[str, Any] | None = None
    #: on a cluster with timers of several machine classes, each other class's ``latency``
    #: (the run's own class's is ``latency``), keyed by the class it names
    latency_by_class: dict[str, dict[str, Any]] | None = None
    #: where parity was checked at another input size than the case's (the reference
    #: evaluator past its output budget, ``bench/reduced.py``): input_size, output_shape, why
    #: and the reduced export's onnx_file; None: at the case's own size
    parity_at: dict[str, Any] | None = None

    @classmethod
    def skipped(cls, reason: str) -> RuntimeResult:
        return cls("skipped", reason)

    @classmethod
    def failed(cls, reason: str) -> RuntimeResult:
        return cls("failed", reason)

    @classmethod
    def from_parity(cls, parity: dict[str, Any]) -> RuntimeResult:
        """From ``parity.compare``'s answer: ``ok`` within the bound, else ``mismatch``."""
        return cls(
            "ok" if parity["within_tolerance"] else "mismatch",
            parity.get("error"),
            parity["max_abs_err"],
            parity["max_rel_err"],
            bound={k: parity[k] for k in ("atol", "rtol", "tolerance_reason") if k in parity},
        )

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RuntimeResult:
        """The inverse of ``to_dict``: ``from_dict(r.to_dict()).to_dict() == r.to_dict()``."""
        rest = {k: v for k, v in record.items() if k not in BOUND_KEYS + ROOFLINE_KEYS}
        return cls(
            **rest,
            bound={k: record[k] for k in BOUND_KEYS if k in record},
            roofline={k: record[k] for k in ROOFLINE_KEYS if k in record},
        )

    @property
    def ran(self) -> bool:
        return self.status in ("ok", "mismatch")

    @property
    def median_s(self) -> float | None:
        """The latency's median round, on a timed runtime that ran."""
        return self.latency["median_s"] if self.latency else None

    @property
    def roofline_fraction(self) -> float | None:
        return self.roofline.get("roofline_fraction")

    def to_dict(self) -> dict[str, Any]:
        """As results.json records it (``$defs/runtime`` of the schema)."""
        record = asdict(self)
        bound, roofline, metrics = record.pop("bound"), record.pop("roofline"), record["metrics"]
        record.update(bound)
        record.update(roofline)
        if metrics is None:
            del record["metrics"]
        optional_keys = ("latency_with_copies", "quantization_psnr_db", "executed", "parity_at")
        for optional in (*optional_keys, "latency_by_class"):
            if record[optional] is None:
                del record[optional]
        return record


@dataclass
class CaseRecord:
    """One case as results.json records it (``$defs/case``): its resolved keys, what preparing
    it produced, each runtime's result, and its status, derived from those (``case_status``)."""

    keys: dict[str, Any]
    runtimes: dict[str, RuntimeResult]
    #: ``<stage>: <first line>`` of the stage that failed the case before any runtime ran
    error: str | None = None
    onnx: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    #: picture name -> key in samples.npz
    samples: dict[str, str] = field(default_factory=dict)
    #: wall seconds of each prepare stage (``build`` ... ``samples``) and each runtime's check
    #: (``check.<runtime>``) in the run's process; ``time``: every timing process's, together
    durations_s: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> CaseRecord:
        """A case of a results.json. Its status and error are derived again from its runtimes
        and must agree with what it records: a record that contradicts itself is refused."""
        case = cls(
            keys={k: v for k, v in record.items() if k not in RECORD_KEYS},
            runtimes={n: RuntimeResult.from_dict(r) for n, r in record["runtimes"].items()},
            error=_stage_error(record),
            onnx=record.get("onnx"),
            cost=record.get("cost"),
            metrics=record.get("metrics") or {},
            samples=record.get("samples") or {},
            durations_s=record.get("durations_s") or {},
        )
        if (case.status, case.status_error) != (record["status"], record["error"]):
            raise RecordError(
                f"case {record.get('id')!r}: records status {record['status']!r} but its "
                f"runtimes give {case.status!r}"
            )
        return case

    @property
    def id(self) -> str:
        return self.keys["id"]

    @property
    def file(self) -> str:
        return self.keys["file"]

    @property
    def method(self) -> str:
        return self.keys["method"]

    @property
    def status(self) -> str:
        return case_status(self.runtimes, self.error)[0]

    @property
    def status_error(self) -> str | None:
        """The error the record gives: the stage's, or the first failed runtime's."""
        return case_status(self.runtimes, self.error)[1]

    @property
    def verdict(self) -> str | None:
        return (self.metrics.get("verdict") or {}).get("verdict")

    def median_s(self, runtime: str) -> float | None:
        result = self.runtimes.get(runtime)
        return result.median_s if result else None

    def to_dict(self) -> dict[str, Any]:
        status, error = case_status(self.runtimes, self.error)
        return {
            **self.keys,
            "onnx": self.onnx,
            "cost": self.cost,
            "metrics": self.metrics,
            "status": status,
            "error": error,
            "runtimes": {name: result.to_dict() for name, result in self.runtimes.items()},
            "samples": self.samples,
            "durations_s": self.durations_s,
        }


def _stage_error(record: dict[str, Any]) -> str | None:
    """The error of a case that failed before any runtime did: the stage's own."""
    failed_runtime = any(r["status"] == "failed" for r in record["runtimes"].values())
    return record["error"] if record["status"] == "failed" and not failed_runtime else None


def cases_of(results: dict[str, Any]) -> list[CaseRecord]:
    """A results.json's cases, typed, in the order it lists them."""
    return [CaseRecord.from_dict(case) for case in results["cases"]]


def case_status(runtimes: dict[str, RuntimeResult], error: str | None) -> tuple[str, str | None]:
    """A case's status and error from its runtimes': a case that failed before any runtime ran
    (``error``) or on one of them is ``failed``, naming the first failure; else a mismatch
    anywhere makes it ``mismatch``; else ``ok`` if any runtime ran, ``skipped`` if none did."""
    if error is not None:
        return "failed", error
    for name, result in runtimes.items():
        if result.status == "failed":
            reason = result.reason or ""
            return "failed", reason if reason.startswith(name) else f"{name}: {reason}"
    statuses = {result.status for result in runtimes.values()}
    for status in ("mismatch", "ok"):
        if status in statuses:
            return status, None
    return "skipped", None
