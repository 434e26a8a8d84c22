"""Row validation of placement, Header and UASC tables into canonical columns.

Each bad value is reported to the :class:`~geo.ssda903.rejects.Rejects` ledger with its reason;
the row is left out of the result. Codes and columns come from :mod:`geo.ssda903.spec`.
"""

from __future__ import annotations

import pandas as pd

from geo.ssda903.rejects import Rejects, parse_dates, parse_flag
from geo.ssda903.spec import (
    CIN_CODES,
    DATE_REASON,
    LS_CODES,
    PLACE_CODES,
    PROVIDER_CODES,
    SEX_CODES,
    SEX_NOT_KNOWN,
)
from geo.ssda903.tables import RawTable


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype("string").str.strip() == "")


def _repeated(child: pd.Series, usable: pd.Series) -> pd.Series:
    """Usable rows whose child already has an earlier usable row (rejected rows do not count)."""
    out = pd.Series(False, index=child.index)
    out[usable] = child[usable].duplicated(keep="first")
    return out


def _codes(
    table: RawTable,
    rejects: Rejects,
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


def _sex(table: RawTable, rejects: Rejects) -> tuple[pd.Series, pd.Series]:
    """SEX as the DfE codes it (1 male, 2 female) from the spellings exports use
    (:data:`~geo.ssda903.spec.SEX_CODES`: M/F, male/female, any case, stray spaces); U, 0, 9 and
    "unknown" are kept as not known. Anything else rejects the row, with the reason."""
    f = table.frame
    if "SEX" not in f.columns:
        return pd.Series(pd.NA, index=f.index, dtype="string"), pd.Series(False, index=f.index)
    text = f["SEX"].astype("string").str.strip().str.upper()
    blank = _blank(text) | text.isin(SEX_NOT_KNOWN)
    code = text.map(SEX_CODES).astype("string")
    bad = ~blank & code.isna()
    rejects.add_mask(
        table,
        bad,
        "SEX",
        "not a valid SEX code; expected 1 (male) or 2 (female), M/F, or U (not known)",
    )
    return code.mask(blank), bad


def _child_rows(table: RawTable, rejects: Rejects) -> tuple[pd.DataFrame, pd.Series]:
    """The canonical frame's first columns (``CHILD``, ``_file``, ``_row``) and the rows bad so
    far: malformed elements (XML) and a blank child identifier."""
    f = table.frame
    bad = rejects.add_problems(table)
    child = f["CHILD"].astype("string").str.strip()
    blank = _blank(child)
    rejects.add_mask(table, blank & ~bad, "CHILD", "child identifier is blank; expected CHILD")
    out = pd.DataFrame({"CHILD": child, "_file": table.name, "_row": f["_row"]}, index=f.index)
    return out, bad | blank


def _parsed(
    table: RawTable, rejects: Rejects, out: pd.DataFrame, columns: tuple[str, ...], *, kind: str
) -> pd.Series:
    """Parse the ``columns`` present (``kind``: "date" or "flag") into ``out``; returns the
    rows with a value that is not one, each reported to ``rejects``."""
    f = table.frame
    bad = pd.Series(False, index=f.index)
    parse, reason = (
        (parse_dates, DATE_REASON)
        if kind == "date"
        else (parse_flag, "not a 0/1 flag; expected 0 or 1")
    )
    for col in columns:
        if col in f.columns:
            values, wrong = parse(f[col])
            rejects.add_mask(table, wrong, col, reason)
            bad |= wrong
            out[col] = values
    return bad


def validate_rows(table: RawTable, rejects: Rejects, *, episodes_form: bool) -> pd.DataFrame:
    """Validate a placements table; returns the usable rows in canonical form."""
    f = table.frame
    out, bad = _child_rows(table, rejects)
    bad |= _parsed(table, rejects, out, ("DECOM", "DEC", "DOB"), kind="date")
    for col in ("DECOM", "DEC", "DOB"):
        if col not in out.columns:
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
    bad |= _parsed(table, rejects, out, ("UASC", "DISABLED"), kind="flag")
    for col in ("UASC", "DISABLED"):
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=f.index, dtype="boolean")
    out["SEX"], bad_sex = _sex(table, rejects)
    bad |= bad_sex

    if not episodes_form:
        dup = _repeated(out["CHILD"], ~bad)
        rejects.add_mask(
            table,
            dup,
            "CHILD",
            "child appears more than once in a one-row-per-child file; first valid row used",
        )
        bad |= dup
    return out[~bad].reset_index(drop=True)


def validate_side_file(table: RawTable, rejects: Rejects) -> pd.DataFrame:
    """Header / UASC rows: CHILD plus whichever of SEX, DOB, DUC, UASC, DISABLED are present."""
    f = table.frame
    out, bad = _child_rows(table, rejects)
    bad |= _parsed(table, rejects, out, ("DOB", "DUC", "MC_DOB"), kind="date")
    bad |= _parsed(table, rejects, out, ("UASC", "DISABLED"), kind="flag")
    if "SEX" in f.columns:
        out["SEX"], bad_sex = _sex(table, rejects)
        bad |= bad_sex
    dup = _repeated(out["CHILD"], ~bad)
    rejects.add_mask(table, dup, "CHILD", "child listed more than once; first valid row used")
    bad |= dup
    return out[~bad].reset_index(drop=True)
