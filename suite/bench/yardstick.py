"""The timing yardstick (``yardstick.toml``): a fixed case timed around every round of every case.

On a shared 2-core machine a case can run 25-60% slower for ten seconds or for minutes, and a
gate comparing rounds as measured then cries wolf. The same spell slows, if not always by as
much, a workload timed a millisecond earlier and later on the same runtime, so the gate divides
each round by the yardstick's time around it. The README's gate section gives the rates
measured with and without it.
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
