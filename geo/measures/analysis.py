"""From validated placement data to the per-child distance table, compliance and a summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo.measures.compliance import district_compliance
from geo.measures.validation import validation_report
from geo.progress import Progress
from geo.progress import report as report_progress
from geo.spatial import distance as dist
from geo.spatial import postcodes as pc
from geo.spatial.authority import Authority, district_name
from geo.ssda903 import Census, Cohort, PlacementData, take_census

PLACEMENT_COLUMNS = [
    "CHILD",
    "HOME_POST",
    "PL_POST",
    "PLACE",
    "PLACE_PROVIDER",
    "distance_miles",
    "within_10",
    "within_20",
    "distance_status",
    "cohort",
    "home_district_code",
    "home_district_name",
    "placement_district_code",
    "placement_district_name",
]
# Extra per-child columns the app filters on (kept after the contract columns).
EXTRA_COLUMNS = [
    "LS",
    "DECOM",
    "age_years",
    "SEX",
    "DISABLED",
    "UASC",
    "placement_kind",
    "home_easting_m",
    "home_northing_m",
    "placement_easting_m",
    "placement_northing_m",
]


@dataclass(frozen=True)
class Analysis:
    """Everything ``placemap analyse`` writes, as data."""

    as_at: date
    authority: Authority
    placements: pd.DataFrame
    compliance_home: pd.DataFrame
    compliance_placement: pd.DataFrame
    rejects: pd.DataFrame
    summary: dict[str, Any]


def distance_table(census: Census, *, progress: Progress | None = None) -> pd.DataFrame:
    """Per-child DfE distances, flags, statuses and districts for the census."""
    c = census.children
    pairs = dist.pair_distances(c["HOME_POST"], c["PL_POST"], progress=progress)
    home_code = pairs.home.district_code
    pl_code = pairs.placement.district_code
    out = pd.DataFrame(
        {
            "CHILD": c["CHILD"].to_numpy(),
            "HOME_POST": pairs.home.postcode.fillna(
                c["HOME_POST"].reset_index(drop=True)
            ).to_numpy(),
            "PL_POST": pairs.placement.postcode.fillna(
                c["PL_POST"].reset_index(drop=True)
            ).to_numpy(),
            "PLACE": c["PLACE"].to_numpy(),
            "PLACE_PROVIDER": c["PLACE_PROVIDER"].to_numpy(),
            "distance_miles": pairs.miles,
            "within_10": pairs.within_10,
            "within_20": pairs.within_20,
            "distance_status": pairs.status.to_numpy(),
            "cohort": c["cohort"].to_numpy(),
            "home_district_code": home_code.to_numpy(),
            "home_district_name": [
                district_name(x) if isinstance(x, str) else "" for x in home_code
            ],
            "placement_district_code": pl_code.to_numpy(),
            "placement_district_name": [
                district_name(x) if isinstance(x, str) else "" for x in pl_code
            ],
            "LS": c["LS"].to_numpy(),
            "DECOM": c["DECOM"].dt.date.to_numpy(),
            # Whole years, blank when not known: Int64, never float (to_numpy would make 14.0)
            "age_years": c["age_years"].astype("Int64").array,
            "SEX": c["SEX"].to_numpy(),
            "DISABLED": c["DISABLED"].to_numpy(dtype=bool),
            "UASC": c["UASC"].to_numpy(dtype=bool),
            "placement_kind": c["placement_kind"].to_numpy(),
            "home_easting_m": pairs.home.easting_m,
            "home_northing_m": pairs.home.northing_m,
            "placement_easting_m": pairs.placement.easting_m,
            "placement_northing_m": pairs.placement.northing_m,
        }
    )
    return out[PLACEMENT_COLUMNS + EXTRA_COLUMNS]


def analyse(
    data: PlacementData,
    authority: Authority,
    *,
    as_at: date | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Census at ``as_at``, DfE distances, compliance by home and placement district, summary.

    ``progress`` hears the stages (census, postcode look-up, reconciliation)."""
    report_progress(progress, f"taking the census of {len(data.episodes):,} episodes")
    census = take_census(data, as_at=as_at)
    table = distance_table(census, progress=progress)
    included = table[table["cohort"] == Cohort.INCLUDED.value]
    rejected_rows = _rejected_rows(data.rejects, data.files)
    # Per-file reconciliation over every file and year: read = in census + not current +
    # rejected + merged duplicates.
    report_progress(progress, f"reconciling {sum(data.rows_read.values()):,} rows", unit="rows")
    report = validation_report(data, census)
    summary: dict[str, Any] = {
        "as_at": census.as_at.isoformat(),
        "authority": {"code": authority.code, "name": authority.name},
        "input_form": data.form,
        "files": data.files,
        "rows_read": data.rows_read,
        "placements_rows": report.totals,
        "validation": report.as_dict(),
        "rejected_rows": rejected_rows,
        "reject_reasons": int(len(data.rejects)),
        "children_in_census": int(len(table)),
        "cohorts": {c.value: int((table["cohort"] == c.value).sum()) for c in Cohort},
        "distance_status": {
            s.value: int((included["distance_status"] == s.value).sum())
            for s in dist.DistanceStatus
        },
        "distance_status_all_cohorts": {
            s.value: int((table["distance_status"] == s.value).sum()) for s in dist.DistanceStatus
        },
        "headline": _headline(included),
        "postcode_data_version": pc.data_version(),
        "method": "DfE SSDA903: round(sqrt(dE^2+dN^2)/1000/1.6093, 1) on ONSPD grid references",
    }
    return Analysis(
        as_at=census.as_at,
        authority=authority,
        placements=table,
        compliance_home=district_compliance(included, authority, by="home"),
        compliance_placement=district_compliance(included, authority, by="placement"),
        rejects=data.rejects,
        summary=summary,
    )


def _headline(included: pd.DataFrame) -> dict[str, Any]:
    known = included["distance_miles"].notna()
    n, k = len(included), int(known.sum())
    w20, w10 = int(included["within_20"].sum()), int(included["within_10"].sum())
    return {
        "children": n,
        "known": k,
        "not_known": n - k,
        "within_20": w20,
        "within_10": w10,
        "pct_within_20": round(100 * w20 / k, 1) if k else None,
        "pct_within_10": round(100 * w10 / k, 1) if k else None,
        "pct_within_20_all": round(100 * w20 / n, 1) if n else None,
        "median_miles": round(float(np.median(included.loc[known, "distance_miles"])), 1)
        if k
        else None,
    }


def _rejected_rows(rejects: pd.DataFrame, files: dict[str, str]) -> dict[str, int]:
    """Distinct rejected rows per input role (a row may have several reasons)."""
    from pathlib import Path

    by_name = {Path(p).name: role for role, p in files.items()}
    out: dict[str, int] = {}
    for name, rows in rejects.groupby("file")["row"]:
        role = by_name.get(str(name), str(name))
        out[role] = out.get(role, 0) + int(rows.nunique())
    return out
