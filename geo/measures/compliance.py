"""District-level 20- and 10-mile compliance tables (DESIGN.md §1, §4).

Input is the per-child placements table built by :mod:`geo.measures.analysis` (``distance_miles``,
``within_10``, ``within_20``, ``home_district_code``, ``placement_district_code``). Percentages are
of children with a known distance; the ``*_all`` columns give the share of all children.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from geo.measures.cell_keys import cell_key, cell_key_sums, record_keys
from geo.spatial.areas import area_codes, area_names, area_order
from geo.spatial.authority import OUTSIDE, Authority

COMPLIANCE_COLUMNS = [
    "district_code",
    "district_name",
    "children",
    "known",
    "within_20",
    "pct_within_20",
    "within_10",
    "pct_within_10",
    "not_known",
    "median_miles",
    "pct_within_20_all",
    "pct_within_10_all",
]


def _pct(num: pd.Series, den: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(
            np.where(den > 0, np.round(100.0 * num / den.where(den > 0), 1), np.nan),
            index=num.index,
        )


def area_of(
    placements: pd.DataFrame, authority: Authority, *, by: Literal["home", "placement"] = "home"
) -> pd.Series:
    """Each child's table area (district, postcode district or authority:
    :func:`geo.spatial.areas.area_codes`) by home or placement; ``OUTSIDE`` for the others."""
    column = "HOME_POST" if by == "home" else "PL_POST"
    post = (
        placements[column]
        if column in placements.columns
        else pd.Series(pd.NA, index=placements.index, dtype="string")
    )
    codes = area_codes(authority, placements[f"{by}_district_code"], post)
    return pd.Series(codes.to_numpy(), index=placements.index)


def district_compliance(
    placements: pd.DataFrame,
    authority: Authority,
    *,
    by: Literal["home", "placement"] = "home",
    with_keys: bool = False,
) -> pd.DataFrame:
    """One row per district of ``authority`` + ``OUTSIDE`` + the authority total.

    ``by="home"`` groups children by the district of their originating address (``HOME_POST``);
    ``by="placement"`` by the district they are placed in. The rows are the authority's areas
    (:func:`area_of`): districts of a county, postcode districts of a single-district authority,
    authorities of a region; the total row's code is always the authority's own and distinct. ``OUTSIDE`` holds children whose
    district is outside the authority or not known. Filter the cohort before calling.

    ``with_keys`` adds each count's cell key (``children_ckey``, ``known_ckey`` …) for the
    cell-key method (:mod:`geo.measures.cell_keys`; the perturbation is in ``geo.disclosure``).
    """
    group = area_of(placements, authority, by=by)
    known = placements["distance_miles"].notna()
    frame = pd.DataFrame(
        {
            "group": group.to_numpy(),
            "known": known.to_numpy(),
            "within_20": placements["within_20"].astype(bool).to_numpy(),
            "within_10": placements["within_10"].astype(bool).to_numpy(),
            "miles": placements["distance_miles"].to_numpy(dtype=float),
        }
    )
    order = [*area_order(authority, group), OUTSIDE]
    g = frame.groupby("group", sort=False)
    table = pd.DataFrame(
        {
            "children": g.size(),
            "known": g["known"].sum(),
            "within_20": g["within_20"].sum(),
            "within_10": g["within_10"].sum(),
            "median_miles": g["miles"].median(),
        }
    ).reindex(order)
    table[["children", "known", "within_20", "within_10"]] = (
        table[["children", "known", "within_20", "within_10"]].fillna(0).astype(int)
    )
    total = pd.DataFrame(
        {
            "children": [len(frame)],
            "known": [int(frame["known"].sum())],
            "within_20": [int(frame["within_20"].sum())],
            "within_10": [int(frame["within_10"].sum())],
            "median_miles": [
                float(np.nanmedian(frame["miles"])) if frame["known"].any() else np.nan
            ],
        },
        index=[authority.code],
    )
    table = pd.concat([table, total])
    table["not_known"] = table["children"] - table["known"]
    table["pct_within_20"] = _pct(table["within_20"], table["known"])
    table["pct_within_10"] = _pct(table["within_10"], table["known"])
    table["pct_within_20_all"] = _pct(table["within_20"], table["children"])
    table["pct_within_10_all"] = _pct(table["within_10"], table["children"])
    table["median_miles"] = table["median_miles"].round(1)
    table.index.name = "district_code"
    table = table.reset_index()
    names = {
        **area_names(authority, order),
        OUTSIDE: f"Outside {authority.name} or not known",
        authority.code: f"{authority.name} total",
    }
    table["district_name"] = table["district_code"].map(names)
    if not with_keys:
        return table[COMPLIANCE_COLUMNS]
    keys = record_keys(placements["CHILD"]) if "CHILD" in placements else np.zeros(len(frame))
    subsets = {
        "children": None,
        "known": frame["known"].to_numpy(),
        "within_20": frame["within_20"].to_numpy(),
        "within_10": frame["within_10"].to_numpy(),
        "not_known": ~frame["known"].to_numpy(),
    }
    out = table[COMPLIANCE_COLUMNS].copy()
    for name, sel in subsets.items():
        by_group = cell_key_sums(keys, frame["group"].to_numpy(), sel)
        col = by_group.reindex(out["district_code"]).fillna(0).astype(int).to_numpy().copy()
        col[out["district_code"].to_numpy() == authority.code] = cell_key(keys, sel)
        out[f"{name}_ckey"] = col
    return out
