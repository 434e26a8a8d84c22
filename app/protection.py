"""Which dataset's secret the cell-key method uses while a page is being built.

Counts that are not one fixed set of children (a coverage gap, the gap after a recruitment plan,
children at risk in a square) are perturbed by their *definition key*
(:func:`geo.disclosure.protect_count`), keyed by the dataset's secret so that someone who sees
only aggregates cannot tell which way a cell goes. The Recruitment and Carer coverage callbacks
run inside :func:`protecting` so the formatting helpers they call (``fmt_children`` with a
``cell``) find the secret without threading it through every function.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from geo.disclosure import protect_count, shown_count

_SECRET: ContextVar[bytes | None] = ContextVar("placemap_cell_key_secret", default=None)
_FALLBACK = b"placemap-no-dataset"  # direct calls outside a page (tests); never a real page
_CELL_TAIL: ContextVar[tuple[object, ...]] = ContextVar("placemap_cell_tail", default=())


@contextmanager
def protecting(secret: bytes) -> Iterator[None]:
    token = _SECRET.set(secret)
    try:
        yield
    finally:
        _SECRET.reset(token)


@contextmanager
def cells_for(*tail: object) -> Iterator[None]:
    """Every cell keyed inside gets ``tail`` added to its definition: counts of another demand
    (e.g. the forecast of year 2: ``cells_for("forecast-year", 2)``) are their own cells."""
    token = _CELL_TAIL.set(tuple(tail))
    try:
        yield
    finally:
        _CELL_TAIL.reset(token)


def protected_value(value: float, cell: Sequence[object]) -> float:
    """The shown value of one count keyed by its definition ``cell`` (NaN for ``c``)."""
    key = (*tuple(cell), *_CELL_TAIL.get())
    return protect_count(float(value), secret=_SECRET.get() or _FALLBACK, cell=key)


def protected_text(value: float, cell: Sequence[object]) -> str:
    return shown_count(protected_value(value, cell))
