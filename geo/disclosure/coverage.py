"""Disclosure control for the coverage tables (``placemap coverage --suppress``).

The three tables :class:`geo.coverage.model.CoverageResult` gives count children in three columns —
``children``, ``gap`` and ``children_at_risk`` — and those follow the DfE convention of
DESIGN.md §7: 1 to 5 is shown as ``c``, with secondary suppression so a hidden cell cannot be
worked out from what the three files publish together. Carer households and places are supply
figures and are shown (as in the district comparison report). Ratios computed over a district's
or an area's children (places per child by 2SFCA / E2SFCA, vacant suitable places per child) are
hidden with its children.

Relations the secondary suppression respects (declaring one that does not hold exactly only
hides more):

* district table: the districts (and "outside") add up to the authority total row;
* area table: within each area type (postcode sectors, grid squares) the areas add up to the
  authority total of the district table, which is published beside it;
* shortage table: within each cohort and area type the rows add up to the cohort's total (the
  rows are every area with a child at risk, so this holds for ``children_at_risk``); in each
  area the area-group cohorts (West, North, East Kent) add up to the ``all`` row;
* across tables: a shortage cell that repeats the same area's cell in the district or area
  table (same value) is hidden in both or neither — the three tables are suppressed again until
  nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.disclosure.suppression import mark_hidden, suppress_table

CHILD_COUNTS = ["children", "gap", "children_at_risk"]
PER_CHILD = [
    "places_per_child_2sfca",
    "places_per_child_e2sfca",
    "vacant_suitable_places_per_child",
]
_TOTAL = "__authority_total__"


@dataclass(frozen=True)
class SuppressedCoverage:
    """The three tables with hidden cells as ``"c"``, and how many cells were hidden."""

    district: pd.DataFrame
    areas: pd.DataFrame
    shortage: pd.DataFrame
    hidden_cells: int


def _present(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c in frame.columns]


def _derived(frame: pd.DataFrame) -> dict[str, list[str]]:
    return {c: ["children"] for c in _present(frame, PER_CHILD)}


def _hide(frame: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    """``"c"`` in the hidden cells; columns with nothing hidden keep their type."""
    return mark_hidden(frame, mask, [c for c in mask.columns if mask[c].any()])


def _forced(values: pd.DataFrame, force: np.ndarray) -> pd.DataFrame:
    """``values`` with the ``force`` cells set to 1, so primary suppression hides them."""
    arr = values.to_numpy(dtype=float, copy=True)
    arr[force] = 1.0
    return pd.DataFrame(arr, index=values.index, columns=values.columns)


def suppress_coverage(
    district: pd.DataFrame,
    areas: pd.DataFrame,
    shortage: pd.DataFrame,
    *,
    authority_code: str,
    group_cohorts: tuple[str, ...] = (),
) -> SuppressedCoverage:
    """Apply disclosure control to the district, area and shortage tables of a coverage result.

    ``district`` must hold a row whose ``district_code`` is ``authority_code`` (the total);
    ``group_cohorts``: the cohorts of the authority's area groups (they add up to ``all`` in
    every area). Raises ``ValueError`` when the total row is missing.
    """
    codes = district["district_code"].astype(str)
    if authority_code not in set(codes):
        raise ValueError(f"the district table has no total row {authority_code!r}")
    counts = _present(district, CHILD_COUNTS)
    s_counts = _present(shortage, CHILD_COUNTS)
    force_d = np.zeros((len(district), len(counts)), dtype=bool)
    force_a = np.zeros((len(areas), len(counts)), dtype=bool)
    # Where each shortage row's area sits in the district / area table (-1: not there).
    d_pos = pd.Series(np.arange(len(district)), index=codes.to_numpy())
    a_pos = pd.Series(
        np.arange(len(areas)),
        index=pd.MultiIndex.from_arrays(
            [areas["area_type"].astype(str).to_numpy(), areas["area_id"].astype(str).to_numpy()]
        ),
    )
    kinds = shortage["area_type"].astype(str).to_numpy() if len(shortage) else np.zeros(0, str)
    ids = shortage["area_id"].astype(str).to_numpy() if len(shortage) else np.zeros(0, str)
    in_d = np.where(kinds == "district", d_pos.reindex(ids).fillna(-1).to_numpy(int), -1)
    in_a = (
        a_pos.reindex(pd.MultiIndex.from_arrays([kinds, ids])).fillna(-1).to_numpy(int)
        if len(shortage)
        else np.zeros(0, int)
    )
    in_a = np.where(kinds == "district", -1, in_a)

    while True:
        d_mask = _district_mask(district, codes, counts, force_d, authority_code)
        a_mask = _area_mask(areas, counts, force_a, district, codes, authority_code)
        s_mask = _shortage_mask(shortage, s_counts, d_mask, a_mask, in_d, in_a, group_cohorts)
        # A hidden shortage cell equal to its area's shown cell gives that cell away: hide it
        # there too and go round again.
        grew = False
        for j, c in enumerate(counts):
            if c not in s_counts:
                continue
            hidden_s = s_mask[c].to_numpy()
            value = pd.to_numeric(shortage[c], errors="coerce").to_numpy(float)
            for where, mask, values, force in (
                (in_d, d_mask, district, force_d),
                (in_a, a_mask, areas, force_a),
            ):
                rows = hidden_s & (where >= 0)
                at = where[rows]
                same = value[rows] == pd.to_numeric(values[c], errors="coerce").to_numpy(float)[at]
                new = at[same & ~mask[c].to_numpy()[at]]
                if len(new):
                    force[new, j] = True
                    grew = True
        if not grew:
            break
    hidden = int(d_mask.to_numpy().sum() + a_mask.to_numpy().sum() + s_mask.to_numpy().sum())
    return SuppressedCoverage(
        _hide(district, d_mask), _hide(areas, a_mask), _hide(shortage, s_mask), hidden
    )


def _district_mask(
    district: pd.DataFrame,
    codes: pd.Series,
    counts: list[str],
    force: np.ndarray,
    authority_code: str,
) -> pd.DataFrame:
    d = district.set_index(codes.to_numpy())
    mask = _against_total(d, counts, force, total_row=authority_code)
    return mask.reindex(columns=district.columns, fill_value=False).set_axis(district.index)


def _against_total(
    frame: pd.DataFrame,
    counts: list[str],
    force: np.ndarray,
    *,
    total_row: str,
    total: pd.Series | None = None,
) -> pd.DataFrame:
    """Suppression of ``frame``'s counts (``force`` cells hidden first) where the rows add up to
    ``total_row`` — a row of ``frame``, or one added with the values ``total`` and dropped from
    the mask returned."""
    table = frame[[*counts, *_derived(frame)]].copy()
    table[counts] = _forced(table[counts], force)
    if total is not None:
        table.loc[total_row] = np.nan
        table.loc[total_row, counts] = total.to_numpy(dtype=float)
    res = suppress_table(
        table,
        counts=counts,
        derived=_derived(frame),
        total_row=total_row,
        row_base="children" if "children" in counts else None,
    )
    return res.mask.drop(index=total_row) if total is not None else res.mask


def _area_mask(
    areas: pd.DataFrame,
    counts: list[str],
    force: np.ndarray,
    district: pd.DataFrame,
    codes: pd.Series,
    authority_code: str,
) -> pd.DataFrame:
    """Within each area type the areas add up to the authority total (published)."""
    total = pd.Series(
        district.set_index(codes.to_numpy()).loc[authority_code, counts].to_numpy(dtype=float),
        index=counts,
    )
    masks = []
    for _, group in areas.groupby("area_type", sort=False):
        at = areas.index.get_indexer(group.index)
        g = group.set_index(group["area_id"].astype(str).to_numpy())
        mask = _against_total(g, counts, force[at], total_row=_TOTAL, total=total)
        masks.append(mask.set_axis(group.index))
    if not masks:
        return pd.DataFrame(False, index=areas.index, columns=areas.columns)
    return pd.concat(masks).reindex(index=areas.index, columns=areas.columns, fill_value=False)


def _shortage_mask(
    shortage: pd.DataFrame,
    counts: list[str],
    d_mask: pd.DataFrame,
    a_mask: pd.DataFrame,
    in_d: np.ndarray,
    in_a: np.ndarray,
    group_cohorts: tuple[str, ...],
) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=shortage.index, columns=shortage.columns)
    if not len(shortage) or not counts:
        return mask
    # Each row starts with what its area hides in the district / area table.
    force = np.zeros((len(shortage), len(counts)), dtype=bool)
    for j, c in enumerate(counts):
        for where, m in ((in_d, d_mask), (in_a, a_mask)):
            ok = where >= 0
            force[ok, j] |= m[c].to_numpy()[where[ok]]
    table = _forced(shortage[counts].apply(pd.to_numeric, errors="coerce"), force)
    table.index = pd.RangeIndex(len(table))
    cohort = shortage["cohort"].astype(str).to_numpy()
    kinds = shortage["area_type"].astype(str).to_numpy()
    ids = shortage["area_id"].astype(str).to_numpy()
    row_groups: list[tuple[object, list[object]]] = []
    totals: dict[str, np.ndarray] = {}
    for (name, _kind), rows in pd.Series(np.arange(len(table))).groupby([cohort, kinds]):
        label = f"__total__{name!s}"
        if label not in totals:
            totals[label] = table.iloc[rows.to_numpy()].sum().to_numpy()
        row_groups.append((label, rows.tolist()))
    if group_cohorts:
        for _, rows in pd.Series(np.arange(len(table))).groupby([kinds, ids]):
            r = rows.to_numpy()
            alls = r[cohort[r] == "all"]
            parts = r[np.isin(cohort[r], list(group_cohorts))]
            if len(alls) and len(parts):
                row_groups.append((int(alls[0]), parts.tolist()))
    for label, values in totals.items():
        table.loc[label] = values
    res = suppress_table(table, counts=counts, row_groups=row_groups)
    hidden = res.mask.iloc[: len(shortage)]
    for c in counts:
        mask[c] = hidden[c].to_numpy()
    if "children" in counts:
        for col in _present(shortage, PER_CHILD):
            mask[col] = mask["children"]
    return mask


def _cell(table: str, row: pd.Series, column: str) -> tuple[object, ...]:
    """The definition of one coverage cell, the same as the app's pages use for it: the gap of a
    district as on the comparison page, children at risk as on the Recruitment page, a 5 km
    square as on the Carer coverage map."""
    if table == "district":
        code = str(row["district_code"])
        if column == "gap":
            return ("coverage-gap", code, "gap")
        if column == "children_at_risk":
            return ("at-risk", code)
        return ("coverage-children", code) if column == "children" else (table, code, column)
    kind, area = str(row.get("area_type", "")), str(row.get("area_id", ""))
    cohort = str(row.get("cohort", "all"))
    if kind.startswith("grid") and cohort == "all":
        return ("square", area, column)
    return ("coverage", kind, area, cohort, column)


def protect_coverage(
    district: pd.DataFrame,
    areas: pd.DataFrame,
    shortage: pd.DataFrame,
    *,
    secret: bytes,
) -> SuppressedCoverage:
    """The three coverage tables by the cell-key method (:mod:`geo.disclosure.cellkey`), as the
    app shows them: every count of children keyed by its definition (``c`` = 0 to 6, others
    within 2), per-child ratios over the protected count of children (hidden with it). Carer
    households and places are supply figures and stay as they are."""
    from geo.disclosure.cellkey import SUPPRESSED as C
    from geo.disclosure.cellkey import protect_count

    hidden = 0
    out = []
    for name, frame in (("district", district), ("areas", areas), ("shortage", shortage)):
        t = frame.copy()
        counts = _present(t, CHILD_COUNTS)
        shown = {
            c: np.array(
                [
                    protect_count(float(v), secret=secret, cell=_cell(name, row, c))
                    if np.isfinite(float(v))
                    else np.nan
                    for v, (_i, row) in zip(t[c].to_numpy(float), t.iterrows(), strict=True)
                ]
            )
            for c in counts
        }
        for c in _present(t, PER_CHILD):
            if "children" not in shown:
                continue
            true = t["children"].to_numpy(float)
            ratio = t[c].to_numpy(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                scaled = np.round(ratio * true / shown["children"], 2)
            hide = ~np.isfinite(shown["children"]) & np.isfinite(ratio)
            hidden += int(hide.sum())
            t[c] = pd.Series(np.where(hide, np.nan, scaled), index=t.index).astype(object)
            t.loc[hide, c] = C
        for c, values in shown.items():
            hide = ~np.isfinite(values) & np.isfinite(t[c].to_numpy(float))
            hidden += int(hide.sum())
            col = pd.Series(
                [
                    C if h else (int(v) if np.isfinite(v) else v)
                    for v, h in zip(values, hide, strict=True)
                ],
                index=t.index,
                dtype=object,
            )
            t[c] = col
        out.append(t)
    return SuppressedCoverage(district=out[0], areas=out[1], shortage=out[2], hidden_cells=hidden)
