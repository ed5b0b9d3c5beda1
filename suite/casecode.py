"""The code that decides a prepared case, as one digest per case, so that an edit re-prepares
only the cases it can change (``bench/prepared_cache.py``).

A method module (a module that registers a method: suite/methods/carafe.py, or a team's own)
decides only the cases whose stages use its method; every other file of the suite decides every
case. So a case's code is:

- every source and data file of the suite but its method modules (``codekey.source_digest``),
  and the modules outside the suite of every registered runtime and figure;
- the module of each method its stages use, and the method modules that one imports
  (``from .transposed import Transposed``), and so on;
- where a stage's code lies outside the suite (a factory's module, a team's method module):
  that module, and every method module of the suite, since it may build any method by name
  (``create_upsampler``) where no import shows it.

No method module of the suite reaches another through the registry by name (a test holds it
to that): the imports are the whole story there.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path

from . import codekey
from .analysis.registry import list_metrics
from .case import Case
from .methods import _REGISTRY as METHODS
from .methods.factory import FACTORY, load_factory
from .runtimes import _REGISTRY as RUNTIMES

SUITE = __name__.partition(".")[0]


def inside(name: str) -> bool:
    return name == SUITE or name.startswith(f"{SUITE}.")


def source_file(name: str) -> Path | None:
    """A module's source file: the suite's from ``codekey.PACKAGE`` (where its digest is
    taken), any other's from where it was imported; None where it has none."""
    if inside(name):
        relative = Path(*name.split(".")[1:])
        found = [codekey.PACKAGE / f"{relative}.py", codekey.PACKAGE / relative / "__init__.py"]
    else:
        found = [Path(getattr(sys.modules.get(name), "__file__", None) or "")]
    return next((path for path in found if path.suffix == ".py" and path.is_file()), None)


def imported(name: str, path: Path) -> set[str]:
    """Every module name ``path`` (the module ``name``) imports, or might: ``from a import b``
    names ``a`` and ``a.b``."""
    names: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(package, node)
            names.update({base, *(f"{base}.{alias.name}" for alias in node.names)})
    return names


def _absolute(package: str, node: ast.ImportFrom) -> str:
    """The module ``from ... import`` names, relative dots resolved from ``package``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


class CaseCode:
    """The code digests of one run's cases: the modules are found and read once per run."""

    def __init__(self) -> None:
        self.methods = {method.__module__ for method in METHODS.values()}
        self.suite_methods = {n for n in self.methods if inside(n) and source_file(n)}
        excluded = {str(source_file(n).relative_to(codekey.PACKAGE)) for n in self.suite_methods}
        plugins = self._files(shared_plugins())
        suite = ("suite", codekey.source_digest(frozenset(excluded)))
        #: the part every case shares; None where a module of it has no source to read
        self.shared = None if _unread(plugins) else _digest_of([suite, *plugins])

    def _files(self, names: Iterable[str]) -> list[tuple[str, str | None]]:
        return [(name, _file_digest(source_file(name))) for name in sorted(names)]

    def modules(self, case: Case) -> set[str]:
        """The modules outside the shared part that decide ``case``."""
        found: set[str] = set()
        todo = [METHODS[stage.method].__module__ for stage in case.stages]
        for stage in case.stages:
            if stage.method == FACTORY:
                named = stage.params[FACTORY].partition(":")[0]
                todo += [named, getattr(load_factory(stage.params[FACTORY]), "__module__", named)]
        while todo:
            name = todo.pop()
            if name in found:
                continue
            found.add(name)
            todo += sorted(self._imports(name))
        return found

    def _imports(self, name: str) -> set[str]:
        """The method modules ``name`` imports; every one of the suite's where that cannot be
        seen: code outside the suite may build any method by name, and a file edited since it
        was imported may no longer parse."""
        path = source_file(name)
        try:
            found = imported(name, path) & self.methods if path else set()
        except SyntaxError:
            return set(self.suite_methods)
        return found if inside(name) else found | self.suite_methods

    def digest(self, case: Case) -> str | None:
        """The case's code digest; None where a module of it has no source to read (then it
        is never cached)."""
        parts = self._files(self.modules(case))
        if self.shared is None or _unread(parts):
            return None
        return _digest_of([("", self.shared), *parts])


def shared_plugins() -> set[str]:
    """Modules outside the suite that decide every case: registered runtimes' and figures'."""
    names = {type(runtime).__module__ for runtime in RUNTIMES.values()}
    names |= {getattr(m.compute, "__module__", "") for m in list_metrics() if m.compute}
    return {name for name in names if not inside(name)}


def _unread(parts: list[tuple[str, str | None]]) -> bool:
    return any(digest is None for _, digest in parts)


def _file_digest(path: Path | None) -> str | None:
    return None if path is None else hashlib.sha256(path.read_bytes()).hexdigest()


def _digest_of(parts: list[tuple[str, str | None]]) -> str:
    digest = hashlib.sha256()
    for name, value in parts:
        digest.update(f"{name}\0{value}\0".encode())
    return digest.hexdigest()
