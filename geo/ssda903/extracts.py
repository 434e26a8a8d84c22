"""Regional and multi-year extracts: one file with an ``LA`` column (the GSS code, the DfE
three-digit LA number or the name) and a ``YEAR`` column, each episode repeated once per year.

:func:`split_extract` sets aside the rows of other authorities (counted per ``LA`` value, so the
validation report says how many rows of which authority were not analysed) and splits the rest
into one table per year, which :mod:`geo.ssda903.read` then merges like separate returns (the
later year wins, differences listed).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from geo.spatial.authority import (
    AreaKind,
    Authority,
    children_services_authorities,
    dfe_la_numbers,
)
from geo.ssda903.tables import RawTable

LA_COLUMNS = ("LA", "LA_CODE", "LA_NAME", "LOCAL_AUTHORITY", "LA_NUMBER", "LA_NUM", "LACODE")
YEAR_COLUMNS = ("YEAR", "RETURN_YEAR", "COLLECTION_YEAR", "YEAR_ENDING")


def _column(table: RawTable, names: tuple[str, ...]) -> str | None:
    return next((c for c in names if c in table.frame.columns), None)


def authority_codes(values: pd.Series) -> pd.Series:
    """The GSS code of each ``LA`` value: a GSS code as given, a DfE LA number (``886``) or an
    authority name (any case) looked up; ``<NA>`` when not recognised."""
    rows = children_services_authorities()
    lookup = {
        **{r["la_name"].upper(): r["la_code"] for r in rows},
        **dfe_la_numbers(),
        **{r["la_code"]: r["la_code"] for r in rows},
    }
    text = values.astype("string").str.strip().str.upper()

    def one(value: object) -> object:
        if not isinstance(value, str) or not value:
            return pd.NA
        # a DfE number written with a leading zero ("0886") is the same number
        return lookup.get(value, lookup.get(value.lstrip("0"), pd.NA))

    return text.map(one).astype("string")


def _ours(codes: pd.Series, authority: Authority) -> pd.Series:
    members = {authority.code}
    if authority.area_kind == AreaKind.AUTHORITY:
        members |= set(authority.districts)
    return codes.isin(members).fillna(False).astype(bool)


def split_extract(table: RawTable, authority: Authority | None) -> list[RawTable]:
    """``table`` without the rows of other authorities, one table per ``YEAR`` value.

    Returns ``[table]`` unchanged when it has neither column. Rows set aside are counted in the
    first returned table's ``set_aside`` (``LA`` value -> rows). Without an ``authority``, no
    row is set aside. A year's table is labelled ``name[YEAR=2019]``.
    """
    la_col, year_col = _column(table, LA_COLUMNS), _column(table, YEAR_COLUMNS)
    if la_col is None and year_col is None:
        return [table]
    frame = table.frame
    set_aside: dict[str, int] = {}
    if la_col is not None and authority is not None:
        ours = _ours(authority_codes(frame[la_col]), authority)
        other = frame.loc[~ours, la_col].astype("string").fillna("(blank)").str.strip()
        set_aside = {str(k): int(v) for k, v in other.value_counts().sort_index().items()}
        frame = frame[ours.to_numpy()]
    if year_col is None:
        return [replace(table, frame=frame, set_aside=set_aside)]
    years = frame[year_col].astype("string").str.strip().fillna("")
    parts: list[RawTable] = []
    for year in sorted(str(y) for y in years.unique()):
        part = frame[(years == year).to_numpy()]
        parts.append(
            replace(
                table,
                frame=part,
                bad_rows=table.bad_rows if not parts else [],
                label=f"{table.name}[YEAR={year or 'blank'}]",
                year=year or "blank",
                set_aside=set_aside if not parts else {},
            )
        )
    if not parts:  # every row was another authority's
        return [replace(table, frame=frame, set_aside=set_aside)]
    return parts
