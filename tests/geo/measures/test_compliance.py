import numpy as np
import pandas as pd

from geo.measures.compliance import COMPLIANCE_COLUMNS, district_compliance
from geo.spatial.authority import load_authority


def frame(rows):
    return pd.DataFrame(
        rows, columns=["home_district_code", "placement_district_code", "distance_miles"]
    ).assign(
        within_20=lambda d: d["distance_miles"].le(20.0),
        within_10=lambda d: d["distance_miles"].le(10.0),
    )


def test_district_rows_outside_and_total():
    kent = load_authority()
    t = district_compliance(
        frame(
            [
                ("E07000110", "E07000110", 5.0),
                ("E07000110", "E06000035", 20.0),
                ("E07000110", "E09000001", 30.0),
                ("E07000110", None, np.nan),
                ("E06000035", "E07000110", 12.0),
                (None, None, np.nan),
            ]
        ),
        kent,
    )
    assert list(t.columns) == COMPLIANCE_COLUMNS
    assert len(t) == 12 + 2
    maid = t.set_index("district_code").loc["E07000110"]
    assert (maid.children, maid.known, maid.within_20, maid.within_10, maid.not_known) == (
        4,
        3,
        2,
        1,
        1,
    )
    assert maid.pct_within_20 == 66.7 and maid.pct_within_20_all == 50.0
    assert maid.median_miles == 20.0
    out = t.set_index("district_code").loc["OUTSIDE"]
    assert (out.children, out.known) == (2, 1)
    total = t.iloc[-1]
    assert total.district_code == "E10000016" and total.children == 6 and total.known == 4
    assert total.pct_within_20 == 75.0 and total.pct_within_20_all == 50.0
    empty = t.set_index("district_code").loc["E07000105"]
    assert empty.children == 0 and np.isnan(empty.pct_within_20)


def test_by_placement_district():
    kent = load_authority()
    t = district_compliance(
        frame([("E07000110", "E06000035", 20.0), ("E07000110", "E07000106", 24.1)]),
        kent,
        by="placement",
    )
    t = t.set_index("district_code")
    assert t.loc["E07000106", "children"] == 1 and t.loc["OUTSIDE", "children"] == 1
