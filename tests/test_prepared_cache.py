"""The prepared-case cache (suite/bench/prepared_cache.py, its code digests suite/casecode.py):
a re-run of unchanged cases prepares nothing and gives the same figures; an edit to one
method's module re-prepares only its cases; each input of the key is another key; an entry
that is corrupted, another case's, half-written or missing its export is prepared again, never
read; a failed case is never kept; --fresh prepares everything; a run stopped after its cases
came from the cache resumes with them."""

from __future__ import annotations

import importlib
import json
import pickle
import sys
from pathlib import Path

import pytest
from figures import deterministic

from suite.bench import run as bench_run
from suite.bench.prepared_cache import material_text
from suite.cli import main as cli
from suite.methods.factory import load_factory
from suite.samplefile import load_samples

pytestmark = pytest.mark.slow

CASES = """
[defaults]
channels = 3
size = 8

[[case]]
id = "small"
method = ["transposed", "resize_conv", "zoh_transposed"]
"""


def run(cases: Path, out: Path, cache: Path, *more: str, code: int = 0) -> dict:
    """A quick run without its report; its results."""
    args = ["run", str(cases), "--out", str(out), "--quick", "--no-report", "--cache", str(cache)]
    assert cli([*args, *more]) == code
    return json.loads((out / "results.json").read_text())


def prepared(results: dict) -> tuple[int, list[str]]:
    """How many cases the run prepared, and which it read from the cache."""
    phase = results["run"]["phases"]["prepare"]
    return phase["cases"], phase["from_cache"]


def entries(cache: Path) -> dict[str, Path]:
    """Each cache entry by the case it holds."""
    found = {}
    for path in (cache / "prepared").glob("*.pickle"):
        found[pickle.loads(path.read_bytes())["work"].case.id] = path
    return found


def assert_same_figures(one: dict, other: dict) -> None:
    assert [c["id"] for c in one["cases"]] == [c["id"] for c in other["cases"]]
    for a, b in zip(one["cases"], other["cases"], strict=True):
        assert deterministic(a) == deterministic(b), a["id"]


def test_a_rerun_of_unchanged_cases_prepares_nothing_and_gives_the_same_figures(
    write_cases, tmp_path
):
    cases, cache = write_cases(CASES), tmp_path / "cache"
    first = run(cases, tmp_path / "first", cache)
    ids = [case["id"] for case in first["cases"]]
    assert prepared(first) == (3, [])

    again = run(cases, tmp_path / "again", cache)

    assert prepared(again) == (0, ids)
    assert again["run"]["phases"]["calibration"]["cached"] is True
    assert_same_figures(first, again)
    for a, b in zip(first["cases"], again["cases"], strict=True):
        # the planner's costs: each stage's seconds as the run that prepared it measured them
        assert {k: v for k, v in a["durations_s"].items() if k != "time"} == {
            k: v for k, v in b["durations_s"].items() if k != "time"
        }
    samples = load_samples(tmp_path / "first")
    assert samples.keys() == load_samples(tmp_path / "again").keys()
    for key, image in load_samples(tmp_path / "again").items():
        assert (image == samples[key]).all(), key

    # --fresh reads neither cache: every case prepared again, the calibration computed again
    fresh = run(cases, tmp_path / "fresh", cache, "--fresh")
    assert prepared(fresh) == (3, [])
    assert fresh["run"]["phases"]["calibration"]["cached"] is False
    assert_same_figures(first, fresh)


PLUGIN = "cache_test_plugin"
FACTORY = "cache_test_factory"
PLUGIN_SOURCE = """
from torch import nn

from suite.methods import register
from suite.methods.base import SCALE, Method, times_scale

GAIN = {value}


@register
class NearestConv(Method):
    name = "{name}"
    summary = "test only: nearest, then a 3x3 convolution"
    params = (SCALE,)

    @classmethod
    def output_size(cls, params, size):
        return times_scale(params, size)

    @classmethod
    def build(cls, params, channels, generator):
        conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        conv.weight.data = GAIN * nn.init.normal_(conv.weight.data.clone(), generator=generator)
        return nn.Sequential(nn.Upsample(scale_factor=params["scale"], mode="nearest"), conv)
"""
FACTORY_SOURCE = """
from torch import nn


def made(channels, scale):
    conv = nn.Conv2d(channels, channels, {value}, padding={value} // 2, bias=False)
    return nn.Sequential(nn.Upsample(scale_factor=scale, mode="nearest"), conv)
"""
TEAM_CASES = f"""
[defaults]
channels = 3
size = 8

[[case]]
id = "plugin"
method = "{PLUGIN}"

[[case]]
id = "factory"
factory = "{FACTORY}:made"
scale = 2

[[case]]
id = "suite"
method = "transposed"
"""


@pytest.fixture
def team(tmp_path, monkeypatch):
    """A team's method module (named by UPSAMPLING_BENCH_METHODS) and factory module, in a
    folder of their own; ``team(module, value)`` rewrites one and imports it again, as the next
    run's process would."""
    from suite.methods import _REGISTRY, EXTRA_METHODS_ENV

    folder = tmp_path / "team"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(EXTRA_METHODS_ENV, PLUGIN)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # an edit within the second is seen

    def write(module: str, value: str) -> None:
        source = PLUGIN_SOURCE if module == PLUGIN else FACTORY_SOURCE
        (folder / f"{module}.py").write_text(source.format(value=value, name=PLUGIN))
        if module == PLUGIN:  # importing it again registers it again
            _REGISTRY.pop(PLUGIN, None)
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
        importlib.import_module(module)
        load_factory.cache_clear()

    write(PLUGIN, "0.3")
    write(FACTORY, "3")
    yield write
    _REGISTRY.pop(PLUGIN, None)
    for module in (PLUGIN, FACTORY):
        sys.modules.pop(module, None)
    load_factory.cache_clear()


def test_an_edit_to_one_methods_module_re_prepares_only_its_cases(team, write_cases, tmp_path):
    cases, cache = write_cases(TEAM_CASES), tmp_path / "cache"
    first = run(cases, tmp_path / "first", cache, "--no-analysis")
    assert prepared(first) == (3, [])

    team(PLUGIN, "0.45")
    plugin = run(cases, tmp_path / "plugin", cache, "--no-analysis")
    assert prepared(plugin) == (1, ["factory", "suite"])
    # built by the edited code: other weights, so another export
    assert plugin["cases"][0]["onnx"]["file"] != first["cases"][0]["onnx"]["file"]

    team(FACTORY, "5")
    factory = run(cases, tmp_path / "factory", cache, "--no-analysis")
    assert prepared(factory) == (1, ["plugin", "suite"])
    assert factory["cases"][1]["onnx"]["file"] != first["cases"][1]["onnx"]["file"]
    assert [c["status"] for c in factory["cases"]] == ["ok"] * 3


SAFETY_CASES = """
[defaults]
channels = 3
size = 8

[[case]]
id = "s"
method = ["transposed", "resize_conv", "interpolate", "pixel_shuffle", "bilinear_mix"]

[[case]]
id = "stale"
method = "transposed"
seed = 1

[[case]]
id = "broken"
factory = "factories:fails_to_export"
scale = 2
"""


def spoil(cache: Path, found: dict[str, Path], first: dict) -> None:
    """Every way an entry must not be read: corrupted; another case's at this key, or this
    case's under other key material (two collisions); half-written (the scratch file of an
    atomic write, never renamed); its export gone from the export cache. The interpolate
    case's entry is kept."""
    corrupted = found["s[method=transposed]"]
    found["s[method=resize_conv]"].write_bytes(corrupted.read_bytes())
    corrupted.write_bytes(corrupted.read_bytes()[:100])
    stale = pickle.loads(found["stale"].read_bytes())
    material = json.loads(stale["material"])
    stale["material"] = material_text({**material, "threads": material["threads"] + 1})
    found["stale"].write_bytes(pickle.dumps(stale))
    half = found["s[method=pixel_shuffle]"]
    half.with_name(f".{half.name}.1.partial").write_bytes(half.read_bytes()[:-10])
    half.unlink()
    exported = {case["id"]: case["onnx"]["file"] for case in first["cases"] if case["onnx"]}
    (cache / exported["s[method=bilinear_mix]"]).unlink()


def test_an_entry_not_to_be_trusted_is_prepared_again_and_a_failed_case_is_never_kept(
    write_cases, tmp_path
):
    cases, cache = write_cases(SAFETY_CASES), tmp_path / "cache"
    first = run(cases, tmp_path / "first", cache, "--no-analysis", code=1)
    found = entries(cache)
    assert "broken" not in found and len(found) == 6  # the failed case was not kept
    spoil(cache, found, first)

    again = run(cases, tmp_path / "again", cache, "--no-analysis", code=1)

    assert prepared(again) == (6, ["s[method=interpolate]"])
    assert_same_figures(first, again)
    # each spoilt entry was written again, whole, under its own key
    assert sorted(entries(cache)) == sorted(found)
    for case_id, path in entries(cache).items():
        assert path == found[case_id]


def test_a_run_stopped_after_its_cases_came_from_the_cache_resumes_with_them(
    write_cases, tmp_path, monkeypatch
):
    cases, cache, out = write_cases(CASES), tmp_path / "cache", tmp_path / "run"
    ids = [case["id"] for case in run(cases, tmp_path / "first", cache, "--no-analysis")["cases"]]

    def interrupted(*args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:  # stopped once every case is in: checkpointed too
        patch.setattr(bench_run, "time_all", interrupted)
        run_args = [str(cases), "--out", str(out), "--quick", "--no-report", "--no-analysis"]
        assert cli(["run", *run_args, "--cache", str(cache)]) == 130

    resumed = run(cases, out, cache, "--no-analysis", "--resume")

    assert resumed["run"]["resumed"][0]["cases"] == 3
    assert prepared(resumed) == (0, ids)  # still named as read from the cache
