"""Read and validate placement data (DfE SSDA903 layout or one row per child) and take the census.

Two input forms are accepted (DESIGN.md §4):

* **Episodes** (SSDA903): ``CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC,
  REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN`` with optional **Header** (``CHILD, SEX, DOB, ...``)
  and **UASC** (``CHILD, SEX, DOB, DUC``) files. A local ``DISABLED`` (0/1) column is honoured.
* **One row per child**: at least ``CHILD, HOME_POST, PL_POST``; optional ``PLACE,
  PLACE_PROVIDER, DECOM, DEC, DOB, SEX, LS, UASC, DISABLED``.

Every input row is either kept or reported in ``rejects`` with file, row, column, value and reason.
Postcode problems do not reject a row: the child stays in the census with a *not known* distance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from geo.tables import RawTable, read_csv_text, require_columns

EPISODE_COLUMNS = [
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
]
EPISODE_REQUIRED = ["CHILD", "DECOM", "LS", "PLACE", "HOME_POST", "PL_POST"]
CHILD_REQUIRED = ["CHILD", "HOME_POST", "PL_POST"]
HEADER_REQUIRED = ["CHILD"]
UASC_REQUIRED = ["CHILD"]

PLACE_CODES = frozenset(
    [f"U{i}" for i in range(1, 7)]
    + [
        "K1",
        "K2",
        "K3",
        "R1",
        "R2",
        "R3",
        "R5",
        "S1",
        "P1",
        "P2",
        "P3",
        "H5",
        "A3",
        "A4",
        "A5",
        "A6",
        "T0",
        "T1",
        "T2",
        "T3",
        "T4",
        "Z1",
        "Z11",
        "Z12",
        "Z13",
        "Z14",
    ]
)
PROVIDER_CODES = frozenset(f"PR{i}" for i in range(6))
LS_CODES = frozenset(["C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"])
CIN_CODES = frozenset(f"N{i}" for i in range(1, 10))
SHORT_BREAK_LS = frozenset(["V3", "V4"])
FOSTER_PLACES = frozenset(f"U{i}" for i in range(1, 7))
RESIDENTIAL_PLACES = frozenset(["K1", "K2", "K3", "R1", "S1", "P2"])
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
TRUE_VALUES = frozenset(["1", "Y", "YES", "TRUE", "T"])
FALSE_VALUES = frozenset(["0", "N", "NO", "FALSE", "F", ""])


class Cohort(StrEnum):
    INCLUDED = "included"
    EXCLUDED_UASC = "excluded_uasc"
    EXCLUDED_SHORT_BREAK = "excluded_short_break"


class PlacementKind(StrEnum):
    """Commissioning view of a placement (DESIGN.md §4)."""

    IN_HOUSE_FOSTER = "in_house_foster"
    IFA_FOSTER = "ifa_foster"
    OTHER_FOSTER = "other_foster"
    RESIDENTIAL = "residential"
    OTHER = "other"


REJECT_COLUMNS = ["file", "row", "column", "value", "reason"]


@dataclass(frozen=True)
class PlacementData:
    """Validated input, before the census.

    ``episodes`` has one row per usable input row with canonical columns (dates as
    ``datetime64``; ``UASC``/``DISABLED`` as nullable booleans; ``_file``/``_row`` locate it).
    ``children`` holds Header facts per child (``SEX``, ``DOB``), ``uasc`` the UASC file
    (``CHILD``, ``DUC``). ``rejects`` lists every row not used, with reasons.
    """

    form: str  # "episodes" or "child"
    episodes: pd.DataFrame
    children: pd.DataFrame
    uasc: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: dict[str, int]
    files: dict[str, str]


@dataclass(frozen=True)
class Census:
    """Children looked after at ``as_at``, one current episode each, with cohort and age."""

    as_at: date
    children: pd.DataFrame
    not_current: dict[str, int] = field(default_factory=dict)


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse dd/mm/yyyy (or ISO yyyy-mm-dd) text. Returns (dates, bad) where ``bad`` marks
    non-blank values that are not a real date. Blank gives NaT and is not ``bad``."""
    text = values.astype("string").fillna("").str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in DATE_FORMATS:
        todo = out.isna() & (text != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    bad = out.isna() & (text != "")
    return out, bad


def parse_flag(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a 0/1 (yes/no, true/false) column: (nullable boolean, bad-mask)."""
    text = values.astype("string").fillna("").str.strip().str.upper()
    true = text.isin(TRUE_VALUES)
    false = text.isin(FALSE_VALUES)
    flag = pd.Series(pd.array(np.where(true, True, False), dtype="boolean"), index=values.index)
    return flag, ~(true | false)


class _Rejects:
    """Collects reject records; one row can carry several problems."""

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []

    def add_mask(self, table: RawTable, mask: pd.Series, column: str, reason: str) -> None:
        if not mask.any():
            return
        frame = table.frame
        col = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        for row, value in zip(frame.loc[mask, "_row"], col[mask], strict=True):
            self.records.append(
                {
                    "file": table.name,
                    "row": int(row),
                    "column": column,
                    "value": "" if pd.isna(value) else str(value),
                    "reason": reason,
                }
            )

    def add_bad_rows(self, table: RawTable) -> None:
        for row, reason in table.bad_rows:
            self.records.append(
                {
                    "file": table.name,
                    "row": row,
                    "column": "",
                    "value": "",
                    "reason": f"row {reason}; expected one value per column",
                }
            )

    def frame(self) -> pd.DataFrame:
        if not self.records:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        return pd.DataFrame(self.records, columns=REJECT_COLUMNS).sort_values(
            ["file", "row"], kind="stable", ignore_index=True
        )


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("string").str.strip() == "")


def _codes(
    table: RawTable,
    rejects: _Rejects,
    column: str,
    allowed: frozenset[str],
    *,
    required: bool,
    meaning: str,
) -> tuple[pd.Series, pd.Series]:
    """Upper-case a code column and flag rows whose value is not allowed."""
    f = table.frame
    if column not in f.columns:
        return pd.Series(pd.NA, index=f.index, dtype="string"), pd.Series(False, index=f.index)
    codes = f[column].astype("string").str.strip().str.upper()
    blank = _blank(codes)
    bad = ~blank & ~codes.isin(allowed)
    expected = ", ".join(sorted(allowed))
    rejects.add_mask(table, bad, column, f"not a valid {meaning} code; expected one of {expected}")
    if required:
        rejects.add_mask(
            table, blank, column, f"{meaning} code is blank; expected one of {expected}"
        )
        bad = bad | blank
    return codes.mask(blank), bad


def _validate_rows(table: RawTable, rejects: _Rejects, *, episodes_form: bool) -> pd.DataFrame:
    """Validate a placements table; returns the usable rows in canonical form."""
    f = table.frame
    bad = pd.Series(False, index=f.index)

    child = f["CHILD"].astype("string").str.strip()
    blank_child = _blank(child)
    rejects.add_mask(table, blank_child, "CHILD", "child identifier is blank; expected CHILD")
    bad |= blank_child

    out = pd.DataFrame({"CHILD": child, "_file": table.name, "_row": f["_row"]}, index=f.index)
    for col in ("DECOM", "DEC", "DOB"):
        if col in f.columns:
            dates, bad_date = parse_dates(f[col])
            rejects.add_mask(table, bad_date, col, "not a date; expected dd/mm/yyyy")
            bad |= bad_date
            out[col] = dates
        else:
            out[col] = pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns]")
    if episodes_form:
        no_start = out["DECOM"].isna() & _blank(f["DECOM"])
        rejects.add_mask(
            table, no_start, "DECOM", "episode start date is blank; expected dd/mm/yyyy"
        )
        bad |= no_start
    ended_first = out["DEC"].notna() & out["DECOM"].notna() & (out["DEC"] < out["DECOM"])
    rejects.add_mask(table, ended_first, "DEC", "episode ends before it starts (DEC < DECOM)")
    bad |= ended_first
    future_dob = out["DOB"].notna() & out["DECOM"].notna() & (out["DOB"] > out["DECOM"])
    rejects.add_mask(table, future_dob, "DOB", "date of birth is after the episode start (DECOM)")
    bad |= future_dob

    out["PLACE"], b = _codes(
        table,
        rejects,
        "PLACE",
        PLACE_CODES,
        required=episodes_form,
        meaning="placement type (PLACE)",
    )
    bad |= b
    out["PLACE_PROVIDER"], b = _codes(
        table,
        rejects,
        "PLACE_PROVIDER",
        PROVIDER_CODES,
        required=False,
        meaning="placement provider",
    )
    bad |= b
    out["LS"], b = _codes(
        table, rejects, "LS", LS_CODES, required=episodes_form, meaning="legal status (LS)"
    )
    bad |= b
    out["CIN"], b = _codes(
        table, rejects, "CIN", CIN_CODES, required=False, meaning="category of need (CIN)"
    )
    bad |= b
    for col in ("RNE", "REC", "REASON_PLACE_CHANGE", "URN"):
        out[col] = f[col].astype("string") if col in f.columns else pd.NA
    out["HOME_POST"] = f["HOME_POST"].astype("string")
    out["PL_POST"] = f["PL_POST"].astype("string")
    for col in ("UASC", "DISABLED"):
        if col in f.columns:
            flag, bad_flag = parse_flag(f[col])
            rejects.add_mask(table, bad_flag, col, "not a 0/1 flag; expected 0 or 1")
            bad |= bad_flag
            out[col] = flag
        else:
            out[col] = pd.Series(pd.NA, index=f.index, dtype="boolean")
    if "SEX" in f.columns:
        sex = f["SEX"].astype("string").str.strip()
        bad_sex = ~_blank(sex) & ~sex.isin(["1", "2"])
        rejects.add_mask(
            table, bad_sex, "SEX", "not a valid SEX code; expected 1 (male) or 2 (female)"
        )
        bad |= bad_sex
        out["SEX"] = sex.mask(_blank(sex))
    else:
        out["SEX"] = pd.Series(pd.NA, index=f.index, dtype="string")

    if not episodes_form:
        dup = child.duplicated(keep="first") & ~blank_child
        rejects.add_mask(
            table,
            dup & ~bad,
            "CHILD",
            "child appears more than once in a one-row-per-child file; first row used",
        )
        bad |= dup
    return out[~bad].reset_index(drop=True)


def _read_header(path: Path, rejects: _Rejects) -> tuple[pd.DataFrame, int]:
    table = read_csv_text(path, what="header file")
    require_columns(table, HEADER_REQUIRED, what="header file")
    rejects.add_bad_rows(table)
    out = _validate_side_file(table, rejects)
    return out, len(table.frame) + len(table.bad_rows)


def _read_uasc(path: Path, rejects: _Rejects) -> tuple[pd.DataFrame, int]:
    table = read_csv_text(path, what="UASC file")
    require_columns(table, UASC_REQUIRED, what="UASC file")
    rejects.add_bad_rows(table)
    out = _validate_side_file(table, rejects)
    return out, len(table.frame) + len(table.bad_rows)


def _validate_side_file(table: RawTable, rejects: _Rejects) -> pd.DataFrame:
    """Header / UASC rows: CHILD plus whichever of SEX, DOB, DUC, UASC, DISABLED are present."""
    f = table.frame
    bad = pd.Series(False, index=f.index)
    child = f["CHILD"].astype("string").str.strip()
    blank = _blank(child)
    rejects.add_mask(table, blank, "CHILD", "child identifier is blank; expected CHILD")
    bad |= blank
    out = pd.DataFrame({"CHILD": child}, index=f.index)
    for col in ("DOB", "DUC", "MC_DOB"):
        if col in f.columns:
            dates, bad_date = parse_dates(f[col])
            rejects.add_mask(table, bad_date, col, "not a date; expected dd/mm/yyyy")
            bad |= bad_date
            out[col] = dates
    for col in ("UASC", "DISABLED"):
        if col in f.columns:
            flag, bad_flag = parse_flag(f[col])
            rejects.add_mask(table, bad_flag, col, "not a 0/1 flag; expected 0 or 1")
            bad |= bad_flag
            out[col] = flag
    if "SEX" in f.columns:
        sex = f["SEX"].astype("string").str.strip()
        bad_sex = ~_blank(sex) & ~sex.isin(["1", "2"])
        rejects.add_mask(
            table, bad_sex, "SEX", "not a valid SEX code; expected 1 (male) or 2 (female)"
        )
        bad |= bad_sex
        out["SEX"] = sex.mask(_blank(sex))
    dup = child.duplicated(keep="first") & ~blank & ~bad
    rejects.add_mask(table, dup, "CHILD", "child listed more than once; first row used")
    bad |= dup
    return out[~bad].reset_index(drop=True)


def read_placements(
    placements: str | Path, *, header: str | Path | None = None, uasc: str | Path | None = None
) -> PlacementData:
    """Read and validate placement files.

    The form (SSDA903 Episodes or one row per child) is recognised by its columns. Raises
    :class:`~geo.errors.InputError` when a file is unusable as a whole; bad rows go to
    ``rejects`` instead.
    """
    rejects = _Rejects()
    table = read_csv_text(placements, what="placements file")
    cols = set(table.frame.columns)
    episodes_form = "DECOM" in cols and ("LS" in cols or "RNE" in cols)
    require_columns(
        table,
        EPISODE_REQUIRED if episodes_form else CHILD_REQUIRED,
        what="episodes file" if episodes_form else "placements file",
    )
    rejects.add_bad_rows(table)
    episodes = _validate_rows(table, rejects, episodes_form=episodes_form)
    rows_read = {"placements": len(table.frame) + len(table.bad_rows)}
    files = {"placements": str(table.path)}
    children = pd.DataFrame({"CHILD": pd.Series(dtype="string")})
    uasc_frame = pd.DataFrame(
        {"CHILD": pd.Series(dtype="string"), "DUC": pd.Series(dtype="datetime64[ns]")}
    )
    if header is not None:
        children, rows_read["header"] = _read_header(Path(header), rejects)
        files["header"] = str(header)
    if uasc is not None:
        uasc_frame, rows_read["uasc"] = _read_uasc(Path(uasc), rejects)
        files["uasc"] = str(uasc)
        if "DUC" not in uasc_frame.columns:
            uasc_frame["DUC"] = pd.Series(pd.NaT, index=uasc_frame.index, dtype="datetime64[ns]")
    return PlacementData(
        form="episodes" if episodes_form else "child",
        episodes=episodes,
        children=children,
        uasc=uasc_frame,
        rejects=rejects.frame(),
        rows_read=rows_read,
        files=files,
    )


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
        facts = data.children.set_index("CHILD")
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
