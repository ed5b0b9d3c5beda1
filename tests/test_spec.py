"""The run's specification (``bench/spec.py``): made once from the command line, frozen, and the
one place that picks where the run prepares and times (``executors.EXECUTORS``)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from suite.bench.executors import EXECUTORS, LocalClusterExecutor, SerialExecutor
from suite.bench.realcluster import ClusterExecutor
from suite.bench.spec import RunSpec
from suite.cli import build_parser
from suite.errors import UsageError

CASES = '[[case]]\nid = "x"\nmethod = ["interpolate", "transposed"]\nsize = 16\n'


def spec_of(path, out, *more: str) -> RunSpec:
    args = build_parser().parse_args(["run", str(path), "--out", str(out), *more])
    return RunSpec.from_args(args)


@pytest.mark.parametrize(
    ("options", "executor"),
    [
        (["--workers", "0"], SerialExecutor),
        (["--workers", "2"], LocalClusterExecutor),
        (["--workers", "2", "--cluster", "tcp://127.0.0.1:1"], ClusterExecutor),
        (["--scheduler-file", "scheduler.json"], ClusterExecutor),
    ],
)
def test_the_executor_is_picked_once_from_the_spec(options, executor, write_cases, tmp_path):
    spec = spec_of(write_cases(CASES), tmp_path / "run", *options)
    assert EXECUTORS[spec.where.engine] is executor


def test_the_spec_is_frozen_and_holds_what_the_command_line_asked(write_cases, tmp_path):
    out = tmp_path / "run"
    spec = spec_of(write_cases(CASES), out, "--quick", "--threads", "1", "--shard", "2/2")
    assert [case.id for case in spec.cases] == ["x[method=transposed]"]  # the second shard's case
    assert spec.all_ids == ("x[method=interpolate]", "x[method=transposed]")
    assert (spec.out, spec.run_id, spec.options.threads, spec.options.quick) == (
        out,
        "run",
        1,
        True,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.out = tmp_path  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.options.threads = 2  # type: ignore[misc]
    assert not out.exists()  # nothing is written until the run starts


def test_what_a_resume_must_ask_again_compares_as_its_json_does(write_cases, tmp_path):
    """``run.json`` keeps the asked options as JSON: a resume's must equal what it reads back."""
    spec = spec_of(write_cases(CASES), tmp_path / "run", "--runtimes", "ort-cpu")
    asked = spec.asked()
    assert asked == json.loads(json.dumps(asked))
    assert asked["runtimes"] == ["torch-cpu", "ort-cpu"] and asked["shard"] is None


def test_a_bad_option_is_refused_before_anything_is_written(write_cases, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(UsageError, match="--timer-class: only with --cluster"):
        spec_of(write_cases(CASES), out, "--timer-class", "x")
    with pytest.raises(UsageError, match="without --force"):
        spec_of(write_cases(CASES), out, "--resume", "--force")
    assert not out.exists()


def test_every_commands_help_reads_as_plain_text():
    """A command's description is its module's docstring, whose reST literal quotes (``x``)
    would show as they are in ``--help``."""
    commands = next(
        action for action in build_parser()._actions if action.dest == "command"
    ).choices
    assert len(commands) > 10
    for name, parser in commands.items():
        assert "``" not in parser.format_help(), name
