"""results.json: versioned, validated against suite/schema/results.schema.json, atomic."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from .analysis.registry import schema_properties
from .atomic import write_json_atomic
from .errors import UsageError
from .migrate import STEPS, can_upgrade, upgrade
from .records import RecordError, cases_of

SCHEMA_VERSION = 5
RESULTS_FILE = "results.json"
#: pytest-benchmark's JSON of each timing process, in the run folder
TIMING_DIR = "timing"
#: the committed front page of the findings (``report --publish``): PUBLISH_DIR/README.md
PUBLISH_DIR = Path("results")


@cache
def schema() -> dict[str, Any]:
    """The results schema, with the registered figures' entries (and their descriptions) taken
    from the metric registry."""
    loaded = json.loads(files("suite").joinpath("schema/results.schema.json").read_text())
    loaded["$defs"]["metrics"]["properties"].update(schema_properties())
    return loaded


def validate(results: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``results`` does not follow the schema."""
    jsonschema.validate(results, schema(), format_checker=jsonschema.FormatChecker())


def write_results(out_dir: Path, results: dict[str, Any]) -> Path:
    validate(results)
    path = Path(out_dir) / RESULTS_FILE
    write_json_atomic(path, results)
    return path


def load_results(path: Path) -> dict[str, Any]:
    """Read and validate a results.json (or the one inside a run directory); a run of an older
    schema that ``migrate.py`` can take to this one is read as migrated."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION and can_upgrade(version, SCHEMA_VERSION):
        upgrade(data, SCHEMA_VERSION)
    validate(data)
    cases_of(data)  # a case whose status its runtimes contradict: RecordError
    return data


def load_run(run_dir: Path) -> dict[str, Any]:
    """A run folder's results, or a one-line ``UsageError`` naming the file and what is wrong."""
    path = Path(run_dir) / RESULTS_FILE
    if not Path(run_dir).is_dir():
        what = "a file, not a run's folder" if Path(run_dir).exists() else "no such folder"
        raise UsageError(f"{run_dir}: {what} (a run's folder holds its {RESULTS_FILE})")
    if not path.exists():
        raise UsageError(f"{run_dir}: no {RESULTS_FILE} in this folder")
    try:
        return load_results(path)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON: {exc}") from None
    except jsonschema.ValidationError as exc:
        version = _version(path)
        if isinstance(version, int) and version != SCHEMA_VERSION:
            raise UsageError(
                f"{path}: schema_version {version}, this suite reads {SCHEMA_VERSION} "
                f"(and migrates from {min(STEPS, default=SCHEMA_VERSION)}): "
                "run the cases again with this suite"
            ) from None
        raise UsageError(f"{path}: does not follow the results schema: {exc.message}") from None
    except RecordError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _version(path: Path) -> Any:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("schema_version") if isinstance(data, dict) else None
