"""Own SSDA903 data on the DfE definitions, on a hand-computable return (real postcodes from
DESIGN.md §3), and the disclosure policy that hides its small numbers."""

from __future__ import annotations

from datetime import date

import pytest

from geo.disclosure import suppress_own_measures
from geo.measures import analyse, latest_year_end, own_dfe_measures, year_end
from geo.spatial import load_authority
from geo.ssda903 import read_placements

HEAD = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
EPISODES = [
    HEAD,
    "C1,01/01/2020,S,C2,N1,U4,PR1,,,,ME14 1XQ,TN1 1RS,",  # 15.1 within
    "C2,01/01/2020,S,C2,N1,K2,PR4,,,,ME14 1XQ,CT1 2RX,",  # 24.1 over
    # C3: started in the year; S, P, (L: legal status only), P -> three placements
    "C3,01/05/2023,S,C2,N1,U1,PR1,30/06/2023,P1,,ME14 1XQ,ME4 4TR,",
    "C3,01/07/2023,P,C2,N1,U1,PR1,31/08/2023,P1,,ME14 1XQ,ME4 4TR,",
    "C3,01/09/2023,L,C1,N1,U1,PR1,31/12/2023,P1,,ME14 1XQ,ME4 4TR,",
    "C3,01/01/2024,P,C1,N1,U4,PR1,,,,ME14 1XQ,ME4 4TR,",  # 7.6 within
    "C4,01/01/2020,S,C2,N1,P1,PR0,,,,DA12 5UR,TN8 9EB,",  # 20.0 within (placed with parents)
    "C5,01/01/2020,S,C2,N1,U1,PR1,,,,CT20 2QY,DA1 1DR,",  # 48.4 over
    "C6,01/01/2020,S,C2,N1,U1,PR1,,,,ZZ99 9ZZ,TN1 1RS,",  # home not in ONSPD: not known
    "C7,01/06/2023,S,C2,N1,U1,PR1,,,,ME14 1XQ,TN1 1RS,",  # UASC, started in the year, within
    "C8,01/02/2024,S,V3,N1,U1,PR1,,,,ME14 1XQ,TN1 1RS,",  # short break: not counted by DfE
    "C9,01/01/2020,S,C2,N1,U1,PR1,01/03/2024,E8,,ME14 1XQ,TN1 1RS,",  # left before 31 March
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    (folder / "episodes.csv").write_text("\n".join(EPISODES) + "\n", encoding="utf-8")
    (folder / "uasc.csv").write_text("CHILD,SEX,DOB,DUC\nC7,1,01/01/2007,\n", encoding="utf-8")
    return read_placements([str(folder / "episodes.csv")], uasc=str(folder / "uasc.csv"))


@pytest.fixture(scope="module")
def analysis(data):
    return analyse(data, load_authority("E10000016"), as_at=year_end(2024))


def test_dfe_definitions_by_hand(data, analysis):
    own = own_dfe_measures(analysis.placements, data.episodes, year=2024, population=10_000)
    got = {r.measure: (r.number, r.value) for r in own.itertuples()}
    # C1-C7: UASC included, the short break and the leaver not
    assert got["children_looked_after"] == (7, 7.0)
    assert got["pct_within_20_miles"] == (4, 57.1)  # C1 C3 C4 C7
    assert got["pct_over_20_miles"] == (2, 28.6)  # C2 C5
    assert got["pct_not_known"] == (1, 14.3)  # C6: not known stays in the denominator
    assert got["pct_foster"] == (5, 71.4)  # U1-U6: C1 C3 C5 C6 C7
    assert got["pct_3plus_placements"] == (1, 14.3)  # C3 (the L episode is not a placement)
    assert got["cla_per_10000"] == (7, 7.0)
    assert got["starts_per_10000"] == (2, 2.0)  # C3 and C7; the short break C8 is not a start
    # placemap's headline at the same date: UASC and short breaks out, % of known
    h = analysis.summary["headline"]
    assert (h["children"], h["known"], h["within_20"], h["pct_within_20"]) == (6, 5, 3, 60.0)


def test_without_population_or_history_the_value_is_missing_not_zero(data, analysis):
    own = own_dfe_measures(analysis.placements, data.episodes.drop(columns="RNE"), year=2024,
                           population=None)  # fmt: skip
    got = own.set_index("measure")["value"]
    assert got[["cla_per_10000", "starts_per_10000", "pct_3plus_placements"]].isna().all()


def test_small_numbers_are_hidden_with_their_percentages(data, analysis):
    own = own_dfe_measures(analysis.placements, data.episodes, year=2024, population=10_000)
    shown = suppress_own_measures(own).table.set_index("measure")
    # 7 children is shown (6 or more); every part of them is 1 to 5, so hidden with its %
    assert shown.at["children_looked_after", "number"] == 7
    parts = shown.drop(index=["children_looked_after", "cla_per_10000"])
    assert (parts["number"] == "c").all() and (parts["value"] == "c").all()
    big = own.copy()
    big["number"] = [700, 400, 200, 100, 500, 3, 700, 200]
    big["value"] = [700.0, 57.1, 28.6, 14.3, 71.4, 0.4, 70.0, 20.0]
    res = suppress_own_measures(big).table.set_index("measure")
    assert res.at["pct_3plus_placements", "value"] == "c"
    assert res.at["pct_within_20_miles", "value"] == 57.1  # parts of 700 all large: shown
    big.loc[big["measure"] == "pct_not_known", "number"] = 4
    res = suppress_own_measures(big).table.set_index("measure")
    # 4 not known is hidden, and so is one more part: 700 - 400 - 200 would give it away
    hidden = [m for m in ("pct_within_20_miles", "pct_over_20_miles", "pct_not_known")
              if res.at[m, "number"] == "c"]  # fmt: skip
    assert len(hidden) == 2 and "pct_not_known" in hidden


def test_latest_31_march():
    assert latest_year_end(date(2018, 12, 31)) == 2018
    assert latest_year_end(date(2019, 3, 30)) == 2018
    assert latest_year_end(date(2019, 3, 31)) == 2019
