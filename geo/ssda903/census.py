"""The census: children looked after at an as-at date, one current episode each, with cohort,
age, disability and placement kind (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from geo.ssda903.read import PlacementData
from geo.ssda903.spec import (
    FOSTER_PLACES,
    RESIDENTIAL_PLACES,
    SHORT_BREAK_LS,
    Cohort,
    PlacementKind,
)


@dataclass(frozen=True)
class Census:
    """Children looked after at ``as_at``, one current episode each, with cohort and age."""

    as_at: date
    children: pd.DataFrame
    not_current: dict[str, int] = field(default_factory=dict)


def latest_date(data: PlacementData) -> date:
    """The latest DECOM/DEC in the data (the default census date); today if there are none."""
    stamps = pd.concat([data.episodes["DECOM"], data.episodes["DEC"]]).dropna()
    return stamps.max().date() if len(stamps) else date.today()


def take_census(data: PlacementData, *, as_at: date | None = None) -> Census:
    """Children looked after at ``as_at`` (default: the latest date in the data).

    An episode is current when it started on or before ``as_at`` and has not ended before it
    (``DEC`` blank or ``DEC >= as_at``). A child with several current episodes keeps the one that
    started last (later row on a tie); the others count as ``superseded``.
    """
    as_at = as_at or latest_date(data)
    stamp = pd.Timestamp(as_at)
    ep = data.episodes
    has_start = ep["DECOM"].notna()
    started = ~has_start | (ep["DECOM"] <= stamp)
    not_ended = ep["DEC"].isna() | (ep["DEC"] >= stamp)
    current = started & not_ended
    cur = ep[current].sort_values(["CHILD", "DECOM", "_row"], na_position="first", kind="stable")
    keep = ~cur["CHILD"].duplicated(keep="last")
    chosen = cur[keep].copy()
    not_current = {
        "not_started": int((~started).sum()),
        "ended_before": int((started & ~not_ended).sum()),
        "superseded": int((~keep).sum()),
    }
    chosen = _attach_child_facts(chosen, data, stamp)
    chosen = chosen.sort_values("CHILD", kind="stable").reset_index(drop=True)
    return Census(as_at=as_at, children=chosen, not_current=not_current)


def take_censuses(data: PlacementData, dates: Sequence[date]) -> pd.DataFrame:
    """The censuses of :func:`take_census` at each of ``dates`` in one pass: its ``children``
    rows at each date, with ``census`` (the index of the date in ``dates``), sorted by census
    then ``CHILD``.

    The same rule: each episode is current from the first date on or after its ``DECOM`` (any
    date when not known) to the last date on or before its ``DEC`` (open: to the last), and a
    child with several current episodes at a date keeps the one that started last (later row
    on a tie). Each episode is looked at once, not once per date, so a long quarterly history
    costs about one census of all its episodes.
    """
    stamps = pd.DatetimeIndex([pd.Timestamp(d) for d in dates])
    if not stamps.is_monotonic_increasing:
        order = np.argsort(stamps.asi8, kind="stable")
        sorted_frame = take_censuses(data, [dates[i] for i in order])
        return (
            sorted_frame.assign(census=order[sorted_frame["census"].to_numpy()])
            .sort_values(["census", "CHILD"], kind="stable")
            .reset_index(drop=True)
        )
    ep = data.episodes.sort_values(["CHILD", "DECOM", "_row"], na_position="first", kind="stable")
    decom = ep["DECOM"].to_numpy(dtype="datetime64[ns]")
    dec = ep["DEC"].to_numpy(dtype="datetime64[ns]")
    t_stamps = stamps.to_numpy(dtype="datetime64[ns]")
    first = np.where(np.isnat(decom), 0, np.searchsorted(t_stamps, decom, side="left"))
    stop = np.where(np.isnat(dec), len(t_stamps), np.searchsorted(t_stamps, dec, side="right"))
    span = np.maximum(stop - first, 0)
    episode = np.repeat(np.arange(len(ep)), span)
    within = np.arange(len(episode)) - np.repeat(np.cumsum(span) - span, span)
    census = first[episode] + within
    child = pd.factorize(ep["CHILD"].to_numpy())[0][episode].astype(np.int64)
    # The last current episode of each child at each date, in the sorted order: the one that
    # started last (later row on a tie).
    key = child * max(len(t_stamps), 1) + census
    order = np.argsort(key, kind="stable")
    last = np.r_[key[order][1:] != key[order][:-1], True] if len(order) else np.zeros(0, bool)
    keep = order[last]
    chosen = ep.iloc[episode[keep]].reset_index(drop=True)
    chosen["census"] = census[keep]
    at = pd.Series(t_stamps[census[keep]], index=chosen.index)
    chosen = _attach_child_facts(chosen, data, at)
    return chosen.sort_values(["census", "CHILD"], kind="stable").reset_index(drop=True)


def _attach_child_facts(
    chosen: pd.DataFrame, data: PlacementData, stamp: pd.Timestamp | pd.Series
) -> pd.DataFrame:
    """Add SEX/DOB from the Header, the UASC status at ``stamp`` (one date, or each row's),
    disability, age and cohort."""
    if len(data.children) and "CHILD" in data.children.columns:
        facts = data.children.drop_duplicates("CHILD", keep="last").set_index("CHILD")
        for col in ("SEX", "DOB", "DISABLED", "UASC"):
            if col in facts.columns:
                from_header = chosen["CHILD"].map(facts[col])
                chosen[col] = (
                    chosen[col].where(chosen[col].notna(), from_header)
                    if col in chosen.columns
                    else from_header
                )
    uasc = chosen["UASC"].astype("boolean").fillna(False).astype(bool)
    if len(data.uasc):
        u = data.uasc.drop_duplicates("CHILD").set_index("CHILD")
        listed = chosen["CHILD"].isin(u.index)
        duc = chosen["CHILD"].map(u["DUC"])
        uasc |= listed & (duc.isna() | (duc > stamp))
    chosen["UASC"] = uasc.to_numpy()
    disabled = chosen["DISABLED"].astype("boolean")
    chosen["DISABLED"] = disabled.fillna(False).astype(bool) | chosen["CIN"].eq("N2").fillna(False)
    dob = pd.to_datetime(chosen["DOB"], errors="coerce")
    when = stamp.dt if isinstance(stamp, pd.Series) else stamp
    age = (
        when.year
        - dob.dt.year
        - (
            (when.month < dob.dt.month) | ((when.month == dob.dt.month) & (when.day < dob.dt.day))
        ).astype(int)
    )
    chosen["age_years"] = age.astype("Int64")
    short_break = chosen["LS"].isin(SHORT_BREAK_LS).fillna(False)
    chosen["cohort"] = np.select(
        [chosen["UASC"].to_numpy(), short_break.to_numpy()],
        [Cohort.EXCLUDED_UASC.value, Cohort.EXCLUDED_SHORT_BREAK.value],
        default=Cohort.INCLUDED.value,
    )
    chosen["placement_kind"] = placement_kind(chosen["PLACE"], chosen["PLACE_PROVIDER"])
    return chosen


def placement_kind(place: pd.Series, provider: pd.Series) -> np.ndarray:
    """Commissioning category: in-house foster (U1-U6 + PR1), IFA foster (PR4/PR5), other foster,
    residential (children's homes, secure, hostels), other."""
    p = place.astype("string").fillna("")
    pr = provider.astype("string").fillna("")
    foster = p.isin(FOSTER_PLACES).to_numpy()
    return np.select(
        [
            foster & (pr == "PR1").to_numpy(),
            foster & pr.isin(["PR4", "PR5"]).to_numpy(),
            foster,
            p.isin(RESIDENTIAL_PLACES).to_numpy(),
        ],
        [
            PlacementKind.IN_HOUSE_FOSTER.value,
            PlacementKind.IFA_FOSTER.value,
            PlacementKind.OTHER_FOSTER.value,
            PlacementKind.RESIDENTIAL.value,
        ],
        default=PlacementKind.OTHER.value,
    )
