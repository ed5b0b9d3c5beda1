"""The key of a prepared case (suite/bench/prepared_cache.py): each of its inputs changed in
turn gives another key; an edit to a file of the suite changes the code digest
(suite/casecode.py) of exactly the cases it can change; and the suite's method modules reach
one another only by import, which is what the digest follows."""

from __future__ import annotations

import ast
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from suite import codekey
from suite.bench import prepared_cache
from suite.bench.pipeline import Settings
from suite.bench.prepared_cache import PreparedCache, common_material, entry_key
from suite.casecode import CaseCode, source_file
from suite.casefile import load_text
from suite.runtimes import get_runtime

CASES = """
[defaults]
channels = 3
size = 8

[[case]]
id = "m"
method = ["transposed", "zoh_transposed", "carafe", "resize_conv"]

[[case]]
id = "outside"
factory = "factories:repeated_resize_conv"
scale = 2
"""
ALL = {"m[method=transposed]", "m[method=zoh_transposed]", "m[method=carafe]"}
ALL |= {"m[method=resize_conv]", "outside"}
#: a file of the suite edited, and the cases whose code that changes (a factory outside the
#: suite may build any method by name: every method module is its code)
EDITS = [
    ("methods/carafe.py", {"m[method=carafe]", "outside"}),
    ("methods/transposed.py", {"m[method=transposed]", "m[method=zoh_transposed]", "outside"}),
    ("methods/zoh_transposed.py", {"m[method=zoh_transposed]", "outside"}),
    ("methods/base.py", ALL),  # no method module: it decides every method
    ("parity.py", ALL),
]


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    """A copy of the suite's files that a test may edit: the digests are taken from it."""
    copy = tmp_path / "suite"
    shutil.copytree(codekey.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codekey, "PACKAGE", copy)
    codekey.source_digest.cache_clear()
    yield copy
    codekey.source_digest.cache_clear()


def edit(path: Path) -> None:
    with path.open("a") as file:
        file.write("\n# edited\n")
    codekey.source_digest.cache_clear()


def test_an_edit_changes_the_code_of_only_the_cases_it_can_change(package):
    cases = load_text(CASES, "methods.toml")
    before = {case.id: CaseCode().digest(case) for case in cases}
    assert None not in before.values()
    for edited, changed in EDITS:
        edit(package / edited)
        after = {case.id: CaseCode().digest(case) for case in cases}
        assert {i for i in after if after[i] != before[i]} == changed, edited
        before = after


def test_each_input_of_the_key_gives_another_key(package, monkeypatch, tmp_path):
    case, other = load_text(CASES, "methods.toml")[:2]
    settings = Settings(tmp_path, threads=2, analyse=True)

    def key(case=case, settings=settings, runtimes=("torch-cpu", "onnx-reference")) -> str:
        common = common_material(settings, list(runtimes))
        return entry_key(PreparedCache(tmp_path, common, False, True).material(case))

    keys = {"as it was": key()}
    assert key() == keys["as it was"]
    keys["case"] = key(case=other)
    keys["threads"] = key(settings=replace(settings, threads=1))
    keys["analyse"] = key(settings=replace(settings, analyse=False))
    keys["runtimes"] = key(runtimes=("torch-cpu",))
    changes = {
        "versions": (prepared_cache, "versions", lambda: {"torch": "0.0"}),
        "cpu": (prepared_cache, "cpu_model", lambda: "another processor"),
        "a runtime's availability": (get_runtime("onnx-reference"), "unavailable", lambda: "gone"),
    }
    for name, (owner, attribute, value) in changes.items():
        with monkeypatch.context() as patch:
            patch.setattr(owner, attribute, value)
            keys[name] = key()
    edit(package / "methods/transposed.py")
    keys["code"] = key()
    assert len(set(keys.values())) == len(keys), keys


def test_the_suites_method_modules_reach_one_another_only_by_import():
    """A method module that looked another method up by name would change that method's
    cases without its import showing it: the digests would miss it."""
    by_name = {"create_upsampler", "get_method", "_REGISTRY", "Stage"}
    modules = CaseCode().suite_methods
    assert len(modules) >= 10
    for name in modules:
        tree = ast.parse(source_file(name).read_bytes())
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert not used & by_name, name


def test_a_method_module_that_no_longer_parses_counts_every_method_module_as_its_code(package):
    """Edited since it was imported, its imports cannot be read: its cases then depend on
    every method module, as code outside the suite does, and the run goes on."""
    carafe = next(c for c in load_text(CASES, "methods.toml") if c.id == "m[method=carafe]")
    assert CaseCode().modules(carafe) == {"suite.methods.carafe"}
    (package / "methods/carafe.py").write_text("def broken(:\n")
    assert CaseCode().modules(carafe) == CaseCode().suite_methods
    assert CaseCode().digest(carafe) is not None
