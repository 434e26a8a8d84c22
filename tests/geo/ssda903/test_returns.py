"""Several years of returns merged into one history; the per-file validation report."""

from __future__ import annotations

import copy
import json
from datetime import date

import pandas as pd
import pytest

from geo.measures.validation import validation_report
from geo.ssda903 import Cohort, read_placements, take_census
from geo.ssda903.returns import DIFFERENCE_COLUMNS, merge_rows
from tests.geo.ssda903.test_xml_return import analyse_to, episode, write_csv_set, write_xml

AS_AT = date(2018, 12, 31)


def child(cid, episodes, *, sex="1", uasc="0", duc=""):
    return {
        "id": cid,
        "sex": sex,
        "dob": "2006-04-01",
        "uasc": uasc,
        "duc": duc,
        "episodes": episodes,
    }


def two_years():
    """2017-18 and 2018-19 returns of the same council, overlapping on open episodes."""
    y1 = [
        child("2001", [episode("2017-05-01", "CT1 2RX", "ME14 1XQ")]),
        child("2002", [episode("2016-01-10", "DA1 1DR", "ME14 1XQ")]),
        child("2003", [episode("2017-02-01", "TN1 1RS", "ME4 4TR", dec="2017-09-30")]),
        child("2005", [episode("2017-08-01", "DA11 0DQ", "TN13 1HG", pl="U4")], uasc="1"),
    ]
    y2 = [
        child(
            "2001",
            [
                episode("2017-05-01", "CT1 2RX", "ME14 1XQ", dec="2018-06-30"),  # DEC filled in
                episode("2018-06-30", "TN1 1RS", "ME14 1XQ"),
            ],
        ),
        # PL_POST corrected and placement type changed in the later return; SEX corrected
        child("2002", [episode("2016-01-10", "ME4 4TR", "ME14 1XQ", pl="U4")], sex="2"),
        child("2004", [episode("2018-09-01", "DA1 1DR", "DA1 1DR")]),
        child("2005", [episode("2017-08-01", "DA11 0DQ", "TN13 1HG", pl="U4")], uasc="0"),
    ]
    return y1, y2


def check_merged(data):
    """The merged history of two_years(), whatever form the returns came in."""
    ep = data.episodes
    assert len(ep) == 6  # 4 + 5 rows read, 3 episodes reported in both years
    assert not ep.duplicated(["CHILD", "DECOM"]).any()
    e2001 = ep[(ep["CHILD"] == "2001") & (ep["DECOM"] == pd.Timestamp("2017-05-01"))]
    assert e2001["DEC"].iloc[0] == pd.Timestamp("2018-06-30")  # the later return won
    census = take_census(data, as_at=AS_AT)
    kids = census.children.set_index("CHILD")
    assert sorted(kids.index) == ["2001", "2002", "2004", "2005"]
    assert kids.loc["2001", "PL_POST"] == "TN1 1RS"
    assert kids.loc["2002", "PL_POST"] == "ME4 4TR" and kids.loc["2002", "PLACE"] == "U4"
    assert kids.loc["2002", "SEX"] == "2"
    assert kids.loc["2005", "cohort"] == Cohort.INCLUDED  # no longer UASC in the later return
    d = data.merge_differences
    assert list(d.columns) == DIFFERENCE_COLUMNS
    found = {
        (r.table, r.CHILD, r.column, r.earlier_value, r.later_value, r.change)
        for r in d.itertuples()
    }
    assert found == {
        ("episodes", "2001", "DEC", "", "2018-06-30", "filled"),
        ("episodes", "2001", "REC", "", "E11", "filled"),
        ("episodes", "2002", "PL_POST", "DA11DR", "ME44TR", "changed"),
        ("episodes", "2002", "PLACE", "U1", "U4", "changed"),
        ("header", "2002", "SEX", "1", "2", "changed"),
        ("uasc", "2005", "UASC", "1", "0", "changed"),
    }
    report = validation_report(data, census)
    assert report.totals["read"] == 9 and report.totals["merged_duplicates"] == 3
    assert report.totals["in_census"] == 4 and report.totals["not_current"] == 2
    assert report.reconciles
    return report


def test_two_overlapping_xml_years_merge_without_double_counting(tmp_path):
    y1, y2 = two_years()
    a = write_xml(tmp_path / "ssda903_2017_18.xml", y1)
    b = write_xml(tmp_path / "ssda903_2018_19.xml", y2)
    report = check_merged(read_placements([a, b]))
    files = report.files.set_index(["file", "role"])
    assert files.loc[("ssda903_2017_18.xml", "episodes"), "rows_merged_duplicate"] == 3
    assert files.loc[("ssda903_2018_19.xml", "episodes"), "rows_merged_duplicate"] == 0
    assert files.loc[("ssda903_2017_18.xml", "episodes"), "in_census"] == 0
    assert files.loc[("ssda903_2018_19.xml", "episodes"), "in_census"] == 4
    assert [r["label"] for r in report.returns] == ["ssda903_2017_18.xml", "ssda903_2018_19.xml"]


def test_later_means_data_ending_later_not_the_order_given(tmp_path):
    y1, y2 = two_years()
    # names that sort the wrong way round, given in the wrong order
    a = write_xml(tmp_path / "b_return.xml", y1)
    b = write_xml(tmp_path / "a_return.xml", y2)
    data = read_placements([b, a])
    check_merged(data)
    assert [r.label for r in data.returns] == ["b_return.xml", "a_return.xml"]
    assert data.returns[1].data_end == date(2018, 9, 1)


def test_csv_sets_in_year_folders_merge_like_xml(tmp_path):
    y1, y2 = two_years()
    names = {"episodes": "Episodes.csv", "header": "Header.csv", "uasc": "UASC.csv"}
    y1[3]["uasc"], y1[3]["duc"] = "1", ""  # CSV: listed in the UASC file, no date ceased
    write_csv_set(tmp_path / "903" / "2017-18", y1, names=names)
    # the later year lists nobody as UASC: an empty UASC table is still a table
    y2_uasc = copy.deepcopy(y2)
    write_csv_set(tmp_path / "903" / "2018-19", y2_uasc, names=names)
    data = read_placements(tmp_path / "903")
    ep = data.episodes
    assert len(ep) == 6
    assert {r.label for r in data.returns} == {
        "2017-18/Episodes.csv + 2017-18/Header.csv + 2017-18/UASC.csv",
        "2018-19/Episodes.csv + 2018-19/Header.csv",
    }
    kids = take_census(data, as_at=AS_AT).children.set_index("CHILD")
    assert kids.loc["2002", "SEX"] == "2" and kids.loc["2002", "PL_POST"] == "ME4 4TR"
    # The 2017-18 UASC file still lists 2005 with no DUC and no later UASC file says otherwise.
    assert kids.loc["2005", "cohort"] == Cohort.EXCLUDED_UASC
    assert set(data.rejects["file"]) == set()


def test_side_files_pair_with_episodes_by_the_year_in_their_names(tmp_path):
    y1, y2 = two_years()
    folder = tmp_path / "flat"
    write_csv_set(
        folder,
        y1,
        names={
            "episodes": "episodes_2018.csv",
            "header": "z_header_2018.csv",
            "uasc": "uasc_2018.csv",
        },
    )
    write_csv_set(
        folder,
        y2,
        names={
            "episodes": "episodes_2019.csv",
            "header": "a_header_2019.csv",
            "uasc": "uasc_2019.csv",
        },
    )
    data = read_placements(folder)
    labels = [r.label for r in data.returns]
    assert labels[-1] == "a_header_2019.csv + episodes_2019.csv"
    # the 2019 UASC file lists nobody: a header without rows is skipped and says so
    skipped = {s.file: s.note for s in data.sources if s.role == "ignored"}
    assert "no data rows" in skipped["uasc_2019.csv"]
    kids = take_census(data, as_at=AS_AT).children.set_index("CHILD")
    assert kids.loc["2002", "SEX"] == "2"  # the 2019 header wins though it sorts first


def test_cli_folder_of_years_writes_merge_differences_and_reconciles(tmp_path):
    y1, y2 = two_years()
    folder = tmp_path / "returns"
    write_xml(folder / "2018.xml", y1)
    write_xml(folder / "2019.xml", y2)
    (folder / "carers.csv").write_text("CARER_ID,POSTCODE,STATUS\nK1,ME14 1XQ,approved\n")
    (folder / "notes.txt").write_text("Returns as filed with the DfE.\n")
    assert analyse_to(tmp_path / "out", folder) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    rows = summary["placements_rows"]
    assert rows["read"] == 9 and rows["merged_duplicates"] == 3 and rows["reconciles"]
    assert (
        rows["read"]
        == rows["in_census"] + rows["not_current"] + rows["rejected"] + rows["merged_duplicates"]
    )
    assert summary["merge_differences"]["count"] == 6
    assert summary["merge_differences"]["by_column"]["PL_POST"] == 1
    ignored = {
        f["file"]: f["note"] for f in summary["validation"]["files"] if f["role"] == "ignored"
    }
    assert (
        set(ignored) == {"carers.csv", "notes.txt"} and "carers register" in ignored["carers.csv"]
    )
    diffs = pd.read_csv(
        tmp_path / "out" / "merge_differences.csv", dtype=str, keep_default_na=False
    )
    assert len(diffs) == 6 and set(diffs["later_file"]) == {"2019.xml"}
    # the same two files named one by one give the same tables
    assert analyse_to(tmp_path / "out2", folder / "2019.xml", folder / "2018.xml") == 0
    for name in ("placements.csv", "district_compliance.csv", "merge_differences.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes()


def test_same_return_given_twice_is_not_double_counted(tmp_path):
    y1, _ = two_years()
    a = write_xml(tmp_path / "a" / "r.xml", y1)
    b = write_xml(tmp_path / "b" / "r.xml", y1)  # a copy under another folder
    data = read_placements([a, b])
    assert len(data.episodes) == 4 and data.merge_differences.empty
    assert sorted(s.file for s in data.sources) == ["a/r.xml", "a/r.xml", "b/r.xml", "b/r.xml"]
    report = validation_report(data, take_census(data, as_at=AS_AT))
    assert report.totals["merged_duplicates"] == 4 and report.reconciles


def frame(rows, rank, file):
    f = pd.DataFrame(rows, columns=["CHILD", "DECOM", "PL_POST", "DEC"])
    f["DECOM"] = pd.to_datetime(f["DECOM"])
    f["DEC"] = pd.to_datetime(f["DEC"])
    f["_file"], f["_row"], f["_rank"] = file, range(2, 2 + len(f)), rank
    return f


def test_merge_rows_keeps_latest_and_reports_only_columns_both_files_have():
    old = frame(
        [["A", "2018-01-01", "ME14 1XQ", None], ["B", "2018-01-01", "CT1 2RX", None]], 0, "y1"
    )
    new = frame(
        [["A", "2018-01-01", "me141xq", "2018-05-01"], ["C", "2018-02-01", "", None]], 1, "y2"
    )
    cols = {"y1": {"CHILD", "DECOM", "PL_POST"}, "y2": {"CHILD", "DECOM", "PL_POST", "DEC"}}
    m = merge_rows(
        pd.concat([old, new], ignore_index=True),
        key=["CHILD", "DECOM"],
        table="episodes",
        columns_by_file=cols,
    )
    assert sorted(m.frame["CHILD"]) == ["A", "B", "C"]
    assert m.frame.set_index("CHILD").loc["A", "_file"] == "y2"
    assert m.duplicates == {"y1": 1}
    # postcode spacing/case is not a difference; DEC is absent from y1, so not compared
    assert m.differences.empty


@pytest.mark.parametrize("ranks", [(0, 0), (1, 1)])
def test_merge_rows_never_merges_rows_of_one_return(ranks):
    a = frame([["A", "2018-01-01", "ME14 1XQ", None]], ranks[0], "y1")
    b = frame([["A", "2018-01-01", "CT1 2RX", None]], ranks[1], "y1")
    m = merge_rows(
        pd.concat([a, b], ignore_index=True),
        key=["CHILD", "DECOM"],
        table="episodes",
        columns_by_file={},
    )
    assert len(m.frame) == 2 and m.differences.empty and m.duplicates == {}
