"""Read and validate placement data (DfE SSDA903 layout or one row per child) and take the census.

Two input forms are accepted (DESIGN.md §4):

* **Episodes** (SSDA903): ``CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC,
  REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN`` with optional **Header** (``CHILD, SEX, DOB, ...``)
  and **UASC** (``CHILD, SEX, DOB, DUC``) files. A local ``DISABLED`` (0/1) column is honoured.
* **One row per child**: at least ``CHILD, HOME_POST, PL_POST``; optional ``PLACE,
  PLACE_PROVIDER, DECOM, DEC, DOB, SEX, LS, UASC, DISABLED``.

Files are taken as a council has them (see :func:`read_placements`): the DfE XML return
(:mod:`geo.ssda903.xml_return`), CSV sets and XLSX workbooks whose tables are recognised by their columns
whatever the file or sheet names, one file, several, or a folder. Several years' returns are
merged into one episode history (:mod:`geo.ssda903.returns`).

Every input row is either kept or reported in ``rejects`` with file, row, column, value and reason.
Postcode problems do not reject a row: the child stays in the census with a *not known* distance.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.ssda903.returns import (
    PLACEMENT_ROLES,
    ReturnInfo,
    SourceReport,
    empty_differences,
    merge_rows,
)
from geo.ssda903.tables import RawTable, is_xlsx, read_csv_text, read_xlsx_tables, require_columns
from geo.ssda903.xml_return import looks_like_xml, max_xml_mb, read_ssda903_xml

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
DATE_REASON = "not a date; expected dd/mm/yyyy or yyyy-mm-dd"
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

    ``sources`` says what each input table was recognised as and what became of its rows,
    ``returns`` how the tables were grouped into returns and ordered (later wins), and
    ``merge_differences`` every field on which two returns disagreed
    (:data:`geo.ssda903.returns.DIFFERENCE_COLUMNS`). See :func:`geo.ssda903.returns.validation_report`.
    """

    form: str  # "episodes" or "child"
    episodes: pd.DataFrame
    children: pd.DataFrame
    uasc: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: dict[str, int]
    files: dict[str, str]
    sources: tuple[SourceReport, ...] = ()
    returns: tuple[ReturnInfo, ...] = ()
    merge_differences: pd.DataFrame = field(default_factory=empty_differences)


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
    """Collects reject records; one row can carry several problems.

    Per table (see :meth:`begin`) it also tallies the distinct rows rejected and the reasons.
    """

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []
        self.rows: dict[str, set[int]] = {}
        self.reasons: dict[str, Counter[str]] = {}
        self._key = ""

    def begin(self, key: str) -> None:
        """Tally the following rejects under ``key`` (one input table)."""
        self._key = key
        self.rows.setdefault(key, set())
        self.reasons.setdefault(key, Counter())

    def _add(self, table: RawTable, row: int, column: str, value: str, reason: str, where: str):
        self.records.append(
            {
                "file": table.name,
                "row": row,
                "column": column,
                "value": value,
                "reason": f"{where}: {reason}" if where else reason,
            }
        )
        if self._key:
            self.rows[self._key].add(row)
            self.reasons[self._key][f"{column}: {reason}" if column else reason] += 1

    def add_mask(self, table: RawTable, mask: pd.Series, column: str, reason: str) -> None:
        if not mask.any():
            return
        frame = table.frame
        col = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        where = (
            frame["_where"][mask]
            if "_where" in frame.columns
            else pd.Series("", index=col[mask].index)
        )
        name = table.source_name(column) if column else ""
        for row, value, w in zip(frame.loc[mask, "_row"], col[mask], where, strict=True):
            value = "" if pd.isna(value) else str(value)
            self._add(table, int(row), name, value, reason, "" if pd.isna(w) else str(w))

    def add_problems(self, table: RawTable) -> pd.Series:
        """Reject rows whose element was malformed (``_problem``, XML); returns their mask."""
        f = table.frame
        if "_problem" not in f.columns:
            return pd.Series(False, index=f.index)
        mask = f["_problem"].notna()
        where = f["_where"] if "_where" in f.columns else pd.Series("", index=f.index)
        for row, column, problem, w in zip(
            f.loc[mask, "_row"],
            f.loc[mask, "_problem_column"],
            f.loc[mask, "_problem"],
            where[mask],
            strict=True,
        ):
            self._add(table, int(row), str(column), "", str(problem), str(w))
        return mask

    def add_bad_rows(self, table: RawTable) -> None:
        for row, reason in table.bad_rows:
            self._add(table, row, "", "", f"row {reason}; expected one value per column", "")

    def frame(self) -> pd.DataFrame:
        if not self.records:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        return pd.DataFrame(self.records, columns=REJECT_COLUMNS).sort_values(
            ["file", "row"], kind="stable", ignore_index=True
        )


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("string").str.strip() == "")


def _repeated(child: pd.Series, usable: pd.Series) -> pd.Series:
    """Usable rows whose child already has an earlier usable row (rejected rows do not count)."""
    out = pd.Series(False, index=child.index)
    out[usable] = child[usable].duplicated(keep="first")
    return out


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
    bad = rejects.add_problems(table)

    child = f["CHILD"].astype("string").str.strip()
    blank_child = _blank(child)
    rejects.add_mask(
        table, blank_child & ~bad, "CHILD", "child identifier is blank; expected CHILD"
    )
    bad |= blank_child

    out = pd.DataFrame({"CHILD": child, "_file": table.name, "_row": f["_row"]}, index=f.index)
    for col in ("DECOM", "DEC", "DOB"):
        if col in f.columns:
            dates, bad_date = parse_dates(f[col])
            rejects.add_mask(table, bad_date, col, DATE_REASON)
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
        dup = _repeated(child, ~bad)
        rejects.add_mask(
            table,
            dup,
            "CHILD",
            "child appears more than once in a one-row-per-child file; first valid row used",
        )
        bad |= dup
    return out[~bad].reset_index(drop=True)


def _validate_side_file(table: RawTable, rejects: _Rejects) -> pd.DataFrame:
    """Header / UASC rows: CHILD plus whichever of SEX, DOB, DUC, UASC, DISABLED are present."""
    f = table.frame
    bad = rejects.add_problems(table)
    child = f["CHILD"].astype("string").str.strip()
    blank = _blank(child)
    rejects.add_mask(table, blank & ~bad, "CHILD", "child identifier is blank; expected CHILD")
    bad |= blank
    out = pd.DataFrame({"CHILD": child, "_file": table.name, "_row": f["_row"]}, index=f.index)
    for col in ("DOB", "DUC", "MC_DOB"):
        if col in f.columns:
            dates, bad_date = parse_dates(f[col])
            rejects.add_mask(table, bad_date, col, DATE_REASON)
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
    dup = _repeated(child, ~bad)
    rejects.add_mask(table, dup, "CHILD", "child listed more than once; first valid row used")
    bad |= dup
    return out[~bad].reset_index(drop=True)


# Column names a table is recognised by (after upper-casing and stripping).
ALIASES = {"CHILDID": "CHILD", "PL": "PLACE"}  # XML element names used as CSV headers
_PLACEMENT_HINTS = frozenset(["DECOM", "HOME_POST", "PL_POST", "PLACE"])
_HEADER_HINTS = frozenset(["SEX", "DOB", "UPN", "ETHNIC", "MOTHER", "MC_DOB"])
_WHAT = {"placements": "placements file", "header": "header file", "uasc": "UASC file"}


def recognise(columns: Sequence[str]) -> str | None:
    """The role of a table from its column names: ``episodes`` (SSDA903 Episodes), ``child``
    (one row per child), ``header``, ``uasc``, ``carers`` (a carers register), or None."""
    cols = {str(c).strip().upper() for c in columns}
    cols |= {ALIASES[c] for c in cols if c in ALIASES}
    if "CARER_ID" in cols:
        return "carers"
    if cols & _PLACEMENT_HINTS:
        return _placements_form(cols)
    if "CHILD" not in cols:
        return None
    if "DUC" in cols:
        return "uasc"
    if cols & _HEADER_HINTS:
        return "header"
    return None


def _placements_form(cols: set[str]) -> str:
    return "episodes" if "DECOM" in cols and ("LS" in cols or "RNE" in cols) else "child"


def _apply_aliases(table: RawTable) -> RawTable:
    cols = set(table.frame.columns)
    rename = {a: c for a, c in ALIASES.items() if a in cols and c not in cols}
    if not rename:
        return table
    names = {**table.source_names, **{c: a for a, c in rename.items()}}
    return replace(table, frame=table.frame.rename(columns=rename), source_names=names)


@dataclass
class _Table:
    """One recognised input table while reading (mutable: labels and ranks are set later)."""

    table: RawTable
    role: str
    path: Path
    order: int
    explicit: bool  # given with header= / uasc=
    group: str = ""
    rank: int = 0
    valid: pd.DataFrame | None = None


def _expand(paths: list[Path], what: str) -> list[tuple[Path, bool]]:
    """Files to read: each path, or every visible file under a folder. (path, from_folder)."""
    out: list[tuple[Path, bool]] = []
    for p in paths:
        if p.is_dir():
            found = [
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and not any(part.startswith((".", "~$")) for part in f.relative_to(p).parts)
            ]
            if not found:
                raise InputError(
                    f"The folder '{p}' holds no files. Put the SSDA903 return in it (XML, or "
                    "Episodes/Header/UASC as CSV or XLSX), or give the files themselves."
                )
            out.extend((f, True) for f in found)
        elif p.exists():
            out.append((p, False))
        else:
            raise InputError(f"The {what} '{p}' does not exist. Check the path and try again.")
    return out


def _head(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError as err:
        raise InputError(f"The {what} '{path}' could not be read: {err.strerror or err}.") from err


def _load_file(
    path: Path, *, forced: str | None, from_folder: bool, what: str
) -> tuple[str, list[tuple[str, RawTable]], list[tuple[str, str]]]:
    """Read one file by content. Returns (format, [(role, table)], [(ignored label, reason)])."""
    head = _head(path, what)
    if looks_like_xml(head):
        x = read_ssda903_xml(path)
        return "xml", [("header", x.header), ("episodes", x.episodes)], []
    if is_xlsx(path, head):
        tables, skipped = read_xlsx_tables(path, what=what, max_mb=max_xml_mb())
        found: list[tuple[str, RawTable]] = []
        ignored = [(f"{path.name}[{sheet}]", why) for sheet, why in skipped]
        for t in tables:
            t = _apply_aliases(t)
            role = recognise(list(t.frame.columns))
            if role is None or role == "carers":
                ignored.append((t.name, _ignored_reason(role, t)))
            else:
                found.append((role, t))
        return "xlsx", found, ignored
    try:
        table = _apply_aliases(read_csv_text(path, what=what))
    except InputError as err:
        if from_folder:
            return "csv", [], [(path.name, f"not read: {err}")]
        raise
    role = forced or recognise(list(table.frame.columns))
    if role == "carers" or (role is None and from_folder):
        return "csv", [], [(table.name, _ignored_reason(role, table))]
    if role is None:  # a named file: validate it as placements so the message names columns
        role = _placements_form(set(table.frame.columns))
    return "csv", [(role, table)], []


def _ignored_reason(role: str | None, table: RawTable) -> str:
    if role == "carers":
        return "a carers register, not placement data (give it to the carers commands)"
    cols = [c for c in table.frame.columns if not str(c).startswith("_")][:12]
    return (
        f"columns {cols} are not an SSDA903 Episodes, Header or UASC table nor one row per "
        "child (expected CHILD with DECOM/HOME_POST/PL_POST, DOB/SEX/UPN or DUC)"
    )


def _labels(paths: list[Path]) -> dict[Path, str]:
    """Names for rejects: the file name, or the path below the common folder when two files
    share a name (2019/Episodes.csv, 2020/Episodes.csv)."""
    counts = Counter(p.name for p in paths)
    if all(n == 1 for n in counts.values()):
        return {p: p.name for p in paths}
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    return {p: p.relative_to(root).as_posix() if counts[p.name] > 1 else p.name for p in paths}


_DIGITS = re.compile(r"\d+")


def _group_tables(tables: list[_Table]) -> None:
    """Assign each table to a return: an XML file or a workbook is one return; a CSV placements
    file is one return, joined by the Header/UASC CSVs of the same folder whose names carry the
    same numbers (header_2019.csv goes with episodes_2019.csv) — or by every Header/UASC CSV
    when there is a single CSV placements file."""

    def key(p: Path) -> tuple[str, str]:
        return str(p.parent), "-".join(_DIGITS.findall(p.stem))

    csv_placements = [t for t in tables if t.table.fmt == "csv" and t.role in PLACEMENT_ROLES]
    for t in tables:
        if t.table.fmt != "csv" or t.role in PLACEMENT_ROLES:
            t.group = str(t.path)
    for t in tables:
        if t.group:
            continue
        if len(csv_placements) == 1:
            t.group = csv_placements[0].group
            continue
        same = {c.group for c in csv_placements if key(c.path) == key(t.path)}
        t.group = same.pop() if len(same) == 1 else f"side:{t.path}"


def _rank_returns(tables: list[_Table]) -> tuple[ReturnInfo, ...]:
    """Order returns, earliest first: by the latest DECOM/DEC in their placement rows. Returns
    of Header/UASC only rank first, except files named with ``header=``/``uasc=``, which rank
    last (the caller named them on purpose); ties keep the order given."""
    groups: dict[str, list[_Table]] = {}
    for t in tables:
        groups.setdefault(t.group, []).append(t)
    keys = []
    for g, members in groups.items():
        stamps = [
            m.valid[c].max()
            for m in members
            if m.role in PLACEMENT_ROLES and m.valid is not None and len(m.valid)
            for c in ("DECOM", "DEC")
        ]
        stamps = [x for x in stamps if pd.notna(x)]
        end = max(stamps) if stamps else None
        has_placements = any(m.role in PLACEMENT_ROLES for m in members)
        tier = 1 if has_placements else (2 if all(m.explicit for m in members) else 0)
        order = min(m.order for m in members)
        keys.append(((tier, end or pd.Timestamp.min, order), g, end, members))
    keys.sort(key=lambda k: k[0])
    infos = []
    for rank, (_, _g, end, members) in enumerate(keys):
        names = tuple(dict.fromkeys(m.table.name for m in members))
        label = " + ".join(dict.fromkeys(_file_of(m) for m in members))
        for m in members:
            m.rank = rank
        infos.append(
            ReturnInfo(
                label=label,
                rank=rank,
                data_end=end.date() if end is not None else None,
                files=names,
            )
        )
    return tuple(infos)


def _file_of(t: _Table) -> str:
    return t.table.name.split("[", 1)[0] if t.table.fmt == "xlsx" else t.table.name


def _validate_table(t: _Table, rejects: _Rejects, key: str) -> pd.DataFrame:
    what = {"episodes": "episodes file", "child": "placements file", **_WHAT}[t.role]
    required = {
        "episodes": EPISODE_REQUIRED,
        "child": CHILD_REQUIRED,
        "header": HEADER_REQUIRED,
        "uasc": UASC_REQUIRED,
    }[t.role]
    require_columns(t.table, required, what=what)
    rejects.begin(key)
    rejects.add_bad_rows(t.table)
    if t.role in PLACEMENT_ROLES:
        return _validate_rows(t.table, rejects, episodes_form=t.role == "episodes")
    return _validate_side_file(t.table, rejects)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    non_empty = [f for f in frames if len(f)]
    if not non_empty:
        return frames[0].iloc[0:0] if frames else pd.DataFrame()
    return pd.concat(non_empty, ignore_index=True) if len(non_empty) > 1 else non_empty[0]


def read_placements(
    placements: str | Path | Sequence[str | Path],
    *,
    header: str | Path | None = None,
    uasc: str | Path | None = None,
) -> PlacementData:
    """Read, validate and merge placement data as a council files it.

    ``placements`` is a file, a folder (every visible file below it) or a list of them. Each file
    is recognised by content, not name or extension: the DfE SSDA903 XML return (root
    ``EXPSSDA903``), an XLSX workbook (each sheet recognised by its columns) or a CSV (UTF-8 with
    or without BOM, or Windows-1252) that is an SSDA903 Episodes, Header or UASC table or one row
    per child. ``header``/``uasc`` name a Header/UASC file explicitly. Returns from several years
    are merged (:mod:`geo.ssda903.returns`): the same episode counted once, the later return winning.

    Raises :class:`~geo.errors.InputError` when a named file is unusable as a whole (missing,
    empty, not a table, a required column missing, hostile or ill-formed XML) or when no
    placement table is found; bad rows go to ``rejects`` instead. In a folder, files that are
    not placement tables (a carers register, notes) are skipped and listed in ``sources``.
    """
    if isinstance(placements, (str, os.PathLike)):
        named = [Path(placements)]
    else:
        named = [Path(p) for p in placements]
    if not named:
        raise InputError(
            "No placements file given: name the SSDA903 return, its files or a folder."
        )
    inputs: list[tuple[Path, str | None, bool]] = []
    seen: set[Path] = set()
    for role, paths in (("placements", named), ("header", [header]), ("uasc", [uasc])):
        for path in paths:
            if path is None:
                continue
            for f, from_folder in _expand([Path(path)], _WHAT[role]):
                if f.resolve() not in seen:
                    seen.add(f.resolve())
                    inputs.append((f, None if role == "placements" else role, from_folder))

    tables: list[_Table] = []
    ignored: list[tuple[Path, str, str, str]] = []  # path, format, label, reason
    formats: dict[Path, str] = {}
    for order, (path, forced, from_folder) in enumerate(inputs):
        fmt, found, skipped = _load_file(
            path, forced=forced, from_folder=from_folder, what=_WHAT[forced or "placements"]
        )
        formats[path] = fmt
        tables.extend(
            _Table(table=t, role=r, path=path, order=order, explicit=forced is not None)
            for r, t in found
        )
        ignored.extend((path, fmt, label, why) for label, why in skipped)

    labels = _labels(list(dict.fromkeys([t.path for t in tables] + [p for p, *_ in ignored])))
    for t in tables:
        base = labels[t.path]
        t.table = replace(t.table, label=f"{base}[{t.table.sheet}]" if t.table.sheet else base)

    roles = {t.role for t in tables}
    if not roles & PLACEMENT_ROLES:
        listed = "; ".join(
            [f"{t.table.name}: recognised as {t.role}" for t in tables]
            + [f"{label}: skipped, {why}" for _, _, label, why in ignored]
        )
        raise InputError(
            f"No placements table found in {', '.join(str(p) for p in named)} ({listed or 'no files'}). "
            "Expected the SSDA903 XML return, an Episodes table (CHILD, DECOM, LS, PLACE, "
            "HOME_POST, PL_POST, ...) or one row per child (CHILD, HOME_POST, PL_POST), as CSV "
            "or XLSX."
        )
    if {"episodes", "child"} <= roles:
        kinds = {r: [t.table.name for t in tables if t.role == r] for r in ("episodes", "child")}
        raise InputError(
            f"The input mixes SSDA903 Episodes tables ({', '.join(kinds['episodes'])}) with "
            f"one-row-per-child tables ({', '.join(kinds['child'])}). Use one form: Episodes "
            "(with DECOM and LS) for every year, or one row per child."
        )

    rejects = _Rejects()
    for i, t in enumerate(tables):
        t.valid = _validate_table(t, rejects, key=str(i))
    _group_tables(tables)
    returns = _rank_returns(tables)
    for t in tables:
        assert t.valid is not None
        t.valid["_rank"] = t.rank

    form = "episodes" if "episodes" in roles else "child"
    placement_tables = [t for t in tables if t.role in PLACEMENT_ROLES]
    header_tables = [t for t in tables if t.role == "header"]
    uasc_tables = [t for t in tables if t.role == "uasc"]
    uasc_from_header = [_uasc_from_header(t) for t in header_tables if "DUC" in t.table.frame]

    def columns_of(group: list[_Table], extra: dict[str, set[str]] | None = None):
        out = {t.table.name: set(t.table.frame.columns) for t in group}
        return {**out, **(extra or {})}

    merged = merge_rows(
        _concat([t.valid for t in placement_tables if t.valid is not None]),
        key=["CHILD", "DECOM"] if form == "episodes" else ["CHILD"],
        table="episodes" if form == "episodes" else "placements",
        columns_by_file=columns_of(placement_tables),
    )
    episodes = merged.frame.drop(columns="_rank").reset_index(drop=True)
    differences = [merged.differences]
    duplicates = dict(merged.duplicates)

    children = pd.DataFrame({"CHILD": pd.Series(dtype="string")})
    if header_tables:
        frames = [
            t.valid.drop(columns=[c for c in ("UASC", "DUC") if "DUC" in t.table.frame])
            for t in header_tables
            if t.valid is not None
        ]
        m = merge_rows(
            _concat(frames),
            key=["CHILD"],
            table="header",
            columns_by_file=columns_of(header_tables),
        )
        children = m.frame.drop(columns="_rank").reset_index(drop=True)
        differences.append(m.differences)
        for k, v in m.duplicates.items():
            duplicates[f"header:{k}"] = v

    uasc_frame = pd.DataFrame(
        {"CHILD": pd.Series(dtype="string"), "DUC": pd.Series(dtype="datetime64[ns]")}
    )
    if uasc_tables or uasc_from_header:
        frames = [t.valid for t in uasc_tables if t.valid is not None] + uasc_from_header
        extra = {f["_file"].iloc[0]: {"UASC", "DUC"} for f in uasc_from_header if len(f)}
        m = merge_rows(
            _concat(frames),
            key=["CHILD"],
            table="uasc",
            columns_by_file=columns_of(uasc_tables, extra),
        )
        kept = m.frame
        if "UASC" in kept.columns:  # XML: a later "not UASC" header overrides an earlier one
            kept = kept[kept["UASC"].astype("boolean").fillna(True).astype(bool)]
            kept = kept.drop(columns="UASC")
        uasc_frame = kept.drop(columns="_rank").reset_index(drop=True)
        if "DUC" not in uasc_frame.columns:
            uasc_frame["DUC"] = pd.Series(pd.NaT, index=uasc_frame.index, dtype="datetime64[ns]")
        differences.append(m.differences)
        for k, v in m.duplicates.items():
            if k in {t.table.name for t in uasc_tables}:
                duplicates[f"uasc:{k}"] = v

    sources = []
    for i, t in enumerate(tables):
        prefix = "" if t.role in PLACEMENT_ROLES else f"{t.role}:"
        sources.append(
            SourceReport(
                file=t.table.name,
                path=str(t.path),
                format=t.table.fmt,
                role=t.role,
                return_label=returns[t.rank].label,
                rows_read=len(t.table.frame) + len(t.table.bad_rows),
                rows_rejected=len(rejects.rows.get(str(i), ())),
                rows_merged=duplicates.get(prefix + t.table.name, 0),
                reject_reasons=dict(rejects.reasons.get(str(i), Counter()).most_common()),
            )
        )
    for path, fmt, label, why in ignored:
        sources.append(
            SourceReport(file=label, path=str(path), format=fmt, role="ignored", note=why)
        )

    rows_read: dict[str, int] = {}
    files: dict[str, str] = {}
    for role, group in (
        ("placements", placement_tables),
        ("header", header_tables),
        ("uasc", uasc_tables),
    ):
        group = [t for t in group if not (role != "placements" and t.table.fmt == "xml")]
        if not group:
            continue
        rows_read[role] = sum(len(t.table.frame) + len(t.table.bad_rows) for t in group)
        for n, t in enumerate(group):
            name = role if n == 0 else f"{role}_{n + 1}"
            files[name] = str(t.path.parent / t.table.name) if t.table.sheet else str(t.path)
    if any(t.table.fmt == "xml" for t in header_tables):
        rows_read["header"] = sum(len(t.table.frame) + len(t.table.bad_rows) for t in header_tables)
    all_differences = [d for d in differences if len(d)]
    return PlacementData(
        form=form,
        episodes=episodes,
        children=children,
        uasc=uasc_frame,
        rejects=rejects.frame(),
        rows_read=rows_read,
        files=files,
        sources=tuple(sources),
        returns=returns,
        merge_differences=pd.concat(all_differences, ignore_index=True)
        if all_differences
        else empty_differences(),
    )


def _uasc_from_header(t: _Table) -> pd.DataFrame:
    """UASC status carried in an XML Header (``UASC`` flag, ``DUC``) as UASC rows: every child,
    with ``UASC`` True when flagged or ceased, so a later return's "not UASC" can win."""
    v = t.valid
    assert v is not None
    flag = v["UASC"].astype("boolean").fillna(False) if "UASC" in v else False
    duc = v["DUC"] if "DUC" in v else pd.Series(pd.NaT, index=v.index, dtype="datetime64[ns]")
    return pd.DataFrame(
        {
            "CHILD": v["CHILD"],
            "DUC": duc,
            "UASC": pd.array(np.asarray(flag | duc.notna(), dtype=bool), dtype="boolean"),
            "_file": v["_file"],
            "_row": v["_row"],
            "_rank": v["_rank"],
        }
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
