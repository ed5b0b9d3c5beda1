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
from suite.gate.baseline import figures
from suite.gate.checks import Context, Latency

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
id = "g-repeated"
factory = "factories:repeated_resize_conv"
repeat = {repeat}
"""
UNCHANGED = {
    "init": "random",
    "resize_method": "resize_conv",
    "resize_keys": 'mode = "bilinear"',
    "repeat": 1,
}


def write_gate_cases(folder, **changes):
    path = folder / "gate.toml"
    path.write_text(textwrap.dedent(GATE_CASES.format(**{**UNCHANGED, **changes})))
    return path


def run(folder, name, cache, timed=False, **changes):
    """A gate-set run; ``timed`` keeps the suite's gap between timing passes (tests that never
    look at latency skip the wait)."""
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
            *([] if timed else ["--pass-gap", "0"]),
        ]
    ) in (0, 1)
    return out


def gate(run_dir, baseline, *extra) -> int:
    return cli(["gate", str(run_dir), "--baseline", str(baseline), *extra])


def make_baseline(root, cache, timed):
    runs = []
    for index in range(2):
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
    """Made the way `tox -e gate`'s is: passes spread as a default run spreads them."""
    return make_baseline(tmp_path_factory.mktemp("timed-gate"), export_cache, timed=True)


def failing(run_dir) -> list[str]:
    """The table rows of gate.md whose verdict is bold (failed)."""
    rows = (run_dir / "gate.md").read_text().splitlines()
    return [row for row in rows if row.startswith("| ") and row.rstrip(" |").endswith("**")]


@pytest.mark.timing
def test_five_reruns_of_unchanged_code_pass(timed_baseline, tmp_path, export_cache):
    verdicts = []
    for index in range(5):
        folder = tmp_path / f"re{index}"
        folder.mkdir()
        out = run(folder, "run", export_cache, timed=True)
        verdicts.append(gate(out, timed_baseline))
        for case in json.loads((out / "results.json").read_text())["cases"]:
            starts = case["runtimes"]["ort-cpu"]["latency"]["pass_starts_s"]
            assert len(starts) == 5 and min(np.diff(starts)) >= 15.0, starts
    assert verdicts == [0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("change", "expected_figures"),
    [
        (
            {"resize_method": "transposed", "resize_keys": ""},
            ["onnx_ops", "metrics.checkerboard_pct"],
        ),
        ({"init": "ones"}, ["metrics.flat_ripple", "metrics.hypercolumn_psnr_db"]),
    ],
    ids=["method-swapped", "init-changed"],
)
def test_changed_model_fails_the_gate(baseline, tmp_path, export_cache, change, expected_figures):
    out = run(tmp_path, "run", export_cache, **change)
    assert gate(out, baseline, "--latency-advisory") == 1
    rows = "\n".join(failing(out))
    for figure in expected_figures:
        assert f"| {figure} |" in rows or f"| {figure}" in rows, rows


def test_parity_break_fails_the_gate(baseline, tmp_path, monkeypatch):
    """An export whose Resize uses the wrong coordinate mode: torch and onnxruntime part ways."""
    real = suite.export._export_to

    def wrong_attribute(path, model, example):
        log = real(path, model, example)
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
    rows = "\n".join(failing(out))
    assert "g-interpolate | parity.ort-cpu" in rows
    assert "g-interpolate | onnx_numerics" in rows


@pytest.mark.timing
def test_injected_3x_slowdown_fails_on_latency_only(timed_baseline, tmp_path, export_cache):
    out = run(tmp_path, "run", export_cache, timed=True, repeat=3)
    assert gate(out, timed_baseline) == 1
    rows = failing(out)
    assert any("g-repeated | latency.torch-cpu" in row for row in rows), rows
    assert not any("latency" not in row for row in rows), rows  # nothing deterministic moved


def test_vanished_case_fails_unless_removed_on_purpose(baseline, tmp_path):
    results = json.loads((baseline.parent / "base0" / "run" / "results.json").read_text())
    results["cases"] = [c for c in results["cases"] if c["id"] != "g-interpolate"]
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(results))
    assert gate(out, baseline) == 1
    assert (
        "g-interpolate | case | present | – |  |  | **vanished**" in (out / "gate.md").read_text()
    )
    assert gate(out, baseline, "--allow-removed", "--latency-advisory") == 0


def test_another_machine_makes_latency_not_comparable(baseline, tmp_path):
    data = json.loads(baseline.read_text())
    data["machine_class"] = "some other CPU | 64 cores | 64 threads | aarch64"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    run_dir = baseline.parent / "base1" / "run"
    assert gate(run_dir, other) == 0
    assert "not comparable" in (run_dir / "gate.md").read_text()


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
    ]
    for args, message in cases:
        capsys.readouterr()
        assert cli(["gate", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def _latency_rows(new_passes: list[float], rounds_per_pass: int = 10):
    """The latency check on synthetic yardstick ratios: a baseline of 30 rounds around 1.0 and
    a new run of len(new_passes) passes, each around its own factor."""
    rng = np.random.default_rng(0)
    old = {"latency": {"ort-cpu": {"median_s": 1e-3, "relative": list(1 + 0.02 * rng.random(30))}}}
    rounds = [f * (1 + 0.02 * rng.random()) for f in new_passes for _ in range(rounds_per_pass)]
    new = {
        "latency": {"ort-cpu": {"median_s": 1e-3, "relative": rounds, "passes": len(new_passes)}}
    }
    check = Latency("latency", min_effect=0.25, alpha=0.01, calibration="yardstick")
    return check.rows("c", old, new, Context(True, ""))


def test_a_slow_spell_in_one_pass_is_not_a_regression():
    (row,) = _latency_rows([1.0, 2.5, 1.0])
    assert row.verdict == "pass"  # the median of all rounds barely moves


def test_a_slowdown_in_every_pass_is_a_regression():
    (row,) = _latency_rows([3.0, 2.9, 3.1])
    assert row.verdict == "regressed" and row.failed


def test_two_slow_passes_of_three_with_a_median_shift_still_pass():
    # The median moves (two thirds of the rounds are slow), yet one pass is at the old speed:
    # the code did not change speed, the machine did for a while.
    (row,) = _latency_rows([1.0, 1.6, 1.7])
    assert row.verdict == "pass" and "2 of 3" in row.message


def _timed_case(case_ms: float, yardstick_ms: float, seed: int) -> dict:
    """A results.json case with 30 rounds in 3 passes, each round 3% noisy, the yardstick's
    around it likewise."""
    rng = np.random.default_rng(seed)
    rounds = case_ms * 1e-3 * (1 + 0.03 * rng.random(30))
    yardstick = yardstick_ms * 1e-3 * (1 + 0.03 * rng.random(30))
    latency = {
        "median_s": float(np.median(rounds)),
        "data_s": rounds.tolist(),
        "yardstick_s": yardstick.tolist(),
        "passes": 3,
    }
    return {
        "status": "ok",
        "output_shape": [1, 4, 8, 8],
        "cost": {"bytes": {"total": 4096}},
        "runtimes": {"ort-cpu": {"max_rel_err": 1e-7, "latency": latency}},
    }


def _verdict(old_case: dict, new_case: dict, calibration: str) -> tuple[str, str]:
    old, new = figures(old_case, 20.0), figures(new_case, 20.0)
    check = Latency("latency", min_effect=0.25, alpha=0.01, calibration=calibration)
    (row,) = check.rows("c", old, new, Context(True, ""))
    return row.verdict, row.message


def test_a_machine_slow_for_the_whole_run_is_not_a_regression_against_the_yardstick():
    baseline = _timed_case(1.0, 0.5, seed=0)
    slow_machine = _timed_case(1.5, 0.75, seed=1)  # everything 1.5x slower, in every pass
    assert _verdict(baseline, slow_machine, "yardstick")[0] == "pass"
    # Compared as measured, the same run is a false alarm: why the yardstick is the default.
    assert _verdict(baseline, slow_machine, "none")[0] == "regressed"


def test_a_slower_case_on_a_steady_machine_is_a_regression_against_the_yardstick():
    assert _verdict(_timed_case(1.0, 0.5, 0), _timed_case(3.0, 0.5, 1), "yardstick")[0] == (
        "regressed"
    )


def test_without_yardstick_rounds_on_one_side_the_rounds_as_measured_are_compared():
    old = _timed_case(1.0, 0.5, 0)
    del old["runtimes"]["ort-cpu"]["latency"]["yardstick_s"]  # a run whose yardstick failed
    verdict, message = _verdict(old, _timed_case(3.0, 0.5, 1), "yardstick")
    assert verdict == "regressed"
    assert message == "no rounds ÷ yardstick on one side: compared as measured"


def test_baseline_refuses_runs_that_cannot_be_pooled(baseline, tmp_path, capsys):
    """Runs of another machine class, other cases or other deterministic figures: one line
    naming the run, exit 2, and no baseline file."""
    good = baseline.parent / "base0" / "run"
    results = json.loads((good / "results.json").read_text())

    def edited(name, change):
        data = json.loads(json.dumps(results))
        change(data)
        folder = tmp_path / name
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps(data))
        return folder

    def other_cpu(data):
        data["run"]["machine"]["cpu_id"] = "family 6 model 143 stepping 8"

    def fewer_cases(data):
        data["cases"] = data["cases"][1:]

    def other_psnr(data):
        data["cases"][0]["metrics"]["hypercolumn_psnr_db"] += 1.0

    refusals = [
        (other_cpu, "latencies of two machine classes cannot be pooled"),
        (fewer_cases, "holds other cases than"),
        (other_psnr, "metrics differs from"),
    ]
    for change, message in refusals:
        out = tmp_path / f"{change.__name__}.json"
        capsys.readouterr()
        run_dir = edited(change.__name__, change)
        assert cli(["baseline", str(good), str(run_dir), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0] and change.__name__ in err[0], err
        assert not out.exists()
