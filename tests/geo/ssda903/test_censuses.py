"""``take_censuses`` (every date in one pass) gives exactly what ``take_census`` gives at each
date: the one census rule, on hand-written edge cases (episodes starting or ending on a census
date, overlapping episodes, a child aging and leaving UASC status between dates)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from geo.ssda903 import read_placements, take_census, take_censuses

DATES = [date(2018, 3, 31), date(2018, 6, 30), date(2018, 9, 30), date(2018, 12, 31)]


def test_every_census_at_once_is_each_census(tmp_path):
    ep = tmp_path / "episodes.csv"
    ep.write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
        "PL_POST,URN\n"
        # A: ends on a census date (still current that day), then a new episode the next day.
        "A,01/01/2017,S,C2,N1,U1,PR1,30/06/2018,X1,CARPL,ME14 1XQ,CT1 2RX,\n"
        "A,01/07/2018,P,C2,N1,K2,PR1,,,,ME14 1XQ,CT1 2RX,SC1\n"
        # B: starts on a census date; two overlapping episodes (the later start wins).
        "B,30/06/2018,S,C2,N2,U4,PR4,,,,CT1 2RX,ME14 1XQ,\n"
        "B,01/08/2018,P,C2,N2,U1,PR1,,,,CT1 2RX,ME14 1XQ,\n"
        # C: a short break, then leaves before the last date.
        "C,01/02/2018,S,V3,N1,U1,PR1,01/11/2018,E11,,ME14 1XQ,ME14 1XQ,\n"
        # D: UASC until 01/08/2018 (DUC), turns 16 on 15/09/2018.
        "D,01/01/2018,S,C2,N1,U1,PR1,,,,CT1 2RX,CT1 2RX,\n"
    )
    hd = tmp_path / "header.csv"
    hd.write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
        "A,1,01/05/2008,WBRI,,,\nB,2,30/06/2015,WBRI,,,\nC,1,01/01/2010,WBRI,,,\n"
        "D,1,15/09/2002,OOTH,,,\n"
    )
    uasc = tmp_path / "uasc.csv"
    uasc.write_text("CHILD,SEX,DOB,DUC\nD,1,15/09/2002,01/08/2018\n")
    data = read_placements(ep, header=hd, uasc=uasc)
    every = take_censuses(data, DATES)
    assert sorted(set(every["census"])) == [0, 1, 2, 3]
    for t, when in enumerate(DATES):
        one = take_census(data, as_at=when).children
        mine = every[every["census"] == t].drop(columns="census").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[one.columns], one)
    # The cases bite: A in residential from July, B in-house from August, C gone in December,
    # D no longer UASC at 30/09 and 16 by then.
    last = every[every["census"] == 3].set_index("CHILD")
    assert last.loc["A", "placement_kind"] == "residential"
    assert last.loc["B", "placement_kind"] == "in_house_foster"
    assert "C" not in last.index
    d = every[every["CHILD"] == "D"].set_index("census")
    assert list(d["UASC"]) == [True, True, False, False]
    assert list(d["age_years"]) == [15, 15, 16, 16]
    # Dates in any order give the same rows, each with its own date's index.
    backwards = take_censuses(data, DATES[::-1])
    back = backwards.assign(census=3 - backwards["census"])
    back = back.sort_values(["census", "CHILD"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(back, every)
