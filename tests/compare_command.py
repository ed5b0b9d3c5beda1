"""``python -m suite compare`` in a fresh process, as a user runs it: with tests/factories.py
importable, the summary at 100 columns and the cases prepared in that process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def compare(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "suite", "compare", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)]),
            "COLUMNS": "100",
            "UPSAMPLING_BENCH_WORKERS": "0",
        },
    )
