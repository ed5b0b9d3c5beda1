"""The timing code is one for every runtime: a device clock (CUDA events on a GPU) changes only
what times each round. Checked here with a clock of known readings, on pytest-benchmark's own
pedantic protocol as a stand-in fixture runs it (warm-up rounds first, setup before each)."""

from __future__ import annotations

from types import SimpleNamespace

from suite.timing.policy import HOST_CLOCK, Timing, time_session

TIMING = Timing("clock", rounds=4, sessions=1, processes=1, min_round_s=1e-3, warmup_rounds=2)


class Benchmark:
    """What ``time_session`` uses of pytest-benchmark's fixture, with host times made up."""

    def __init__(self) -> None:
        self.extra_info: dict = {}
        self.stats = SimpleNamespace(stats=SimpleNamespace(data=[]))

    def pedantic(self, target, setup=None, rounds=1, warmup_rounds=0, iterations=1):
        for index in range(warmup_rounds + rounds):
            if setup:
                setup()
            target()
            if index >= warmup_rounds:
                self.stats.stats.data.append(1.0)  # the host saw one second a round


class Clock:
    """A device clock whose rounds read 0.5 s, 0.6 s, ...: the calls it saw, in order."""

    name = "test-events"

    def __init__(self) -> None:
        self.readings = iter([0.001 * 2] + [0.5 + 0.1 * i for i in range(20)])
        self.running = False

    def start(self) -> None:
        assert not self.running
        self.running = True

    def stop(self) -> float:
        assert self.running
        self.running = False
        return next(self.readings)

    def synchronize(self) -> None:
        pass


def test_a_device_clock_times_the_rounds_after_the_warm_up_and_the_host_does_otherwise():
    calls = []
    clock = Clock()
    latency = time_session(Benchmark(), lambda: calls.append(1), TIMING, None, clock)
    # calls per round from the clock's first reading: 1 ms asked, 2 ms a call -> 1 call
    assert latency.iterations == 1 and latency.clock == "test-events"
    # rounds 3 to 6 of the clock (two warm-up rounds left out): 0.7, 0.8, 0.9, 1.0 s
    assert [round(t, 9) for t in latency.data_s] == [0.7, 0.8, 0.9, 1.0]
    host = time_session(Benchmark(), lambda: None, TIMING, lambda: None)
    assert host.clock == HOST_CLOCK and host.data_s == [1.0 / host.iterations] * 4
    assert len(host.yardstick_s) == 4


def test_with_a_yardstick_the_device_rounds_keep_their_bracket():
    latency = time_session(Benchmark(), lambda: None, TIMING, lambda: None, Clock())
    assert len(latency.data_s) == len(latency.yardstick_s) == TIMING.rounds
    assert latency.clock == "test-events"


def test_a_runtimes_settle_runs_around_every_yardstick_round_and_never_inside_a_round():
    events: list[str] = []
    time_session(
        Benchmark(),
        lambda: events.append("step"),
        TIMING,
        lambda: events.append("yardstick"),
        settle=lambda: events.append("settle"),
    )
    # after the calibration of calls per round: every yardstick round (one before each round,
    # warm-up included, and the closing one) is settled on both sides, so no round of the case
    # begins while the yardstick's workers spin, nor a yardstick round while the case's do
    timed = events[events.index("settle") :]
    runs = [event for index, event in enumerate(timed) if index == 0 or timed[index - 1] != event]
    rounds = TIMING.warmup_rounds + TIMING.rounds
    assert runs == ["settle", "yardstick", "settle", "step"] * rounds + [
        "settle",
        "yardstick",
        "settle",
    ]
