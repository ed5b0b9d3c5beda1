"""The choose policy's rule (suite/timing/adaptive.py): which case × runtime the next timing
process still times, the interval it stops on, and how the gate and the decision read it."""

from __future__ import annotations

import copy
import json

import pytest
import test_decision as decision_records

from suite.gate.baseline import timing_of
from suite.gate.latency import gateable
from suite.latency_figure import Latency
from suite.stats import min_interval
from suite.timing import adaptive
from suite.timing.policy import TIMINGS
from suite.timing.ranking import agreement
from suite.timing.result import TimingResult

CHOOSE = TIMINGS["choose"]


def _latency(seconds: float, rounds: int = 5) -> dict:
    """One process's latency of one session whose rounds all took ``seconds``."""
    data = [seconds] * rounds
    return {"data_s": data, "iterations": 1, "sessions": 1, "median_s": seconds, "iqr_s": 0.0}


def _processes(figures: dict[tuple[str, str], list[float]]) -> list[dict]:
    """Per process, {case: {runtime: latency}} from each pair's figures in process order."""
    count = max(len(f) for f in figures.values())
    found: list[dict] = [{} for _ in range(count)]
    for (case, runtime), values in figures.items():
        for index, value in enumerate(values):
            found[index].setdefault(case, {})[runtime] = _latency(value)
    return found


def test_the_interval_of_the_fastest_process_runs_from_it_to_about_the_third_fastest():
    assert min_interval([1.0, 1.0, 1.0], seed=0) == [1.0, 1.0]
    # three units: a resample misses the two fastest one time in 27 (3.7 %), past the 2.5 % tail
    assert min_interval([1.0, 1.2, 1.5], seed=0) == [1.0, 1.5]
    # five: it misses the three fastest 1 % of the time, the two fastest 7.8 %
    assert min_interval([1.5, 1.0, 1.1, 1.3, 1.2], seed=0) == [1.0, 1.2]


def test_a_pair_three_processes_agree_on_stops_and_a_noisy_one_goes_on():
    figures = {("a", "ort-cpu"): [1.00, 1.04, 1.02], ("a", "torch-cpu"): [1.00, 1.30, 1.02]}
    busy = [{"a": 0.5}] * 3
    assert adaptive.still_timed(_processes(figures), busy, CHOOSE) == {"a": ["torch-cpu"]}
    # fewer processes than the policy's least: nothing has settled yet
    two = {pair: values[:2] for pair, values in figures.items()}
    assert adaptive.still_timed(_processes(two), busy[:2], CHOOSE) == {
        "a": ["ort-cpu", "torch-cpu"]
    }


def test_a_case_over_its_budget_stops_and_says_why():
    figures = {("slow", "ort-cpu"): [1.0, 1.5, 2.0]}
    spent = [{"slow": CHOOSE.budget_s / 2}] * 3
    assert adaptive.still_timed(_processes(figures), spent, CHOOSE) == {}
    assert adaptive.describe(("slow", "ort-cpu"), [1.0, 1.5, 2.0], CHOOSE) == {
        "interval_s": [1.0, 2.0],
        "stopped": "budget spent",
    }


def test_only_the_processes_that_timed_a_pair_are_its_units():
    result = TimingResult(CHOOSE)
    settled = [0.010, 0.0101, 0.0102]
    noisy = [0.020, 0.030, 0.022, 0.021]
    for index in range(4):
        process = {"b": {"ort-cpu": _latency(noisy[index])}}
        if index < 3:
            process["a"] = {"ort-cpu": _latency(settled[index])}
        result.add(10.0 * index, {"latencies": process, "ceilings": {}, "busy_s": {}})
    a, b = result.latency("a", "ort-cpu"), result.latency("b", "ort-cpu")
    assert (a["processes"], a["process_starts_s"], a["stopped"]) == (
        3,
        [0.0, 10.0, 20.0],
        "settled",
    )
    assert a["fastest_session_s"] == 0.010 and a["interval_s"] == [0.010, 0.0102]
    assert b["processes"] == 4 and b["interval_s"] == [0.020, 0.022]
    # the gate's policy takes a latency only from every process
    strict = TimingResult(TIMINGS["gate"])
    strict.latencies = result.latencies
    strict.starts_s = result.starts_s
    strict.with_copies = [{}] * 4
    assert strict.latency("a", "ort-cpu") is None


def test_the_decision_states_the_interval_as_one():
    record = {**_latency(0.010), "processes": 3, "data_s": [0.010] * 5 + [0.011] * 5 + [0.012] * 5}
    latency = Latency.of(
        {**record, "noisy": False, "fastest_session_s": 0.010, "interval_s": [0.010, 0.012]}
    )
    assert latency.text() == "10 ms [10–12, 95 % CI, 3 processes]"


def test_the_gate_reads_an_adaptive_run_as_advisory_and_not_cut_short():
    timing = {**CHOOSE.describe(), "processes_done": 3, "cut_short": None}
    kept = timing_of("run", {"timing": timing})
    assert kept["policy"] == "choose"
    assert "choose policy" in gateable(kept) and "--timing gate" in gateable(kept)
    gate = {**TIMINGS["gate"].describe(), "processes_done": 5, "cut_short": None}
    assert (
        "policy" not in timing_of("run", {"timing": gate})
        and gateable(timing_of("r", {"timing": gate})) == ""
    )
    with pytest.raises(Exception, match="cut short"):
        timing_of("run", {"timing": {**gate, "processes_done": 3}})


@pytest.mark.slow
def test_a_default_run_times_each_pair_until_it_settles(
    write_cases, tmp_path, export_cache, run_suite
):
    """The default policy end to end: at least three processes each, and later processes time
    only the pairs the rule left (their spec files say which)."""
    cases = write_cases(
        """
        [defaults]
        channels = 4
        size = 16

        [[case]]
        id = "pair"
        method = ["interpolate", "bilinear_mix"]
        """
    )
    out = tmp_path / "run"
    args = ("--out", str(out), "--runtimes", "ort-cpu", "--cache", str(export_cache))
    assert run_suite(str(cases), *args, "--processes", "4") == 0
    results = json.loads((out / "results.json").read_text())
    timing = results["run"]["timing"]
    assert timing["name"] == "choose" and 3 <= timing["processes_done"] <= 4
    for case in results["cases"]:
        for name in ("ort-cpu", "torch-cpu"):
            latency = case["runtimes"][name]["latency"]
            assert latency["processes"] >= 3 and latency["stopped"] in adaptive.STOPPED
            assert latency["interval_s"][0] == latency["fastest_session_s"]
    specs = [json.loads((out / f"timing/process{i}.spec.json").read_text()) for i in (1, 2, 3)]
    every = {c["id"]: ["torch-cpu", "ort-cpu"] for c in results["cases"]}
    # the first process times everything; none settles before the policy's third
    assert [spec["targets"] for spec in specs] == [None, every, every]
    if timing["processes_done"] == 4:
        fourth = json.loads((out / "timing/process4.spec.json").read_text())["targets"]
        unsettled = {
            (c["id"], n)
            for c in results["cases"]
            for n, r in c["runtimes"].items()
            if (r.get("latency") or {}).get("processes") == 4
        }
        assert {(c, n) for c, names in fourth.items() for n in names} == unsettled


def _timed(ms: float, interval_ms: tuple[float, float]) -> dict:
    latency = {**_latency(ms / 1e3), "processes": 3, "noisy": False}
    latency["data_s"] = [ms / 1e3] * 15
    return latency | {"fastest_session_s": ms / 1e3, "interval_s": [x / 1e3 for x in interval_ms]}


def test_two_runs_agree_where_both_tell_two_layers_apart_and_a_reversal_is_named():
    case, results = decision_records.case, decision_records.results
    first = results(
        case("a", "interpolate", "artifact_free", 20.0, {"ort-cpu": _timed(1.0, (1.0, 1.1))}),
        case("b", "bilinear_mix", "artifact_free", 21.0, {"ort-cpu": _timed(2.0, (2.0, 2.1))}),
        case("c", "transposed", "artifacts", 19.0, {"ort-cpu": _timed(1.05, (1.05, 1.5))}),
    )
    found = agreement(first, copy.deepcopy(first))
    # a-b and b-c told apart by both; a-c overlap in both
    assert (found.pairs, found.decided_in_both, found.decided_in_one) == (3, 2, 0)
    assert found.reversed == []
    second = copy.deepcopy(first)
    second["cases"][0]["runtimes"]["ort-cpu"]["latency"] = _timed(
        3.0, (3.0, 3.2)
    )  # a now slower than b
    second["cases"][2]["runtimes"]["ort-cpu"]["latency"] = _timed(
        1.05, (1.05, 1.06)
    )  # a-c told apart
    found = agreement(first, second)
    assert found.reversed == [("16ch 32x32 ×2", "ort-cpu", "a", "b")]
    assert (found.decided_in_both, found.decided_in_one) == (2, 1)
