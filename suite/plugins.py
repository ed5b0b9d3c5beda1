"""A team's own registry entries kept in its own package: an environment variable names the
modules (comma-separated import names) that a registry imports after the suite's own, so that
they register like the suite's, in every process of a run (timing processes inherit the
variable), with no file of the suite edited."""

from __future__ import annotations

import importlib
import os


def import_named_modules(variable: str) -> None:
    """Import each module ``variable`` names; one that cannot be imported is named."""
    for name in filter(None, (n.strip() for n in os.environ.get(variable, "").split(","))):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImportError(f"{variable}: cannot import {name!r}: {exc}") from exc
