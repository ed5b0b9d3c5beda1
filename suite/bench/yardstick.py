"""The timing yardstick (``yardstick.toml``): a fixed case timed around every round of every case.

On a shared 2-core machine a case can run 25-50% slower for ten seconds or more, and a
regression gate that compares rounds as measured then cries wolf. The same spell slows a
workload timed a millisecond earlier or later on the same cores, so each round is also divided
by the yardstick's time around it: measured on this project's machines, that took the
per-pass spread of a small onnxruntime case from 15% to 9% and of torch cases from up to 22%
to 17% (see the README's note on the gate).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import as_file, files

from ..case import Case
from ..casefile import load_cases

YARDSTICK_FILE = "bench/yardstick.toml"


@cache
def yardstick_case() -> Case:
    with as_file(files("suite").joinpath(YARDSTICK_FILE)) as path:
        (case,) = load_cases([path])
    return case
