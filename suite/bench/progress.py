"""Progress of a run: one bar per phase (prepare, then time) on a terminal, with the case and
stage at work; in a log, a line as each phase begins and one per case."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, total_cases: int, console: Console) -> None:
        self.console = console
        self.total_cases = total_cases
        self.cases_seen: list[str] = []
        self.live = console.is_terminal
        self.bar = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.fields[phase]:<8}", markup=False),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self.live,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

    def phase(self, name: str, total_items: int, where: str) -> None:
        """A new phase's bar, under the finished ones; ``where`` says what it runs on."""
        if self.task is not None:
            self.bar.update(self.task, description="done")
        self.task = self.bar.add_task(where, total=total_items, phase=name)
        if not self.live:
            self.console.print(f"{name}: {where}", markup=False, highlight=False)

    def stage(self, case_id: str, stage: str, *, is_case: bool = True) -> None:
        if is_case and case_id not in self.cases_seen:
            self.cases_seen.append(case_id)
            if not self.live:
                width = len(str(self.total_cases))
                self.console.print(
                    f"[{len(self.cases_seen):>{width}}/{self.total_cases}] {case_id}",
                    markup=False,
                    highlight=False,
                )
        if self.task is not None:
            self.bar.update(self.task, description=f"{case_id} · {stage}")

    def advance(self) -> None:
        if self.task is not None:
            self.bar.advance(self.task)
