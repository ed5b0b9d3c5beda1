"""The code part of a prepared case's key: an edit to a file of the suite changes the code
digest (suite/casecode.py) of exactly the cases it can change; and the suite's method modules
reach one another only by import, which is what the digest follows."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from suite import codekey
from suite.casecode import CaseCode, source_file
from suite.casefile import load_text

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
