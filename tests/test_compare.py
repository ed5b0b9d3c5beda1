"""``python -m suite compare``: one's own block beside the reference layers, no case file."""

from __future__ import annotations

import json

from compare_command import compare

from suite.casefile import load_text
from suite.compare import REFERENCE_LAYERS, block_ids, case_text
from suite.results import validate


def test_each_block_is_named_by_its_function_unless_two_share_a_name():
    assert block_ids(["a.b:make", "c:other"]) == {"a.b:make": "make", "c:other": "other"}
    assert block_ids(["a:make", "b:make"]) == {"a:make": "a.make", "b:make": "b.make"}


def test_the_comparison_holds_the_blocks_and_every_reference_layer_at_one_geometry():
    text = case_text(["factories:nearest_conv_bias"], 4, 16, "8x12", "python -m suite compare")
    cases = load_text(text, "compare")
    assert [c.id for c in cases][:2] == ["nearest_conv_bias", "transposed-k8s4"]
    assert len(cases) == 1 + len(REFERENCE_LAYERS)
    assert {(c.channels, c.size, c.output_shape[2:]) for c in cases} == {(16, (8, 12), (32, 48))}
    assert {c.stages[0].method for c in cases} == {
        "factory",
        "transposed",
        "resize_conv",
        "pixel_shuffle",
        "bilinear_mix",
        "interpolate",
    }


def test_a_broken_block_is_one_line_and_nothing_is_written(tmp_path):
    result = compare("factories:doubles_channels", "--channels", "4", "--size", "8", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: compare: case 'doubles_channels': factory: factories:doubles_channels: on a "
        "1×4×8×8 input its module returned 1×8×16×16, not 1×4×16×16 (the same channels, scale × "
        "the size)"
    ]
    assert list(tmp_path.iterdir()) == []  # no results/runs folder


def test_a_block_is_compared_and_the_run_ends_with_the_decision(compare_run):
    """The session's one compare run (tests/conftest.py), in a fresh process as a user runs it."""
    out = compare_run["out"]
    assert compare_run["code"] == 0, compare_run["stderr"][-2000:]
    results = json.loads((out / "results.json").read_text())
    validate(results)
    assert results["cases"][0]["id"] == "nearest_conv_bias"
    assert results["run"]["options"]["quick"] is True
    assert results["run"]["files"] == [str(out / "compare.toml")]
    printed = compare_run["stdout"]
    decision = printed[printed.index("decision (") :]  # the summary ends with it
    assert "wrote " not in decision and "calibration:" not in decision
    for runtime in ("torch-cpu", "ort-cpu"):
        assert f"4ch 24x24 ×2 on {runtime}:" in decision
    assert "your nearest_conv_bias" in decision
    # only the parity errors and problems stay one line each, however long (for grep)
    start = printed.find("largest parity errors")
    unwrapped = printed[start : printed.index("\nwrote ")] if start >= 0 else ""
    assert all(line in unwrapped for line in printed.splitlines() if len(line) > 100)
    assert (out / "report" / "index.html").exists()
