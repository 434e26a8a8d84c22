"""Quarterly trend of the share of children placed within 20 (and 10) miles of home.

For each quarter end (31 March, 30 June, 30 September, 31 December) up to the as-at date, the
census is taken from the episode history (:func:`geo.ssda903.take_census`), DfE distances are
computed (:func:`geo.measures.analysis.distance_table`) and the headline cohort (UASC and short breaks
excluded) is tabulated by home district (:func:`geo.measures.compliance.district_compliance`) — the very
functions ``placemap analyse`` uses, so a quarter's figures equal ``analyse --as-at`` that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from geo.measures.analysis import distance_table
from geo.measures.compliance import COMPLIANCE_COLUMNS, district_compliance
from geo.spatial.authority import Authority
from geo.ssda903 import Cohort, PlacementData, latest_date, take_census

# The compliance columns a trend keeps for each quarter (not the "all children" shares).
TREND_COLUMNS = [
    "quarter_end",
    *[c for c in COMPLIANCE_COLUMNS if c != "not_known" and not c.endswith("_all")],
]


@dataclass(frozen=True)
class Trend:
    """Compliance at each quarter end, long form (one row per quarter × district + total).

    ``table`` has :data:`TREND_COLUMNS`; ``district_code`` includes ``OUTSIDE`` and the
    authority code (the total). ``quarter_ends`` lists the quarters with at least one child in
    the census, oldest first; ``skipped`` those before the data starts.
    """

    as_at: date
    quarter_ends: tuple[date, ...]
    table: pd.DataFrame
    skipped: tuple[date, ...] = ()

    def total(self, authority: Authority) -> pd.DataFrame:
        """The authority total row per quarter, oldest first."""
        t = self.table[self.table["district_code"] == authority.code]
        return t.reset_index(drop=True)


def quarter_ends(*, as_at: date, count: int = 8) -> list[date]:
    """The last ``count`` calendar quarter ends on or before ``as_at``, oldest first.

    ``as_at`` itself is included when it is a quarter end. ``count`` must be ≥ 1
    (``ValueError`` otherwise).
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    stamps = pd.date_range(end=pd.Timestamp(as_at), periods=count, freq="QE")
    return [s.date() for s in stamps]


def census_dates(*, as_at: date, quarters: int = 8) -> list[date]:
    """Census dates a user can pick: the last ``quarters`` quarter ends on or before ``as_at``
    (:func:`quarter_ends`, the trend's dates), then ``as_at`` itself when it is not a quarter
    end. The last entry is always ``as_at``, the default census."""
    dates = quarter_ends(as_at=as_at, count=quarters)
    return dates if dates[-1] == as_at else [*dates, as_at]


def compliance_trend(
    data: PlacementData,
    authority: Authority,
    *,
    as_at: date | None = None,
    quarters: int = 8,
    with_keys: bool = False,
) -> Trend:
    """Census and % within 20 / 10 miles (headline cohort) at each of the last ``quarters``
    quarter ends up to ``as_at`` (default: the latest date in the data), for the authority and
    each home district.

    Quarters when nobody is in the census (before the history starts) are left out and listed in
    ``skipped``. One-row-per-child data without ``DECOM`` gives the same census every quarter.
    """
    as_at = as_at or latest_date(data)
    frames = []
    kept: list[date] = []
    skipped: list[date] = []
    for q in quarter_ends(as_at=as_at, count=quarters):
        census = take_census(data, as_at=q)
        if census.children.empty:
            skipped.append(q)
            continue
        table = distance_table(census)
        included = table[table["cohort"] == Cohort.INCLUDED.value]
        comp = district_compliance(included, authority, by="home", with_keys=with_keys)
        comp.insert(0, "quarter_end", q)
        keys = [c for c in comp.columns if c.endswith("_ckey")]
        frames.append(comp[TREND_COLUMNS + keys])
        kept.append(q)
    if frames:
        long = pd.concat(frames, ignore_index=True)
    else:
        long = pd.DataFrame({c: pd.Series(dtype=object) for c in TREND_COLUMNS})
    return Trend(as_at=as_at, quarter_ends=tuple(kept), table=long, skipped=tuple(skipped))


def previous_quarter_end(as_at: date) -> date:
    """The last quarter end strictly before ``as_at`` (31 Dec 2018 → 30 Sep 2018)."""
    return (pd.Timestamp(as_at) - pd.offsets.QuarterEnd(1)).date()
