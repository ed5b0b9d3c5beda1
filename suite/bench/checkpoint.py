"""Checkpoints of an unfinished run, so that ``run --out DIR --resume`` after a kill redoes only
what had not finished.

A run's work comes in two kinds of unit, and each is checkpointed, atomically, the moment it is
done, in ``DIR/checkpoints/``:

- a case finished: prepared (build, cost, export, reference, figures, samples) and checked on
  every runtime. What its record needs is pickled: its record's parts, its samples, its runtime
  results, its stage durations; the model and the reference's outputs are not kept;
- a timing process finished: its result file is already written atomically in ``DIR/timing/``;
  the checkpoint says when it began. A timing process is the unit a run replicates (``worker.py``),
  so one killed midway is timed again whole, never stitched from two processes.

The first file, ``run.json``, says what the run was asked to do (cases, runtimes, threads,
timing, code, library versions); a resume that asks for anything else is refused with one line,
since its checkpoints would mix two runs. The folder is removed once results.json is written.

The pickles are read only from the run folder the user names with ``--resume``, after its
``run.json`` matched: they are this suite's own objects, written by the same code and libraries.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..atomic import atomic_write, write_json_atomic
from ..errors import UsageError
from ..records import RuntimeResult
from .pipeline import PreparedCase

CHECKPOINT_DIR = "checkpoints"
RUN_FILE = "run.json"


def _name(case_id: str) -> str:
    """A file name for a case id (ids hold characters no file name should)."""
    return hashlib.sha256(case_id.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Finished:
    """A case prepared (its work released) and checked, as a checkpoint and the prepared-case
    cache (``prepared_cache.py``) keep it: ``from_cache``, where it was read from that cache."""

    work: PreparedCase
    results: dict[str, RuntimeResult]
    check_s: dict[str, float]
    from_cache: bool = False

    def data(self) -> dict[str, Any]:
        """What is pickled: the results as plain dicts."""
        runtimes = {name: result.to_dict() for name, result in self.results.items()}
        return {"work": self.work, "runtimes": runtimes, "check_s": self.check_s} | {
            "from_cache": self.from_cache
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Finished:
        results = {n: RuntimeResult.from_dict(r) for n, r in data["runtimes"].items()}
        return cls(data["work"], results, data["check_s"], data.get("from_cache", False))


@dataclass
class Resumed:
    """What one resume took from checkpoints instead of doing again (``run.resumed``)."""

    at: str
    cases: int = 0
    timing_processes: int = 0

    def describe(self) -> dict[str, Any]:
        return {"at": self.at, "cases": self.cases, "timing_processes": self.timing_processes}


@dataclass
class Checkpoints:
    folder: Path
    #: what the run was asked to do (``run.json``'s ``asked``)
    asked: dict[str, Any]
    #: the run's id and start, kept across resumes
    run_id: str
    started: str
    #: earlier resumes, then this one's (when resuming)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    this_resume: Resumed | None = None

    @classmethod
    def start(cls, out_dir: Path, asked: dict[str, Any], run_id: str, started: datetime):
        """Fresh checkpoints for a new run in ``out_dir`` (any older ones are removed)."""
        folder = out_dir / CHECKPOINT_DIR
        shutil.rmtree(folder, ignore_errors=True)
        made = cls(folder, asked, run_id, started.isoformat())
        made.write_run()
        return made

    @classmethod
    def resume(cls, out_dir: Path, asked: dict[str, Any], now: datetime) -> Checkpoints:
        """The checkpoints of the unfinished run in ``out_dir``; refused (one line) where there
        are none or they were made for other cases, options, code or libraries."""
        path = out_dir / CHECKPOINT_DIR / RUN_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            missing = f"--resume: {path} does not exist: no unfinished run to resume"
            raise UsageError(missing) from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"--resume: {path}: unreadable ({exc})") from exc
        for key, value in asked.items():
            if data["asked"].get(key) != value:
                raise UsageError(
                    f"--resume: {path}: the run was started with a different {key} "
                    f"({_short(data['asked'].get(key))}, now {_short(value)}); "
                    "resume with what it was started with, or start again with --force"
                )
        made = cls(path.parent, asked, data["id"], data["started"], data.get("resumes", []))
        made.this_resume = Resumed(now.isoformat())
        made.write_run()
        return made

    def write_run(self) -> None:
        """``run.json``, with this resume's counts as they stand (so that a later resume of
        a resume still says what each took)."""
        data = {"id": self.run_id, "started": self.started, "asked": self.asked}
        write_json_atomic(self.folder / RUN_FILE, {**data, "resumes": self.resumed()})

    def resumed(self) -> list[dict[str, Any]]:
        """Every resume of this run so far, this one last (``run.resumed``)."""
        return [*self.resumes, *([self.this_resume.describe()] if self.this_resume else [])]

    # finished cases
    def save_case(self, finished: Finished) -> None:
        """A finished case: its work released (``PreparedCase.release``) and its checks."""
        payload = pickle.dumps(finished.data(), protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(self._case_path(finished.work.case.id), lambda p: p.write_bytes(payload))

    def case(self, case_id: str) -> Finished | None:
        """A case an earlier attempt of this run finished, or None."""
        path = self._case_path(case_id)
        if not path.exists():
            return None
        finished = Finished.from_data(pickle.loads(path.read_bytes()))
        if self.this_resume:
            self.this_resume.cases += 1
        return finished

    def _case_path(self, case_id: str) -> Path:
        return self.folder / "cases" / f"{_name(case_id)}.pickle"

    # timing processes
    def _timed_file(self, index: int, klass: str | None) -> Path:
        """A finished timing process's checkpoint: of the run's own timer class, or another's."""
        return self.folder / "timed" / f"{f'{klass}-' if klass else ''}process{index + 1}.json"

    def save_timed(self, index: int, start_s: float, klass: str | None = None) -> None:
        write_json_atomic(self._timed_file(index, klass), {"start_s": start_s})

    def timed(self, index: int, klass: str | None = None) -> float | None:
        """When the finished timing process began (seconds into the run), or None."""
        path = self._timed_file(index, klass)
        if not path.exists():
            return None
        if self.this_resume:
            self.this_resume.timing_processes += 1
        return json.loads(path.read_text(encoding="utf-8"))["start_s"]

    def finish(self) -> None:
        """The run's results are written: its checkpoints are no longer needed."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else f"{text[:57]}..."
