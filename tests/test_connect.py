"""Reaching a cluster that is not there, or not fit to run on: a scheduler nobody listens for,
a scheduler file that is missing, malformed or names such a scheduler, and Dask's own version
check of the client, the scheduler and the workers. Each is one line naming the problem,
exit 2, and no run folder."""

from __future__ import annotations

import socket

import pytest
from distributed.versions import get_versions

from suite.bench import connect
from suite.bench.connect import check_dask_versions
from suite.errors import UsageError

CASES = """
[[case]]
id = "c"
method = "transposed"
channels = 3
size = 8
"""


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def refused(write_cases, run_suite, tmp_path, capsys, monkeypatch):
    """refused(*options) -> the one line a run through them printed; asserts exit 2 and that
    it wrote nothing."""
    monkeypatch.setattr(connect, "CONNECT_TIMEOUT_S", 1.0)  # Dask retries for the whole wait
    cases, out = str(write_cases(CASES)), tmp_path / "run"

    def run(*options: str) -> str:
        capsys.readouterr()
        assert run_suite(cases, *options, "--out", str(out), "--quick") == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert not out.exists()
        return line

    return run


def test_a_scheduler_nobody_listens_for_is_one_line(refused):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    line = refused("--cluster", address)
    assert line.startswith(f"error: --cluster: cannot reach {address}: "), line
    assert "Timed out trying to connect" in line


@pytest.mark.parametrize(
    "text, problem",
    [
        (None, "does not exist (waited 1 s for a scheduler to write it)"),
        ("{}", "is not a Dask scheduler file (no address)"),
        ('{"address": 8786}', "is not a Dask scheduler file (its address is 8786"),
        ("{not json", "is not a Dask scheduler file (Expecting property name"),
    ],
)
def test_a_scheduler_file_that_names_no_scheduler_is_one_line(refused, tmp_path, text, problem):
    path = tmp_path / "scheduler.json"
    if text is not None:
        path.write_text(text)
    line = refused("--scheduler-file", str(path))
    assert line.startswith(f"error: --scheduler-file: {path} {problem}"), line


def test_a_scheduler_file_naming_a_scheduler_nobody_listens_for_is_one_line(refused, tmp_path):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    path = tmp_path / "scheduler.json"
    path.write_text(f'{{"type": "Scheduler", "address": "{address}"}}')
    line = refused("--scheduler-file", str(path))
    wanted = f"error: --scheduler-file: cannot reach the scheduler in {path} ({address}): "
    assert line.startswith(wanted), line


def _cluster(client: dict, scheduler: dict, workers: dict[str, dict]) -> dict:
    """``Client.get_versions()``'s answer, from these packages."""
    host = get_versions()["host"]

    def entry(packages: dict) -> dict:
        return {"host": host, "packages": packages}

    return {
        "client": entry(client),
        "scheduler": entry(scheduler),
        "workers": {w: entry(p) for w, p in workers.items()},
    }


def test_dasks_own_version_check_refuses_a_mismatch_in_one_line():
    mine = get_versions()["packages"]
    other_distributed = {**mine, "distributed": "2000.1.0"}
    other_dask = {**mine, "dask": "2000.1.0"}
    same = {"tcp://a:1": mine, "tcp://b:2": mine}
    check_dask_versions(_cluster(mine, mine, same), "--cluster", "here")  # the same: accepted
    # the scheduler's numpy is not one Dask's check compares (it runs no task): accepted too
    check_dask_versions(_cluster(mine, {**mine, "numpy": "0.1"}, same), "--cluster", "here")

    for versions, wanted in (
        (
            _cluster(mine, mine, {"tcp://a:1": mine, "tcp://b:2": other_distributed}),
            f"worker tcp://b:2 at here has distributed 2000.1.0, this run {mine['distributed']}",
        ),
        (
            _cluster(mine, other_dask, same),
            f"the scheduler at here has dask 2000.1.0, this run {mine['dask']}",
        ),
        (
            _cluster(mine, mine, {"tcp://a:1": {k: v for k, v in mine.items() if k != "toolz"}}),
            f"worker tcp://a:1 at here has toolz MISSING, this run {mine['toolz']}",
        ),
    ):
        with pytest.raises(UsageError) as refused:
            check_dask_versions(versions, "--scheduler-file", "here")
        (line,) = refused.value.lines
        assert line == f"--scheduler-file: Dask's version check: {wanted}", line
