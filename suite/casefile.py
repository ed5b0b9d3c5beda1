"""Case files: TOML ``[[case]]`` tables, an optional ``[defaults]`` table, list expansion, and
validation that reports every problem as one line naming the file, the case and the key.

A single-stage case names its ``method`` and that method's keys; a multi-stage decoder lists its
layers, in order, as ``[[case.stage]]`` tables, and its case-level ``size``, ``channels``, ``seed``
and ``init`` apply to the whole decoder. ``cases/seed.toml`` has both kinds; docs/cases.md describes
them, and docs/reference/case-keys.md lists every key.

A list value (``kernel = [2, 3, 4]``) expands into one case per combination of list values, with
the id ``base[kernel=2]``, ``base[kernel=3]``, ... . ``[defaults]`` values fill keys that a case
leaves out, where the case's method uses them; a default no case uses is an error.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import casekeys
from .case import CASE_KEYS, DEFAULT_CHANNELS, DEFAULT_SEED, DEFAULT_SIZE, Case
from .casekeys import boolean, deployment, gate, integer, size_of, tolerance
from .errors import ParamError, UsageError
from .methods import Stage, all_method_keys, get_method
from .methods.base import INIT
from .methods.factory import FACTORY

NOT_IN_DEFAULTS = ("id", "method", "stage")


def case_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus the ``*.toml`` files directly inside named folders (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise UsageError(f"{path}: no *.toml case files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such case file or folder")
    return files


def load_cases(paths: Sequence[str | Path]) -> list[Case]:
    """Load, expand and validate every case; raise ``UsageError`` listing every problem."""
    problems: list[str] = []
    cases: list[Case] = []
    for path in case_files(paths):
        cases.extend(_load_file(path, problems))
    seen: dict[str, str] = {}
    for case in cases:
        if case.id in seen:
            problems.append(f"{case.file}: case {case.id!r}: id: also used in {seen[case.id]}")
        seen.setdefault(case.id, case.file)
    if problems:
        raise UsageError(problems)
    return cases


def load_text(text: str, name: str) -> list[Case]:
    """The cases of a case file's ``text`` (named ``name`` in every problem line), validated as
    ``load_cases`` validates a file's; raises ``UsageError`` listing every problem."""
    problems: list[str] = []
    cases = _load_text(name, text, problems)
    if problems:
        raise UsageError(problems)
    return cases


def _load_file(path: Path, problems: list[str]) -> list[Case]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return []
    return _load_text(str(path), text, problems)


def _load_text(name: str, text: str, problems: list[str]) -> list[Case]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{name}: not valid TOML: {exc}")
        return []
    for key in sorted(set(data) - {"case", "defaults"}):
        problems.append(f"{name}: {key}: unknown top-level key; allowed: case, defaults")
    defaults = data.get("defaults", {})
    raw_cases = data.get("case", [])
    if not isinstance(defaults, dict):
        problems.append(f"{name}: defaults: must be a table ([defaults])")
        defaults = {}
    if not isinstance(raw_cases, list) or not all(isinstance(c, dict) for c in raw_cases):
        problems.append(f"{name}: case: must be an array of tables ([[case]])")
        return []
    if not raw_cases:
        problems.append(f"{name}: case: the file holds no [[case]] tables")
    defaults = _check_defaults(name, defaults, problems, _factory_keys(raw_cases))

    used_defaults: set[str] = set()
    cases: list[Case] = []
    problems_before = len(problems)
    for index, raw in enumerate(raw_cases, start=1):
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"#{index}"
        try:
            cases.extend(_expand(name, raw, defaults, used_defaults))
        except ParamError as exc:
            problems.append(f"{name}: case {label!r}: {exc.key}: {exc.message}")
    if raw_cases and len(problems) == problems_before:
        for key in sorted(set(defaults) - used_defaults):
            problems.append(f"{name}: defaults: {key}: used by no case (no case's method takes it)")
    return cases


def _factory_keys(raw_cases: list[dict[str, Any]]) -> set[str]:
    """The keys the file's factories take beyond the registered methods' (``[defaults]`` may
    give them)."""
    keys: set[str] = set()
    for raw in raw_cases:
        for table in _stage_tables(raw):
            if FACTORY in table:
                keys |= get_method(FACTORY).default_keys(table)
    return keys


def _check_defaults(
    name: str, defaults: dict[str, Any], problems: list[str], factory_keys: set[str]
) -> dict[str, Any]:
    allowed = (set(CASE_KEYS) | all_method_keys() | factory_keys) - set(NOT_IN_DEFAULTS)
    kept = {}
    for key, value in defaults.items():
        if key in NOT_IN_DEFAULTS:
            problems.append(f"{name}: defaults: {key}: each case gives its own {key}")
        elif key not in allowed and "*" not in factory_keys:
            problems.append(
                f"{name}: defaults: {key}: unknown key; allowed: {', '.join(sorted(allowed))}"
            )
        else:
            kept[key] = value
    return kept


def _expand(
    name: str, raw: dict[str, Any], defaults: dict[str, Any], used_defaults: set[str]
) -> list[Case]:
    """One case per combination of list values: the case's own lists, then applicable defaults'."""
    base_id = raw.get("id")
    if not isinstance(base_id, str) or not base_id.strip():
        raise ParamError("id", "missing or empty: every [[case]] needs a string id")
    own_lists = _list_keys(raw)
    cases = []
    for own_combo in itertools.product(*(raw[k] for k in own_lists)):
        concrete = {**raw, **dict(zip(own_lists, own_combo, strict=True))}
        applicable = _applicable_defaults(concrete, defaults)
        used_defaults.update(applicable)
        default_lists = _list_keys(applicable)
        for default_combo in itertools.product(*(applicable[k] for k in default_lists)):
            values = {**applicable, **dict(zip(default_lists, default_combo, strict=True))}
            expanded = {
                **dict(zip(own_lists, own_combo, strict=True)),
                **dict(zip(default_lists, default_combo, strict=True)),
            }
            case_id = base_id + (_id_suffix(expanded) if expanded else "")
            cases.append(_resolve(name, case_id, concrete, values))
    return cases


def _list_keys(table: dict[str, Any]) -> list[str]:
    keys = [k for k, v in table.items() if isinstance(v, list) and k != "stage"]
    for key in keys:
        if not table[key]:
            raise ParamError(key, "an empty list expands into no cases")
    return keys


def _id_suffix(expanded: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return "[" + ",".join(f"{key}={text(value)}" for key, value in expanded.items()) + "]"


def _stage_tables(concrete: dict[str, Any]) -> list[dict[str, Any]]:
    if "stage" in concrete and isinstance(concrete["stage"], list):
        return [s for s in concrete["stage"] if isinstance(s, dict)]
    return [concrete]


def _applicable_defaults(concrete: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Defaults the case leaves unset and that its method (or one of its stages') uses."""
    method_keys: set[str] = set()
    for table in _stage_tables(concrete):
        method = FACTORY if FACTORY in table else table.get("method")
        try:
            method_keys |= get_method(method).default_keys(table)
        except (ParamError, TypeError):
            continue  # reported when the case itself is resolved
    return {
        key: value
        for key, value in defaults.items()
        if key not in concrete and (key in CASE_KEYS or key in method_keys or "*" in method_keys)
    }


def _resolve(
    name: str,
    case_id: str,
    concrete: dict[str, Any],
    defaults: dict[str, Any],
) -> Case:
    allowed = set(CASE_KEYS) | all_method_keys()
    for key in concrete:
        if key not in allowed and FACTORY not in concrete:
            raise ParamError(key, f"unknown key; allowed: {', '.join(sorted(allowed))}")
    merged = {**defaults, **concrete}
    if "stage" in concrete:
        stages = _resolve_stages(concrete, defaults)
    else:
        stages = (_resolve_stage(merged, prefix=""),)
    case = Case(
        id=case_id,
        file=name,
        stages=stages,
        size=size_of(merged.get("size", DEFAULT_SIZE)),
        channels=integer("channels", merged.get("channels", DEFAULT_CHANNELS), minimum=1),
        seed=integer("seed", merged.get("seed", DEFAULT_SEED), minimum=0),
        seeds=integer("seeds", merged.get("seeds", 1), minimum=1),
        tolerance=tolerance(merged.get("tolerance")),
        gate=gate(merged.get("gate")),
        **deployment(merged, stages),
        probe=boolean("probe", merged.get("probe", False)),
    )
    _check_geometry(case)
    return case


def _resolve_stage(table: dict[str, Any], prefix: str) -> Stage:
    if FACTORY in table:
        if "method" in table:
            raise ParamError(f"{prefix}method", "give either method or factory, not both")
        table = {**table, "method": FACTORY}
    if "method" not in table:
        raise ParamError(f"{prefix}method", "missing: give method = ... or [[case.stage]] tables")
    if not isinstance(table["method"], str):
        raise ParamError(f"{prefix}method", f"must be a method name, got {table['method']!r}")
    method = get_method(table["method"])
    given = {k: v for k, v in table.items() if k not in CASE_KEYS}
    for key in given:
        casekeys.applies(method, key, prefix)
    try:
        return Stage(method.name, method.resolve(given))
    except ParamError as exc:
        raise ParamError(f"{prefix}{exc.key}", exc.message) from None


def _resolve_stages(concrete: dict[str, Any], defaults: dict[str, Any]) -> tuple[Stage, ...]:
    if "method" in concrete:
        raise ParamError("method", "give either method or [[case.stage]] tables, not both")
    tables = concrete["stage"]
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise ParamError("stage", "must be a non-empty array of [[case.stage]] tables")
    for key in concrete:
        if key not in CASE_KEYS and key != INIT:
            raise ParamError(key, "in a staged case this key belongs in a [[case.stage]] table")
    shared = {k: v for k, v in {**defaults, **concrete}.items() if k not in CASE_KEYS}
    stages = []
    for index, table in enumerate(tables):
        prefix = f"stage[{index}]."
        for key, value in table.items():
            if key in CASE_KEYS and key != "method":
                raise ParamError(f"{prefix}{key}", "is a case-level key; give it on the [[case]]")
            if isinstance(value, list):
                raise ParamError(f"{prefix}{key}", "lists expand only at case level")
        method_name = table.get("method")
        uses = get_method(method_name).keys() if isinstance(method_name, str) else ()
        inherited = {k: v for k, v in shared.items() if k in uses}
        stages.append(_resolve_stage({**inherited, **table}, prefix))
    return tuple(stages)


def _check_geometry(case: Case) -> None:
    """Walk the stages' conv arithmetic and channel flow; a stage's error names that stage."""
    size, channels = case.size, case.channels
    for index, stage in enumerate(case.stages):
        casekeys.guided_alone(stage, index, len(case.stages))
        try:
            stage.spec.probe(stage.params, channels, size)
            size = stage.output_size(size)
            channels = stage.output_channels(channels)
        except ParamError as exc:
            prefix = f"stage[{index}]." if len(case.stages) > 1 else ""
            raise ParamError(f"{prefix}{exc.key}", exc.message) from None
