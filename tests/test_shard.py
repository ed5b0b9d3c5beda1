"""Shards and merge: three shards merged are the run of every case in every deterministic
figure; a merge of what does not belong together is refused with one line, writing nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from figures import deterministic

from suite.cli import main as cli
from suite.shard import Shard

CASES = """
[defaults]
channels = 1
size = 16

[[case]]
id = "c"
method = ["transposed", "bilinear_mix", "resize_conv", "pixel_shuffle", "interpolate"]
"""


@pytest.fixture(scope="module")
def shard_runs(tmp_path_factory, export_cache):
    """One run of every case, and the same cases as three shards."""
    root = tmp_path_factory.mktemp("shards")
    path = root / "cases.toml"
    path.write_text(CASES)
    common = ["--quick", "--no-report", "--workers", "0", "--cache", str(export_cache)]
    assert cli(["run", str(path), "--out", str(root / "whole"), *common]) == 0
    for i in (1, 2, 3):
        out = root / f"shard{i}"
        assert cli(["run", str(path), "--out", str(out), "--shard", f"{i}/3", *common]) == 0
    return root


def read(folder):
    return json.loads((folder / "results.json").read_text())


@pytest.mark.slow
def test_three_shards_merged_are_the_whole_run(shard_runs, capsys):
    shards = [shard_runs / f"shard{i}" for i in (3, 1, 2)]  # any order
    out = shard_runs / "merged"
    assert cli(["merge", *map(str, shards), "--out", str(out)]) == 0
    whole, merged = read(shard_runs / "whole"), read(out)
    assert [len(read(s)["cases"]) for s in shards] == [1, 2, 2]
    assert [c["id"] for c in merged["cases"]] == [c["id"] for c in whole["cases"]]
    for one, other in zip(whole["cases"], merged["cases"], strict=True):
        assert deterministic({**one, "samples": {}}) == deterministic({**other, "samples": {}})
        assert sorted(one["samples"]) == sorted(other["samples"])
    assert merged["run"]["merged_from"] == [
        read(shard_runs / f"shard{i}")["run"]["id"] for i in (1, 2, 3)
    ]
    # each case's pictures moved with it: the merged run's samples are the whole run's
    from suite.samplefile import load_samples

    assert sorted(load_samples(out)) == sorted(load_samples(shard_runs / "whole"))
    for one, other in zip(whole["cases"], merged["cases"], strict=True):
        a = load_samples(shard_runs / "whole", set(one["samples"].values()))
        b = load_samples(out, set(other["samples"].values()))
        for name in one["samples"]:
            assert (a[one["samples"][name]] == b[other["samples"][name]]).all()
    assert len(list((out / "timing").glob("shard*-*.json"))) >= 3


def _refused(capsys, *args) -> list[str]:
    assert cli(["merge", *map(str, args)]) == 2
    return capsys.readouterr().err.strip().splitlines()


@pytest.mark.slow
def test_merge_refuses_shards_missing_twice_whole_or_of_another_commit(
    shard_runs, tmp_path, capsys
):
    s1, s2, s3 = (shard_runs / f"shard{i}" for i in (1, 2, 3))
    out = tmp_path / "merged"
    err = _refused(capsys, s1, s2, "--out", out)
    assert err == ["error: shard [3] of 3 not given"]
    err = _refused(capsys, s1, s2, s2, s3, "--out", out)
    assert err == [f"error: {s2}: shard 2 is also {s2}"]
    err = _refused(capsys, s1, shard_runs / "whole", "--out", out)
    assert err == [f"error: {shard_runs / 'whole'}: not a shard (run without --shard)"]
    # another commit: a copy of shard 3 whose run says so
    other = _altered(
        s3, tmp_path / "other-commit", lambda r: r["run"]["git"].update(commit="0" * 40)
    )
    err = _refused(capsys, s1, s2, other, "--out", out)
    assert len(err) == 1 and err[0].startswith(f"error: {other}: commit {'0' * 40} is not ")
    assert not out.exists()


@pytest.mark.slow
def test_merge_refuses_shards_of_other_versions_case_sets_or_ids(shard_runs, tmp_path, capsys):
    s1, s2, s3 = (shard_runs / f"shard{i}" for i in (1, 2, 3))
    out = tmp_path / "merged"
    # other library versions
    torch = _altered(s3, tmp_path / "torch", lambda r: r["run"]["versions"].update(torch="0.0.1"))
    assert _refused(capsys, s1, s2, torch, "--out", out) == [
        f"error: {torch}: run.versions differs from {s1}'s"
    ]
    # another case set
    cases = _altered(s3, tmp_path / "cases", lambda r: r["run"]["shard"].update(case_set="0" * 16))
    assert _refused(capsys, s1, s2, cases, "--out", out) == [
        f"error: {cases}: another case set or shard count than {s1}'s"
    ]
    # a case id twice: shard 3's first case is shard 1's first one
    first = read(s1)["cases"][0]["id"]
    twice = _altered(s3, tmp_path / "twice", lambda r: r["cases"][0].update(id=first))
    assert _refused(capsys, s1, s2, twice, "--out", out) == [
        "error: the shards' cases are not the case set they name (duplicate ids?)"
    ]
    assert not out.exists()


def _altered(shard: Path, folder: Path, change) -> Path:
    """A copy of ``shard``'s folder whose results.json ``change`` altered."""
    shutil.copytree(shard, folder)
    results = read(shard)
    change(results)
    (folder / "results.json").write_text(json.dumps(results))
    return folder


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3/2", "--shard: 3/2: I must be between 1 and N (N >= 1)"),
        ("0/2", "--shard: 0/2: I must be between 1 and N (N >= 1)"),
        ("two", "--shard: 'two' is not I/N (e.g. 2/3)"),
    ],
)
def test_a_bad_shard_is_one_line_and_writes_nothing(text, message, write_cases, tmp_path, capsys):
    out = tmp_path / "run"
    path = write_cases(CASES)
    assert cli(["run", str(path), "--shard", text, "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {message}"]
    assert not out.exists()


def test_shards_take_cases_round_robin_and_cover_every_case_once():
    cases = list(range(10))
    parts = [Shard(i, 3).select(cases) for i in (1, 2, 3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert sorted(case for part in parts for case in part) == cases
