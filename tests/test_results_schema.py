"""The results schema accepts what a run writes, refuses what it must, and every committed result
file follows it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from suite.atomic import write_json_atomic
from suite.errors import UsageError
from suite.results import SCHEMA_VERSION, load_results, load_run, validate

#: Resolved from this file, not the working directory: from anywhere else the set would be empty
#: and the test below would "pass" by running no case.
REPO = Path(__file__).resolve().parents[1]
COMMITTED = sorted((REPO / "results").rglob("results.json"))


def test_schema_refuses_a_wrong_version_and_status(quick_run):
    # 1: rounds pooled in one process; 2: before runs recorded their registries' entries;
    # 3: before each case's stage durations and the run's phases
    for version in (1, 2, 3, SCHEMA_VERSION + 1):
        results = copy.deepcopy(quick_run["results"])
        results["schema_version"] = version
        with pytest.raises(jsonschema.ValidationError):
            validate(results)
    results = copy.deepcopy(quick_run["results"])
    results["cases"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        validate(results)
    results = copy.deepcopy(quick_run["results"])
    del results["cases"][0]["runtimes"]["ort-cpu"]["latency"]
    with pytest.raises(jsonschema.ValidationError):
        validate(results)


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "results.json"
    target.write_text('{"old": true}')
    with pytest.raises(ValueError):
        write_json_atomic(target, {"bad": float("nan")})  # NaN is not JSON
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_the_committed_reference_run_is_among_the_files_checked():
    assert REPO / "results" / "reference" / "run" / "results.json" in COMMITTED


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: str(path.relative_to(REPO)))
def test_committed_results_follow_the_schema(path):
    load_results(path)


def test_a_results_file_of_another_version_is_one_line(quick_run, tmp_path):
    results = copy.deepcopy(quick_run["results"])
    results["schema_version"] = 1
    (tmp_path / "results.json").write_text(json.dumps(results))
    with pytest.raises(UsageError) as err:
        load_run(tmp_path)
    assert err.value.lines == [
        f"{tmp_path / 'results.json'}: schema_version 1, this suite reads {SCHEMA_VERSION} "
        "(and migrates from 4): run the cases again with this suite"
    ]


def test_typed_records_read_back_every_committed_case_unchanged():
    """``CaseRecord.from_dict`` is ``to_dict``'s inverse on every case a run wrote: the summary,
    the report and the gate read the same record the session serialised."""
    from suite.records import cases_of

    results = json.loads((REPO / "results/reference/run/results.json").read_text())
    cases = cases_of(results)
    assert len(cases) == len(results["cases"]) > 0
    assert [case.to_dict() for case in cases] == results["cases"]


def test_a_case_whose_status_its_runtimes_contradict_is_one_line(quick_run, tmp_path):
    """A record is checked, not trusted: a case marked ``ok`` whose runtime failed is refused when
    the run is read, naming the file and the case."""
    results = copy.deepcopy(quick_run["results"])
    case = results["cases"][0]
    case["runtimes"]["ort-cpu"].update(status="failed", reason="boom")
    write_json_atomic(tmp_path / "results.json", results)
    with pytest.raises(UsageError) as error:
        load_run(tmp_path)
    message = str(error.value)
    assert "\n" not in message and str(tmp_path) in message
    assert f"case {case['id']!r}: records status 'ok' but its runtimes give 'failed'" in message
