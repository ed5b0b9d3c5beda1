"""The registered figures: importing this package imports ``core`` (the suite's own, in the
order the report shows them) and then every other module in it; each registers its figures with
``suite.analysis.registry.register``. Nothing else lists figures."""

from __future__ import annotations

import importlib
import pkgutil

importlib.import_module(f"{__name__}.core")
for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _module.name != "core":
        importlib.import_module(f"{__name__}.{_module.name}")
