from datetime import date

import pandas as pd
import pytest

from geo.errors import InputError
from geo.ssda903 import Cohort, read_placements, take_census

HEAD = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)


def ep(
    child,
    decom,
    ls="C2",
    place="U1",
    provider="PR1",
    dec="",
    home="ME14 1XQ",
    pl="CT1 2RX",
    cin="N1",
):
    return f"{child},{decom},S,{ls},{cin},{place},{provider},{dec},,,{home},{pl},"


def rejects_for(data, column):
    return data.rejects[data.rejects["column"] == column]


def test_census_one_current_episode_per_child(write_csv):
    path = write_csv(
        "episodes.csv",
        [
            HEAD,
            ep("A", "01/01/2018", dec="01/06/2018"),  # ended before as-at
            ep("A", "01/06/2018", pl="TN1 1RS"),  # current
            ep("B", "01/01/2019"),  # starts after as-at
            ep("C", "01/01/2018"),
            ep("C", "01/03/2018"),  # two open: later one wins
            ep("D", "01/01/2018", dec="31/12/2018"),  # ends on as-at: still looked after
        ],
    )
    data = read_placements(path)
    census = take_census(data, as_at=date(2018, 12, 31))
    kids = census.children.set_index("CHILD")
    assert sorted(kids.index) == ["A", "C", "D"]
    assert kids.loc["A", "PL_POST"] == "TN1 1RS"
    assert kids.loc["C", "DECOM"] == pd.Timestamp("2018-03-01")
    assert census.not_current == {"not_started": 1, "ended_before": 1, "superseded": 1}


def test_default_as_at_is_latest_date(write_csv):
    path = write_csv(
        "e.csv", [HEAD, ep("A", "01/01/2018", dec="05/05/2019"), ep("B", "01/02/2019")]
    )
    assert take_census(read_placements(path)).as_at == date(2019, 5, 5)


def test_cohorts_uasc_file_and_short_breaks(write_csv, tmp_path):
    path = write_csv(
        "e.csv",
        [
            HEAD,
            ep("U1", "01/01/2018"),
            ep("U2", "01/01/2018"),
            ep("U3", "01/01/2018"),
            ep("S", "01/01/2018", ls="V3"),
            ep("S4", "01/01/2018", ls="V4"),
            ep("N", "01/01/2018"),
        ],
    )
    uasc = write_csv(
        "uasc.csv",
        [
            "CHILD,SEX,DOB,DUC",
            "U1,1,01/01/2002,",
            "U2,1,01/01/2002,01/01/2019",
            "U3,1,01/01/2002,01/06/2018",
        ],
    )
    census = take_census(read_placements(path, uasc=uasc), as_at=date(2018, 12, 31))
    cohort = census.children.set_index("CHILD")["cohort"]
    assert cohort["U1"] == Cohort.EXCLUDED_UASC  # no DUC
    assert cohort["U2"] == Cohort.EXCLUDED_UASC  # ceased after the date
    assert cohort["U3"] == Cohort.INCLUDED  # ceased before the date
    assert cohort["S"] == cohort["S4"] == Cohort.EXCLUDED_SHORT_BREAK
    assert cohort["N"] == Cohort.INCLUDED


def test_header_gives_age_sex_and_disability_from_cin_n2(write_csv):
    path = write_csv("e.csv", [HEAD, ep("A", "01/01/2018", cin="N2"), ep("B", "01/01/2018")])
    header = write_csv(
        "h.csv",
        [
            "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB",
            "A,1,15/06/2005,WBRI,,,",
            "B,2,01/01/2000,WBRI,,,",
        ],
    )
    c = take_census(read_placements(path, header=header), as_at=date(2018, 12, 31)).children
    c = c.set_index("CHILD")
    assert c.loc["A", "age_years"] == 13 and c.loc["B", "age_years"] == 18
    assert c.loc["A", "SEX"] == "1"
    assert bool(c.loc["A", "DISABLED"]) and not bool(c.loc["B", "DISABLED"])


@pytest.mark.parametrize(
    "line, column, reason",
    [
        (ep("", "01/01/2018"), "CHILD", "blank"),
        (ep("A", "31/02/2018"), "DECOM", "not a date"),
        (ep("A", ""), "DECOM", "blank"),
        (ep("A", "01/01/2018", dec="01/01/2017"), "DEC", "ends before it starts"),
        (ep("A", "01/01/2018", place="X9"), "PLACE", "not a valid placement type"),
        (ep("A", "01/01/2018", place=""), "PLACE", "blank"),
        (ep("A", "01/01/2018", ls="Q1"), "LS", "not a valid legal status"),
        (ep("A", "01/01/2018", provider="PR9"), "PLACE_PROVIDER", "not a valid placement provider"),
        (ep("A", "01/01/2018", cin="N0"), "CIN", "not a valid category of need"),
        (ep("A", "01/01/2018") + ",extra", "", "fields"),
    ],
)
def test_every_reject_reason(write_csv, line, column, reason):
    path = write_csv("e.csv", [HEAD, ep("OK", "01/01/2018"), line])
    data = read_placements(path)
    assert len(data.episodes) == 1
    r = data.rejects
    assert len(r) == 1, r
    assert r.iloc[0]["column"] == column and reason in r.iloc[0]["reason"]
    assert r.iloc[0]["row"] == 3 and r.iloc[0]["file"] == "e.csv"


def test_postcode_problems_do_not_reject(write_csv):
    path = write_csv(
        "e.csv", [HEAD, ep("A", "01/01/2018", home="XX"), ep("B", "01/01/2018", pl="")]
    )
    data = read_placements(path)
    assert data.rejects.empty and len(data.episodes) == 2


def test_child_form_with_flags_and_duplicates(write_csv):
    path = write_csv(
        "kids.csv",
        [
            "child,home_post , pl_post,UASC,DISABLED,DOB",
            "A,ME14 1XQ,CT1 2RX,0,1,01/01/2005",
            "B,ME14 1XQ,CT1 2RX,1,0,",
            "A,ME14 1XQ,TN1 1RS,0,0,",
            "C,ME14 1XQ,CT1 2RX,maybe,0,",
        ],
    )
    data = read_placements(path)
    assert data.form == "child"
    assert set(data.rejects["column"]) == {"CHILD", "UASC"}
    c = take_census(data, as_at=date(2018, 12, 31)).children.set_index("CHILD")
    assert c.loc["B", "cohort"] == Cohort.EXCLUDED_UASC
    assert bool(c.loc["A", "DISABLED"])


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"CHILD,DECOM,LS,PLACE\n1,01/01/2018,C2,U1\n", "missing required column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "is a PNG image, not a CSV"),
        (b"CHILD,DECOM\n\x00\x01\x02\x03", "contains binary data"),
        (b"just one column\nx\n", "does not look like a CSV"),
        (HEAD.encode() + b"\n", "no data rows"),
    ],
)
def test_unusable_files_raise_input_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_placements(path)


def test_missing_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_placements(tmp_path / "nope.csv")


def test_windows_1252_and_bom(tmp_path):
    text = HEAD + "\n" + ep("Zoë", "01/01/2018") + "\n"
    (tmp_path / "a.csv").write_bytes(text.encode("cp1252"))
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    for name in ("a.csv", "b.csv"):
        data = read_placements(tmp_path / name)
        assert data.episodes["CHILD"].tolist() == ["Zoë"]


# --- files as councils have them (issue 11) -----------------------------------------------


def test_column_names_in_any_case_with_stray_spaces(tmp_path):
    head = " child ,Decom, rne,ls ,CIN,Place,place_provider,DEC,REC,REASON_PLACE_CHANGE,Home_Post , pl_post,URN"
    path = tmp_path / "e.csv"
    path.write_text(head + "\n" + ep("A", "01/01/2018") + "\n")
    data = read_placements(path)
    assert data.form == "episodes" and data.episodes["PL_POST"].tolist() == ["CT1 2RX"]


def test_iso_dates_in_csv(write_csv):
    path = write_csv(
        "e.csv", [HEAD, ep("A", "2018-01-01", dec="2018-06-30"), ep("B", "2018-02-30")]
    )
    data = read_placements(path)
    assert data.episodes["DEC"].tolist() == [pd.Timestamp("2018-06-30")]
    assert "yyyy-mm-dd" in data.rejects.iloc[0]["reason"]


def test_xml_names_as_csv_headers_are_understood(write_csv):
    head = HEAD.replace("CHILD,", "CHILDID,").replace(",PLACE,", ",PL,")
    data = read_placements(write_csv("e.csv", [head, ep("A", "01/01/2018", place="Q")]))
    assert data.rejects.iloc[0]["column"] == "PL"  # reported as the file spells it


def test_files_recognised_by_columns_whatever_their_names(tmp_path):
    from tests.geo.ssda903.test_xml_return import kent_children, write_csv_set

    paths = write_csv_set(
        tmp_path,
        kent_children(),
        names={"episodes": "Q3 extract", "header": "children.txt", "uasc": "export(2).csv"},
    )
    # given in any order, with no --header/--uasc
    data = read_placements([paths["uasc"], paths["header"], paths["episodes"]])
    roles = {s.file: s.role for s in data.sources}
    assert roles == {"Q3 extract": "episodes", "children.txt": "header", "export(2).csv": "uasc"}
    c = take_census(data, as_at=date(2018, 12, 31)).children.set_index("CHILD")
    assert c.loc["1005", "cohort"] == Cohort.EXCLUDED_UASC and c.loc["1002", "SEX"] == "2"


def test_bom_and_cp1252_side_files_in_a_folder(tmp_path):
    from tests.geo.ssda903.test_xml_return import csv_tables, kent_children

    tables = csv_tables(kent_children())
    tables["header"][1][3] = "Irish Traveller – Zoë"  # en dash and diaeresis: cp1252 bytes

    def text(rows):
        return "\r\n".join(",".join(r) for r in rows) + "\r\n"

    (tmp_path / "a.csv").write_bytes(b"\xef\xbb\xbf" + text(tables["episodes"]).encode("utf-8"))
    (tmp_path / "b.csv").write_bytes(text(tables["header"]).encode("cp1252"))
    (tmp_path / "c.csv").write_bytes(b"\xef\xbb\xbf" + text(tables["uasc"]).encode("utf-8"))
    data = read_placements(tmp_path)
    assert {s.file: s.role for s in data.sources} == {
        "a.csv": "episodes",
        "b.csv": "header",
        "c.csv": "uasc",
    }
    assert data.rejects.empty and len(data.children) == 7 and len(data.uasc) == 2


def test_xlsx_sheets_recognised_by_columns_values_only(tmp_path):
    import openpyxl

    from tests.geo.ssda903.test_xml_return import kent_children, write_xlsx

    path = write_xlsx(tmp_path / "903.xlsx", kent_children(), sheet_names=("Data", "Tab 2", "x"))
    book = openpyxl.load_workbook(path)
    notes = book.create_sheet("Notes", 0)
    notes.append(["Exported from the case-management system"])
    episodes = book["Data"]
    episodes.insert_rows(1)  # a title row above the header
    episodes["A1"] = "SSDA903 episodes 2018-19"
    episodes["L3"] = '=HYPERLINK("http://127.0.0.1:9/x","ME4 4TR")'  # never evaluated
    book.save(path)
    data = read_placements(path)
    roles = {s.file: s.role for s in data.sources}
    assert roles == {
        "903.xlsx[Data]": "episodes",
        "903.xlsx[Tab 2]": "header",
        "903.xlsx[x]": "uasc",
        "903.xlsx[Notes]": "ignored",
    }
    first = data.episodes.iloc[0]
    assert first["CHILD"] == "1001" and first["DECOM"] == pd.Timestamp("2017-06-01")
    assert first["_file"] == "903.xlsx[Data]" and first["_row"] == 3  # sheet row, after the title
    assert pd.isna(first["PL_POST"]) or first["PL_POST"] == ""  # formula: no cached value
    assert len(data.episodes) == 8 and data.rejects.empty


def test_folder_input_skips_what_is_not_placement_data(tmp_path):
    from tests.geo.ssda903.test_xml_return import kent_children, write_csv_set

    write_csv_set(tmp_path / "in", kent_children())
    (tmp_path / "in" / "carers.csv").write_text("CARER_ID,POSTCODE,STATUS\nK1,ME14 1XQ,approved\n")
    (tmp_path / "in" / "README.md").write_text("# Extract\nRun monthly.\n")
    (tmp_path / "in" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "in" / ".~lock.export_1.csv#").write_text("lock")
    data = read_placements(tmp_path / "in")
    assert len(data.episodes) == 8
    ignored = {s.file for s in data.sources if s.role == "ignored"}
    assert ignored == {"carers.csv", "README.md", "logo.png"}


def test_no_placements_table_found(tmp_path):
    (tmp_path / "h.csv").write_text("CHILD,SEX,DOB\nA,1,01/01/2010\n")
    (tmp_path / "notes.txt").write_text("nothing here\n")
    with pytest.raises(InputError, match=r"No placements table found.*h.csv: recognised as header"):
        read_placements(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        read_placements([tmp_path / "h.csv", tmp_path / "missing.csv"])


def test_episodes_and_child_form_cannot_be_mixed(write_csv):
    a = write_csv("a.csv", [HEAD, ep("A", "01/01/2018")])
    b = write_csv("b.csv", ["CHILD,HOME_POST,PL_POST", "B,ME14 1XQ,CT1 2RX"])
    with pytest.raises(InputError, match="mixes SSDA903 Episodes tables"):
        read_placements([a, b])


def test_explicit_header_and_uasc_still_work_and_files_are_listed(write_csv):
    path = write_csv("e.csv", [HEAD, ep("A", "01/01/2018")])
    header = write_csv("h.csv", ["CHILD,NOTE", "A,x"])  # recognised because it was named
    uasc = write_csv("u.csv", ["CHILD,DUC", "A,"])
    data = read_placements(str(path), header=header, uasc=uasc)
    assert data.files == {"placements": str(path), "header": str(header), "uasc": str(uasc)}
    assert data.rows_read == {"placements": 1, "header": 1, "uasc": 1}
    c = take_census(data, as_at=date(2018, 12, 31)).children
    assert c["cohort"].tolist() == [Cohort.EXCLUDED_UASC]
