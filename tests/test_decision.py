"""The decision a run ends with, and the summary table that must fit: generated from the figures,
so that changing a figure changes the words."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rich.console import Console

from suite import summary
from suite.decision import decisions, pareto_front
from suite.records import cases_of
from suite.summary_table import LayerTable

REFERENCE_RUN = Path(__file__).parents[1] / "results" / "reference" / "run" / "results.json"
RUNTIME = {"timed": True, "gated": True, "marker": "o", "colour": "#000000"}


def latency(ms: float, iqr_ms: float = 0.01, noisy: bool = False) -> dict:
    seconds = ms / 1e3
    return {
        "median_s": seconds,
        "iqr_s": iqr_ms / 1e3,
        "data_s": [seconds] * 5,
        "noisy": noisy,
        "processes": 1,
        "sessions": 1,
        "fastest_session_s": seconds,
    }


def case(case_id, method, verdict, psnr, ms: dict, checkerboard=0.1, status="ok") -> dict:
    """A case record of 16ch 32x32 ×2 as results.json holds it, timed on ``ms``'s runtimes."""
    stage = {"method": method, "scale": 2}
    runtimes = {
        name: {
            "status": status,
            "reason": None,
            "max_abs_err": 0.0,
            "max_rel_err": 0.0,
            "latency": value if isinstance(value, dict) else latency(value),
        }
        for name, value in ms.items()
    }
    return {
        "id": case_id,
        "file": "cases.toml",
        "method": method,
        "scale": 2,
        "channels": 16,
        "size": [32, 32],
        "stages": [stage],
        "status": status,
        "error": None,
        "runtimes": runtimes,
        "metrics": {
            "verdict": {"verdict": verdict},
            "hypercolumn_psnr_db": psnr,
            "checkerboard_pct": checkerboard,
        },
    }


def results(*cases) -> dict:
    return {
        "run": {
            "id": "r",
            "wall_s": 3.0,
            "timing": {"processes": 1, "processes_done": 1},
            "ceilings": None,
            "runtimes": {
                "torch-cpu": {**RUNTIME, "reference": True},
                "ort-cpu": {**RUNTIME, "reference": False},
            },
        },
        "cases": list(cases),
    }


def choose(run_results: dict, runtime: str = "ort-cpu"):
    (found,) = [
        d for d in decisions(run_results["run"], cases_of(run_results)) if d.runtime == runtime
    ]
    return found


@pytest.fixture
def compared() -> dict:
    return results(
        case(
            "resize-conv", "resize_conv", "artifact_free", 29.0, {"torch-cpu": 1.0, "ort-cpu": 0.5}
        ),
        case(
            "bilinear-mix",
            "bilinear_mix",
            "artifact_free",
            30.0,
            {"torch-cpu": 2.0, "ort-cpu": 0.8},
        ),
        case("nearest", "interpolate", "artifact_free", 27.0, {"torch-cpu": 0.3, "ort-cpu": 0.2}),
        case("transposed", "transposed", "artifacts", 28.0, {"torch-cpu": 0.2, "ort-cpu": 0.1}, 90),
        case(
            "make_block",
            "factory",
            "artifact_free",
            28.9,
            {"torch-cpu": 2.3, "ort-cpu": latency(1.15, iqr_ms=0.1)},
        ),
    )


def test_the_pick_is_the_fastest_artifact_free_layer_and_moves_with_the_figures(compared):
    decision = choose(compared)
    assert decision.pick.id == "nearest"  # transposed is faster, but has artifacts
    assert [layer.id for layer in decision.front] == ["nearest", "resize-conv", "bilinear-mix"]
    assert decision.lines()[0] == (
        "pick nearest: artifact-free, 0.2 ms [0.195–0.205, IQR, 1 process], PSNR 27.0 dB"
    )
    # the same run with nearest found to have artifacts: the next fastest clean layer is picked
    changed = copy.deepcopy(compared)
    changed["cases"][2]["metrics"]["verdict"]["verdict"] = "artifacts"
    assert choose(changed).pick.id == "resize-conv"
    # ... and with resize-conv slower than bilinear-mix, bilinear-mix
    changed["cases"][0]["runtimes"]["ort-cpu"]["latency"] = latency(0.9)
    assert choose(changed).pick.id == "bilinear-mix"


def test_your_block_is_placed_against_the_fastest_clean_layer(compared):
    changed = copy.deepcopy(compared)
    changed["cases"][2]["metrics"]["verdict"]["verdict"] = "artifacts"  # resize-conv: 0.5 ms
    decision = choose(changed)
    (standing,) = decision.own
    assert standing.words("ort-cpu") == (
        "your make_block: artifact-free, 1.15 ms [1.1–1.2, IQR, 1 process], 2.3× the time of the "
        "fastest clean layer on ort-cpu, -0.1 dB PSNR, not on the front"
    )
    # faster than every other clean layer: the block itself is the pick
    changed["cases"][4]["runtimes"]["ort-cpu"]["latency"] = latency(0.05)
    assert choose(changed).pick.id == "make_block"
    assert (
        choose(changed).own[0].words("ort-cpu")
        == "your make_block is the fastest clean layer on ort-cpu (above)"
    )
    # with artifacts and faster than the pick: how much faster, never a ratio below 1
    changed["cases"][4]["metrics"]["verdict"]["verdict"] = "artifacts"
    assert "10× faster than the fastest clean layer" in choose(changed).own[0].words("ort-cpu")


def with_weights(run: dict, parameters: dict[str, int]) -> dict:
    for record in run["cases"]:
        record["cost"] = {"parameters": parameters.get(record["id"], 100)}
    return run


def test_a_pick_without_weights_names_the_fastest_clean_layer_with_weights(compared):
    run = with_weights(copy.deepcopy(compared), {"nearest": 0})
    decision = choose(run)
    assert decision.pick.id == "nearest"
    assert decision.lines()[0].endswith("PSNR 27.0 dB (no weights: it mixes no channels)")
    assert decision.lines()[1].startswith("with weights: resize-conv: artifact-free, 0.5 ms")
    # a learned block stands against the learned rival, and says which it is
    assert "2.3× the time of the fastest clean layer with weights (resize-conv) on ort-cpu" in (
        decision.own[0].words("ort-cpu")
    )
    # every layer has weights: no second line, the block against the pick as before
    plain = choose(with_weights(copy.deepcopy(compared), {}))
    assert not any(line.startswith("with weights") for line in plain.lines())
    assert "5.8× the time of the fastest clean layer on ort-cpu" in plain.own[0].words("ort-cpu")


def test_a_psnr_difference_inside_both_intervals_is_said_to_be_so(compared):
    run = copy.deepcopy(compared)
    run["cases"][2]["metrics"]["hypercolumn_psnr_db_ci"] = [22.0, 32.0]
    run["cases"][4]["metrics"]["hypercolumn_psnr_db_ci"] = [23.0, 34.9]
    said = choose(run).own[0].words("ort-cpu")
    assert "+1.9 dB PSNR (within the 95 % intervals)" in said
    run["cases"][4]["metrics"]["hypercolumn_psnr_db_ci"] = [32.5, 34.9]  # apart: nothing said
    assert "+1.9 dB PSNR, " in choose(run).own[0].words("ort-cpu")


def test_the_front_is_always_shown_even_of_one_layer(compared):
    run = copy.deepcopy(compared)
    run["cases"] = [run["cases"][2], run["cases"][4]]  # nearest and make_block
    run["cases"][1]["metrics"]["hypercolumn_psnr_db"] = 26.0
    lines = choose(run).lines()
    assert lines[1] == "front (faster → higher PSNR): nearest 0.2 ms 27.0 dB"
    assert lines[2].endswith("not on the front")


def test_noisy_undecided_and_ties_are_said(compared):
    changed = copy.deepcopy(compared)
    changed["cases"][2]["runtimes"]["ort-cpu"]["latency"] = latency(0.2, iqr_ms=0.2, noisy=True)
    changed["cases"][4]["metrics"]["verdict"]["verdict"] = "undecided"
    decision = choose(changed)
    assert "noisy" in decision.lines()[0]
    # nearest's spread reaches 0.3 ms, not resize-conv's 0.5: no tie; widen it and there is one
    assert decision.ties == []
    changed["cases"][2]["runtimes"]["ort-cpu"]["latency"] = latency(0.2, iqr_ms=0.7, noisy=True)
    assert [t.id for t in choose(changed).ties] == ["resize-conv"]
    assert "within its spread: resize-conv" in choose(changed).lines()[0]
    assert (
        choose(changed)
        .own[0]
        .words("ort-cpu")
        .startswith("your make_block: undecided (checkerboard 0.1 %)")
    )


def test_without_an_artifact_free_layer_the_decision_says_so():
    run = results(
        case("t", "transposed", "artifacts", 20.0, {"ort-cpu": 0.1}, 90),
        case("mine", "factory", "undecided", 21.0, {"ort-cpu": 0.2}, 1.5),
    )
    assert choose(run).pick is None
    assert choose(run).lines()[0] == (
        "no artifact-free layer here (1 artifacts, 1 undecided; yours: mine undecided)"
    )


def test_the_pareto_front_keeps_only_layers_no_other_beats_on_both(compared):
    layers = [*choose(compared).front, choose(compared).own[0].layer]
    front = pareto_front(layers)
    assert [x.id for x in front] == ["nearest", "resize-conv", "bilinear-mix"]
    for x in layers:  # every layer left off is beaten on both by one on the front
        if x not in front:
            assert any(
                f.latency.seconds <= x.latency.seconds and f.psnr_db >= x.psnr_db for f in front
            )


def test_runtimes_that_did_not_run_are_named_in_the_summary(compared):
    compared["run"]["runtimes"]["ort-cuda"] = {**RUNTIME, "reference": False}
    for record in compared["cases"]:
        record["runtimes"]["ort-cuda"] = {
            "status": "skipped",
            "reason": "no CUDAExecutionProvider",
            "max_abs_err": None,
            "max_rel_err": None,
            "latency": None,
        }
    text = rendered(compared, 100)
    assert "not run: ort-cuda (no CUDAExecutionProvider)" in text


def rendered(run_results: dict, width: int) -> str:
    console = Console(width=width, record=True)
    console.print(summary.render(run_results, Path("results.json"), []))
    return console.export_text()


def test_factory_cases_are_rows_of_their_own_named_by_their_ids(compared):
    second = case("my_other", "factory", "artifacts", 20.0, {"torch-cpu": 1, "ort-cpu": 1}, 40)
    compared["cases"].append(second)
    text = rendered(compared, 100)
    rows = {line.split()[0] for line in text.splitlines() if line.strip()}
    assert {"make_block", "my_other"} <= rows and "factory" not in rows


@pytest.mark.parametrize("width", [80, 100])
def test_the_summary_fits_its_width_and_cuts_no_header(width):
    """The default bench's reference run, at the widths people use: no line wider, no cell cut
    (rich marks a cut with …), and every column either whole or named as left out."""
    run_results = json.loads(REFERENCE_RUN.read_text())
    text = rendered(run_results, width)
    assert "…" not in text
    assert max(map(len, text.splitlines())) <= width
    table = LayerTable(run_results["run"], cases_of(run_results))
    _, dropped = table.fitted(width, Console(width=width))
    flat = " ".join(text.split())
    for column in table.all:
        shown = all(word in text for word in column.header.split())
        assert shown or column.header in flat, column.header
    assert dropped == [c.header for c in table.all if c.header in dropped]
    assert "hypercolumn PSNR dB" not in dropped or width < 100  # the key figures fit at 100
