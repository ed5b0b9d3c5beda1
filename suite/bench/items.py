"""The bench's pytest items. Collected only by ``python -m suite run``, which passes this file.

Items run in file order: the cases first, then the copy-bandwidth probe. The probe moves
2 × 128 MiB; run first, it left the next case measurably slower on 2-core machines.
"""

from __future__ import annotations


def test_case(bench_target, bench_session, benchmark):
    case_id, runtime, timing_pass = bench_target
    if timing_pass == 0:
        bench_session.run_runtime(case_id, runtime, benchmark)
    else:
        bench_session.time_again(case_id, runtime, benchmark)


def test_copy_bandwidth(bench_session, benchmark):
    """The machine's memory-copy bandwidth, in the same run as the cases it is a roofline for."""
    bench_session.measure_copy_bandwidth(benchmark)
