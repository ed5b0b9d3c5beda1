"""One bench run: per case, build → export → check → time, each stage isolated so that a case
that fails is recorded as ``failed`` with the error's first line and the other cases still run."""

from __future__ import annotations

import math
import os
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.analyse import image_metrics, reference_metrics
from ..analysis.samples import case_samples, hypercolumn_samples
from ..case import Case
from ..cost import count_bytes, count_flops
from ..export import export_case
from ..parity import NonFiniteOutput, bound_for, check_finite, compare
from ..runtimes import REFERENCE, Prepared, RuntimeSkipped, get_runtime
from . import ceilings
from .medians import run_figure, session_medians
from .progress import Progress
from .yardstick import yardstick_case

#: IQR / median above this marks a latency as noisy.
NOISY_IQR = 0.10
#: Set to 1 to let the bench's pytest sessions print their own report (for debugging the bench).
DEBUG_ENV = "UPSAMPLING_BENCH_DEBUG"


@dataclass(frozen=True)
class Timing:
    """pytest-benchmark in pedantic mode: ``rounds`` rounds per session, each repeating the call
    enough times to last ``min_round_s`` (so that the timer's resolution never matters), after
    warm-up rounds that are not recorded (allocator, thread pools, oneDNN primitive caches).

    The rounds are taken in ``processes`` fresh timing processes, one after another, each loading
    ``sessions`` fresh sessions per case and runtime in turn. Rounds inside one process are not
    independent: a slow spell of a shared machine (10 s to a minute or more, at up to twice the
    time, on this project's 2-core machines) shifts whole sessions and processes together. The
    gate therefore compares whole runs, each summarised by its fastest session, which the spells
    spread over a minute of fresh processes almost never all reach (``gate/latency.py``)."""

    rounds: int
    sessions: int
    processes: int
    min_round_s: float
    warmup_rounds: int

    def describe(self) -> dict[str, Any]:
        return asdict(self)


TIMINGS = {
    "default": Timing(rounds=5, sessions=2, processes=5, min_round_s=5e-3, warmup_rounds=3),
    "quick": Timing(rounds=5, sessions=1, processes=1, min_round_s=1e-3, warmup_rounds=1),
}


@dataclass
class Options:
    quick: bool
    threads: int
    runtimes: list[str]
    cache_dir: Path
    out_dir: Path
    #: overrides the timing's ``processes``
    processes: int | None = None
    #: ``analyse``: the run's own process (build, export, parity, metrics; no timing);
    #: ``time``: a timing process (build, export from the cache, parity, timing; no metrics)
    role: str = "analyse"
    #: False: build, export, check and time only (latency studies); no figures, no samples
    analyse: bool = True

    @property
    def analyses(self) -> bool:
        return self.role == "analyse" and self.analyse

    @property
    def timing(self) -> Timing:
        timing = TIMINGS["quick" if self.quick else "default"]
        if self.processes is not None:
            timing = replace(timing, processes=self.processes)
        return timing


@dataclass
class CaseState:
    case: Case
    record: dict[str, Any]
    prepared: Prepared | None = None
    reference: np.ndarray | None = None
    error: str | None = None
    attempted: bool = False
    #: torch's outputs for the analysis probes, to check each runtime's metrics against
    probe_outputs: dict[str, np.ndarray] = field(default_factory=dict)
    #: the torch reference as loaded in ``prepare``, reused as the torch-cpu runtime
    reference_loaded: Any = None
    #: pictures for the report (``analysis.samples``), by name
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    #: per case, the runtimes a timing process times again (each session loads afresh)
    steps: dict[str, Any] = field(default_factory=dict)
    runtimes: dict[str, dict[str, Any]] = field(default_factory=dict)


def _summary(data: list[float], iterations: int) -> dict[str, Any]:
    values = np.asarray(data)
    median = float(np.median(values))
    q1, q3 = np.percentile(values, [25, 75])
    return {
        "median_s": median,
        "iqr_s": float(q3 - q1),
        "mean_s": float(values.mean()),
        "min_s": float(values.min()),
        "rounds": len(data),
        "iterations": iterations,
        "noisy": bool(median > 0 and (q3 - q1) / median > NOISY_IQR),
        "data_s": list(map(float, data)),
    }


def merge_latencies(parts: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """One latency from the rounds of several sessions (``key="sessions"``) or processes
    (``key="processes"``), kept in order so that each part can be looked at on its own."""
    merged = _summary(
        [t for part in parts for t in part["data_s"]], max(p["iterations"] for p in parts)
    )
    for series in ("yardstick_s", "starts_s"):
        if all(series in part for part in parts):
            merged[series] = [x for part in parts for x in part[series]]
    merged[key] = sum(part.get(key, 1) for part in parts)
    if key == "processes":
        merged["sessions"] = parts[0].get("sessions", 1)
        sessions = session_medians(merged["data_s"], merged["processes"], merged["sessions"])
        merged["fastest_session_s"] = run_figure(sessions)
    return merged


def slowed(step, factor: float):
    """``step`` called ``factor`` times per call on average (``gate.slowdown`` of a case): a known
    slowdown, exact over a round, on every runtime alike."""
    if factor == 1.0:
        return step
    owed = 0.0

    def call() -> None:
        nonlocal owed
        owed += factor
        while owed >= 1.0:
            step()
            owed -= 1.0

    return call


def _calls_per_round(step, min_round_s: float) -> int:
    """Calls that make a round last ``min_round_s``, so the timer's resolution never matters;
    from the second of two calls (the first warms up a freshly loaded session)."""
    step()
    started = time.perf_counter()
    step()
    return max(1, math.ceil(min_round_s / max(time.perf_counter() - started, 1e-9)))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _skipped(reason: str) -> dict[str, Any]:
    return {
        "status": "skipped",
        "reason": reason,
        "max_abs_err": None,
        "max_rel_err": None,
        "latency": None,
    }


def _failed(reason: str) -> dict[str, Any]:
    return {**_skipped(reason), "status": "failed"}


class BenchSession:
    def __init__(self, cases: list[Case], options: Options, progress: Progress) -> None:
        self.cases = cases
        self.options = options
        self.runtimes = list(options.runtimes)
        #: the runtimes a timing process measures
        self.timed_runtimes = [
            n for n in self.runtimes if get_runtime(n).timed and not get_runtime(n).unavailable()
        ]
        self.progress = progress
        self.states = {case.id: CaseState(case, case.describe()) for case in cases}
        #: a timing process: each ceiling's rate as measured here (``ceilings.py``)
        self.ceilings: dict[str, float] = {}
        #: the run: the ceilings over its timing processes (``ceilings.summarise``)
        self.run_ceilings: dict[str, Any] | None = None
        self.crashes: list[str] = []
        #: ``time.monotonic`` at the start; sessions record when they began relative to it
        self.started = time.monotonic()
        self.log_path = options.out_dir / "errors.log"
        #: the yardstick made ready for the runtimes, or why it could not be
        self._yardstick: Prepared | str | None = None

    # -- stages ---------------------------------------------------------------------------------

    def prepare(self, state: CaseState) -> None:
        """Build, export and run the torch reference once per case; record the first failure."""
        if state.attempted:
            return
        state.attempted = True
        case = state.case
        stage = "build"
        try:
            self.progress.stage(case.id, "build")
            model = case.build()
            example = case.make_input()
            flops = count_flops(model, example)
            parameters = sum(p.numel() for p in model.parameters())
            moved = count_bytes(model, case.input_shape, case.output_shape)
            state.record["cost"] = {
                "flops": flops,
                "parameters": parameters,
                "bytes": {**moved, "total": sum(moved.values())},
            }
            stage = "export"
            self.progress.stage(case.id, "export")
            exported = export_case(case, model, example, self.options.cache_dir)
            state.record["onnx"] = exported.describe()
            if exported.output_shape != list(case.output_shape):
                raise ValueError(
                    f"ONNX shape inference gives {exported.output_shape}, "
                    f"the case's geometry {list(case.output_shape)}"
                )
            stage = "reference"
            self.progress.stage(case.id, REFERENCE)
            state.prepared = Prepared(
                model, example, exported.path, case.output_shape, self.options.threads
            )
            loaded = get_runtime(REFERENCE).load(state.prepared)
            reference = loaded.output()
            check_finite(reference, REFERENCE)
            if list(reference.shape) != list(case.output_shape):
                raise ValueError(
                    f"torch output {list(reference.shape)} != geometry {list(case.output_shape)}"
                )
            state.reference = reference
            state.reference_loaded = loaded
        except Exception as exc:  # any failure of a case is data, not a crash of the run
            state.error = f"{stage}: {_first_line(exc)}"
            self._log(case, stage, exc)
            return
        if not self.options.analyses:
            return  # a timing process (the run's own process analyses), or --no-analysis
        self.progress.stage(case.id, "analyse")
        pictures: dict[str, np.ndarray] = {}
        try:
            state.record["metrics"], state.probe_outputs, pictures = reference_metrics(
                case, model, loaded.infer
            )
        except Exception as exc:  # a bug in a metric must not lose the case
            state.record["metrics"] = {"notes": {"analysis": f"failed: {_first_line(exc)}"}}
            self._log(case, "analyse", exc)
        self.progress.stage(case.id, "samples")
        try:
            flat = state.probe_outputs.get("flat")
            state.samples = {
                **case_samples(case, model, flat),
                **hypercolumn_samples(case, pictures),
            }
        except Exception as exc:  # the pictures are for the report: never lose the case for them
            notes = state.record["metrics"].setdefault("notes", {})
            notes["samples"] = f"failed: {_first_line(exc)}"
            self._log(case, "samples", exc)

    def run_runtime(self, case_id: str, name: str, benchmark) -> None:
        state = self.states[case_id]
        case = state.case
        self.prepare(state)
        runtime = get_runtime(name)
        if state.error is not None:
            state.runtimes[name] = _skipped(f"case failed at {state.error}")
            return
        reason = runtime.unavailable()
        if reason:
            state.runtimes[name] = _skipped(reason)
            return
        try:
            self.progress.stage(case.id, f"{name} · check")
            if name == REFERENCE:
                loaded, output = state.reference_loaded, state.reference
            else:
                loaded = runtime.load(state.prepared)
                output = loaded.output()
            check_finite(output, name)
            bound = bound_for(name, case.tolerance)
            parity = compare(output, state.reference, bound)
            result: dict[str, Any] = {
                "status": "ok" if parity["within_tolerance"] else "mismatch",
                "reason": parity.pop("error", None),
                **parity,
                "latency": None,
            }
            result.pop("within_tolerance")
            if runtime.timed and self.options.role == "time":
                self.progress.stage(case.id, f"{name} · time")
                result["latency"] = self._time_session(benchmark, loaded.step, case, name)
                state.steps[name] = runtime
            if runtime.analysed and name != REFERENCE and self.options.analyses:
                self.progress.stage(case.id, f"{name} · analyse")
                result["metrics"] = self._runtime_metrics(state, loaded, bound)
        except RuntimeSkipped as exc:
            result = _skipped(str(exc))
        except NonFiniteOutput as exc:
            result = _failed(str(exc))
        except Exception as exc:
            result = _failed(f"{name}: {_first_line(exc)}")
            self._log(case, name, exc)
        state.runtimes[name] = result

    def time_again(self, case_id: str, name: str, benchmark) -> None:
        """A later session of a timing process: more rounds of a runtime timed in the first."""
        state = self.states[case_id]
        runtime = state.steps.get(name)
        result = state.runtimes.get(name)
        if runtime is None or not result or not result.get("latency"):
            return
        self.progress.stage(case_id, f"{name} · time again")
        # A fresh session each time: a session's own buffers can land on a slow layout for its
        # whole life (seen: one onnxruntime session 2.4x slower in every round it served).
        try:
            step = runtime.load(state.prepared).step
        except Exception as exc:  # it loaded for the first session; a failure now is recorded
            result["reason"] = f"{name}: a later session could not load: {_first_line(exc)}"
            self._log(state.case, name, exc)
            return
        more = self._time_session(benchmark, step, state.case, name)
        result["latency"] = merge_latencies([result["latency"], more], "sessions")

    def _time_session(self, benchmark, step, case: Case, name: str) -> dict[str, Any]:
        """One session's rounds, with when they began (seconds into the process)."""
        began = time.monotonic()
        latency = self._time(benchmark, step, case, name)
        latency["starts_s"] = [began - self.started]
        return latency

    @property
    def timing(self) -> Timing:
        return self.options.timing

    def _runtime_metrics(self, state: CaseState, loaded, bound) -> dict[str, Any]:
        """The image metrics on this runtime's own outputs, and whether those outputs stay within
        the parity tolerance of torch's for the same probes."""
        metrics, outputs = image_metrics(state.case, loaded.infer)
        worst = None
        agrees = True
        for key, reference in state.probe_outputs.items():
            if key in outputs:
                parity = compare(outputs[key], reference, bound)
                agrees &= parity["within_tolerance"]
                if parity["max_rel_err"] is not None:
                    worst = max(worst or 0.0, parity["max_rel_err"])
        metrics.pop("spectral_curves", None)  # the reference's curves are the ones plotted
        metrics["agrees_with_reference"] = agrees
        metrics["probe_max_rel_err"] = worst
        return metrics

    def _time(self, benchmark, step, case: Case, runtime: str) -> dict[str, Any]:
        """The case's rounds, each between two rounds of the yardstick on the same runtime."""
        benchmark.group = case.id
        benchmark.extra_info.update({"case": case.id, "runtime": runtime})
        step = slowed(step, (case.gate or {}).get("slowdown", 1.0))
        yardstick = self._load_yardstick(case, runtime)
        if yardstick is None:
            return self._time_plain(benchmark, step)
        timing = self.timing
        calls = _calls_per_round(step, timing.min_round_s)
        yardstick_calls = _calls_per_round(yardstick, timing.min_round_s)
        yardstick_rounds: list[float] = []

        def time_yardstick() -> None:  # pytest-benchmark's setup: before each round, untimed
            started = time.perf_counter()
            for _ in range(yardstick_calls):
                yardstick()
            yardstick_rounds.append((time.perf_counter() - started) / yardstick_calls)

        def round_of_calls() -> None:
            for _ in range(calls):
                step()

        # A setup function rules out pytest-benchmark's own iterations: one round is one call of
        # round_of_calls, and the timing process's benchmark JSON says how many calls that is.
        benchmark.extra_info["calls_per_round"] = calls
        benchmark.pedantic(
            round_of_calls,
            setup=time_yardstick,
            rounds=timing.rounds,
            warmup_rounds=timing.warmup_rounds,
        )
        time_yardstick()  # closes the bracket around the last round
        around = yardstick_rounds[timing.warmup_rounds :]
        latency = _summary([t / calls for t in benchmark.stats.stats.data], calls)
        latency["yardstick_s"] = [(a + b) / 2 for a, b in pairwise(around)]
        latency["sessions"] = 1
        return latency

    def _load_yardstick(self, case: Case, runtime: str):
        """A fresh yardstick session (one slow session must not skew a whole run), or ``None``
        when it cannot be had: the case is then timed alone, and the gate says so."""
        if self._yardstick is None:
            yardstick = yardstick_case()
            try:
                model = yardstick.build()
                example = yardstick.make_input()
                exported = export_case(yardstick, model, example, self.options.cache_dir)
                self._yardstick = Prepared(
                    model, example, exported.path, yardstick.output_shape, self.options.threads
                )
            except Exception as exc:  # a broken yardstick costs the ratios, never the cases
                self._yardstick = f"yardstick: {_first_line(exc)}"
                self._log(yardstick, "yardstick", exc)
        if isinstance(self._yardstick, str):
            return None
        try:
            return get_runtime(runtime).load(self._yardstick).step
        except Exception as exc:
            self._log(case, f"{runtime} yardstick", exc)
            return None

    def _time_plain(self, benchmark, step) -> dict[str, Any]:
        timing = self.timing
        iterations = _calls_per_round(step, timing.min_round_s)
        benchmark.pedantic(
            step,
            rounds=timing.rounds,
            iterations=iterations,
            warmup_rounds=timing.warmup_rounds,
        )
        latency = _summary([float(x) for x in benchmark.stats.stats.data], iterations)
        latency["sessions"] = 1
        return latency

    def measure_ceiling(self, name: str, benchmark) -> None:
        """One of the machine's ceilings (``ceilings.py``), in a timing process only."""
        if self.options.role != "time":
            return
        self.progress.stage("machine", name, is_case=False)
        try:
            call, work = ceilings.workload(name, self.options.threads)
        except ImportError:  # onnxruntime absent: its GEMM is left out, torch's remains
            return
        benchmark.group = "ceilings"
        benchmark.extra_info.update({"ceiling": name, **work})
        latency = self._time_plain(benchmark, call)
        self.ceilings[name] = ceilings.rate(name, work, latency["median_s"])

    def apply_timing(self, timing) -> None:
        """The run's process: each timed runtime's latency over the timing processes
        (``worker.TimingResult``), and the machine's ceilings over them."""
        for state in self.states.values():
            for name, result in state.runtimes.items():
                if get_runtime(name).timed and result["status"] in ("ok", "mismatch"):
                    result["latency"] = timing.latency(state.case.id, name)
        self.run_ceilings = ceilings.summarise(timing.ceilings)

    def pytest_args(self, benchmark_json: str | Path | None) -> list[str]:
        """The bench's own pytest session: its items, its ini, pytest-benchmark's JSON (a timing
        process's; the run's own process times nothing)."""
        here = Path(__file__).resolve().parent
        quiet = [] if os.environ.get(DEBUG_ENV) == "1" else ["-p", "no:terminal"]
        return [
            str(here / "items.py"),
            "-c",
            str(here / "pytest.ini"),
            f"--rootdir={here}",
            *quiet,
            "-p",
            "no:cacheprovider",
            "--noconftest",
            "--assert=plain",
            "-W",
            "ignore",
            *([f"--benchmark-json={benchmark_json}"] if benchmark_json else []),
            "--benchmark-quiet",
            "--benchmark-disable-gc",
            "--benchmark-timer=time.perf_counter",
            "--benchmark-sort=name",
            "--benchmark-group-by=group",
        ]

    # -- bookkeeping ----------------------------------------------------------------------------

    def record_crash(self, nodeid: str, text: str) -> None:
        self.crashes.append(f"{nodeid}: {text.strip().splitlines()[-1] if text.strip() else ''}")
        self._append_log(f"== {nodeid}\n{text}\n")

    def item_done(self) -> None:
        self.progress.advance()

    def _log(self, case: Case, stage: str, exc: BaseException) -> None:
        detail = "".join(traceback.format_exception(exc))
        self._append_log(f"== {case.file}: case {case.id!r}: {stage}\n{detail}\n")

    def _append_log(self, text: str) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(text)

    def case_records(self) -> list[dict[str, Any]]:
        return [self._finish(state) for state in self.states.values()]

    def samples(self) -> dict[str, np.ndarray]:
        """Every case's samples under ``c<index>.<name>``; each case record names its keys."""
        arrays: dict[str, np.ndarray] = {}
        for index, state in enumerate(self.states.values()):
            keys = {name: f"c{index:03d}.{name}" for name in state.samples}
            state.record["samples"] = keys
            arrays.update({keys[name]: image for name, image in state.samples.items()})
        return arrays

    def _finish(self, state: CaseState) -> dict[str, Any]:
        record = state.record
        record.setdefault("onnx", None)
        record.setdefault("cost", None)
        record["runtimes"] = {
            name: state.runtimes[name] for name in self.runtimes if name in state.runtimes
        }
        for result in record["runtimes"].values():
            if result.get("latency") and record.get("cost"):
                # The run's stable figure: its median moves with the machine's slow spells.
                result.update(
                    ceilings.roofline(
                        record["cost"], result["latency"]["fastest_session_s"], self.run_ceilings
                    )
                )
        statuses = [r["status"] for r in record["runtimes"].values()]
        if state.error is not None or "failed" in statuses:
            record["status"] = "failed"
            record["error"] = state.error or next(
                f"{name}: {r['reason']}" if not r["reason"].startswith(name) else r["reason"]
                for name, r in record["runtimes"].items()
                if r["status"] == "failed"
            )
        elif "mismatch" in statuses:
            record["status"] = "mismatch"
            record["error"] = None
        elif "ok" in statuses:
            record["status"] = "ok"
            record["error"] = None
        else:
            record["status"] = "skipped"
            record["error"] = None
        record.setdefault("metrics", {})
        return record
