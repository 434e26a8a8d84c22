"""Where long work is: the library reports stages to an optional callback and never prints.

Long functions (reading returns, analysing, building coverage, recruitment searches, demo
generation) take ``progress: Progress | None = None`` and call it with a :class:`Stage` when a
stage starts and then once per chunk of work (never per row, so the hot loops stay as fast as
without it). The caller decides what to show: the CLI draws bars on a terminal, a test records
the stages, the app could update a progress bar. A callback may raise (``KeyboardInterrupt``, a
cancellation) to stop the work; the library has no state to undo, and outputs are written only
at the end, atomically (:mod:`geo.writing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Stage:
    """One report: stage ``name`` (a phrase with its counts, e.g. "looking up 210,000
    postcodes") has ``done`` of ``total`` units of ``unit`` ("rows", "children"; ``total`` is
    None when the amount of work is not known). A new ``name`` means the previous stage ended."""

    name: str
    done: int = 0
    total: int | None = None
    unit: str = ""


Progress = Callable[[Stage], None]


def report(
    progress: Progress | None, name: str, done: int = 0, total: int | None = None, unit: str = ""
) -> None:
    """Call ``progress`` with a :class:`Stage` (nothing when ``progress`` is None)."""
    if progress is not None:
        progress(Stage(name, int(done), None if total is None else int(total), unit))
