"""Attrition from the carers register's own history (the optional DEREGISTRATION_DATE column):
bad dates rejected with file, row, column, value and reason; the year's rate counted by hand."""

from __future__ import annotations

from datetime import date

import pytest

from geo.coverage.targets import attrition_from_register
from geo.ssda903 import read_carers

HEAD = (
    "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES,"
    "APPROVAL_DATE,DEREGISTRATION_DATE"
)
AS_AT = date(2018, 12, 31)


def test_deregistration_dates_read_rejected_and_counted(tmp_path):
    path = tmp_path / "carers.csv"
    rows = [
        "A1,ME14 1XQ,approved,2,1,in_house,0-4;5-10,01/01/2010,",
        "A2,CT1 2RX,approved,1,0,in_house,11-15,01/01/2012,",
        "A3,CT1 2RX,approved,1,0,ifa,16+,01/01/2018,",  # approved in the year: not at start
        "D1,ME14 1XQ,deregistered,2,0,in_house,0-4,01/01/2011,15/06/2018",
        "D2,TN1 1RS,deregistered,1,0,ifa,5-10,,01/03/2018",  # unknown approval: counted
        "D3,TN1 1RS,deregistered,1,0,ifa,5-10,01/01/2011,01/03/2016",  # left before the year
        "X1,TN1 1RS,deregistered,1,0,ifa,5-10,01/01/2011,31/02/2018",  # not a date
        "X2,TN1 1RS,deregistered,1,0,ifa,5-10,01/01/2015,01/01/2014",  # before approval
        "G1,DA1 1DR,approved,2,0,in_house,0-4,01/01/2010,01/10/2018",  # STATUS not updated
    ]
    path.write_text(HEAD + "\n" + "\n".join(rows) + "\n")
    reg = read_carers(path, as_at=AS_AT)
    bad = reg.rejects.set_index("value")
    assert bad.loc["31/02/2018", "column"] == "DEREGISTRATION_DATE"
    assert bad.loc["31/02/2018", "row"] == 8 and "not a date" in bad.loc["31/02/2018", "reason"]
    assert "before the APPROVAL_DATE" in bad.loc["01/01/2014", "reason"]
    assert set(reg.carers["CARER_ID"]) == {"A1", "A2", "A3", "D1", "D2", "D3", "G1"}
    # A household deregistered by the as-at date supplies no places, whatever its STATUS says.
    supplies = reg.carers.set_index("CARER_ID")["supplies"]
    assert not supplies["G1"] and supplies["A1"]
    assert "DEREGISTRATION_DATE" in set(reg.notes["column"])

    a = attrition_from_register(reg.carers, as_at=AS_AT)
    assert a is not None
    # At 31/12/2017: A1, A2, D1, D2, G1 (A3 approved later, D3 gone); D1, D2, G1 left since.
    assert (a.at_start, a.deregistered) == (5, 3)
    assert a.rate == pytest.approx(0.6)
    assert "3 households deregistered" in a.source


def test_no_deregistration_dates_means_no_register_rate(tmp_path):
    path = tmp_path / "carers.csv"
    path.write_text(HEAD + "\nA1,ME14 1XQ,approved,2,1,in_house,0-4,01/01/2010,\n")
    assert attrition_from_register(read_carers(path, as_at=AS_AT).carers, as_at=AS_AT) is None
