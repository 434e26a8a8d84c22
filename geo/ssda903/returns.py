"""Several years of SSDA903 returns as one history, and the per-file validation report.

A council files one return a year; each lists every episode open during that year, so an
episode open across 31 March appears in two returns. Merging rules:

* The same record in two returns — an episode is ``CHILD`` + ``DECOM``, a Header or UASC row is
  ``CHILD`` — is counted once: the **later return wins** (later = the return whose episodes end
  later, i.e. the latest ``DECOM``/``DEC`` in it; ties go to the order the files were given).
* Every field on which the kept and the dropped copy disagree is listed in the merge
  differences (``DEC`` filled in next year, a corrected ``PL_POST`` or ``PLACE``, ...).
* Rows of the same return are never merged with each other (that is a data error the census
  handles: one current episode per child).

What each file was recognised as, and how its rows were used in a census, is reported by
:func:`geo.measures.validation.validation_report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

DIFFERENCE_COLUMNS = [
    "table",
    "CHILD",
    "DECOM",
    "column",
    "earlier_value",
    "later_value",
    "change",
    "earlier_file",
    "earlier_row",
    "later_file",
    "later_row",
]
PLACEMENT_ROLES = frozenset(["episodes", "child"])
_POSTCODE_COLUMNS = frozenset(["HOME_POST", "PL_POST"])


@dataclass(frozen=True)
class ReturnInfo:
    """One return: the files (or sheets) filed together, its rank (0 = earliest) and data end."""

    label: str
    rank: int
    data_end: date | None
    files: tuple[str, ...]


@dataclass(frozen=True)
class SourceReport:
    """What one input table was recognised as and what became of its rows (before the census)."""

    file: str  # the name rejects use, e.g. "2019.xml", "903.xlsx[Episodes]"
    path: str
    format: str  # csv | xlsx | xml
    role: str  # episodes | child | header | uasc | ignored
    return_label: str = ""
    rows_read: int = 0
    rows_rejected: int = 0
    rows_merged: int = 0  # dropped because a later return has the same record
    rows_other_authority: int = 0  # rows of other authorities in an extract (LA column)
    other_authorities: dict[str, int] = field(default_factory=dict)  # LA value -> rows
    reject_reasons: dict[str, int] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class MergeResult:
    """Rows kept after merging, the field differences found and, per file, the rows dropped."""

    frame: pd.DataFrame
    differences: pd.DataFrame
    duplicates: dict[str, int]


def empty_differences() -> pd.DataFrame:
    """A merge-differences table with no rows (the columns of :data:`DIFFERENCE_COLUMNS`)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in DIFFERENCE_COLUMNS})


def _as_text(values: pd.Series, column: str) -> pd.Series:
    """Values compared as text: dates ISO, flags 1/0, blanks empty, postcodes without spaces."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").fillna("")
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "1", False: "0"}).astype("string").fillna("")
    text = values.astype("string").fillna("").str.strip()
    if column in _POSTCODE_COLUMNS:
        text = text.str.upper().str.replace(r"\s+", "", regex=True)
    return text


def merge_rows(
    frame: pd.DataFrame,
    *,
    key: list[str],
    table: str,
    columns_by_file: dict[str, set[str]],
) -> MergeResult:
    """Keep, for each ``key``, the rows of the latest return (highest ``_rank``).

    ``frame`` holds validated rows of several returns with ``_rank``, ``_file`` and ``_row``.
    Rows of earlier returns whose key also occurs in a later one are dropped and compared field
    by field with the kept row (only columns both files carry, per ``columns_by_file``).
    """
    if frame.empty or frame["_rank"].nunique() <= 1:
        return MergeResult(frame, empty_differences(), {})
    latest = frame.groupby(key, sort=False, dropna=False)["_rank"].transform("max")
    keep = frame["_rank"] == latest
    dropped = frame[~keep]
    kept = frame[keep].reset_index(drop=True)
    if dropped.empty:
        return MergeResult(kept, empty_differences(), {})
    winners = kept.drop_duplicates(key, keep="first")
    pairs = dropped.merge(winners, on=key, how="left", suffixes=("_old", "_new"))
    compare = [
        c
        for c in frame.columns
        if not str(c).startswith("_") and c not in key and f"{c}_old" in pairs.columns
    ]
    parts: list[pd.DataFrame] = []
    for column in compare:
        old = _as_text(pairs[f"{column}_old"], column)
        new = _as_text(pairs[f"{column}_new"], column)
        carrying = [f for f, cols in columns_by_file.items() if column in cols]
        both = pairs["_file_old"].isin(carrying) & pairs["_file_new"].isin(carrying)
        differs = both.to_numpy() & (old != new).to_numpy()
        if not differs.any():
            continue
        differ = pd.Series(differs, index=pairs.index)
        o, n = old[differ], new[differ]
        change = pd.Series("changed", index=o.index)
        change[o == ""] = "filled"
        change[n == ""] = "cleared"
        parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "CHILD": pairs.loc[differ, "CHILD"].astype(str),
                    "DECOM": _as_text(pairs.loc[differ, "DECOM"], "DECOM")
                    if "DECOM" in key
                    else "",
                    "column": column,
                    "earlier_value": o,
                    "later_value": n,
                    "change": change,
                    "earlier_file": pairs.loc[differ, "_file_old"],
                    "earlier_row": pairs.loc[differ, "_row_old"].astype(int),
                    "later_file": pairs.loc[differ, "_file_new"],
                    "later_row": pairs.loc[differ, "_row_new"].astype(int),
                }
            )
        )
    differences = (
        pd.concat(parts, ignore_index=True)[DIFFERENCE_COLUMNS].sort_values(
            ["table", "CHILD", "DECOM", "column"], kind="stable", ignore_index=True
        )
        if parts
        else empty_differences()
    )
    duplicates = {str(k): int(v) for k, v in dropped["_file"].value_counts().items()}
    return MergeResult(kept, differences, duplicates)
