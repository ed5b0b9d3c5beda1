"""Progress of a run, per case and stage: a live bar on a terminal, one line per case in a log."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, total_items: int, total_cases: int, console: Console) -> None:
        self.console = console
        self.total_cases = total_cases
        self.cases_seen: list[str] = []
        self.live = console.is_terminal
        self.bar = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not self.live,
        )
        self.task = self.bar.add_task("starting", total=total_items)

    def __enter__(self) -> Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

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
        self.bar.update(self.task, description=f"{case_id} · {stage}")

    def set_total(self, total_items: int) -> None:
        self.bar.update(self.task, total=total_items)

    def advance(self) -> None:
        self.bar.advance(self.task)
