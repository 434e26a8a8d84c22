"""The DfE SSDA903 XML return: parsed safely, equivalent to the CSV set, problems located.

The ``kent_children`` / ``write_*`` builders are shared with test_returns.py and
test_placements.py: one small synthetic cohort on real Kent postcodes, written as an XML return,
a CSV set or an XLSX workbook.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest

from app.cli import main
from geo.errors import InputError
from geo.measures.validation import validation_report
from geo.ssda903 import Cohort, read_placements, take_census
from geo.ssda903.sniff import looks_like_xml
from geo.ssda903.xml_return import read_ssda903_xml

EPISODE_XML = (
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PL",
    "PL_POST",
    "HOME_POST",
    "URN",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
)
EPISODE_CSV = [
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
]
HEADER_CSV = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
UASC_CSV = ["CHILD", "SEX", "DOB", "DUC"]


def episode(decom, pl_post, home_post, *, pl="U1", provider="PR1", ls="C2", cin="N1", dec=""):
    return {
        "DECOM": decom,
        "RNE": "S",
        "LS": ls,
        "CIN": cin,
        "PL": pl,
        "PL_POST": pl_post,
        "HOME_POST": home_post,
        "URN": "",
        "PLACE_PROVIDER": provider,
        "DEC": dec,
        "REC": "E11" if dec else "",
        "REASON_PLACE_CHANGE": "",
    }


def kent_children() -> list[dict]:
    """Seven children on the DESIGN.md worked-example postcodes; dates ISO."""
    return [
        {  # 24.1 miles; an earlier episode ended before the census
            "id": "1001",
            "sex": "1",
            "dob": "2008-05-14",
            "uasc": "0",
            "duc": "",
            "episodes": [
                episode("2017-06-01", "ME4 4TR", "ME14 1XQ", dec="2018-02-28"),
                episode("2018-02-28", "CT1 2RX", "ME14 1XQ"),
            ],
        },
        {  # 15.1 miles, IFA foster
            "id": "1002",
            "sex": "2",
            "dob": "2004-11-02",
            "uasc": "0",
            "duc": "",
            "episodes": [episode("2018-05-10", "TN1 1RS", "ME14 1XQ", pl="U4", provider="PR4")],
        },
        {  # 48.4 miles, children's home
            "id": "1003",
            "sex": "1",
            "dob": "2003-01-20",
            "uasc": "0",
            "duc": "",
            "episodes": [episode("2016-09-01", "DA1 1DR", "CT20 2QY", pl="K2", provider="PR4")],
        },
        {  # 7.6 miles, disabled (CIN N2)
            "id": "1004",
            "sex": "2",
            "dob": "2012-07-07",
            "uasc": "0",
            "duc": "",
            "episodes": [episode("2018-10-01", "ME4 4TR", "ME14 1XQ", cin="N2")],
        },
        {  # UASC, no date ceased: excluded
            "id": "1005",
            "sex": "1",
            "dob": "2002-03-03",
            "uasc": "1",
            "duc": "",
            "episodes": [episode("2018-01-15", "DA11 0DQ", "TN13 1HG", pl="U4", provider="PR5")],
        },
        {  # short break (V3): excluded; 20.0 miles exactly on the boundary
            "id": "1006",
            "sex": "2",
            "dob": "2009-12-24",
            "uasc": "0",
            "duc": "",
            "episodes": [episode("2018-12-01", "TN8 9EB", "DA12 5UR", ls="V3")],
        },
        {  # was UASC, ceased before the census: included
            "id": "1007",
            "sex": "1",
            "dob": "2001-08-30",
            "uasc": "1",
            "duc": "2018-06-30",
            "episodes": [episode("2017-04-01", "DA1 9XT", "ME15 8DE", pl="H5", provider="PR4")],
        },
    ]


def dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def xml_text(children: list[dict], *, namespace: str | None = None) -> str:
    """An SSDA903 XML return (ISO dates, as the DfE schema types them)."""
    ns = f' xmlns="{namespace}"' if namespace else ""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f"<EXPSSDA903{ns}>"]
    for c in children:
        out.append("  <CHILD>")
        out.append("    <HEADER>")
        fields = {
            "CHILDID": c["id"],
            "UPN": "",
            "SEX": c["sex"],
            "DOB": c["dob"],
            "ETHNIC": "WBRI",
            "UASC": c["uasc"],
            "DUC": c["duc"],
            "MOTHER": "",
            "MC_DOB": "",
        }
        for name, value in fields.items():
            out.append(f"      <{name}>{escape(value)}</{name}>" if value else f"      <{name}/>")
        out.append("    </HEADER>")
        for e in c["episodes"]:
            out.append("    <EPISODE>")
            for name in EPISODE_XML:
                out.append(f"      <{name}>{escape(e[name])}</{name}>")
            out.append("    </EPISODE>")
        out.append("  </CHILD>")
    out.append("</EXPSSDA903>")
    return "\n".join(out) + "\n"


def write_xml(path: Path, children: list[dict], **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(xml_text(children, **kw), encoding="utf-8")
    return path


def csv_tables(children: list[dict]) -> dict[str, list[list[str]]]:
    """The same return as the three SSDA903 CSV tables (dd/mm/yyyy dates)."""
    episodes = [EPISODE_CSV]
    for c in children:
        for e in c["episodes"]:
            row = {**e, "CHILD": c["id"], "PLACE": e["PL"]}
            row["DECOM"], row["DEC"] = dmy(e["DECOM"]), dmy(e["DEC"])
            episodes.append([row[col] for col in EPISODE_CSV])
    header = [HEADER_CSV] + [
        [c["id"], c["sex"], dmy(c["dob"]), "WBRI", "", "", ""] for c in children
    ]
    uasc = [UASC_CSV] + [
        [c["id"], c["sex"], dmy(c["dob"]), dmy(c["duc"])]
        for c in children
        if c["uasc"] == "1" or c["duc"]
    ]
    return {"episodes": episodes, "header": header, "uasc": uasc}


def write_csv_set(folder: Path, children: list[dict], names=None, encoding="utf-8") -> dict:
    """Write Episodes/Header/UASC CSVs under names that do not say what they are."""
    names = names or {"episodes": "export_1.csv", "header": "export_2.csv", "uasc": "export_3.csv"}
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for role, rows in csv_tables(children).items():
        paths[role] = folder / names[role]
        text = "\r\n".join(",".join(r) for r in rows) + "\r\n"
        paths[role].write_bytes(text.encode(encoding))
    return paths


def write_xlsx(path: Path, children: list[dict], sheet_names=("Sheet1", "Sheet2", "Sheet3")):
    """The CSV set as one workbook: real Excel dates, numeric child ids, neutral sheet names."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, (_role, rows) in zip(sheet_names, csv_tables(children).items(), strict=True):
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows):
            cells = []
            for col, value in zip(rows[0], row, strict=True):
                if r and col in ("DECOM", "DEC", "DOB", "DUC") and value:
                    cells.append(datetime.strptime(value, "%d/%m/%Y"))
                elif r and col == "CHILD":
                    cells.append(int(value))
                else:
                    cells.append(value or None)
            sheet.append(cells)
    book.save(path)
    return path


def analyse_to(out: Path, *placements: Path, extra=()) -> int:
    argv = ["analyse", "--as-at", "2018-12-31", "--out", str(out), *extra]
    for p in placements:
        argv += ["--placements", str(p)]
    return main(argv)


# --- equivalence ---------------------------------------------------------------------------


def test_xml_and_csv_set_and_xlsx_give_identical_outputs(tmp_path):
    kids = kent_children()
    xml = write_xml(tmp_path / "in" / "ssda903_2018.xml", kids)
    csvs = write_csv_set(tmp_path / "csv", kids)
    book = write_xlsx(tmp_path / "book.xlsx", kids)
    assert analyse_to(tmp_path / "x", xml) == 0
    assert analyse_to(tmp_path / "c", *csvs.values()) == 0
    assert analyse_to(tmp_path / "k", book) == 0
    for name in ("placements.csv", "district_compliance.csv"):
        expected = (tmp_path / "c" / name).read_bytes()
        assert (tmp_path / "x" / name).read_bytes() == expected, name
        assert (tmp_path / "k" / name).read_bytes() == expected, name
    placements = pd.read_csv(tmp_path / "x" / "placements.csv", dtype={"CHILD": str})
    p = placements.set_index("CHILD")
    assert p.loc["1001", "distance_miles"] == 24.1 and p.loc["1001", "PL_POST"] == "CT1 2RX"
    assert p.loc["1002", "distance_miles"] == 15.1
    assert p.loc["1003", "distance_miles"] == 48.4
    assert p.loc["1004", "distance_miles"] == 7.6 and bool(p.loc["1004", "DISABLED"])
    assert p.loc["1005", "cohort"] == Cohort.EXCLUDED_UASC
    assert p.loc["1006", "cohort"] == Cohort.EXCLUDED_SHORT_BREAK
    assert p.loc["1007", "cohort"] == Cohort.INCLUDED
    summary = json.loads((tmp_path / "x" / "summary.json").read_text())
    rows = summary["placements_rows"]
    assert rows == {
        "read": 8,
        "in_census": 7,
        "not_current": 1,
        "not_current_detail": {"not_started": 0, "ended_before": 1, "superseded": 0},
        "rejected": 0,
        "merged_duplicates": 0,
        "other_authority": 0,
        "other_authorities": {},
        "reconciles": True,
    }
    roles = {(f["file"], f["role"], f["format"]) for f in summary["validation"]["files"]}
    assert roles == {
        ("ssda903_2018.xml", "header", "xml"),
        ("ssda903_2018.xml", "episodes", "xml"),
    }
    csv_roles = json.loads((tmp_path / "c" / "summary.json").read_text())["validation"]["files"]
    assert {f["file"]: f["role"] for f in csv_roles} == {
        "export_1.csv": "episodes",
        "export_2.csv": "header",
        "export_3.csv": "uasc",
    }


def test_detected_by_content_not_extension(tmp_path):
    kids = kent_children()
    odd = tmp_path / "return.dat"
    odd.write_text(xml_text(kids), encoding="utf-8")
    data = read_placements(odd)
    assert data.form == "episodes" and len(data.episodes) == 8
    assert data.sources[0].format == "xml"
    assert looks_like_xml(b"\xef\xbb\xbf  <?xml version='1.0'?>") and not looks_like_xml(b"CHILD,")


def test_namespace_and_utf16_and_nested_unknown_elements(tmp_path):
    kids = kent_children()[:2]
    text = xml_text(kids, namespace="http://www.dfe.gov.uk/ssda903")
    # Unknown elements (reviews, OC2) are skipped, whatever they contain.
    text = text.replace("<MC_DOB/>", "<MC_DOB/><AREVIEW><REVIEW>2018-01-01</REVIEW></AREVIEW>", 1)
    path = tmp_path / "r.xml"
    path.write_bytes(text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    x = read_ssda903_xml(path)
    assert x.header.frame["CHILD"].tolist() == ["1001", "1002"]
    assert x.episodes.frame["PLACE"].tolist() == ["U1", "U1", "U4"]
    assert x.header.frame["_problem"].isna().all()


def test_iso_and_dmy_dates_both_accepted(tmp_path):
    kids = kent_children()
    kids[0]["episodes"][1]["DECOM"] = "28/02/2018"  # some systems write dd/mm/yyyy in XML
    data = read_placements(write_xml(tmp_path / "r.xml", kids))
    assert data.rejects.empty
    first = data.episodes[data.episodes["CHILD"] == "1001"]["DECOM"].max()
    assert first == pd.Timestamp("2018-02-28")


# --- malformed elements become rejects located by child and line ----------------------------


def test_malformed_elements_rejected_by_child_id_and_field(tmp_path):
    kids = kent_children()
    kids[1]["episodes"][0]["DECOM"] = "2018-02-30"
    kids[2]["episodes"][0]["PL"] = "X9"
    text = xml_text(kids)
    # child 1007's LS given twice; child 1004's PL_POST holds an element
    text = text.replace(
        "<LS>C2</LS>\n      <CIN>N1</CIN>\n      <PL>H5</PL>",
        "<LS>C2</LS><LS>V3</LS>\n      <CIN>N1</CIN>\n      <PL>H5</PL>",
    )
    text = text.replace(
        "<PL_POST>ME4 4TR</PL_POST>\n      <HOME_POST>ME14 1XQ</HOME_POST>\n      <URN></URN>\n"
        "      <PLACE_PROVIDER>PR1</PLACE_PROVIDER>\n      <DEC></DEC>\n      <REC></REC>\n"
        "      <REASON_PLACE_CHANGE></REASON_PLACE_CHANGE>\n    </EPISODE>\n  </CHILD>\n"
        "  <CHILD>\n    <HEADER>\n      <CHILDID>1005",
        "<PL_POST><B>ME4 4TR</B></PL_POST>\n      <HOME_POST>ME14 1XQ</HOME_POST>\n"
        "      <URN></URN>\n      <PLACE_PROVIDER>PR1</PLACE_PROVIDER>\n      <DEC></DEC>\n"
        "      <REC></REC>\n      <REASON_PLACE_CHANGE></REASON_PLACE_CHANGE>\n    </EPISODE>\n"
        "  </CHILD>\n  <CHILD>\n    <HEADER>\n      <CHILDID>1005",
    )
    assert "<B>ME4 4TR</B>" in text and text.count("<LS>V3</LS>") == 2  # 1006 has V3 too
    path = tmp_path / "r.xml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    data = read_placements(path)
    r = data.rejects
    assert len(r) == 4, r
    assert (r["file"] == "r.xml").all()
    for _, rej in r.iterrows():
        assert lines[rej["row"] - 1].strip() == "<EPISODE>"  # row = source line of the element
        assert "EPISODE at line" in rej["reason"]
    by_col = r.set_index("column")
    assert (
        "CHILD 1002" in by_col.loc["DECOM", "reason"]
        and "not a date" in by_col.loc["DECOM", "reason"]
    )
    assert by_col.loc["DECOM", "value"] == "2018-02-30"
    assert "CHILD 1003" in by_col.loc["PL", "reason"] and by_col.loc["PL", "value"] == "X9"
    assert "appears more than once" in by_col.loc["LS", "reason"]
    assert "CHILD 1007" in by_col.loc["LS", "reason"]
    assert (
        "nested elements" in by_col.loc["PL_POST", "reason"]
        and "1004" in by_col.loc["PL_POST", "reason"]
    )
    assert sorted(data.episodes["CHILD"].unique()) == ["1001", "1005", "1006"]
    report = validation_report(data, take_census(data, as_at=date(2018, 12, 31)))
    assert report.reconciles and report.totals["rejected"] == 4


def test_child_without_header_and_second_header(tmp_path):
    text = xml_text(kent_children()[:2])
    text = text.replace("<CHILDID>1001</CHILDID>", "", 1)
    text = text.replace(
        "  </CHILD>\n", "    <HEADER><CHILDID>1002</CHILDID></HEADER>\n  </CHILD>\n"
    )
    path = tmp_path / "r.xml"
    path.write_text(text, encoding="utf-8")
    data = read_placements(path)
    reasons = " | ".join(data.rejects["reason"])
    assert "no CHILDID" in reasons and "child identifier is blank" in reasons
    assert "second HEADER" in reasons
    assert data.episodes["CHILD"].unique().tolist() == ["1002"]
    assert data.children["CHILD"].tolist() == ["1002"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("<?xml version='1.0'?><EXPSSDA903><CHILD><HEADER>", "not well-formed XML at line 1"),
        ("<?xml version='1.0'?>\n<CLA><CHILD/></CLA>", "not an SSDA903 return"),
        ("", "empty"),
    ],
)
def test_unusable_xml_raises(tmp_path, text, message):
    path = tmp_path / "r.xml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_placements(path)


def test_size_limit(tmp_path, monkeypatch, capsys):
    path = write_xml(tmp_path / "r.xml", kent_children())
    with pytest.raises(InputError, match="above the 0.001 MB limit.*PLACEMAP_MAX_XML_MB"):
        read_placements(path, max_mb=0.001)
    monkeypatch.setenv("PLACEMAP_MAX_XML_MB", "0.001")  # the library never reads it
    assert len(read_placements(path).episodes) == 8
    # The app does (app/settings.py) and passes it down.
    assert analyse_to(tmp_path / "out", path) == 2
    assert "above the 0.001 MB limit" in capsys.readouterr().err
    monkeypatch.setenv("PLACEMAP_MAX_XML_MB", "not a number")  # ignored: the 200 MB default
    assert analyse_to(tmp_path / "out", path) == 0


# --- hostile XML ---------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE EXPSSDA903 [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<EXPSSDA903><CHILD><HEADER><CHILDID>&lol9;</CHILDID></HEADER></CHILD></EXPSSDA903>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE EXPSSDA903 [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<EXPSSDA903><CHILD><HEADER><CHILDID>&xxe;</CHILDID></HEADER>
<EPISODE><DECOM>2018-01-01</DECOM><LS>C2</LS><PL>U1</PL><HOME_POST>ME14 1XQ</HOME_POST>
<PL_POST>&xxe;</PL_POST></EPISODE></CHILD></EXPSSDA903>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE EXPSSDA903 SYSTEM "http://127.0.0.1:9/ssda903.dtd">
<EXPSSDA903/>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_hostile_xml_refused_with_clear_message_and_nothing_written(tmp_path, capsys, text):
    path = tmp_path / "return.xml"
    path.write_text(text)
    out = tmp_path / "out"
    assert analyse_to(out, path) == 2
    err = capsys.readouterr().err
    assert "was refused" in err and "DTD" in err and "return.xml" in err
    assert "root:" not in err
    assert not out.exists()
    with pytest.raises(InputError, match="refused"):
        read_ssda903_xml(path)


def test_hostile_xml_in_a_folder_is_refused_not_skipped(tmp_path):
    folder = tmp_path / "returns"
    write_xml(folder / "good.xml", kent_children())
    (folder / "bad.xml").write_text(EXTERNAL_ENTITY)
    with pytest.raises(InputError, match="bad.xml' was refused"):
        read_placements(folder)
