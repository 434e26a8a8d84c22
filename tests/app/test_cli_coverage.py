"""`placemap coverage` and `placemap recruit` end to end on small files with real Kent postcodes."""

import json

import pandas as pd
import pytest

from app.cli import main
from geo.coverage import AREA_COLUMNS, DISTRICT_COLUMNS, SHORTAGE_COLUMNS, SUGGESTION_COLUMNS

CHILDREN = [
    "CHILD,HOME_POST,PL_POST,DOB,DISABLED,PLACE",
    "C1,ME14 1XQ,ME14 1XQ,01/01/2008,0,U1",
    "C2,ME15 8DE,TN1 1RS,01/01/2006,0,U1",
    "C3,ME14 1XQ,CT1 2RX,01/01/2004,0,U4",
    "C4,CT1 2RX,CT1 2RX,01/01/2010,0,U1",
    "C5,CT20 2QY,CT1 2RX,01/01/2015,0,U1",
]
CARERS = [
    "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES",
    "M1,ME14 1XQ,approved,2,1,in_house,0-4;5-10;11-15;16+",
    "K1,CT1 2RX,approved,1,1,in_house,0-4",
    "GONE,CT1 2RX,deregistered,2,0,in_house,0-4;5-10;11-15;16+",
    "BAD,CT1 2RX,retired,2,0,in_house,0-4;5-10",
    "LOST,ZZ99 9ZZ,approved,1,0,ifa,5-10",
]


@pytest.fixture
def inputs(write_csv):
    children = write_csv("children.csv", CHILDREN)
    carers = write_csv("carers.csv", CARERS)
    return children, carers


def run_coverage(children, carers, out, *extra):
    argv = ["coverage", "--placements", str(children), "--carers", str(carers)]
    return main([*argv, "--as-at", "2018-12-31", "--out", str(out), *extra])


def test_coverage_writes_the_tables(tmp_path, inputs, capsys):
    children, carers = inputs
    out = tmp_path / "out"
    assert run_coverage(children, carers, out) == 0
    assert "2 children cannot be matched" in capsys.readouterr().out
    district = pd.read_csv(out / "district_coverage.csv")
    areas = pd.read_csv(out / "area_coverage.csv")
    shortage = pd.read_csv(out / "shortage_areas.csv")
    rejected = pd.read_csv(out / "carers_rejected.csv")
    summary = json.loads((out / "coverage_summary.json").read_text())
    assert list(district.columns) == DISTRICT_COLUMNS
    assert list(areas.columns) == AREA_COLUMNS
    assert list(shortage.columns) == SHORTAGE_COLUMNS
    assert len(district) == 14 and district.iloc[-1]["district_name"] == "Kent total"
    d = district.set_index("district_code")
    # Maidstone: three children, one carer with two places -> one short. Canterbury: the
    # carer there is approved for 0-4 only, the 8-year-old is more than 20 miles from Maidstone.
    assert d.loc["E07000110", ["children", "carers", "approved_places", "gap"]].tolist() == [
        3,
        1,
        2,
        1,
    ]
    assert d.loc["E07000106", "gap"] == 1 and d.loc["E10000016", "gap"] == 2
    assert d.loc["E10000016", "vacant_places"] == 1
    assert summary["gap"] == 2 and summary["gap_greedy_by_scarcity"] >= 2
    assert summary["children"]["with_home_location"] == 5
    assert summary["carers"]["rejected_rows"] == 1 and summary["carers"]["supplying"] == 2
    assert rejected[["row", "column"]].values.tolist() == [[5, "STATUS"], [6, "POSTCODE"]]
    assert set(areas["area_type"]) == {"sector", "grid_5km"}
    assert {"ME14 1", "CT1 2"} <= set(areas["area_id"])
    assert set(shortage["cohort"]) >= {"all", "West Kent", "East Kent"}
    for frame in (district, areas, shortage):
        assert not any("easting" in c or "northing" in c for c in frame.columns)
    assert not (out / "placements.csv").exists()


def test_vacant_basis_and_grid_size(tmp_path, inputs):
    children, carers = inputs
    out = tmp_path / "vacant"
    assert run_coverage(children, carers, out, "--places-basis", "vacant", "--grid-km", "10") == 0
    summary = json.loads((out / "coverage_summary.json").read_text())
    assert summary["places_basis"] == "vacant" and summary["gap"] == 4  # one vacancy in all
    assert "grid_10km" in set(pd.read_csv(out / "area_coverage.csv")["area_type"])


def test_unusable_carers_file_exits_2_and_writes_nothing(tmp_path, inputs, write_csv, capsys):
    children, _ = inputs
    bad = write_csv("bad.csv", ["CARER_ID,POSTCODE", "K1,ME14 1XQ"])
    out = tmp_path / "none"
    assert run_coverage(children, bad, out) == 2
    assert "APPROVED_PLACES" in capsys.readouterr().err
    assert not out.exists()


def test_recruit_suggests_sectors(tmp_path, inputs, capsys):
    children, carers = inputs
    out = tmp_path / "rec"
    argv = ["recruit", "--placements", str(children), "--carers", str(carers)]
    argv += ["--as-at", "2018-12-31", "--households", "3", "--places", "1", "--out", str(out)]
    assert main(argv) == 0
    table = pd.read_csv(out / "recruitment_suggestions.csv")
    summary = json.loads((out / "recruitment_summary.json").read_text())
    assert list(table.columns) == SUGGESTION_COLUMNS
    # two children are short; the third household has nobody left to help
    assert table["cumulative_gain"].tolist() == [1, 2]
    assert table["district_code"].str.startswith("E07").all()
    assert summary["gap_before"] == 2 and summary["gap_after"] == 0
    assert summary["comparison"]["greedy"] == 2
    assert "only 2 help" in capsys.readouterr().out
    bad = main([*argv[:-2], "--categories", "teens", "--out", str(tmp_path / "x")])
    assert bad == 2 and "teens" in capsys.readouterr().err


def test_recruit_on_the_kent_demo_beats_random_and_biggest_district_siting(tmp_path, capsys):
    """The demo's disability-approved carers are mostly in East Kent: West and North Kent are
    short. Five 2-place households sited by the greedy reach the most children; random sectors
    (mean of 20 draws) and the district most children come from (Thanet, in the east) do not."""
    from geo.demo import demo_dataset, write_demo

    demo = tmp_path / "demo"
    write_demo(demo, demo_dataset())
    out = tmp_path / "rec"
    argv = ["recruit", "--placements", str(demo), "--carers", str(demo / "carers.csv")]
    argv += ["--households", "5", "--places", "2", "--out", str(out)]
    assert main([*argv, "--categories", "0-4;5-10;11-15;16+;disability"]) == 0
    summary = json.loads((out / "recruitment_summary.json").read_text())
    table = pd.read_csv(out / "recruitment_suggestions.csv")
    cmp = summary["comparison"]
    assert summary["gap_before"] >= 10
    assert cmp["greedy"] == 10 == table["cumulative_gain"].iloc[-1]  # every place reaches a child
    assert cmp["random_sites_mean"] <= 0.8 * cmp["greedy"]
    assert cmp["biggest_district"] < cmp["random_sites_mean"]
    assert cmp["biggest_district_code"] == "E07000114"
    west_north = {
        "E07000107",
        "E07000109",
        "E07000110",
        "E07000111",
        "E07000113",
        "E07000115",
        "E07000116",
    }
    assert set(table["district_code"]) <= west_north
    print(capsys.readouterr().out)
