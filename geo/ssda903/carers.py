"""Read and validate a foster carers register (DESIGN.md §5): the supply side of coverage.

One row per fostering household: ``CARER_ID, POSTCODE, STATUS, APPROVED_PLACES,
OCCUPIED_PLACES, PROVIDER, CATEGORIES`` and optionally ``APPROVAL_DATE`` and
``DEREGISTRATION_DATE`` (when a household left; the register's history of losses gives the
attrition rate of :func:`geo.coverage.targets.attrition_from_register`). Every row is either
used or reported in ``rejects`` (file, row, column, value, reason); rows that are used with a
caveat (unknown postcode, more children than places, approved after the as-at date) are reported
in ``notes``. Nothing is dropped silently.

Categories are held as an integer bit mask (:data:`CATEGORY_BIT`) so matching a child to a carer
is one vectorised ``&``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from geo.spatial import postcodes as pc
from geo.spatial.areas import postcode_sector
from geo.ssda903.rejects import REJECT_COLUMNS, Rejects, parse_dates
from geo.ssda903.spec import CARER_COLUMNS
from geo.ssda903.tables import read_csv_text, require_columns

OPTIONAL_COLUMNS = ["APPROVAL_DATE", "DEREGISTRATION_DATE"]


class CarerStatus(StrEnum):
    APPROVED = "approved"
    IN_ASSESSMENT = "in_assessment"
    ON_HOLD = "on_hold"
    DEREGISTERED = "deregistered"


class CarerProvider(StrEnum):
    IN_HOUSE = "in_house"
    IFA = "ifa"


class Category(StrEnum):
    """What a household is approved for (``CATEGORIES``)."""

    AGE_0_4 = "0-4"
    AGE_5_10 = "5-10"
    AGE_11_15 = "11-15"
    AGE_16_PLUS = "16+"
    SIBLINGS = "siblings"
    DISABILITY = "disability"
    PARENT_AND_CHILD = "parent_and_child"
    SHORT_BREAK = "short_break"
    EMERGENCY = "emergency"
    RESPITE = "respite"


CATEGORY_BIT: dict[Category, int] = {c: 1 << i for i, c in enumerate(Category)}
AGE_BANDS = (Category.AGE_0_4, Category.AGE_5_10, Category.AGE_11_15, Category.AGE_16_PLUS)
AGE_MASK = sum(CATEGORY_BIT[c] for c in AGE_BANDS)
# Needs a child can have that a carer must be approved for (beyond the age band).
NEED_MASK = (
    CATEGORY_BIT[Category.SIBLINGS]
    | CATEGORY_BIT[Category.DISABILITY]
    | CATEGORY_BIT[Category.PARENT_AND_CHILD]
)
ALL_AGES_MASK = AGE_MASK

_ALIASES = {
    "0_4": "0-4",
    "5_10": "5-10",
    "11_15": "11-15",
    "16": "16+",
    "16_plus": "16+",
    "16+_": "16+",
    "sibling": "siblings",
    "sibling_groups": "siblings",
    "disabled": "disability",
    "disabilities": "disability",
    "parent_child": "parent_and_child",
    "short_breaks": "short_break",
}
_STATUS_ALIASES = {"assessment": "in_assessment", "hold": "on_hold", "deregistered": "deregistered"}
_PROVIDER_ALIASES = {"inhouse": "in_house", "in_house": "in_house", "ifa": "ifa", "la": "in_house"}
_INT_RE = re.compile(r"^\d+$")


def _token(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def parse_categories(text: str) -> tuple[int, list[str]]:
    """Bit mask of a ``;``-separated category list, and the tokens that are not categories.

    Case, spaces and hyphens are forgiven (``'Parent and child'``, ``'16 +'``); blank gives 0.
    """
    mask = 0
    bad: list[str] = []
    known = {c.value: c for c in Category}
    for raw in re.split(r"[;|,]", text or ""):
        if not raw.strip():
            continue
        tok = raw.strip().lower().replace(" ", "")
        if tok not in known:
            tok = _token(raw)
            tok = _ALIASES.get(tok, tok)
            tok = tok.replace("_", "-") if re.fullmatch(r"\d+_\d+", tok) else tok
        if tok in known:
            mask |= CATEGORY_BIT[known[tok]]
        else:
            bad.append(raw.strip())
    return mask, bad


def format_categories(mask: int) -> str:
    """The ``;``-joined category list of a bit mask, in the canonical order."""
    return ";".join(c.value for c in Category if mask & CATEGORY_BIT[c])


_PLAIN = {
    Category.SIBLINGS: "sibling groups",
    Category.DISABILITY: "disabled children",
    Category.PARENT_AND_CHILD: "parent and child",
    Category.SHORT_BREAK: "short breaks",
    Category.EMERGENCY: "emergencies",
    Category.RESPITE: "respite",
}
_AGES = (Category.AGE_0_4, Category.AGE_5_10, Category.AGE_11_15, Category.AGE_16_PLUS)


def describe_categories(mask: int) -> str:
    """A bit mask in plain words, e.g. "any age, sibling groups and disabled children"."""
    ages = [c for c in _AGES if mask & CATEGORY_BIT[c]]
    if len(ages) == len(_AGES):
        parts = ["any age"]
    elif ages:
        parts = ["ages " + ", ".join(c.value for c in ages)]
    else:
        parts = []
    parts += [_PLAIN[c] for c in Category if c in _PLAIN and mask & CATEGORY_BIT[c]]
    if not parts:
        return "no category"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class CarersRegister:
    """A validated carers register.

    ``carers``: one row per usable register row, columns ``CARER_ID, POSTCODE`` (normalised),
    ``STATUS, APPROVED_PLACES, OCCUPIED_PLACES, vacant_places, PROVIDER, CATEGORIES`` (canonical),
    ``category_mask, APPROVAL_DATE, DEREGISTRATION_DATE, easting_m, northing_m`` (EPSG:27700, NaN when the postcode is
    not known), ``district_code, sector, postcode_status, located`` (has a grid reference) and
    ``supplies`` (approved, located and approved by the as-at date: its places count), ``_row``.
    ``rejects``: rows not used. ``notes``: rows used with a caveat. Both have the columns of
    :data:`geo.ssda903.rejects.REJECT_COLUMNS`.
    """

    path: Path
    carers: pd.DataFrame
    rejects: pd.DataFrame
    notes: pd.DataFrame
    rows_read: int
    as_at: date | None

    @property
    def summary(self) -> dict[str, int]:
        c = self.carers
        return {
            "rows_read": self.rows_read,
            "rejected_rows": int(self.rejects["row"].nunique()) if len(self.rejects) else 0,
            "usable": int(len(c)),
            "located": int(c["located"].sum()),
            "not_located": int((~c["located"]).sum()),
            "approved": int((c["STATUS"] == CarerStatus.APPROVED.value).sum()),
            "supplying": int(c["supplies"].sum()),
            "approved_places": int(c.loc[c["supplies"], "APPROVED_PLACES"].sum()),
            "vacant_places": int(c.loc[c["supplies"], "vacant_places"].sum()),
        }

    def report(self) -> pd.DataFrame:
        """Rejects and notes together, by row (what ``carers_rejected.csv`` holds)."""
        both = pd.concat([self.rejects, self.notes], ignore_index=True)
        if both.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        return both.sort_values(["row", "column"], kind="stable", ignore_index=True)


def read_carers(path: str | Path, *, as_at: date | None = None) -> CarersRegister:
    """Read and validate a carers register CSV (see module docstring for the columns).

    Raises :class:`~geo.errors.InputError` when the file is unusable as a whole (missing, not
    CSV, a required column absent). Row problems never raise: a row with a blank or duplicate
    ``CARER_ID``, an unknown ``STATUS``/``PROVIDER``/category, places that are not whole numbers
    ≥ 0, or a bad ``APPROVAL_DATE`` is rejected. A row with an unknown postcode is kept (it counts
    in the register) but is not located, so it covers no child. ``as_at``: carers approved after
    this date supply no places.
    """
    table = read_csv_text(path, what="carers register")
    require_columns(
        table, CARER_COLUMNS, what="carers register", naming="see 'Carers register' in the README"
    )
    rejects = Rejects()
    notes = Rejects()
    rejects.add_bad_rows(table)
    f = table.frame
    bad = pd.Series(False, index=f.index)

    def reject(mask: pd.Series, column: str, reason: str) -> None:
        nonlocal bad
        rejects.add_mask(table, mask, column, reason)
        bad = bad | mask

    carer_id = f["CARER_ID"].astype("string").str.strip()
    blank_id = carer_id.isna() | (carer_id == "")
    reject(blank_id, "CARER_ID", "carer identifier is blank; expected CARER_ID")

    status = f["STATUS"].astype("string").fillna("").map(_token)
    status = status.map(lambda s: _STATUS_ALIASES.get(s, s))
    known_status = {s.value for s in CarerStatus}
    reject(
        ~status.isin(known_status),
        "STATUS",
        f"not a carer status; expected one of {', '.join(sorted(known_status))}",
    )
    provider = f["PROVIDER"].astype("string").fillna("").map(_token).str.replace("_", "")
    provider = provider.map(lambda s: _PROVIDER_ALIASES.get(s, s))
    reject(
        ~provider.isin({p.value for p in CarerProvider}),
        "PROVIDER",
        "not a provider; expected in_house or ifa",
    )

    places: dict[str, pd.Series] = {}
    for col in ("APPROVED_PLACES", "OCCUPIED_PLACES"):
        text = f[col].astype("string").fillna("").str.strip()
        blank = text == ""
        whole = text.str.fullmatch(_INT_RE.pattern).fillna(False).astype(bool)
        reject(~blank & ~whole, col, "not a whole number of places ≥ 0; expected e.g. 2")
        places[col] = pd.Series(
            np.where(whole, pd.to_numeric(text.where(whole, "0"), errors="coerce"), 0),
            index=f.index,
        ).astype(np.int64)
        if col == "APPROVED_PLACES":
            reject(
                blank & (status == CarerStatus.APPROVED.value),
                col,
                "approved carer with no APPROVED_PLACES; expected the number of approved places",
            )

    masks = []
    bad_cats = []
    for value in f["CATEGORIES"].astype("string").fillna("").tolist():
        m, unknown = parse_categories(str(value))
        masks.append(m)
        bad_cats.append(unknown)
    mask = pd.Series(masks, index=f.index, dtype=np.int64)
    has_unknown = pd.Series([bool(b) for b in bad_cats], index=f.index)
    if has_unknown.any():
        for i in np.flatnonzero(has_unknown.to_numpy()):
            rejects.records.append(
                {
                    "file": table.name,
                    "row": int(f["_row"].iloc[i]),
                    "column": "CATEGORIES",
                    "value": str(f["CATEGORIES"].iloc[i]),
                    "reason": f"unknown categor{'ies' if len(bad_cats[i]) > 1 else 'y'} "
                    f"{', '.join(repr(b) for b in bad_cats[i])}; expected ';'-separated values "
                    f"from {', '.join(c.value for c in Category)}",
                }
            )
        bad = bad | has_unknown
    approved_status = status == CarerStatus.APPROVED.value
    reject(
        approved_status & ((mask & AGE_MASK) == 0),
        "CATEGORIES",
        "approved carer with no age band (0-4, 5-10, 11-15, 16+) in CATEGORIES; expected at "
        "least one",
    )

    if "APPROVAL_DATE" in f.columns:
        approval, bad_date = parse_dates(f["APPROVAL_DATE"])
        reject(bad_date, "APPROVAL_DATE", "not a date; expected dd/mm/yyyy")
    else:
        approval = pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns]")
    if "DEREGISTRATION_DATE" in f.columns:
        deregistered, bad_dereg = parse_dates(f["DEREGISTRATION_DATE"])
        reject(bad_dereg, "DEREGISTRATION_DATE", "not a date; expected dd/mm/yyyy")
        reject(
            ~bad_dereg & approval.notna() & deregistered.notna() & (deregistered < approval),
            "DEREGISTRATION_DATE",
            "deregistered before the APPROVAL_DATE; expected a date on or after approval",
        )
    else:
        deregistered = pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns]")

    dup = carer_id.duplicated(keep="first") & ~blank_id
    rejects.add_mask(
        table, dup & ~bad, "CARER_ID", "carer listed more than once; the first row is used"
    )
    bad = bad | dup

    keep = ~bad
    look = pc.lookup(f.loc[keep, "POSTCODE"].astype("string"))
    kept_table_rows = f.index[keep]
    located = pd.Series(False, index=f.index)
    located[kept_table_rows] = look.status.to_numpy() == pc.PostcodeStatus.OK.value
    not_located = keep & ~located
    if not_located.any():
        status_of = pd.Series(look.status.to_numpy(), index=kept_table_rows)
        for code, reason in pc.REASONS.items():
            notes.add_mask(
                table,
                not_located & (status_of.reindex(f.index) == code.value),
                "POSTCODE",
                f"{reason}; the carer is kept in the register counts but has no location, so "
                "it covers no child and is in no district or area. Correct the postcode",
            )

    approved = places["APPROVED_PLACES"]
    occupied = places["OCCUPIED_PLACES"]
    over = keep & (occupied > approved)
    notes.add_mask(
        table,
        over,
        "OCCUPIED_PLACES",
        "more places occupied than approved; the row is used with no vacancy (vacancy is never "
        "below 0). Check the approval",
    )
    supplies = keep & approved_status & located
    if as_at is not None:
        late = keep & approved_status & approval.notna() & (approval > pd.Timestamp(as_at))
        notes.add_mask(
            table,
            late,
            "APPROVAL_DATE",
            f"approved after the as-at date {as_at:%d/%m/%Y}; the row is used but its places do "
            "not count at that date",
        )
        gone = keep & approved_status & deregistered.notna()
        gone = gone & (deregistered <= pd.Timestamp(as_at))
        notes.add_mask(
            table,
            gone,
            "DEREGISTRATION_DATE",
            f"STATUS is approved but the household was deregistered by the as-at date "
            f"{as_at:%d/%m/%Y}; the row is used but its places do not count at that date",
        )
        supplies = supplies & ~late & ~gone

    easting = pd.Series(np.nan, index=f.index)
    northing = pd.Series(np.nan, index=f.index)
    district = pd.Series(pd.NA, index=f.index, dtype="string")
    postcode = f["POSTCODE"].astype("string").copy()
    easting[kept_table_rows] = look.easting_m
    northing[kept_table_rows] = look.northing_m
    district[kept_table_rows] = look.district_code.to_numpy()
    postcode[kept_table_rows] = look.postcode.fillna(f.loc[keep, "POSTCODE"]).to_numpy()

    out = pd.DataFrame(
        {
            "CARER_ID": carer_id,
            "POSTCODE": postcode,
            "STATUS": status,
            "APPROVED_PLACES": approved,
            "OCCUPIED_PLACES": occupied,
            "vacant_places": (approved - occupied).clip(lower=0),
            "PROVIDER": provider,
            "CATEGORIES": [format_categories(int(m)) for m in mask],
            "category_mask": mask,
            "APPROVAL_DATE": approval.dt.date,
            "DEREGISTRATION_DATE": deregistered.dt.date,
            "easting_m": easting,
            "northing_m": northing,
            "district_code": district,
            "sector": postcode_sector(postcode).where(located, pd.NA),
            "postcode_status": pd.Series(look.status.to_numpy(), index=kept_table_rows).reindex(
                f.index
            ),
            "located": located,
            "supplies": supplies,
            "_row": f["_row"],
        }
    )[keep].reset_index(drop=True)
    return CarersRegister(
        path=table.path,
        carers=out,
        rejects=rejects.frame(),
        notes=notes.frame(),
        rows_read=len(f) + len(table.bad_rows),
        as_at=as_at,
    )
