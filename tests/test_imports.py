"""No import circles in suite/: every module imports alone, first of the suite's in its own
process, and no module imports (at module level) one that imports it back.

A circle that only works in one import order hides until some process happens to import the
other side first; the AST check finds it by the edges alone, the import check by its effect.
Imports inside a function are not edges: they are kept only where deliberate (a heavy optional
library a process may not need, plugin loading), each with a comment saying why, and
``test_a_function_level_import_of_the_suite_says_why`` holds them to that.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "suite"

#: ``python -m suite``'s entry point runs the command line when imported: not a library module.
NOT_IMPORTABLE = {"suite.__main__"}

#: Third-party libraries the suite's modules import: loaded once in the parent, so that each
#: forked child spends its time on the suite's own modules only (none of the suite's is loaded
#: in the parent, so each child imports its module first of the suite's).
PRELOADED = (
    *("numpy", "scipy.fft", "scipy.ndimage", "scipy.stats", "torch", "onnx", "onnxruntime"),
    *("matplotlib.pyplot", "seaborn", "jinja2", "jsonschema", "rich.console", "rich.progress"),
)

_IMPORT_EACH = textwrap.dedent(
    """
    import importlib, os, sys, traceback
    for library in {preloaded!r}:
        try:
            importlib.import_module(library)
        except ImportError:
            pass
    assert not [m for m in sys.modules if m == "suite" or m.startswith("suite.")]
    failed = []
    for name in {modules!r}:
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                print(f"--- {{name}}", file=sys.stderr)
                traceback.print_exc()
                sys.stderr.flush()
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status:
            failed.append(name)
    print(" ".join(failed))
    """
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def suite_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(SUITE.rglob("*.py"))}


def _in_function(tree: ast.Module) -> set[int]:
    """The ids of import nodes inside a function body (run when called, not when imported)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inside |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    return inside


def _targets(node: ast.Import | ast.ImportFrom, name: str, is_package: bool, known: set[str]):
    """The suite modules one import statement loads (``from . import x`` loads module x)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    package = name.split(".") if is_package else name.split(".")[:-1]
    base = package[: len(package) - node.level + 1] if node.level else []
    source = ".".join(base + ([node.module] if node.module else []))
    found = [source] if source in known else []
    return found + [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in known]


def import_graph(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[tuple[str, int]]]:
    """Module-level edges (``TYPE_CHECKING`` blocks included: a circle of types is a circle of
    design), and the function-level imports of suite modules as (file, line)."""
    known = set(modules)
    edges: dict[str, set[str]] = {name: set() for name in modules}
    deferred = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        inside = _in_function(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            targets = _targets(node, name, path.name == "__init__.py", known)
            if id(node) in inside:
                deferred += [(str(path.relative_to(ROOT)), node.lineno)] if targets else []
            else:
                edges[name].update(t for t in targets if t != name)
    return edges, deferred


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """A circle through each module on one not yet named, as the path that closes it."""
    cycles: list[list[str]] = []
    for start in sorted(edges):
        if any(start in cycle for cycle in cycles):
            continue
        path, stack, seen = [start], [iter(sorted(edges[start]))], {start}
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop(), path.pop()
            elif step == start:
                cycles.append([*path, start])
                break
            elif step not in seen:
                seen.add(step)
                path.append(step)
                stack.append(iter(sorted(edges[step])))
    return cycles


def test_no_module_imports_one_that_imports_it_back() -> None:
    edges, _ = import_graph(suite_modules())
    assert edges["suite.case"] and edges["suite.cli"]  # the graph is not empty by a parsing slip
    cycles = find_cycles(edges)
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_finder_names_a_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycles(edges) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_a_function_level_import_of_the_suite_says_why() -> None:
    _, deferred = import_graph(suite_modules())
    silent = []
    for file, line in deferred:
        lines = (ROOT / file).read_text().splitlines()
        said = "#" in lines[line - 1] or lines[line - 2].strip().startswith("#")
        silent += [] if said else [f"{file}:{line}"]
    assert not silent, "function-level imports without a comment saying why: " + ", ".join(silent)


def test_every_module_imports_alone_first_of_the_suite_in_its_process() -> None:
    modules = [name for name in suite_modules() if name not in NOT_IMPORTABLE]
    script = _IMPORT_EACH.format(preloaded=PRELOADED, modules=modules)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    failed = done.stdout.split()
    assert done.returncode == 0 and not failed, f"{failed} fail to import alone:\n{done.stderr}"
