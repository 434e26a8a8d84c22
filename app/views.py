"""View models shared by pages: filtered compliance tables with disclosure control applied."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from app.data.store import DatasetStore, Filters
from geo.disclosure import (
    protect_children,
    protect_district_table,
    protect_gap,
    protect_trend,
    shown_count,
    shown_text,
)
from geo.measures import Analysis, compliance_trend, district_compliance
from geo.spatial import OUTSIDE


@dataclass(frozen=True)
class ComplianceView:
    as_at: date
    analysis: Analysis
    table: pd.DataFrame  # districts + OUTSIDE + total, with *_shown / pct_text columns
    context_codes: list[str]
    map_note: str
    # the children left out of the measure (UASC, short breaks), as shown: cell-key protected
    excluded: dict[str, str]


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
            rows,
            store.authority,
            by="placement" if view == "placement" else "home",
            with_keys=True,
        )
        definition = (
            "compliance",
            view,
            filters.as_at,
            filters.disabled,
            filters.age_band,
            filters.kind,
            filters.group,
        )
        table = protect(table, threshold=threshold, secret=ds.secret, definition=definition)
        b = store.boundaries
        context = [c for c in b.frame["district_code"] if c not in store.authority.districts]
        note = getattr(b, "attribution", "") or ""
        return ComplianceView(
            as_at=analysis.as_at,
            analysis=analysis,
            table=table,
            context_codes=context,
            map_note=note,
            excluded=ds.cached(
                ("excluded", analysis.as_at), lambda: excluded_shown(analysis, secret=ds.secret)
            ),
        )

    return ds.cached(("compliance_view", filters, threshold, view), compute)


def protect(
    table: pd.DataFrame, *, threshold: int, secret: bytes, definition: tuple[Any, ...]
) -> pd.DataFrame:
    """The district table as every page shows it, after the cell-key method
    (:func:`geo.disclosure.protect_district_table`, shared with the reports): the count columns
    hold the shown values (NaN for ``c``), percentages are worked out from them, and display
    columns are added for ``threshold`` miles."""
    t = protect_district_table(table, secret=secret, definition=definition)
    t = t.reset_index(drop=True)
    pct_col = f"pct_within_{threshold}"
    t["is_total"] = t.index == len(t) - 1
    t["suppressed"] = t["children"].isna().to_numpy()
    t["pct_hidden"] = t[pct_col].isna() & (t["known"].isna() | t[f"within_{threshold}"].isna())
    t["pct_shown"] = t[pct_col]
    t["children_shown"] = shown_text(t["children"].to_numpy(float))
    t["not_known_shown"] = shown_text(t["not_known"].to_numpy(float))
    t["known_shown"] = shown_text(t["known"].to_numpy(float))
    t["within_shown"] = shown_text(t[f"within_{threshold}"].to_numpy(float))
    t["pct_text"] = [
        "c" if h else ("–" if not np.isfinite(p) else f"{p:.1f} %")
        for p, h in zip(t[pct_col].to_numpy(float), t["pct_hidden"], strict=True)
    ]
    return t


def excluded_shown(analysis: Analysis, *, secret: bytes) -> dict[str, str]:
    """UASC and short-break children at the census date (outside the measure), as shown to
    anyone: each a count of a fixed set of children, protected by its cell key."""
    p = analysis.placements
    out = {}
    for name, cohort in (("uasc", "excluded_uasc"), ("short_break", "excluded_short_break")):
        ids = p.loc[p["cohort"] == cohort, "CHILD"]
        value = protect_children(ids, secret=secret, cell=("excluded", analysis.as_at, name))
        out[name] = shown_count(value)
    return out


def census_children_shown(analysis: Analysis, *, secret: bytes) -> str:
    """Every child in the census (all cohorts) as the banner shows it to anyone: a count of a
    fixed set of children, protected by its cell key like the cards beside it."""
    value = protect_children(
        analysis.placements["CHILD"], secret=secret, cell=("census", analysis.as_at)
    )
    return shown_count(value)


def district_hover(table: pd.DataFrame, threshold: int) -> pd.Series:
    """Hover text from the shown (protected) values only."""

    def one(r: Any) -> str:
        if r.suppressed:
            return (
                f"<b>{r.district_name}</b><br>Children: c (a small number, not shown to "
                "protect children)"
            )
        if r.children == 0:
            return f"<b>{r.district_name}</b><br>No children in this selection"
        med = "–" if not np.isfinite(r.median_miles) else f"{r.median_miles:.1f}"
        return (
            f"<b>{r.district_name}</b><br>{r.pct_text} within {threshold} miles "
            f"({r.within_shown} of {r.known_shown} with a known distance)<br>"
            f"Children: {r.children_shown} · not known: {r.not_known_shown}<br>"
            f"Median distance: {med} miles"
        )

    return pd.Series([one(r) for r in table.itertuples(index=False)], index=table.index)


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
        shown = protect_gap(t["gap"], t["district_code"], secret=store.get(dataset_id).secret)
        t["gap"] = shown
        t["gap_shown"] = shown_text(shown)
        t["gap_sort"] = shown
    return t


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
    (:func:`geo.measures.compliance_trend`, the one quarter rule) after the same cell-key
    protection as every district table (:func:`geo.disclosure.protect_trend`)."""
    ds = store.get(dataset_id)

    def compute() -> pd.DataFrame:
        trend = compliance_trend(ds.data, store.authority, as_at=ds.as_at, with_keys=True)
        t = protect_trend(trend.table, secret=ds.secret).reset_index(drop=True)
        t = t.assign(pct=t["pct_within_20"].astype(float))
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
