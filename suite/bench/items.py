"""The bench's pytest items. Collected only by ``python -m suite run``, which passes this file."""

from __future__ import annotations


def test_copy_bandwidth(bench_session, benchmark):
    """The machine's memory-copy bandwidth, in the same run as the cases it is a roofline for."""
    bench_session.measure_copy_bandwidth(benchmark)


def test_case(bench_target, bench_session, benchmark):
    case_id, runtime = bench_target
    bench_session.run_runtime(case_id, runtime, benchmark)
