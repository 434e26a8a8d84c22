"""Disclosure control of the coverage tables: small counts hidden, none recoverable from totals."""

import numpy as np
import pandas as pd
import pytest

from geo.disclosure.coverage import CHILD_COUNTS, suppress_coverage


def district_table(children, gap, at_risk):
    codes = [f"E0700010{i}" for i in range(len(children))]
    rows = pd.DataFrame(
        {
            "district_code": codes,
            "district_name": [f"D{i}" for i in range(len(children))],
            "children": children,
            "carers": [3] * len(children),
            "places_per_child_2sfca": [1.5] * len(children),
            "gap": gap,
            "children_at_risk": at_risk,
        }
    )
    total = pd.DataFrame(
        {
            "district_code": ["E10000016"],
            "district_name": ["Total"],
            "children": [sum(children)],
            "carers": [3 * len(children)],
            "places_per_child_2sfca": [1.5],
            "gap": [sum(gap)],
            "children_at_risk": [sum(at_risk)],
        }
    )
    return pd.concat([rows, total], ignore_index=True)


def area_table(children, gap, at_risk):
    n = len(children)
    return pd.DataFrame(
        {
            "area_type": ["sector"] * n,
            "area_id": [f"ME{i} 1" for i in range(n)],
            "children": children,
            "carers": [1] * n,
            "places_per_child_2sfca": [0.8] * n,
            "gap": gap,
            "children_at_risk": at_risk,
        }
    )


def shortage_table(areas):
    top = areas.sort_values("gap", ascending=False).head(3)
    return pd.DataFrame(
        {
            "cohort": "all",
            "area_type": "sector",
            "rank": range(1, len(top) + 1),
            "area_id": top["area_id"].to_numpy(),
            "children": top["children"].to_numpy(),
            "children_at_risk": top["children_at_risk"].to_numpy(),
            "gap": top["gap"].to_numpy(),
            "places_per_child_2sfca": top["places_per_child_2sfca"].to_numpy(),
        }
    )


def test_small_counts_hidden_with_secondary_and_ratio_follows():
    d = district_table([20, 3, 30], [0, 2, 7], [0, 3, 12])
    a = area_table([10, 10, 3, 30], [0, 0, 2, 7], [0, 0, 3, 12])
    res = suppress_coverage(d, a, shortage_table(a), authority_code="E10000016")
    dist = res.district.set_index("district_code")
    # primary: district 1 has 3 children (and a gap of 2)
    assert dist.loc["E07000101", "children"] == "c"
    assert dist.loc["E07000101", "places_per_child_2sfca"] == "c"
    # secondary: the total would give district 1 back, so another district is hidden too
    for col in CHILD_COUNTS:
        col_hidden = (dist[col] == "c").sum()
        assert col_hidden != 1, col
    assert dist.loc["E10000016", "children"] == 53  # the total stays
    assert dist["carers"].tolist() == [3, 3, 3, 9]  # supply is not suppressed
    # areas: one small sector → another one hidden against the authority total
    areas = res.areas
    assert (areas["children"] == "c").sum() >= 2
    # the shortage table hides the same cells as the area table
    s = res.shortage.set_index("area_id")
    ar = areas.set_index("area_id")
    for area in s.index:
        for col in CHILD_COUNTS:
            assert (s.loc[area, col] == "c") == (ar.loc[area, col] == "c")
    assert res.hidden_cells > 0


def test_nothing_small_nothing_hidden():
    d = district_table([20, 30], [0, 7], [0, 12])
    a = area_table([20, 30], [0, 7], [0, 12])
    res = suppress_coverage(d, a, shortage_table(a), authority_code="E10000016")
    assert res.hidden_cells == 0
    pd.testing.assert_frame_equal(res.district, d)


def test_missing_total_row_is_an_error():
    d = district_table([20, 30], [0, 7], [0, 12])
    a = area_table([20, 30], [0, 7], [0, 12])
    with pytest.raises(ValueError, match="E99999999"):
        suppress_coverage(d, a, shortage_table(a), authority_code="E99999999")


def test_cli_suppress_on_the_kent_demo(tmp_path):
    """`placemap coverage --suppress` on the demo: no count of 1-5 children is left in any
    table, and in every table no hidden cell can be recovered from a total (never exactly one
    hidden cell in a column of rows that add up)."""
    from app.cli import main
    from geo.demo import demo_dataset, write_demo

    demo = tmp_path / "demo"
    write_demo(demo, demo_dataset())
    out = tmp_path / "cov"
    argv = ["coverage", "--placements", str(demo), "--carers", str(demo / "carers.csv")]
    assert main([*argv, "--out", str(out), "--suppress"]) == 0
    district = pd.read_csv(out / "district_coverage.csv", dtype=str)
    areas = pd.read_csv(out / "area_coverage.csv", dtype=str)
    shortage = pd.read_csv(out / "shortage_areas.csv", dtype=str)
    for table in (district, areas, shortage):
        for col in CHILD_COUNTS:
            values = pd.to_numeric(table[col], errors="coerce")
            assert not ((values >= 1) & (values <= 5)).any(), col
    for col in CHILD_COUNTS:
        assert (district[col] == "c").sum() != 1
        for _, group in areas.groupby("area_type"):
            assert (group[col] == "c").sum() != 1
    assert (district["gap"] == "c").any()  # the demo's gap is made of small district counts
    per_child = areas["places_per_child_2sfca"]
    assert (per_child[areas["children"] == "c"].fillna("c") == "c").all()
    assert np.isfinite(pd.to_numeric(district["carers"])).all()


def test_area_group_rows_that_add_up_to_all_are_protected_together():
    """A sector straddling two area groups: 'all' = West + North. With North small, West is
    hidden too, or North would be 'all' minus West."""
    district = district_table([40, 40, 40], [10, 10, 0], [20, 20, 0])
    areas = area_table([9, 31, 40, 40], [6, 4, 10, 0], [9, 11, 20, 0])
    shortage = pd.DataFrame(
        {
            "cohort": ["all", "West", "North"],
            "area_type": "sector",
            "area_id": "ME0 1",
            "rank": 1,
            "children": [9, 7, 2],
            "children_at_risk": [9, 7, 2],
            "gap": [6, 6, 0],
        }
    )
    res = suppress_coverage(
        district, areas, shortage, authority_code="E10000016", group_cohorts=("West", "North")
    )
    s = res.shortage.set_index("cohort")
    for col in ("children", "children_at_risk"):
        assert s.loc["North", col] == "c" and s.loc["West", col] == "c"


def test_cli_suppress_hides_small_totals_in_the_summary_too(tmp_path, write_csv):
    import json

    from app.cli import main

    children = write_csv(
        "children.csv",
        [
            "CHILD,HOME_POST,PL_POST,DOB,DISABLED,PLACE",
            "C1,ME14 1XQ,ME14 1XQ,01/01/2008,0,U1",
            "C2,ME15 8DE,TN1 1RS,01/01/2006,0,U1",
            "C3,ME14 1XQ,CT1 2RX,01/01/2004,0,U4",
            "C4,CT1 2RX,CT1 2RX,01/01/2010,0,U1",
        ],
    )
    carers = write_csv(
        "carers.csv",
        [
            "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES",
            "M1,ME14 1XQ,approved,1,1,in_house,0-4;5-10;11-15;16+",
        ],
    )
    out = tmp_path / "out"
    argv = ["coverage", "--placements", str(children), "--carers", str(carers)]
    assert main([*argv, "--as-at", "2018-12-31", "--out", str(out), "--suppress"]) == 0
    summary = json.loads((out / "coverage_summary.json").read_text())
    assert summary["gap"] == "c" and summary["children_at_risk"] == "c"
    assert summary["children"]["headline_cohort"] == "c"
