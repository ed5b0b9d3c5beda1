"""The run folder's ``errors.log``: the whole traceback of every failure that results.json
records in one line."""

from __future__ import annotations

import traceback
from pathlib import Path

from ..case import Case


class ErrorLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def case(self, case: Case, stage: str, exc: BaseException) -> None:
        detail = "".join(traceback.format_exception(exc))
        self.append(f"== {case.file}: case {case.id!r}: {stage}\n{detail}\n")

    def append(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            log.write(text)
