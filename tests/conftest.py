"""Shared fixtures: case files written into tmp_path, one export cache per test session, one
quick end-to-end run that several tests read, and the registered runtimes a test that takes
``runtime`` runs on (``--device``)."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

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
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


def run_suite(*args: str, report: bool = False) -> int:
    """``python -m suite run ARGS`` in this process (the bench's own pytest session nests);
    without the report unless asked (tests/test_report.py checks it)."""
    return cli_main(["run", *args, *([] if report else ["--no-report"])])


@pytest.fixture(name="run_suite", scope="session")
def run_suite_fixture() -> Callable[..., int]:
    return run_suite


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory, export_cache: Path) -> dict:
    """One ``suite run --quick`` over SMALL_CASES; returns exit code, results and the folder."""
    root = tmp_path_factory.mktemp("quick-run")
    cases = root / "small.toml"
    cases.write_text(textwrap.dedent(SMALL_CASES))
    out = root / "run"
    code = run_suite(str(cases), "--out", str(out), "--quick", "--cache", str(export_cache))
    results = json.loads((out / "results.json").read_text())
    return {"code": code, "results": results, "out": out, "cases_file": cases}
