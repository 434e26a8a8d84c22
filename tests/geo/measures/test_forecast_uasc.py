"""UASC forecast apart from the headline cohort (issue 19): rates counted by hand on a few
children, the arrivals scenario, conservation, and the message when nobody arrived."""

from __future__ import annotations

from datetime import date

import pytest

from geo.errors import InputError
from geo.measures.forecast import state_history, uasc_forecast
from geo.spatial import load_authority
from geo.ssda903 import read_placements

AS_AT = date(2018, 12, 31)


@pytest.fixture(scope="module")
def few(tmp_path_factory):
    """H: a headline child in IFA foster care throughout. D: left 15/12/2016 (the history starts
    14/12/2016). UASC: U3 arrives 01/02/2017 and leaves at 18 on 01/05/2018; U1 arrives
    01/03/2017; U2 arrives 10/08/2017. Over the 8 quarters to 31/12/2018: 3 arrivals, 1 exit,
    2 UASC looked after at the end."""
    tmp = tmp_path_factory.mktemp("uasc")
    (tmp / "episodes.csv").write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
        "PL_POST,URN\n"
        "H,01/10/2016,S,C2,N1,U4,PR4,,,,CT1 2RX,CT1 2RX,\n"
        "D,01/01/2016,S,C2,N1,U1,PR1,15/12/2016,E8,,ME14 1XQ,ME14 1XQ,\n"
        "U3,01/02/2017,S,C2,N4,U1,PR1,01/05/2018,E8,,ME14 1XQ,ME14 1XQ,\n"
        "U1,01/03/2017,S,C2,N4,U1,PR1,,,,ME14 1XQ,ME14 1XQ,\n"
        "U2,10/08/2017,S,C2,N4,U4,PR4,,,,CT1 2RX,CT1 2RX,\n"
    )
    (tmp / "header.csv").write_text(
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
        "H,1,01/02/2010,WBRI,,,\nD,2,01/01/2005,WBRI,,,\nU3,1,01/05/2000,WBRI,,,\n"
        "U1,1,01/06/2001,WBRI,,,\nU2,1,01/01/2002,WBRI,,,\n"
    )
    (tmp / "uasc.csv").write_text(
        "CHILD,SEX,DOB,DUC\nU3,1,01/05/2000,01/05/2018\nU1,1,01/06/2001,\nU2,1,01/01/2002,\n"
    )
    kent = load_authority("E10000016")
    return kent, read_placements(tmp, authority=kent)


def test_uasc_rates_counted_by_hand_and_kept_apart(few):
    kent, data = few
    u = uasc_forecast(data, kent, as_at=AS_AT, years=1, draws=200)
    assert u.rates.quarters == 8 and int(u.rates.entries.sum()) == 3
    assert int(u.rates.transitions[..., -1].sum()) == 1  # U3 left
    assert u.reference_arrivals_per_quarter == pytest.approx(3 / 8, abs=0.01)
    assert u.table["children"].iloc[0] == 2 and u.history.areas == ("E10000016",)
    # the headline cohort holds H only: UASC are not in it
    headline = state_history(data, kent, as_at=AS_AT)
    assert int(headline.stock(len(headline.dates) - 1).sum()) == 1


def test_arrivals_scenario_sets_the_inflow_and_children_are_conserved(few):
    kent, data = few
    u = uasc_forecast(data, kent, as_at=AS_AT, years=2, arrivals_per_quarter=5, draws=300)
    t = u.table
    assert (t["arrivals"].iloc[1:] == 5.0).all()
    for q in range(1, len(t)):
        step = t["children"].iloc[q - 1] + t["arrivals"].iloc[q] - t["exits"].iloc[q]
        assert t["children"].iloc[q] == pytest.approx(step, abs=0.15)
    assert (t["lower_80"] <= t["children"]).all() and (t["children"] <= t["upper_80"]).all()
    none = uasc_forecast(data, kent, as_at=AS_AT, years=2, arrivals_per_quarter=0, draws=100)
    assert none.table["children"].is_monotonic_decreasing  # only exits
    assert t["children"].iloc[-1] > none.table["children"].iloc[-1]


def test_arrivals_without_any_in_the_window_are_refused(few):
    kent, data = few
    # the last two quarters saw no arrival: their ages and placements are unknown
    with pytest.raises(InputError, match="No UASC arrived"):
        uasc_forecast(data, kent, as_at=AS_AT, reference_years=0.5, arrivals_per_quarter=2)
    quiet = uasc_forecast(data, kent, as_at=AS_AT, reference_years=0.5, draws=50)
    assert quiet.arrivals_per_quarter == 0
    with pytest.raises(ValueError, match="0 or more"):
        uasc_forecast(data, kent, as_at=AS_AT, arrivals_per_quarter=-1)
