"""View models shared by pages: filtered compliance tables with disclosure control applied."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from app.data.store import DatasetStore, Filters
from geo.disclosure import suppress_district_table, suppress_trend
from geo.measures import Analysis, compliance_trend, district_compliance
from geo.spatial import OUTSIDE


@dataclass(frozen=True)
class ComplianceView:
    as_at: date
    analysis: Analysis
    table: pd.DataFrame  # districts + OUTSIDE + total, with *_shown / pct_text columns
    context_codes: list[str]
    map_note: str


def compliance_view(
    store: DatasetStore, dataset_id: str | None, filters: Filters, *, threshold: int, view: str
) -> ComplianceView:
    ds = store.get(dataset_id)
    # no date chosen: the dataset's census date (one date for every page), in the cache key too
    filters = replace(filters, as_at=filters.as_at or ds.as_at)

    def compute() -> ComplianceView:
        analysis = store.analysis(ds.id, filters.as_at)
        rows = store.filtered(ds.id, filters)
        table = district_compliance(
            rows, store.authority, by="placement" if view == "placement" else "home"
        )
        table = suppress(table, threshold=threshold)
        b = store.boundaries
        context = [c for c in b.frame["district_code"] if c not in store.authority.districts]
        note = getattr(b, "attribution", "") or ""
        return ComplianceView(
            as_at=analysis.as_at,
            analysis=analysis,
            table=table,
            context_codes=context,
            map_note=note,
        )

    return ds.cached(("compliance_view", filters, threshold, view), compute)


def suppress(table: pd.DataFrame, *, threshold: int) -> pd.DataFrame:
    """Add display columns for ``threshold`` miles after the one district-table disclosure policy
    (:func:`geo.disclosure.suppress_district_table`, shared with the report): counts of 1-5
    hidden (``c``), secondary suppression so no hidden cell follows from the totals,
    percentages and medians of hidden counts hidden. The mask is the same whichever
    threshold is displayed."""
    pct_col = f"pct_within_{threshold}"
    t = table.reset_index(drop=True).copy()
    total_label = len(t) - 1
    mask = suppress_district_table(t, total_row=total_label).mask
    t["is_total"] = t.index == total_label
    t["suppressed"] = mask["children"].to_numpy()
    t["pct_hidden"] = mask[pct_col].to_numpy()
    t["not_known_shown"] = [
        ("c" if h else f"{int(n):,}")
        for n, h in zip(t["not_known"], mask["not_known"], strict=True)
    ]
    t["median_miles"] = t["median_miles"].where(~mask["median_miles"].to_numpy(), np.nan)
    t["pct_shown"] = t[pct_col].where(~t["pct_hidden"], np.nan)
    t["children_shown"] = [
        ("c" if h else f"{int(n):,}") for n, h in zip(t["children"], t["suppressed"], strict=True)
    ]
    t["pct_text"] = [
        "c" if h else ("–" if not np.isfinite(p) else f"{p:.1f} %")
        for p, h in zip(t[pct_col].to_numpy(float), t["pct_hidden"], strict=True)
    ]
    return t


def district_hover(table: pd.DataFrame, threshold: int) -> pd.Series:
    def one(r: Any) -> str:
        if r.suppressed or r.pct_hidden:
            return (
                f"<b>{r.district_name}</b><br>Figures suppressed to protect small numbers "
                "(1-5 children)"
            )
        if r.children == 0:
            return f"<b>{r.district_name}</b><br>No children in this selection"
        pct = getattr(r, f"pct_within_{threshold}")
        within = getattr(r, f"within_{threshold}")
        med = "–" if not np.isfinite(r.median_miles) else f"{r.median_miles:.1f}"
        return (
            f"<b>{r.district_name}</b><br>{pct:.1f} % within {threshold} miles "
            f"({within:,} of {r.known:,} with a known distance)<br>"
            f"Children: {r.children:,} · not known: {r.not_known:,}<br>"
            f"Median distance: {med} miles"
        )

    return pd.Series([one(r) for r in table.itertuples(index=False)], index=table.index)


@lru_cache(maxsize=4)
def _label_points(store_id: int, store: DatasetStore) -> pd.DataFrame:
    b = store.boundaries.frame
    own = b[b["district_code"].isin(store.authority.district_codes)]
    pts = own.geometry.representative_point().to_crs(4326)
    return pd.DataFrame(
        {
            "district_code": own["district_code"].to_numpy(),
            "lon": pts.x.to_numpy(),
            "lat": pts.y.to_numpy(),
            "label": own["district_name"].to_numpy(),
        }
    )


def label_points(store: DatasetStore) -> pd.DataFrame:
    return _label_points(id(store), store)


def comparison_table(store: DatasetStore, dataset_id: str | None, filters: Filters) -> pd.DataFrame:
    """District rows with 20- and 10-mile compliance (suppressed) and carer supply if known."""
    v20 = compliance_view(store, dataset_id, filters, threshold=20, view="home")
    v10 = compliance_view(store, dataset_id, filters, threshold=10, view="home")
    t = v20.table.copy()
    t["pct_within_20"] = t["pct_shown"]
    t["pct_within_10"] = v10.table["pct_shown"].to_numpy()
    t["pct_within_20_text"] = t["pct_text"]
    t["pct_within_10_text"] = v10.table["pct_text"].to_numpy()
    cov = coverage_by_district(store, dataset_id)
    if cov is not None:
        t = t.merge(cov, on="district_code", how="left")
        hidden = suppressed_gap(t["gap"].to_numpy(float), t["is_total"].to_numpy(bool))
        t["gap_shown"] = gap_text(t["gap"].to_numpy(float), hidden)
        t["gap_sort"] = t["gap"].where(~hidden, np.nan)
    return t


def suppressed_gap(gap: np.ndarray, is_total: np.ndarray) -> np.ndarray:
    """Which coverage-gap cells to hide: the gap counts children, so 1-5 is hidden, with
    secondary suppression against the total row (the other rows add up to it)."""
    from geo.disclosure import suppress_counts

    totals = np.flatnonzero(is_total)
    return suppress_counts(gap, total_index=int(totals[0]) if len(totals) else None)


def gap_text(gap: np.ndarray, hidden: np.ndarray) -> list[str]:
    return [
        "c" if h else ("–" if not np.isfinite(g) else f"{int(g):,}")
        for g, h in zip(gap, hidden, strict=True)
    ]


def exact_counts_allowed() -> bool:
    """Whether the signed-in user may see unsuppressed small numbers (analysts)."""
    from app.auth import Permission, current_user

    user = current_user()
    return user is not None and user.can(Permission.UNSUPPRESSED_EXPORT)


def coverage_by_district(store: DatasetStore, dataset_id: str | None) -> pd.DataFrame | None:
    """carers, vacant_places, gap per district (+ total) when the dataset has a carers register."""
    ds = store.get(dataset_id)
    if ds.carers is None:
        return None
    from app.coverage_view import district_coverage

    cov = district_coverage(store, ds.id)
    return cov[["district_code", "carers", "vacant_places", "gap"]]


def trend_table(store: DatasetStore, dataset_id: str | None) -> pd.DataFrame:
    """% within 20 miles at each quarter end, authority and districts: the report's trend
    (:func:`geo.measures.compliance_trend`, the one quarter rule) after the same disclosure
    policy as every district table (:func:`geo.disclosure.suppress_trend`)."""
    ds = store.get(dataset_id)

    def compute() -> pd.DataFrame:
        trend = compliance_trend(ds.data, store.authority, as_at=ds.as_at)
        t = trend.table.reset_index(drop=True)
        hidden = suppress_trend(t, total_code=store.authority.code).mask["pct_within_20"]
        t = t.assign(pct=t["pct_within_20"].astype(float).where(~hidden, np.nan))
        t = t[t["district_code"] != OUTSIDE]
        frame = pd.DataFrame(
            {
                "quarter_end": pd.to_datetime(t["quarter_end"]),
                "district_name": t["district_name"],
                "pct": t["pct"],
            }
        ).reset_index(drop=True)
        # authority total last so it is drawn on top
        key = frame["district_name"].eq(f"{store.authority.name} total")
        return pd.concat([frame[~key], frame[key]], ignore_index=True)

    return ds.cached(("trend", ds.as_at), compute)
