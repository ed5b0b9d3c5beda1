"""The bench's pytest items, collected only by a timing process's session (``worker.py``).

The case items check and time, a session per item, and the ceiling items measure the machine
after the cases (a 256 MiB copy run first left the next case measurably slower on 2-core
machines), then measure again the ceilings that cannot be believed.
"""

from __future__ import annotations

from .policy import LATENCY


def test_case(bench_target, bench_session, benchmark):
    case_id, runtime, figure, session_index = bench_target
    if session_index == 0 and figure == LATENCY:
        bench_session.run_runtime(case_id, runtime, benchmark)
    else:
        bench_session.time_again(case_id, runtime, benchmark, figure)


def test_ceiling(ceiling, bench_session, benchmark):
    """One of the machine's ceilings, in the same process as the timings it bounds."""
    bench_session.measure_ceiling(ceiling, benchmark)


def test_ceilings_again(bench_session):
    """The ceilings that cannot be believed (``plausible.py``) measured again, after the rest."""
    bench_session.remeasure_ceilings()
