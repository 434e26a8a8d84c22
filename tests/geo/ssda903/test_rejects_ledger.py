"""The rejects ledger takes a whole column of bad cells at once and keeps every one, with the
same file, row, column, value, reason, order and tallies as one record a row would."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.ssda903.rejects import Rejects
from geo.ssda903.tables import RawTable, read_csv_text
from geo.ssda903.validate import validate_rows, validate_side_file


class RowByRow(Rejects):
    """The reference: one ``_add`` call per bad cell."""

    def add_mask(self, table: RawTable, mask: pd.Series, column: str, reason: str) -> None:
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


HEAD = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,HOME_POST,PL_POST,SEX,DOB,UASC"


def _messy(n: int) -> str:
    lines = [HEAD]
    for i in range(n):
        child = "" if i % 17 == 0 else f"C{i % 40}"
        decom = ["01/04/2020", "31/02/2020", "", "2020-05-01"][i % 4]
        ls = ["C2", "XX", "", "c1"][i % 4]
        place = ["U1", "Q9", "P1", ""][(i // 3) % 4]
        dec = ["", "01/01/2019", "banana"][i % 3]
        sex = ["1", "F", "x", ""][i % 4]
        flag = ["0", "1", "maybe"][(i // 5) % 3]
        lines.append(
            f"{child},{decom},P,{ls},N1,{place},PR1,{dec},E11,ME14 1XQ,TN1 1AA,{sex},01/01/2010,{flag}"
        )
    return "\n".join(lines) + "\n"


def _ledgers(path: Path, *, side: bool) -> tuple[Rejects, Rejects, pd.DataFrame, pd.DataFrame]:
    table = read_csv_text(path, what="placements file")
    out = []
    ledgers = []
    for ledger in (Rejects(), RowByRow()):
        ledger.begin("0")
        ledger.records.append(  # a record added directly (as the carers reader does)
            {"file": table.name, "row": 5, "column": "X", "value": "", "reason": "first"}
        )
        if side:
            out.append(validate_side_file(table, ledger))
        else:
            out.append(validate_rows(table, ledger, episodes_form=True))
        ledger.records.append(
            {"file": table.name, "row": 5, "column": "X", "value": "", "reason": "last"}
        )
        ledgers.append(ledger)
    return ledgers[0], ledgers[1], out[0], out[1]


def test_the_column_ledger_matches_the_row_by_row_one(tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_text(_messy(600))
    for side in (False, True):
        fast, slow, kept_fast, kept_slow = _ledgers(path, side=side)
        got, want = fast.frame(), slow.frame()
        assert len(want) > 500
        pd.testing.assert_frame_equal(got, want)
        assert fast.rows == slow.rows
        assert fast.reasons == slow.reasons
        pd.testing.assert_frame_equal(kept_fast, kept_slow)
        reasons = got.loc[got["row"] == 5, "reason"].tolist()
        assert reasons[0] == "first" and reasons[-1] == "last"
