"""The sharing probe beside a serial run (``run --workers 0 --measure-sharing N``): which cases it
prepares again, which of their tasks count as sharing the cores, what it records, and the plan
it feeds."""

from __future__ import annotations

import json

import pytest
from test_plan import Named, made_up_run

from suite.bench.cluster import PrepareOutcome
from suite.bench.sharing import all_busy, sample
from suite.cli import main as cli_main
from suite.plan import plan, slots_caveat
from suite.results import validate


def test_the_sample_spreads_over_the_cases_ordered_by_cpu_seconds():
    cpu_s = {f"c{i:02d}": float(i) for i in range(30)}
    picked = sample(cpu_s, 4)
    # the lightest, the heaviest, and two evenly between them (indices 0, 10, 19, 29)
    assert picked == ["c00", "c10", "c19", "c29"]
    assert sample({"a": 2.0, "b": 1.0}, 4) == ["b", "a"]  # fewer cases than asked: all
    assert sample({}, 4) == []


def outcome(worker: str, began: float, ended: float) -> PrepareOutcome:
    return PrepareOutcome(None, None, "", worker, began, ended)  # type: ignore[arg-type]


def test_only_tasks_that_ended_while_every_worker_had_work_count():
    """Worker a runs out of work at 10 s, b at 14 s: b's task from 9 to 14 s ran partly alone."""
    tasks = [
        ("x", outcome("a", 0.0, 4.0)),
        ("y", outcome("b", 0.0, 9.0)),
        ("z", outcome("a", 4.0, 10.0)),
        ("w", outcome("b", 9.0, 14.0)),
    ]
    assert [case_id for case_id, _ in all_busy(tasks, 2)] == ["x", "y", "z"]
    # a worker lost (one address only where two were asked for): nothing shared for certain
    assert all_busy(tasks[::2], 2) == []
    assert len(all_busy(tasks[::2], 1)) == 2  # one worker shares with none: all count


def serial_run_with_sharing(slowdown: float, start_s: float, wall_s: float) -> dict:
    """The made-up run as a serial run of four 17 + 9 CPU-second cases that measured two
    workers sharing its cores, its probe taking ``wall_s`` of its wall time."""
    run = made_up_run(10.0, 6.0, ["a", "b", "c", "d"])
    run["run"]["phases"]["prepare"]["workers"] = 0
    run["run"]["options"] = {"threads": 2}
    for case in run["cases"]:
        case["durations_s"] |= {"cpu.prepare": 17.0, "cpu.check": 9.0}
    sharing = {"workers": 2, "wall_s": wall_s, "start_s": start_s, "slowdown": slowdown}
    run["run"]["phases"]["sharing"] = sharing
    # one slot: four tasks of 10 + 6 s one after another, 8 s of timing, 5 s fixed, the probe
    run["run"]["wall_s"] = 4 * 16.0 + 8.0 + 5.0 + wall_s
    return run


def test_a_measured_slowdown_scales_each_task_and_the_workers_start_is_paid_once():
    run = serial_run_with_sharing(slowdown=1.5, start_s=7.0, wall_s=30.0)
    cases = [Named(i) for i in "abcd"]
    on_two = plan(cases, run, machines=1, workers=2)
    # four tasks of (17 + 9) x 1.5 CPU seconds on two slots, after 7 s of start
    assert on_two.prepare_s == pytest.approx(7.0 + 2 * 26.0 * 1.5)
    # the probe's 30 s are the serial run's, not a cost of the planned run
    assert on_two.fixed_s == pytest.approx(5.0)
    assert "CPU seconds x 1.50, after 7 s to start the workers" in slots_caveat(run, 2)
    # measured for two workers, not three: not applied, and the caveat says how to measure it
    assert plan(cases, run, machines=1, workers=3).prepare_s == pytest.approx(2 * 26.0)
    assert "--measure-sharing 3" in slots_caveat(run, 3)
    # a probe that measured nothing (skipped) is no measure
    run["run"]["phases"]["sharing"] = {"workers": 2, "wall_s": 0.1, "skipped": "why"}
    assert plan(cases, run, machines=1, workers=2).prepare_s == pytest.approx(2 * 26.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "2", "--measure-sharing", "2"], "only with --workers 0"),
        (["--workers", "0", "--measure-sharing", "0"], "must be >= 1, got 0"),
    ],
)
def test_the_probe_is_refused_where_it_measures_nothing(
    write_cases, tmp_path, capsys, options, message
):
    path = write_cases('[[case]]\nid = "t"\nmethod = "transposed"\n')
    assert cli_main(["run", str(path), "--out", str(tmp_path / "out"), *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--measure-sharing" in err[0] and message in err[0]
    assert not (tmp_path / "out").exists()


CASES = """
[defaults]
channels = 3
size = 16

[[case]]
id = "s"
method = ["transposed", "resize_conv", "pixel_shuffle"]
"""


@pytest.mark.slow
def test_a_serial_run_records_what_two_workers_sharing_its_cores_cost(
    write_cases, run_suite, export_cache, tmp_path, capsys
):
    path, out = write_cases(CASES), tmp_path / "serial"
    # no figures: the probe measures the same either way, at half the time
    options = ["--quick", "--no-analysis", "--workers", "0", "--measure-sharing", "2"]
    options += ["--out", str(out)]
    assert run_suite(str(path), *options, "--cache", str(export_cache)) == 0
    results = json.loads((out / "results.json").read_text())
    validate(results)
    sharing = results["run"]["phases"]["sharing"]
    ids = [case["id"] for case in results["cases"]]
    assert sharing["workers"] == 2 and "skipped" not in sharing
    assert sorted(sharing["cases"]) == sorted(ids)  # three cases: the sample is all of them
    # the first task to end ended while the other worker was busy
    assert 1 <= sharing["busy_tasks"] <= 3
    assert sharing["slowdown"] == pytest.approx(sharing["busy_wall_s"] / sharing["busy_cpu_s"])
    # how large it is belongs to the machine at that moment (1.0 to 1.25 alone on 2 cores,
    # 5.7 beside another test process): no bound on it here, where a timed test does not belong
    assert sharing["slowdown"] > 0
    assert 0 < sharing["start_s"] < sharing["wall_s"] < results["run"]["wall_s"]
    capsys.readouterr()
    assert cli_main(["plan", str(path), "--workers", "2", "--from", str(out)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert f"x {sharing['slowdown']:.2f}" in said
    assert "one recorded run" in said
    _check_the_plan_held_against_a_run(path, out, results, tmp_path, capsys)


def _check_the_plan_held_against_a_run(path, out, results: dict, tmp_path, capsys) -> None:
    ids = [case["id"] for case in results["cases"]]
    # held against a two-worker run: this run's record, as if it had prepared on two workers
    # and taken a quarter longer than the plan, which is then 20 % under it
    planned = plan([Named(i) for i in ids], results, machines=1, workers=2).makespan_s
    two = _as_two_worker_run(results, 1.25 * planned, tmp_path / "two")
    again = tmp_path / "again"  # a second serial run, the same as the first
    again.mkdir()
    (again / "results.json").write_text(json.dumps(results))
    one = ["plan", str(path), "--workers", "2", "--from", str(out)]
    assert cli_main([*one, "--from", str(again), "--against", str(two)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "from 2 runs" in said and "planned from the middle one" in said
    assert "range over 2 runs" in said and "the plan is 20.0 % under it;" in said
    assert "the plans from the 2 runs, 20.0 % under to 20.0 % under" in said
    # held against a serial run, or one of cached cases; a run given twice, held against
    # itself, or runs of both kinds: refused, one line each
    _as_two_worker_run(results, 1.0, tmp_path / "cached", from_cache=ids[:1])
    for wrong, message in [
        ([*one[:-1], str(again), "--against", str(out)], "it prepared serially"),
        ([*one, "--against", str(tmp_path / "cached")], "from the prepared-case cache"),
        ([*one, "--from", str(two)], "prepared on 0 and 2 workers"),
        ([*one, "--from", str(two), "--against", str(two)], "it is also --against"),
        ([*one, "--from", str(out / ".." / out.name)], "given twice"),  # the same, resolved
    ]:
        assert cli_main(wrong) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (message, err)


def _as_two_worker_run(results: dict, wall_s: float, folder, from_cache=()):
    record = json.loads(json.dumps(results))
    record["run"]["wall_s"] = wall_s
    record["run"]["phases"]["prepare"]["workers"] = 2
    if from_cache:
        record["run"]["phases"]["prepare"]["from_cache"] = list(from_cache)
    validate(record)
    folder.mkdir(exist_ok=True)
    (folder / "results.json").write_text(json.dumps(record))
    return folder
