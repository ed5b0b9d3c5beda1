"""Progress: one bar per phase on a terminal, one line per phase and per case in a log."""

from __future__ import annotations

import io

from rich.console import Console

from suite.bench.progress import Progress


def test_a_log_gets_a_line_as_each_phase_begins_and_one_per_case():
    log = io.StringIO()
    with Progress(2, Console(file=log, width=200)) as progress:
        progress.phase("prepare", 6, "2 of 2 cases on this process, each checked as it comes back")
        for case in ("a", "b"):
            progress.stage(case, "build")
            progress.stage(case, "export")  # the same case: no second line
            progress.advance()
        progress.phase("time", 5, "5 timing processes, one after another")
        progress.stage("timing", "process 1 of 5", is_case=False)
    assert log.getvalue().splitlines() == [
        "prepare: 2 of 2 cases on this process, each checked as it comes back",
        "[1/2] a",
        "[2/2] b",
        "time: 5 timing processes, one after another",
    ]


def test_a_terminal_gets_one_bar_per_phase_each_with_its_own_total():
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    with Progress(1, terminal) as progress:
        progress.phase("prepare", 4, "1 of 1 cases on this process")
        for _ in range(4):
            progress.advance()
        progress.phase("time", 5, "5 timing processes")
        progress.advance()
        tasks = {task.fields["phase"]: task for task in progress.bar.tasks}
    assert [(t.total, t.completed) for t in tasks.values()] == [(4, 4), (5, 1)]
    assert tasks["prepare"].description == "done"
