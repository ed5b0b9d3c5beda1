"""Shared fixtures: case files written into tmp_path, one export cache per test session, one
quick end-to-end run that several tests read, and the registered runtimes a test that takes
``runtime`` runs on (``--device``).

Under pytest-xdist (``tox -e py`` runs on two workers) each worker gets its own share of the
usable cores, and the session's export cache, quick run and compare run are shared by every
worker: the first to need a run makes it while the others wait on its lock."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from compare_command import compare
from filelock import FileLock

from suite.cli import main as cli_main
from suite.runtimes import get_runtime, list_runtimes

# A run's prepare phase defaults to a Dask LocalCluster of one worker per core. The tests' runs
# are a few small cases each, where starting the workers costs more than it saves: they prepare
# in-process unless a test asks for workers (tests/test_cluster.py does, and compares the two).
os.environ.setdefault("UPSAMPLING_BENCH_WORKERS", "0")

SMALL_CASES = """
[defaults]
channels = 3
size = 8

[[case]]
id = "small"
method = ["transposed", "resize_conv", "interpolate", "pixel_shuffle", "bilinear_mix"]

[[case]]
id = "small-decoder"
[[case.stage]]
method = "resize_conv"
[[case.stage]]
method = "transposed"
"""


#: ``--device``: the devices whose runtimes are exercised (kornia's option; ``Runtime.device``)
DEVICES = {"cpu": ("cpu",), "cuda": ("cuda",), "all": ("cpu", "cuda")}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        choices=sorted(DEVICES),
        default="cpu",
        help="run the tests that take a `runtime` on the registered runtimes of this device: "
        "cpu (default), cuda or all; a CUDA runtime's tests carry the gpu marker",
    )


#: the usable cores of this process before an xdist worker took its share (pytest_configure)
WHOLE_MACHINE: set[int] = set()


def pytest_configure(config: pytest.Config) -> None:
    """An xdist worker keeps its share of the usable cores (``gw0`` the first, ``gw1`` the
    second, ...), so that what the suite derives from them follows in every process a test
    starts (``run --threads`` and ``--workers``, torch's threads, the machine class), and two
    workers never run four threads on two cores, where OpenMP's spinning waits multiply a
    test's time (seen: a trained init's 14 s became 111 s)."""
    WHOLE_MACHINE.update(os.sched_getaffinity(0))
    worker = getattr(config, "workerinput", None)
    if worker is None:
        return
    cores = sorted(WHOLE_MACHINE)
    index, count = int(worker["workerid"].removeprefix("gw")), int(worker["workercount"])
    share = cores[index::count] or [cores[index % len(cores)]]
    os.sched_setaffinity(0, share)
    torch.set_num_threads(len(share))


@pytest.fixture
def whole_machine() -> Iterator[set[int]]:
    """Every usable core, for a test whose point needs more than an xdist worker's share (two
    machine classes on one host; a float32 reduction split over two threads); the worker's
    share and torch's threads are given back after it."""
    share, threads = os.sched_getaffinity(0), torch.get_num_threads()
    os.sched_setaffinity(0, WHOLE_MACHINE)
    try:
        yield WHOLE_MACHINE
    finally:
        os.sched_setaffinity(0, share)
        torch.set_num_threads(threads)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes ``runtime`` runs on every registered runtime on the devices ``--device``
    asks for: a runtime added to the registry is tested with nothing else edited."""
    if "runtime" not in metafunc.fixturenames:
        return
    devices = DEVICES[metafunc.config.getoption("device")]
    metafunc.parametrize(
        "runtime",
        [
            pytest.param(name, marks=[pytest.mark.gpu] if device == "cuda" else [])
            for name in list_runtimes()
            if (device := get_runtime(name).device) in devices
        ],
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A runtime absent here (no CUDA device, no provider) skips with its own reason."""
    name = getattr(item, "callspec", None) and item.callspec.params.get("runtime")
    if name and (reason := get_runtime(name).unavailable()):
        pytest.skip(f"{name}: {reason}")


@pytest.fixture
def write_cases(tmp_path: Path) -> Callable[..., Path]:
    """write_cases(text, name="cases.toml") -> path of a case file holding ``text``."""

    def write(text: str, name: str = "cases.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture(scope="session")
def session_root(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session that every xdist worker sees: the workers' base
    temporary folders are its subfolders (``popen-gw0``, ...); without xdist, the base one."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if hasattr(request.config, "workerinput") else base


@pytest.fixture(scope="session")
def export_cache(session_root: Path) -> Path:
    """One export cache for the whole session, every worker's: a case exported once is read by
    every later test that exports it (each file is written atomically, under its key)."""
    path = session_root / "onnx-cache"
    path.mkdir(exist_ok=True)
    return path


def run_suite(*args: str, report: bool = False) -> int:
    """``python -m suite run ARGS`` in this process (the bench's own pytest session nests);
    without the report unless asked (tests/test_report.py checks it)."""
    return cli_main(["run", *args, *([] if report else ["--no-report"])])


@pytest.fixture(name="run_suite", scope="session")
def run_suite_fixture() -> Callable[..., int]:
    return run_suite


def made_once(session_root: Path, name: str, make: Callable[[Path], None]) -> Path:
    """``session_root/name``, filled by ``make(folder)`` once in the session: by the first
    xdist worker to ask, while the others wait on its lock (one that failed is made again)."""
    folder, made = session_root / name, session_root / f"{name}.made"
    with FileLock(session_root / f"{name}.lock"):
        if not made.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            made.touch()
    return folder


@pytest.fixture(scope="session")
def quick_run(session_root: Path, export_cache: Path) -> dict:
    """One ``suite run --quick`` over SMALL_CASES for the whole session; returns exit code,
    results and the folder."""

    def make(root: Path) -> None:
        (root / "small.toml").write_text(textwrap.dedent(SMALL_CASES))
        args = ("--out", str(root / "run"), "--quick", "--cache", str(export_cache))
        (root / "exit-code").write_text(str(run_suite(str(root / "small.toml"), *args)))

    root = made_once(session_root, "quick-run", make)
    out, code = root / "run", int((root / "exit-code").read_text())
    results = json.loads((out / "results.json").read_text())
    return {"code": code, "results": results, "out": out, "cases_file": root / "small.toml"}


#: ``compare_run``'s block (tests/factories.py) and geometry
COMPARED = ("factories:nearest_conv_bias", "--channels", "4", "--size", "24")


@pytest.fixture(scope="session")
def compare_run(session_root: Path, export_cache: Path) -> dict:
    """One ``python -m suite compare`` of COMPARED for the whole session, in a fresh process as
    a user runs it (tests/test_compare.py reads what it printed, tests/test_plot_readability.py
    draws its run): exit code, stdout, stderr and the run folder."""

    def make(root: Path) -> None:
        args = ("--out", str(root / "run"), "--cache", str(export_cache))
        done = compare(*COMPARED, *args, cwd=root)
        (root / "exit-code").write_text(str(done.returncode))
        (root / "stdout").write_text(done.stdout)
        (root / "stderr").write_text(done.stderr)

    root = made_once(session_root, "compare-run", make)
    said = {name: (root / name).read_text() for name in ("stdout", "stderr")}
    return {"code": int((root / "exit-code").read_text()), **said, "out": root / "run"}
