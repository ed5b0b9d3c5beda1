"""The regression gate: a catalogue of perturbations it must catch, reruns it must pass, and bad
input it must refuse with one line and exit 2."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import onnx
import pytest

import suite.export
from suite.cli import main as cli
from suite.commands.gate import gate_rows
from suite.gate.checks import Context, Latency
from suite.gate.latency import decide, gateable, noise, runtime_figures
from suite.gate.rows import CASE, EXACT, LATENCY, NUMERIC, LatencyTest, Outcome, Row, cells
from suite.machines import machine_class
from suite.stats import run_figure, session_medians

pytestmark = pytest.mark.slow

GATE_CASES = """
[defaults]
channels = 16
size = 48

[[case]]
id = "g-transposed"
method = "transposed"
kernel = 4
init = "{init}"

[[case]]
id = "g-resize"
method = "{resize_method}"
{resize_keys}

[[case]]
id = "g-interpolate"
method = "interpolate"
mode = "bilinear"

[[case]]
id = "g-slowed"
method = "resize_conv"
mode = "bilinear"
gate = {{ slowdown = {slowdown}, reason = "the injected slowdown" }}
"""
UNCHANGED = {
    "init": "random",
    "resize_method": "resize_conv",
    "resize_keys": 'mode = "bilinear"',
    "slowdown": 1.0,
}
#: Runs in a baseline: the least the latency test accepts is 3.
BASELINE_RUNS = 3


def write_gate_cases(folder, **changes):
    path = folder / "gate.toml"
    path.write_text(textwrap.dedent(GATE_CASES.format(**{**UNCHANGED, **changes})))
    return path


def run(folder, name, cache, timed=False, **changes):
    """A gate-set run; ``timed``: timed under the gate's policy (5 processes, as `tox -e gate`
    times), else as --quick (tests that never look at latency)."""
    out = folder / name
    (folder / f"{name}-cases").mkdir(parents=True)
    cases = write_gate_cases(folder / f"{name}-cases", **changes)
    assert cli(
        [
            "run",
            str(cases),
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--runtimes",
            "ort-cpu",
            "--no-report",
            *(["--timing", "gate"] if timed else ["--quick"]),
        ]
    ) in (0, 1)
    return out


def gate(run_dir, baseline, *extra) -> int:
    return cli(["gate", str(run_dir), "--baseline", str(baseline), *extra])


def make_baseline(root, cache, timed, runs_wanted=BASELINE_RUNS):
    runs = []
    for index in range(runs_wanted):
        folder = root / f"base{index}"
        folder.mkdir()
        runs.append(run(folder, "run", cache, timed))
    path = root / "baseline.json"
    assert cli(["baseline", *map(str, runs), "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, export_cache):
    return make_baseline(tmp_path_factory.mktemp("gate"), export_cache, timed=False)


@pytest.fixture(scope="module")
def timed_baseline(tmp_path_factory, export_cache):
    """Made the way `tox -e gate`'s is: five default runs."""
    return make_baseline(tmp_path_factory.mktemp("timed-gate"), export_cache, True, 5)


def failing(run_dir, baseline, advisory=False) -> set[tuple[str, str]]:
    """(case, figure) of every row of the gate that failed."""
    rows, _ = gate_rows(run_dir, baseline, latency_advisory=advisory)
    return {(row.case, row.figure) for row in rows if row.failed}


def latency_failures(run_dir, baseline) -> set[tuple[str, str]]:
    return {(case, figure) for case, figure in failing(run_dir, baseline) if "latency." in figure}


@pytest.mark.timing
def test_twenty_reruns_of_unchanged_code_raise_no_latency_alarm(
    timed_baseline, tmp_path, export_cache, record_property
):
    """The false-alarm rate on unchanged code, in fresh runs of fresh processes (the count goes
    into ``--junitxml``'s properties, for the measurements page)."""
    alarms = []
    for index in range(20):
        folder = tmp_path / f"re{index}"
        folder.mkdir()
        out = run(folder, "run", export_cache, timed=True)
        gate(out, timed_baseline)
        alarms += latency_failures(out, timed_baseline)
    record_property("latency_alarms_in_20_runs", len(alarms))
    assert alarms == []


@pytest.mark.timing
@pytest.mark.parametrize(("factor", "caught_at_least"), [(3.0, 5), (1.5, 4)])
def test_injected_slowdowns_are_caught_on_latency_only(
    timed_baseline, tmp_path, export_cache, factor, caught_at_least, record_property
):
    caught = 0
    for index in range(5):
        folder = tmp_path / f"slow{index}"
        folder.mkdir()
        out = run(folder, "run", export_cache, timed=True, slowdown=factor)
        gate(out, timed_baseline)
        rows = failing(out, timed_baseline)
        # Nothing deterministic moved, and no other case's latency.
        assert all(f.startswith("latency.") and case == "g-slowed" for case, f in rows), rows
        caught += ("g-slowed", "latency.ort-cpu") in rows
    record_property("caught_in_5_runs", caught)
    assert caught >= caught_at_least


@pytest.mark.parametrize(
    ("change", "case", "expected_figures"),
    [
        (
            {"resize_method": "transposed", "resize_keys": ""},
            "g-resize",
            ["onnx_ops", "metrics.checkerboard_pct"],
        ),
        (
            {"init": "ones"},
            "g-transposed",
            ["metrics.flat_ripple", "metrics.hypercolumn_psnr_db"],
        ),
    ],
    ids=["method-swapped", "init-changed"],
)
def test_changed_model_fails_the_gate(
    baseline, tmp_path, export_cache, change, case, expected_figures
):
    out = run(tmp_path, "run", export_cache, **change)
    assert gate(out, baseline, "--latency-advisory") == 1
    assert {(case, figure) for figure in expected_figures} <= failing(out, baseline, True)


def test_parity_break_fails_the_gate(baseline, tmp_path, monkeypatch):
    """An export whose Resize uses the wrong coordinate mode: torch and onnxruntime part ways."""
    real = suite.export._export_to

    def wrong_attribute(path, model, example, case):
        log = real(path, model, example, case)
        proto = onnx.load(path)
        for node in proto.graph.node:
            for attribute in node.attribute:
                if attribute.name == "coordinate_transformation_mode":
                    attribute.s = b"asymmetric"
        onnx.save(proto, path)
        return log

    monkeypatch.setattr(suite.export, "_export_to", wrong_attribute)
    out = run(tmp_path, "run", tmp_path / "fresh-cache")
    assert gate(out, baseline, "--latency-advisory") == 1
    rows = failing(out, baseline, advisory=True)
    assert {("g-interpolate", "parity.ort-cpu"), ("g-interpolate", "onnx_numerics")} <= rows


def test_vanished_case_fails_unless_removed_on_purpose(baseline, tmp_path):
    results = json.loads((baseline.parent / "base0" / "run" / "results.json").read_text())
    results["cases"] = [c for c in results["cases"] if c["id"] != "g-interpolate"]
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(results))
    assert gate(out, baseline) == 1
    (row,) = [r for r in gate_rows(out, baseline)[0] if r.case == "g-interpolate"]
    assert (row.figure, row.kind, row.outcome) == ("case", CASE, Outcome.VANISHED)
    assert (row.baseline, row.new) == (True, False) and "--allow-removed" in row.message
    assert gate(out, baseline, "--allow-removed", "--latency-advisory") == 0
    (row,) = [
        r for r in gate_rows(out, baseline, allow_removed=True)[0] if r.case == "g-interpolate"
    ]
    assert row.outcome is Outcome.REMOVED and not row.failed


def test_another_machine_makes_latency_not_comparable(baseline, tmp_path):
    data = json.loads(baseline.read_text())
    data["machine_class"] = "some other CPU | 64 cores | 64 threads | aarch64"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    run_dir = baseline.parent / "base1" / "run"
    assert gate(run_dir, other) == 0
    rows, note = gate_rows(run_dir, other)
    latency = [row for row in rows if row.kind == LATENCY]
    assert latency and note.startswith("baseline ran on some other CPU")
    assert all(r.outcome is Outcome.NOT_COMPARABLE and r.message == note for r in latency)


def test_bad_input_is_one_line_and_exit_2(baseline, tmp_path, capsys):
    run_dir = baseline.parent / "base0" / "run"
    data = json.loads(baseline.read_text())
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**data, "baseline_version": 99}))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(baseline.read_text()[:500])
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({k: v for k, v in data.items() if k != "machine_class"}))
    empty = tmp_path / "empty-run"
    empty.mkdir()
    too_few = tmp_path / "too-few.json"
    too_few.write_text(json.dumps({**data, "runs": 2}))
    older = tmp_path / "older.json"
    older.write_text(json.dumps({**data, "baseline_version": 1}))
    cases = [
        (
            [str(run_dir), "--baseline", str(newer)],
            "baseline_version 99 is newer than this suite reads",
        ),
        ([str(run_dir), "--baseline", str(truncated)], "not valid JSON (truncated?)"),
        (
            [str(run_dir), "--baseline", str(edited)],
            "not a valid baseline at top level: 'machine_class' is a required property",
        ),
        ([str(empty), "--baseline", str(baseline)], "no results.json in this folder"),
        ([str(run_dir), "--baseline", str(tmp_path / "none.json")], "no such baseline file"),
        (
            [str(run_dir), "--baseline", str(too_few)],
            "made from 2 runs; the latency test's unit is the run and it needs at least 3",
        ),
        ([str(run_dir), "--baseline", str(older)], "baseline_version 1 pooled rounds"),
    ]
    for args, message in cases:
        capsys.readouterr()
        assert cli(["gate", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def _row(base_runs: list[float], new_run: float, min_effect: float = 0.25):
    """The latency check on run figures (÷ yardstick): a baseline of these runs, one new run."""
    old = {"latency": {"ort-cpu": {"runs": {"relative": base_runs, "rounds_s": base_runs}}}}
    new = {"latency": {"ort-cpu": {"runs": {"relative": [new_run], "rounds_s": [new_run]}}}}
    check = Latency("latency", min_effect=min_effect, alpha=0.01, calibration="yardstick")
    (row,) = check.rows("c", old, new, Context(True, ""))
    return row


STEADY = [1.00, 1.02, 0.99, 1.01, 0.98]  # five runs, 1.5% apart


def test_a_run_beyond_the_effect_and_the_noise_regressed():
    row = _row(STEADY, 1.40)
    assert row.outcome is Outcome.REGRESSED and row.failed
    assert row.change == pytest.approx(1.40 / np.exp(np.mean(np.log(STEADY))) - 1, rel=1e-9)
    assert row.tolerance == 0.25 and (row.latency.series, row.latency.runs) == ("relative", 5)
    # The detectable slowdown sits a little above the 25% floor: the runs' spread is small.
    assert 0.25 < row.latency.detectable < 0.30


def test_runs_timed_in_fewer_than_five_processes_gate_latency_as_advisory_only():
    """One process cannot escape a slow spell that covers it (2 false alarms in 22 unchanged
    --quick runs, docs/measurements.md): its regressions are reported, never failed."""
    note = gateable({"processes": 1})
    assert note.startswith("timed in 1 process: a slow spell can cover them all")
    assert gateable({"processes": 5}) == ""
    old = {"latency": {"ort-cpu": {"runs": {"relative": STEADY, "rounds_s": STEADY}}}}
    new = {"latency": {"ort-cpu": {"runs": {"relative": [1.4], "rounds_s": [1.4]}}}}
    check = Latency("latency", min_effect=0.25, alpha=0.01, calibration="yardstick")
    (row,) = check.rows("c", old, new, Context(True, "", note))
    assert row.outcome is Outcome.ADVISORY and not row.failed and note in row.message


def test_a_run_within_the_effect_passes_and_a_faster_one_improved():
    assert _row(STEADY, 1.15).outcome is Outcome.PASS
    assert _row(STEADY, 0.70).outcome is Outcome.IMPROVED


def test_a_baseline_whose_runs_spread_widely_is_too_noisy_to_gate_never_regressed():
    wide = [1.0, 1.3, 0.8, 1.1, 0.9]  # 19% between runs
    row = _row(wide, 1.6)
    assert row.outcome is Outcome.TOO_NOISY and not row.failed and row.latency.detectable > 0.6
    assert "beyond that: look at it" not in row.message  # +60% is within this noise
    assert "look at it" in _row(wide, 5.0).message


def test_the_threshold_is_never_tighter_than_the_baseline_runs_spread():
    # With a minimum effect of 1%, the noise sets the threshold (5 runs 1.5% apart), and a
    # 1% effect cannot be told from that noise.
    row = _row(STEADY, 1.04, min_effect=0.01)
    spread = float(np.std(np.log(STEADY), ddof=1))
    assert row.tolerance > 3.0 * spread
    assert row.outcome is Outcome.TOO_NOISY and not row.failed


def test_the_prediction_test_holds_its_false_alarm_rate_and_its_power():
    """Calibration on known answers: log-normal runs with 5% spread; unchanged new runs fail at
    alpha (within sampling error), and a slowdown of the reported MDE is caught about POWER of
    the time (the MDE is computed from each baseline's own spread, so a little less)."""
    rng = np.random.default_rng(13)
    trials, alarms, caught = 2000, 0, 0
    for _ in range(trials):
        base = list(np.exp(rng.normal(0, 0.05, 5)))
        unchanged = decide(base, float(np.exp(rng.normal(0, 0.05))), 0.0, 0.01)
        alarms += unchanged.effect > unchanged.threshold
        slowed = decide(base, 1.0, 0.0, 0.01)  # only the MDE of this baseline is used
        draw = float(np.exp(rng.normal(0, 0.05))) * (1 + slowed.detectable)
        caught += decide(base, draw, 0.0, 0.01).effect > slowed.threshold
    assert alarms / trials == pytest.approx(0.01, abs=0.006)
    assert 0.65 < caught / trials < 0.9


def test_the_noise_table_reads_back_known_spreads():
    """Session medians drawn with known spreads within processes (2%), between processes (6%)
    and between runs (10% beyond the processes') are read back within their sampling error."""
    rng = np.random.default_rng(7)
    runs, processes, sessions = 40, 5, 2
    data = []
    for _ in range(runs):
        run_shift = rng.normal(0, 0.10)
        data.append(
            [
                list(np.exp(run_shift + p + rng.normal(0, 0.02, sessions)))
                for p in rng.normal(0, 0.06, processes)
            ]
        )
    found = noise(data)
    # Within a process the median of two sessions is their mean: the log spread is as drawn.
    assert found["within_process"] == pytest.approx(0.02, rel=0.15)
    # A process median is the mean of two sessions: 6% plus 2%/sqrt(2).
    assert found["between_processes"] == pytest.approx(np.hypot(0.06, 0.02 / 2**0.5), rel=0.15)
    # A run median is the median of 5 processes: 10% plus about 1.2 · 6.2% / sqrt(5).
    assert found["between_runs"] == pytest.approx(np.hypot(0.10, 0.033), rel=0.25)


def test_the_run_figure_is_the_fastest_session_and_ignores_slow_spells():
    """A spell doubles whole sessions and processes; the run's fastest session stays put."""
    rounds = [1.0, 1.1, 0.9, 2.0, 2.1, 1.9, 2.2, 2.0, 1.8, 1.0, 1.1, 1.2]
    sessions = session_medians(rounds, processes=2, sessions=2)
    assert sessions == [[1.0, 2.0], [2.0, 1.1]]
    assert run_figure(sessions) == 1.0
    latency = {
        "median_s": 1.5,
        "data_s": rounds,
        "yardstick_s": [0.5] * 12,
        "processes": 2,
        "sessions": 2,
    }
    assert runtime_figures(latency)["runs"] == {"rounds_s": [1.0], "relative": [2.0]}
    with pytest.raises(ValueError, match="do not split into 5 equal parts"):
        session_medians(rounds, processes=5, sessions=1)


def _other_cpu(data: dict) -> None:
    data["run"]["machine"]["cpu_id"] = "family 6 model 143 stepping 8"
    for case in data["cases"]:  # timed there: each latency names it
        for runtime in case["runtimes"].values():
            if runtime["latency"]:
                runtime["latency"]["machine_class"] = machine_class(data["run"]["machine"])


def _two_classes(data: dict) -> None:
    data["cases"][0]["runtimes"]["torch-cpu"]["latency"]["machine_class"] = "elsewhere"


def _fewer_cases(data: dict) -> None:
    data["cases"] = data["cases"][1:]


def _other_psnr(data: dict) -> None:
    data["cases"][0]["metrics"]["hypercolumn_psnr_db"] += 1.0


def _other_timing(data: dict) -> None:
    data["run"]["timing"]["processes"] = data["run"]["timing"]["processes_done"] = 7


def _refusal(capsys, *args: str) -> str:
    """The one line ``suite baseline`` refuses with (exit 2)."""
    capsys.readouterr()
    assert cli(["baseline", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_other_cpu, "latencies of two machine classes cannot be pooled"),
        (_two_classes, "its latencies were timed on 2 machine classes"),
        (_other_timing, "run figures of two timings differ in spread and cannot be pooled"),
        (_fewer_cases, "holds other cases than"),
        (_other_psnr, "metrics differs from"),
    ],
)
def test_baseline_refuses_runs_that_cannot_be_pooled(baseline, tmp_path, capsys, change, message):
    """Runs of another machine class, other cases or other deterministic figures: one line
    naming the run, exit 2, and no baseline file."""
    good = baseline.parent / "base0" / "run"
    data = json.loads((good / "results.json").read_text())
    change(data)
    edited = tmp_path / change.__name__
    edited.mkdir()
    (edited / "results.json").write_text(json.dumps(data))
    out = tmp_path / "baseline.json"
    line = _refusal(capsys, str(good), str(good), str(edited), "--out", str(out))
    assert message in line and change.__name__ in line, line
    assert not out.exists()


def test_baseline_refuses_two_runs(baseline, tmp_path, capsys):
    good = baseline.parent / "base0" / "run"
    out = tmp_path / "two.json"
    line = _refusal(capsys, str(good), str(good), "--out", str(out))
    assert "2 runs given: the latency test's unit is the run" in line
    assert not out.exists()


def test_latency_is_gated_without_machine_ceilings_and_on_each_declared_gated_runtime(quick_run):
    """Gated latency follows each runtime's declared ``gated`` (run.runtimes), never whether the
    run measured its ceilings: a run without them still has every gated runtime's latency."""
    from suite.gate.baseline import figures
    from suite.records import cases_of, gated_runtimes

    results = json.loads(json.dumps(quick_run["results"]))
    results["run"]["ceilings"] = None
    gated = gated_runtimes(results["run"])
    assert {"torch-cpu", "ort-cpu"} <= set(gated) and "onnx-reference" not in gated
    case = cases_of(results)[0]
    assert set(figures(case, gated)["latency"]) == {"torch-cpu", "ort-cpu"}
    results["run"]["runtimes"]["ort-cpu"]["gated"] = False  # a runtime declared not gated
    assert set(figures(case, gated_runtimes(results["run"]))["latency"]) == {"torch-cpu"}


def test_a_latency_timed_on_another_machine_class_is_not_compared():
    """Merged shards may hold latencies of several machine classes (schema 5: each latency names
    its own): only those of the baseline's class are gated, the others say where they ran."""
    old = {"latency": {"ort-cpu": {"runs": {"relative": STEADY, "rounds_s": STEADY}}}}
    check = Latency("latency", min_effect=0.25, alpha=0.01, calibration="yardstick")
    verdicts = {}
    for timed_on in ("class A", "class B"):
        figures = {"runs": {"relative": [1.4], "rounds_s": [1.4]}, "machine_class": timed_on}
        new = {"latency": {"ort-cpu": figures}}
        (row,) = check.rows("c", old, new, Context(True, "", baseline_class="class A"))
        verdicts[timed_on] = row
    assert verdicts["class A"].outcome is Outcome.REGRESSED
    assert verdicts["class B"].outcome is Outcome.NOT_COMPARABLE and not verdicts["class B"].failed
    assert verdicts["class B"].message == "timed on class B, the baseline on class A"


def test_rows_print_as_the_gate_always_printed_them():
    """Text only when printed: each kind of row's cells, as gate.md and the terminal show them."""
    test = LatencyTest(p=2.1e-5, series="relative", runs=5, alpha=0.01, detectable=0.27)
    rows = {
        EXACT: Row("c", "status", EXACT, Outcome.CHANGED, "ok", "failed"),
        NUMERIC: Row(
            "c", "parity.ort-cpu", NUMERIC, Outcome.PASS, 1e-7, 3.123456e-7, 2.123456e-7, 1e-6, 1.0
        ),
        LATENCY: Row(
            "c", "latency.ort-cpu", LATENCY, Outcome.REGRESSED, 1.0, 1.4, 0.4, 0.25, latency=test
        ),
        CASE: Row("c", "case", CASE, Outcome.VANISHED, True, False),
    }
    assert [list(cells(row).values())[2:] for row in rows.values()] == [
        ["ok", "failed", "differs", "equal", "", "changed"],
        ["1e-07", "3.123e-07", "+2.12e-07", "±1e-06 + 1·|old|", "", "pass"],
        [
            "1000 ms",
            "1400 ms",
            "+40.0% (p=2.1e-05)",
            "+25% ÷ yardstick, 5 runs, p<0.01",
            "+27%",
            "regressed",
        ],
        ["present", "–", "", "", "", "vanished"],
    ]
    noisy = Row("c", "latency.x", LATENCY, Outcome.TOO_NOISY, 1.0, 5.0, 4.0, 1.15, latency=test)
    assert cells(noisy)["verdict"] == "too noisy to gate (MDE +27%)"
