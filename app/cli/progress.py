"""Progress of a command on standard error: named stages with counts, a bar when the amount of
work is known, stage timings with ``--verbose``; nothing when piped or with ``--quiet``.

The library reports :class:`geo.progress.Stage` to a callback and never prints; this module is
that callback for the command line. On a terminal it draws with ``rich`` (a live display that
stays on one line per stage and never mixes with standard output, which carries the result).
When standard error is not a terminal it stays silent, except that ``--verbose`` prints one
plain line per finished stage with its time, so a log keeps the timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from geo.progress import Progress, Stage


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` and ``--verbose`` for one sub-command."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on standard error (it is shown only on a terminal anyway)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show how long each stage took",
    )


class StageReporter:
    """A :data:`geo.progress.Progress` callback drawing stages; call :meth:`close` at the end.

    A new stage name ends the previous stage. ``stream`` is where to draw (standard error);
    ``live`` draws bars (a terminal), otherwise only ``verbose`` timings are printed, as text.
    """

    def __init__(self, stream: IO[str], *, live: bool, verbose: bool) -> None:
        self.stream = stream
        self.verbose = verbose
        self.timings: list[tuple[str, float]] = []
        self._name: str | None = None
        self._started = 0.0
        self._bars: Any = None
        self._task: Any = None
        if live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            columns: list[Any] = [
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
            ]
            if verbose:
                columns.append(TimeElapsedColumn())
            # Console(file=stream) would ask the stream whether it is a terminal again; the
            # caller decided already (force_terminal), so a test's pseudo-terminal counts too.
            console = Console(file=stream, force_terminal=True, highlight=False)
            # A result printed while the bars are live goes above them when it is for the same
            # screen; when standard output is piped it must reach the pipe untouched.
            self._bars = Progress(
                *columns,
                console=console,
                refresh_per_second=8,
                redirect_stdout=_is_terminal(sys.stdout),
                redirect_stderr=False,
            )
            # Started at the first stage, not before: a command without stages (serve, a
            # password prompt) keeps its terminal as it is, cursor and all.
            self._live = False

    def __call__(self, stage: Stage) -> None:
        if stage.name != self._name:
            self._finish()
            self._name = stage.name
            self._started = time.perf_counter()
            if self._bars is not None:
                if not self._live:
                    self._bars.start()
                    self._live = True
                self._task = self._bars.add_task(stage.name, total=stage.total, unit=stage.unit)
        if self._bars is not None:
            self._bars.update(self._task, completed=stage.done, total=stage.total)

    def _finish(self) -> None:
        if self._name is None:
            return
        seconds = time.perf_counter() - self._started
        self.timings.append((self._name, seconds))
        if self._bars is not None:
            task = self._bars.tasks[-1]
            # Done: a known total shows full, an unknown one stops its pulse.
            self._bars.update(self._task, total=task.total or 1, completed=task.total or 1)
            self._bars.stop_task(self._task)
        elif self.verbose:
            print(f"placemap: {self._name}: {seconds:.1f} s", file=self.stream, flush=True)
        self._name = None

    def close(self, *, completed: bool = True) -> None:
        """End the display; the current stage counts as finished only when ``completed``."""
        if completed:
            self._finish()
        if self._bars is not None:
            if self._live:
                self._bars.stop()
            self._bars = None


@contextmanager
def stage_reporter(args: argparse.Namespace, stream: IO[str] | None = None) -> Iterator[Progress]:
    """The progress callback for a parsed command line, closed when the command ends."""
    out = sys.stderr if stream is None else stream
    quiet = bool(getattr(args, "quiet", False))
    verbose = bool(getattr(args, "verbose", False)) and not quiet
    live = not quiet and _is_terminal(out)
    reporter = StageReporter(out, live=live, verbose=verbose)
    completed = False
    try:
        yield reporter
        completed = True
    finally:
        reporter.close(completed=completed)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False
