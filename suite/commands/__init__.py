"""One module per subcommand; each exposes ``NAME``, ``HELP``, ``add_arguments`` and ``main``."""

from __future__ import annotations

from types import ModuleType

from . import baseline, gate, list_cases, noise, report, run

COMMANDS: dict[str, ModuleType] = {
    module.NAME: module for module in (list_cases, run, report, baseline, gate, noise)
}
