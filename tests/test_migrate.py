"""Runs of an older results schema: read as migrated (``suite/migrate.py``), rewritten in place by
``python -m suite migrate``, refused in one line where no step reaches this suite's schema.

``tests/data/results-v4.json`` is two cases of the reference run as schema 4 wrote it (its
samples left out), so the step is checked on a run the suite really wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from suite.cli import main as cli
from suite.gate.baseline import figures, latency_classes
from suite.machines import machine_class
from suite.records import cases_of
from suite.results import RESULTS_FILE, SCHEMA_VERSION, load_results

V4 = Path(__file__).parent / "data" / "results-v4.json"


def _run_dir(tmp_path: Path, data: dict | None = None) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True)
    if data is None:
        shutil.copy(V4, run_dir / RESULTS_FILE)
    else:
        (run_dir / RESULTS_FILE).write_text(json.dumps(data), encoding="utf-8")
    return run_dir


def test_a_schema_4_run_reads_with_each_latency_naming_the_machine_that_timed_it(tmp_path):
    raw = json.loads(V4.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 4 == SCHEMA_VERSION - 1
    results = load_results(_run_dir(tmp_path))
    assert results["schema_version"] == SCHEMA_VERSION
    expected = machine_class(raw["run"]["machine"])
    assert expected.startswith("AMD EPYC") and "| 2 threads |" in expected
    latencies = [
        r.latency for case in cases_of(results) for r in case.runtimes.values() if r.latency
    ]
    assert len(latencies) >= 4 and all(lat["machine_class"] == expected for lat in latencies)
    assert latency_classes(results) == {expected}
    # nothing else moved: every figure the gate reads is the schema-4 run's
    for case, before in zip(cases_of(results), raw["cases"], strict=True):
        for name, result in case.runtimes.items():
            if result.latency:
                old = dict(before["runtimes"][name]["latency"])
                assert {**old, "machine_class": expected} == result.latency
        assert figures(case, ["ort-cpu"])["parity"] == {
            n: r["max_rel_err"]
            for n, r in before["runtimes"].items()
            if r["max_rel_err"] is not None
        }


def test_migrate_rewrites_the_file_once_and_atomically(tmp_path, capsys):
    run_dir = _run_dir(tmp_path)
    assert cli(["migrate", str(run_dir)]) == 0
    path = run_dir / RESULTS_FILE
    assert capsys.readouterr().out.strip() == f"{path}: schema 4 -> {SCHEMA_VERSION}"
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == load_results(_run_dir(tmp_path / "again"))
    assert not list(run_dir.glob("*.tmp*"))
    assert cli(["migrate", str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: already schema {SCHEMA_VERSION}"


def test_a_run_older_than_every_step_is_one_line_and_left_as_it_was(tmp_path, capsys):
    data = json.loads(V4.read_text(encoding="utf-8"))
    data["schema_version"] = 3
    run_dir = _run_dir(tmp_path, data)
    before = (run_dir / RESULTS_FILE).read_bytes()
    assert cli(["migrate", str(run_dir)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"error: {run_dir / RESULTS_FILE}: schema_version 3, this suite reads {SCHEMA_VERSION} "
        "(and migrates from 4): run the cases again with this suite"
    )
    assert (run_dir / RESULTS_FILE).read_bytes() == before
