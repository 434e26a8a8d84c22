"""The rejects ledger: every input row not used, with file, row, column, value and reason.

Also the two value parsers every reader shares (dates, 0/1 flags), so a bad value is reported the
same way whichever table it is in.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from geo.ssda903.spec import DATE_FORMATS, FALSE_VALUES, TRUE_VALUES
from geo.ssda903.tables import RawTable

REJECT_COLUMNS = ["file", "row", "column", "value", "reason"]


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


class Rejects:
    """Collects reject records; one row can carry several problems.

    Per table (see :meth:`begin`) it also tallies the distinct rows rejected and the reasons.
    """

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []
        # add_mask's rejects, a column list each, with len(records) when they came (their place
        # among the single records, so the ledger keeps the order the checks ran in)
        self._chunks: list[tuple[int, dict[str, list[object]]]] = []
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
        """Reject the rows of ``table`` where ``mask`` is true, for ``column`` (its value is
        reported) and ``reason``: one column operation for all of them, not a loop over rows."""
        hit = mask.to_numpy(dtype=bool)
        if not hit.any():
            return
        frame = table.frame
        rows = frame["_row"].to_numpy()[hit].astype(np.int64)
        values: list[object] = [""] * len(rows)
        if column in frame.columns:
            values = list(frame[column].iloc[hit].astype("string").fillna("").tolist())
        reasons: list[object] = [reason] * len(rows)
        if "_where" in frame.columns:
            where = frame["_where"].iloc[hit].astype("string").fillna("")
            reasons = list((where + ": " + reason).where(where != "", reason).tolist())
        name = table.source_name(column) if column else ""
        self._chunks.append(
            (
                len(self.records),
                {
                    "file": [table.name] * len(rows),
                    "row": rows.tolist(),
                    "column": [name] * len(rows),
                    "value": values,
                    "reason": reasons,
                },
            )
        )
        if self._key:
            self.rows[self._key].update(rows.tolist())
            self.reasons[self._key][f"{name}: {reason}" if name else reason] += len(rows)

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
        """Every reject, by file and row (within a row, in the order the checks found them)."""
        if not self.records and not self._chunks:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        columns: dict[str, list[object]] = {c: [] for c in REJECT_COLUMNS}

        def records(start: int, stop: int) -> None:
            for record in self.records[start:stop]:
                for c in REJECT_COLUMNS:
                    columns[c].append(record[c])

        done = 0
        for at, chunk in self._chunks:
            records(done, at)
            done = at
            for c in REJECT_COLUMNS:
                columns[c].extend(chunk[c])
        records(done, len(self.records))
        return pd.DataFrame(columns).sort_values(["file", "row"], kind="stable", ignore_index=True)
