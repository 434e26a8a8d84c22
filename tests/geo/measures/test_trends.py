"""Quarterly trend: quarter ends, and each quarter equals `analyse` at that date."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pytest

from geo.measures.analysis import analyse
from geo.measures.trends import TREND_COLUMNS, compliance_trend, previous_quarter_end, quarter_ends
from geo.spatial.authority import load_authority
from geo.ssda903 import read_placements
from tests.app.reports.test_reports import AS_AT, HEAD, write_report_input


def test_quarter_ends():
    assert quarter_ends(as_at=date(2018, 12, 31), count=8) == [
        date(2017, 3, 31),
        date(2017, 6, 30),
        date(2017, 9, 30),
        date(2017, 12, 31),
        date(2018, 3, 31),
        date(2018, 6, 30),
        date(2018, 9, 30),
        date(2018, 12, 31),
    ]
    assert quarter_ends(as_at=date(2018, 11, 15), count=2) == [date(2018, 6, 30), date(2018, 9, 30)]
    assert quarter_ends(as_at=date(2020, 3, 31), count=1) == [date(2020, 3, 31)]
    assert previous_quarter_end(date(2018, 12, 31)) == date(2018, 9, 30)
    assert previous_quarter_end(date(2019, 1, 1)) == date(2018, 12, 31)
    with pytest.raises(ValueError):
        quarter_ends(as_at=date(2018, 12, 31), count=0)


def test_hand_made_history(tmp_path):
    # A: Maidstone home, placed in Canterbury (24.1 mi) then Tunbridge Wells (15.1 mi) from
    # 01/07/2018. B: starts 01/10/2018 (absent before). C: ends 31/03/2018 (in on that day).
    rows = [
        "A,01/01/2018,S,C2,N1,U4,PR1,30/06/2018,,,ME14 1XQ,CT1 2RX,,0",
        "A,01/07/2018,S,C2,N1,U4,PR1,,,,ME14 1XQ,TN1 1RS,,0",
        "B,01/10/2018,S,C2,N1,U4,PR1,,,,TN13 1HG,DA11 0DQ,,0",
        "C,01/02/2018,S,C2,N1,U4,PR1,31/03/2018,,,ME14 1XQ,ME4 4TR,,0",
    ]
    path = tmp_path / "e.csv"
    path.write_text("\n".join([HEAD, *rows]) + "\n")
    trend = compliance_trend(
        read_placements(path), load_authority(), as_at=date(2018, 12, 31), quarters=5
    )
    assert trend.skipped == (date(2017, 12, 31),)
    assert trend.quarter_ends == (
        date(2018, 3, 31),
        date(2018, 6, 30),
        date(2018, 9, 30),
        date(2018, 12, 31),
    )
    total = trend.total(load_authority())
    assert total["children"].tolist() == [2, 1, 1, 2]
    assert total["within_20"].tolist() == [1, 0, 1, 2]
    assert total["pct_within_20"].tolist() == [50.0, 0.0, 100.0, 100.0]
    assert list(trend.table.columns) == TREND_COLUMNS


def test_every_quarter_equals_analyse_that_day(tmp_path):
    inputs = write_report_input(tmp_path, children=150, seed=3)
    data = read_placements(inputs.episodes, header=inputs.header, uasc=inputs.uasc)
    kent = load_authority()
    started = time.perf_counter()
    trend = compliance_trend(data, kent, as_at=AS_AT, quarters=8)
    elapsed = time.perf_counter() - started
    assert len(trend.quarter_ends) == 8
    for q in trend.quarter_ends[::3] + (trend.quarter_ends[-1],):
        comp = analyse(data, kent, as_at=q).compliance_home
        got = trend.table[trend.table["quarter_end"] == q]
        for col in ("children", "within_20", "pct_within_20", "median_miles"):
            np.testing.assert_array_equal(
                got[col].to_numpy(dtype=float), comp[col].to_numpy(dtype=float), err_msg=f"{q}"
            )
    children = trend.total(kent)["children"].to_numpy()
    assert (np.diff(children) >= 0).all()  # this history only grows
    print(f"trend of 8 quarters for {inputs.children} children: {elapsed:.2f} s")
