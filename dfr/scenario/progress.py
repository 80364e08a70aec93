"""Progress of ``dfr scenario run``: a live rich display on a terminal, plain lines
otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from dfr.scenario.timeline import StepResult


class ScenarioProgress:
    """A context manager; ``status``/``step``/``done`` per scenario name."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self.console = Console(file=stream)

    def __enter__(self) -> ScenarioProgress:
        if self.live:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.fields[name]}"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)

    def _line(self, name: str, text: str) -> None:
        print(f"[{name}] {text}", file=self.stream, flush=True)

    def status(self, name: str, text: str) -> None:
        if self._progress is None:
            self._line(name, text)
            return
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(text, name=name, total=None)
        self._progress.update(self._tasks[name], description=text)

    def step(self, name: str, result: StepResult) -> None:
        mark = "ok" if result.ok else "!!"
        text = f"{result.scenario_s:7.1f} s  {mark} {result.kind} {result.step}: {result.detail}"
        if self._progress is None:
            self._line(name, text)
        else:
            self._progress.console.print(f"[dim]{name}[/dim] {text}", markup=True, highlight=False)
            self.status(name, f"{result.kind} {result.step}")

    def done(self, name: str, passed: bool, lines: list[str]) -> None:
        verdict = "PASSED" if passed else "FAILED"
        if self._progress is None:
            self._line(name, verdict)
            for line in lines:
                self._line(name, f"  {line}")
            return
        colour = "green" if passed else "red"
        self.status(name, f"[{colour}]{verdict}[/{colour}]")
        if name in self._tasks:
            self._progress.update(self._tasks[name], total=1, completed=1)
        for line in lines:
            self._progress.console.print(f"  {line}", highlight=False, markup=False)
