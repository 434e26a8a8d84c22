"""Disclosure control for published tables (DESIGN.md §7, DfE convention).

* **Primary suppression**: a count of 1 to 5 children is shown as ``c``; 0 is shown.
* **Subsets of a hidden group**: when a row's base count (e.g. ``children``) is hidden, every
  other count in that row is hidden too, so "3 children, 2 within 20 miles" cannot be read as
  "c children, 2 within 20 miles".
* **Secondary suppression**: a table declares which cells add up (a total row that is the sum of
  other rows, a total column that is the sum of other columns). When exactly one cell of such a
  relation is hidden it could be worked out by subtraction, so the smallest other *part* of the
  relation is hidden as well (smallest non-zero first; the relation's total is hidden only when
  it has no other part to hide). This repeats until nothing changes, and then an exact check
  (linear algebra over every relation at once) confirms that no hidden cell is determined by the
  shown ones; if one is, another part is hidden and the loop runs again.
* **Derived values** (percentages, medians) are hidden when any count they come from is hidden.

Functions here are pure: a numeric table in, a display table (numbers, or ``"c"``) and a mask
out. Bounds that follow from non-negativity (a hidden cell is at most the total) are allowed, as
in the DfE's own tables.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

SUPPRESSED = "c"
SMALLEST_SHOWN = 6  # counts 1..5 are hidden; 0 and 6+ are shown
SUPPRESSION_NOTE = (
    "Disclosure control (DfE convention): counts of 1 to 5 children are shown as 'c'; further "
    "cells are hidden where a small number could otherwise be worked out from totals; "
    "percentages and medians of hidden counts are hidden too."
)
NO_SUPPRESSION_NOTE = (
    "Disclosure control is OFF in this copy (analyst export): it shows counts of 1 to 5 "
    "children and must not be published or shared beyond people allowed to see them."
)


@dataclass(frozen=True)
class Suppressed:
    """A table after disclosure control.

    ``table``: the input with every count and derived column as ``object`` dtype holding the
    number, or ``"c"`` where hidden. ``mask``: ``True`` where a cell is hidden (same index and
    columns as the input; columns that are neither counts nor derived are never hidden).
    ``primary``: the subset of ``mask`` hidden because the count itself is 1 to 5.
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame

    @property
    def hidden_cells(self) -> int:
        return int(self.mask.to_numpy().sum())


@dataclass(frozen=True)
class _Relation:
    """``total`` = sum of ``parts``; cells are (row position, column position)."""

    total: tuple[int, int]
    parts: tuple[tuple[int, int], ...]

    @property
    def cells(self) -> tuple[tuple[int, int], ...]:
        return (self.total, *self.parts)


def is_small(values: ArrayLike, *, smallest_shown: int = SMALLEST_SHOWN) -> np.ndarray:
    """True for counts from 1 to ``smallest_shown - 1`` (NaN and 0 are not small)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(v) & (v >= 1) & (v < smallest_shown)


def suppress_table(
    table: pd.DataFrame,
    *,
    counts: Sequence[str],
    derived: Mapping[str, Sequence[str]] | None = None,
    total_row: Hashable | None = None,
    row_groups: Sequence[tuple[Hashable, Sequence[Hashable]]] = (),
    column_groups: Sequence[tuple[str, Sequence[str]]] = (),
    row_base: str | None = None,
    smallest_shown: int = SMALLEST_SHOWN,
) -> Suppressed:
    """Apply primary and secondary suppression to a table of counts.

    Parameters
    ----------
    table:
        Numeric table; index labels identify rows (must be unique).
    counts:
        Columns holding counts of children: hidden when 1 to ``smallest_shown - 1``.
    derived:
        ``{column: [count columns]}``: a percentage, median or other value computed from those
        counts, hidden when any of them is hidden in the same row.
    total_row:
        Label of the row that is the sum of all other rows (for every count column).
    row_groups:
        Further ``(total_label, [part_labels])`` row relations (e.g. a cohort table where
        "all" = "disabled" + "not disabled").
    column_groups:
        ``(total_column, [part_columns])`` relations that hold in every row (e.g.
        ``children`` = ``in_house`` + ``ifa`` + ``residential`` + ``other``).
    row_base:
        Count column whose hiding hides every other count in the row (the group size).

    Raises ``ValueError`` naming the column or label when one is not in ``table``, or when the
    index has duplicates. NaN counts are left as they are and never hidden.
    """
    derived = dict(derived or {})
    _check(table, counts, derived, total_row, row_groups, column_groups, row_base)
    labels = list(table.index)
    pos = {label: i for i, label in enumerate(labels)}
    cols = list(table.columns)
    cpos = {c: j for j, c in enumerate(cols)}
    count_j = [cpos[c] for c in counts]

    values = np.full((len(labels), len(cols)), np.nan)
    for c in counts:
        values[:, cpos[c]] = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)

    relations = _relations(
        labels,
        pos,
        cpos,
        counts,
        total_row=total_row,
        row_groups=row_groups,
        column_groups=column_groups,
    )
    hidden = np.zeros(values.shape, dtype=bool)
    hidden[:, count_j] = is_small(values[:, count_j], smallest_shown=smallest_shown)
    primary = hidden.copy()
    base_j = cpos[row_base] if row_base is not None else None

    while True:
        _secondary_until_stable(values, hidden, relations, count_j, base_j)
        determined = _determined_cells(hidden, relations)
        if not determined:
            break
        _hide_one_more(determined[0], values, hidden, relations)

    for col, sources in derived.items():
        src = np.zeros(len(labels), dtype=bool)
        for s in sources:
            src |= hidden[:, cpos[s]]
        hidden[:, cpos[col]] |= src

    mask = pd.DataFrame(hidden, index=table.index, columns=table.columns)
    prim = pd.DataFrame(primary, index=table.index, columns=table.columns)
    out = mark_hidden(table, mask, list(dict.fromkeys([*counts, *derived])))
    return Suppressed(table=out, mask=mask, primary=prim)


def mark_hidden(table: pd.DataFrame, mask: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``table`` whose ``columns`` are ``object`` dtype with ``"c"`` where ``mask``
    (same index and columns) is True."""
    out = table.copy()
    for c in columns:
        shown = out[c].astype(object)
        shown[mask[c].to_numpy()] = SUPPRESSED
        out[c] = shown
    return out


def suppress_counts(
    counts: np.ndarray | Sequence[float],
    *,
    total_index: int | None = None,
    smallest_shown: int = SMALLEST_SHOWN,
) -> np.ndarray:
    """Hidden-mask for one column of counts whose ``total_index`` entry is the sum of the others.

    A 1-D shortcut for :func:`suppress_table` (what a map or a bar chart of one count needs).
    """
    arr = np.asarray(counts, dtype=float)
    frame = pd.DataFrame({"n": arr})
    res = suppress_table(
        frame,
        counts=["n"],
        total_row=None if total_index is None else frame.index[total_index],
        smallest_shown=smallest_shown,
    )
    return res.mask["n"].to_numpy()


def _check(
    table: pd.DataFrame,
    counts: Sequence[str],
    derived: Mapping[str, Sequence[str]],
    total_row: Hashable | None,
    row_groups: Sequence[tuple[Hashable, Sequence[Hashable]]],
    column_groups: Sequence[tuple[str, Sequence[str]]],
    row_base: str | None,
) -> None:
    if not table.index.is_unique:
        raise ValueError("suppress_table needs a table with unique row labels (index)")
    names = set(table.columns)
    wanted = [*counts, *derived, *(s for v in derived.values() for s in v)]
    wanted += [c for t, parts in column_groups for c in (t, *parts)]
    if row_base is not None:
        wanted.append(row_base)
    missing = [c for c in wanted if c not in names]
    if missing:
        raise ValueError(
            f"suppress_table: column(s) {missing} not in the table; it has {list(table.columns)}"
        )
    not_counts = [c for t, parts in column_groups for c in (t, *parts) if c not in counts]
    not_counts += [s for v in derived.values() for s in v if s not in counts]
    if row_base is not None and row_base not in counts:
        not_counts.append(row_base)
    if not_counts:
        raise ValueError(
            f"suppress_table: column(s) {not_counts} are used as counts but not listed in counts"
        )
    rows = set(table.index)
    wanted_rows = [] if total_row is None else [total_row]
    wanted_rows += [r for t, parts in row_groups for r in (t, *parts)]
    missing_rows = [r for r in wanted_rows if r not in rows]
    if missing_rows:
        raise ValueError(f"suppress_table: row label(s) {missing_rows} not in the table index")


def _relations(
    labels: list[Hashable],
    pos: dict[Hashable, int],
    cpos: dict[str, int],
    counts: Sequence[str],
    *,
    total_row: Hashable | None,
    row_groups: Sequence[tuple[Hashable, Sequence[Hashable]]],
    column_groups: Sequence[tuple[str, Sequence[str]]],
) -> list[_Relation]:
    groups: list[tuple[int, list[int]]] = []
    if total_row is not None:
        t = pos[total_row]
        groups.append((t, [i for i in range(len(labels)) if i != t]))
    groups += [(pos[t], [pos[p] for p in parts]) for t, parts in row_groups]
    out = [
        _Relation(total=(t, cpos[c]), parts=tuple((i, cpos[c]) for i in parts))
        for t, parts in groups
        for c in counts
    ]
    for total_col, parts in column_groups:
        for i in range(len(labels)):
            out.append(
                _Relation(total=(i, cpos[total_col]), parts=tuple((i, cpos[p]) for p in parts))
            )
    return out


def _hide_row_subsets(
    values: np.ndarray, hidden: np.ndarray, count_j: list[int], base_j: int | None
) -> bool:
    if base_j is None:
        return False
    rows = hidden[:, base_j]
    changed = False
    for j in count_j:
        new = rows & ~hidden[:, j] & np.isfinite(values[:, j])
        if new.any():
            hidden[new, j] = True
            changed = True
    return changed


def _secondary_until_stable(
    values: np.ndarray,
    hidden: np.ndarray,
    relations: list[_Relation],
    count_j: list[int],
    base_j: int | None,
) -> None:
    """Repeat "exactly one hidden cell in a relation → hide the next-smallest part"."""
    changed = True
    while changed:
        changed = _hide_row_subsets(values, hidden, count_j, base_j)
        for rel in relations:
            if sum(hidden[c] for c in rel.cells) != 1:
                continue
            target = _complement(rel, values, hidden, relations)
            if target is not None:
                hidden[target] = True
                changed = True


def _complement(
    rel: _Relation, values: np.ndarray, hidden: np.ndarray, relations: list[_Relation]
) -> tuple[int, int] | None:
    """The cell to hide alongside the single hidden cell of ``rel``: the smallest shown part
    (non-zero before zero; among equals, one that also protects another relation)."""
    candidates = [c for c in rel.parts if not hidden[c] and np.isfinite(values[c])]
    if not candidates:
        # Only the relation's total is left to hide (documented fallback).
        return rel.total if not hidden[rel.total] and np.isfinite(values[rel.total]) else None

    def lonely(cell: tuple[int, int]) -> bool:
        return any(
            cell in r.cells and sum(hidden[c] for c in r.cells) == 1
            for r in relations
            if r is not rel
        )

    return min(
        candidates,
        key=lambda c: (values[c] == 0, values[c], not lonely(c), c),
    )


def _determined_cells(hidden: np.ndarray, relations: list[_Relation]) -> list[tuple[int, int]]:
    """Hidden cells whose value follows exactly from the shown cells through the relations.

    A hidden cell is determined when its unit vector lies in the row space of the relations
    restricted to the hidden cells, i.e. when every vector of that matrix's null space is zero
    there. The matrix falls apart into independent blocks (cells linked through relations);
    each block gets one SVD, so large tables stay fast.
    """
    cells = [(int(i), int(j)) for i, j in np.argwhere(hidden)]
    if not cells or not relations:
        return []
    index = {c: k for k, c in enumerate(cells)}
    rows: list[list[tuple[int, float]]] = []
    for rel in relations:
        entries = [
            (index[c], coef)
            for c, coef in ((rel.total, -1.0), *((p, 1.0) for p in rel.parts))
            if c in index
        ]
        if entries:
            rows.append(entries)
    parent = list(range(len(cells)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for entries in rows:
        first = root(entries[0][0])
        for k, _ in entries[1:]:
            other = root(k)
            if other != first:
                parent[other] = first
    blocks: dict[int, list[list[tuple[int, float]]]] = {}
    for entries in rows:
        blocks.setdefault(root(entries[0][0]), []).append(entries)
    determined = np.zeros(len(cells), dtype=bool)
    for block_rows in blocks.values():
        members = sorted({k for entries in block_rows for k, _ in entries})
        col = {k: n for n, k in enumerate(members)}
        a = np.zeros((len(block_rows), len(members)))
        for r, entries in enumerate(block_rows):
            for k, coef in entries:
                a[r, col[k]] += coef
        _, sv, vt = np.linalg.svd(a, full_matrices=True)
        tol = (sv.max() if len(sv) else 0.0) * max(a.shape) * np.finfo(float).eps
        rank = int((sv > tol).sum())
        null = vt[rank:]
        fixed = np.all(np.abs(null) < 1e-9, axis=0) if len(null) else np.ones(len(members), bool)
        determined[np.asarray(members)[fixed]] = True
    return [c for k, c in enumerate(cells) if determined[k]]


def _hide_one_more(
    cell: tuple[int, int], values: np.ndarray, hidden: np.ndarray, relations: list[_Relation]
) -> None:
    """Hide the smallest shown part of any relation through ``cell`` (its total as a last
    resort), so that ``cell`` is no longer determined."""
    best: tuple[int, int] | None = None
    for rel in relations:
        if cell not in rel.cells:
            continue
        for c in rel.parts:
            if hidden[c] or not np.isfinite(values[c]):
                continue
            if best is None or (values[c] == 0, values[c], c) < (
                values[best] == 0,
                values[best],
                best,
            ):
                best = c
    if best is None:
        totals = [r.total for r in relations if cell in r.cells and not hidden[r.total]]
        if not totals:  # pragma: no cover - a determined cell always has a shown neighbour
            raise RuntimeError("disclosure: a determined cell has nothing left to hide")
        best = totals[0]
    hidden[best] = True
