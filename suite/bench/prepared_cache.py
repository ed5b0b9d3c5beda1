"""Prepared cases kept across runs, so that a re-run of unchanged cases prepares nothing and an
edit to one method's module re-prepares only its cases.

A case that finished cleanly (prepared and checked: no case error, no runtime failed, no stage
note, no bug met; a failure is cheap and may be transient) is stored, as a checkpoint holds it
(``checkpoint.Finished``: the work released, its checks, its stage durations), in
``<cache>/prepared/<key>.pickle``. The key is the sha256 of the canonical JSON of what decides
the case, its *key material*:

- ``case``: the case as resolved (``Case.describe``);
- ``code``: the code that computes it (``casecode.py``: the suite's files, the modules of its
  methods, its factory's module);
- ``versions``, ``threads`` and ``cpu`` (parity figures may differ between instruction sets);
- ``runtimes``: those checked, each with why it cannot run here (or null), and ``analyse``.

An entry holds its key material and is read back only where that equals the run's exactly, for
the same case: a collision cannot return another case's figures. It is written atomically
(``atomic.py``), so a half-written entry is a hidden scratch file, never read. An entry that
cannot be read, or whose export is gone from the export cache (the timing processes load it
from there), counts as absent: the case is prepared again and the entry overwritten.
``run --fresh`` reads no entry and writes each anew.

A case read from here keeps the stage durations of the run that prepared it (the planner's
costs); ``run.phases.prepare.from_cache`` names those cases. A run on a real cluster neither
reads nor writes entries: its cases are prepared on other machines, into their own caches.
Entries are this suite's own pickles in the user's own cache, trusted like the exports beside
them.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from ..case import Case
from ..casecode import CaseCode
from ..environment import cpu_model, versions
from ..records import case_status
from ..runtimes import get_runtime
from .checkpoint import Finished
from .pipeline import STAGES, PreparedCase, Settings
from .spec import RunSpec

PREPARED_DIR = "prepared"


def common_material(settings: Settings, runtimes: list[str]) -> dict[str, Any]:
    """What decides every case of a run alike (all of the key material but case and code)."""
    return {
        "versions": versions(),
        "threads": settings.threads,
        "cpu": cpu_model(),
        "runtimes": {name: get_runtime(name).unavailable() for name in runtimes},
        "analyse": settings.analyse,
    }


def material_text(material: dict[str, Any]) -> str:
    """The key material as canonical JSON: sorted keys, no spaces."""
    return json.dumps(material, sort_keys=True, separators=(",", ":"), default=repr)


def entry_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def clean(finished: Finished, crashes: list) -> bool:
    """Whether a case finished cleanly enough to keep: no case error, no runtime failed, no
    bug met, no stage that failed short of failing the case (a note of its own in metrics;
    a figure's own note, such as too small an output, is the figure's answer, and kept)."""
    work = finished.work
    failed = case_status(finished.results, work.error)[0] == "failed"
    notes = work.record.get("metrics", {}).get("notes", {})
    stage_failed = any(stage.name in notes for stage in STAGES if not stage.fatal)
    return not (failed or crashes or stage_failed)


class PreparedCache:
    """The prepared cases of ``cache_dir/prepared``, as one run reads and writes them."""

    def __init__(self, cache_dir: Path, common: dict[str, Any], fresh: bool, used: bool) -> None:
        self.folder = Path(cache_dir) / PREPARED_DIR
        self.exports = Path(cache_dir)
        self.common = common
        self.fresh = fresh
        #: False on a real cluster: nothing read, nothing written
        self.used = used
        self.code = CaseCode() if used else None
        self._texts: dict[str, str | None] = {}

    @classmethod
    def for_run(cls, spec: RunSpec) -> PreparedCache:
        options = spec.options
        common = common_material(options.settings(), spec.runtimes)
        return cls(options.cache_dir, common, options.fresh, spec.where.engine != "cluster")

    def material(self, case: Case) -> str | None:
        """The case's key material (canonical JSON), found once per run; None: not cached
        (a module of its code has no source to read)."""
        if case.id not in self._texts:
            code = self.code.digest(case)
            material = {"case": case.describe(), "code": code, **self.common}
            self._texts[case.id] = None if code is None else material_text(material)
        return self._texts[case.id]

    def path(self, text: str) -> Path:
        return self.folder / f"{entry_key(text)}.pickle"

    def read(self, case: Case) -> Finished | None:
        """The case as an earlier run prepared it, or None: absent, fresh, or not to be
        trusted (then it is prepared again and its entry overwritten)."""
        if self.fresh or not self.used or (text := self.material(case)) is None:
            return None
        try:
            data = pickle.loads(self.path(text).read_bytes())
            finished = Finished.from_data(data)
            export = self.exports / finished.work.record["onnx"]["file"]
            ours = data["material"] == text and _same_case(finished.work, case)
        except Exception:  # absent, corrupted or not ours: any failure to read is a miss
            return None
        if not (ours and export.is_file()):
            return None
        finished.work.record["onnx"]["cached"] = True  # this run exported nothing for it
        return replace(finished, from_cache=True)

    def keep(self, finished: Finished, crashes: list) -> bool:
        """Store a case that finished cleanly (atomically); whether it was stored."""
        case = finished.work.case
        if not self.used or not clean(finished, crashes) or (text := self.material(case)) is None:
            return False
        data = {"material": text, **replace(finished, from_cache=False).data()}
        payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(self.path(text), lambda partial: partial.write_bytes(payload))
        return True


def _same_case(work: Any, case: Case) -> bool:
    return isinstance(work, PreparedCase) and work.case.describe() == case.describe()
