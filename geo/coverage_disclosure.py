"""Disclosure control for the coverage tables (``placemap coverage --suppress``).

The three tables :class:`geo.coverage.CoverageResult` gives count children in three columns —
``children``, ``gap`` and ``children_at_risk`` — and those follow the DfE convention of
DESIGN.md §7: 1 to 5 is shown as ``c``, with secondary suppression so a hidden cell cannot be
worked out from the totals. Carer households and places are supply figures and are shown (as in
the district comparison report). Ratios computed over a district's or an area's children (places
per child by 2SFCA / E2SFCA, vacant suitable places per child) are hidden with its children.

Relations used for the secondary suppression:

* district table: the districts (and "outside") add up to the authority total row;
* area table: within each area type (postcode sectors, grid squares) the areas add up to the
  authority total of the district table, which is published beside it;
* shortage table: its rows repeat area and district cells (the ``all`` cohort; areas of West
  Kent in the ``West Kent`` cohort), so each row hides what the same area hides in those tables;
  cohorts list only areas with a shortage and no cohort totals are published, so beyond that
  primary suppression is what they need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.disclosure import SUPPRESSED, is_small, suppress_table

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
    out = frame.copy()
    for col in mask.columns:
        if mask[col].any():
            shown = out[col].astype(object)
            shown[mask[col].to_numpy()] = SUPPRESSED
            out[col] = shown
    return out


def suppress_coverage(
    district: pd.DataFrame,
    areas: pd.DataFrame,
    shortage: pd.DataFrame,
    *,
    authority_code: str,
) -> SuppressedCoverage:
    """Apply disclosure control to the district, area and shortage tables of a coverage result.

    ``district`` must hold a row whose ``district_code`` is ``authority_code`` (the total).
    Raises ``ValueError`` when it does not.
    """
    codes = district["district_code"].astype(str)
    if authority_code not in set(codes):
        raise ValueError(f"the district table has no total row {authority_code!r}")
    counts = _present(district, CHILD_COUNTS)

    # Districts: rows add up to the total row.
    d = district.set_index(codes.to_numpy())
    d_res = suppress_table(
        d[[*counts, *_derived(d)]],
        counts=counts,
        derived=_derived(d),
        total_row=authority_code,
        row_base="children" if "children" in counts else None,
    )
    d_mask = d_res.mask.reindex(columns=district.columns, fill_value=False).set_axis(district.index)
    hidden = int(d_res.mask.to_numpy().sum())
    district_out = _hide(district, d_mask)

    # Areas: within each area type the rows add up to the published authority total.
    total = d.loc[authority_code, counts]
    area_masks = []
    for _, group in areas.groupby("area_type", sort=False):
        g = group.set_index(group["area_id"].astype(str).to_numpy())
        table = g[[*counts, *_derived(g)]].copy()
        table.loc[_TOTAL] = np.nan
        table.loc[_TOTAL, counts] = total.to_numpy(dtype=float)
        res = suppress_table(
            table,
            counts=counts,
            derived=_derived(g),
            total_row=_TOTAL,
            row_base="children" if "children" in counts else None,
        )
        mask = res.mask.drop(index=_TOTAL)
        area_masks.append(mask.set_axis(group.index))
    a_mask = (
        pd.concat(area_masks).reindex(index=areas.index, columns=areas.columns, fill_value=False)
        if area_masks
        else pd.DataFrame(False, index=areas.index, columns=areas.columns)
    )
    hidden += int(a_mask.to_numpy().sum())
    areas_out = _hide(areas, a_mask)

    # Shortage: primary suppression on every row; and cohort rows can repeat an area's own
    # cells (all children; West Kent areas), so each row also hides what its area hides in the
    # tables above (hiding more is safe).
    s_counts = _present(shortage, CHILD_COUNTS)
    s_mask = pd.DataFrame(False, index=shortage.index, columns=shortage.columns)
    if len(shortage) and s_counts:
        kinds = shortage["area_type"].astype(str).to_numpy()
        ids = shortage["area_id"].astype(str).to_numpy()
        d_keys = pd.MultiIndex.from_arrays([np.full(len(codes), "district"), codes.to_numpy()])
        a_keys = pd.MultiIndex.from_arrays(
            [areas["area_type"].astype(str).to_numpy(), areas["area_id"].astype(str).to_numpy()]
        )
        row_keys = pd.MultiIndex.from_arrays([kinds, ids])
        for c in s_counts:
            values = pd.to_numeric(shortage[c], errors="coerce").to_numpy(dtype=float)
            small = is_small(values)
            from_district = pd.Series(d_mask[c].to_numpy(), index=d_keys).reindex(row_keys)
            from_areas = pd.Series(a_mask[c].to_numpy(), index=a_keys).reindex(row_keys)
            s_mask[c] = (
                small
                | from_district.fillna(False).to_numpy(dtype=bool)
                | from_areas.fillna(False).to_numpy(dtype=bool)
            )
        if "children" in s_counts:
            for col in _present(shortage, PER_CHILD):
                s_mask[col] = s_mask["children"]
    hidden += int(s_mask.to_numpy().sum())
    shortage_out = _hide(shortage, s_mask)
    return SuppressedCoverage(district_out, areas_out, shortage_out, hidden)
