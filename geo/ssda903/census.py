"""The census: children looked after at an as-at date, one current episode each, with cohort,
age, disability and placement kind (DESIGN.md §4)."""

from __future__ import annotations

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


def _attach_child_facts(
    chosen: pd.DataFrame, data: PlacementData, stamp: pd.Timestamp
) -> pd.DataFrame:
    """Add SEX/DOB from the Header, the UASC status at ``stamp``, disability, age and cohort."""
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
    age = (
        stamp.year
        - dob.dt.year
        - (
            (stamp.month < dob.dt.month)
            | ((stamp.month == dob.dt.month) & (stamp.day < dob.dt.day))
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
