"""Waiting out a runtime's spinning threads, so that they do not steal the cores of what is
timed or measured next (the yardstick between rounds, the next runtime).

onnxruntime's default thread pool spins for a while before its workers block: a fixed count of
pause instructions, which lasts ~3 ms to ~0.5 s depending on the CPU (onnxruntime#27916). Rather
than guess that window, wait until the process stops burning CPU time: while workers spin, the
process's CPU clock runs at least as fast as the wall clock; once they block, it all but stops.
"""

from __future__ import annotations

import time

#: one look: how long to sleep, and the share of it the process may still use and count as idle
LOOK_S = 0.005
IDLE_SHARE = 0.2
#: a pool that never goes quiet is not waited on for ever: the timings then say they were noisy
LIMIT_S = 2.0


def until_threads_idle(
    look_s: float = LOOK_S, idle_share: float = IDLE_SHARE, limit_s: float = LIMIT_S
) -> float:
    """Sleep until the process used under ``idle_share`` of one core over a ``look_s`` look;
    return the seconds waited (at least one look)."""
    began = time.perf_counter()
    while True:
        cpu = time.process_time()
        time.sleep(look_s)
        busy = time.process_time() - cpu
        waited = time.perf_counter() - began
        if busy < idle_share * look_s or waited >= limit_s:
            return waited
