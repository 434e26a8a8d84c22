"""Files other projects wrote (tests/fixtures/conformance, see its README): placemap's census and
cohorts against figures computed here independently, with plain csv / xml.etree counting."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest

from app.cli import main
from geo.ssda903 import read_placements, take_census

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "conformance"
VALIDATOR = CORPUS / "dfe-validator-fake-data"
AS_AT = date(2018, 3, 31)
UNUSED = {
    "ad1.csv": "AD1",
    "missing.csv": "Missing",
    "oc2.csv": "OC2",
    "oc3.csv": "OC3",
    "placed_for_adoption.csv": "Placed for adoption",
    "previous_permanence.csv": "Previous permanence",
    "reviews.csv": "Reviews",
    "sw_episodes.csv": "Social worker episodes",
}


def _day(text: str) -> date | None:
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _independent_census(episodes, uasc, as_at):
    """child -> (LS, cohort) at ``as_at``: the episode that started last among those started on
    or before the date and not ended before it; UASC listed with no DUC or a later DUC."""
    current: dict[str, dict[str, str]] = {}
    for e in episodes:
        start, end = _day(e["DECOM"]), _day(e["DEC"])
        if start and start <= as_at and (end is None or end >= as_at):
            kept = current.get(e["CHILD"])
            if kept is None or _day(kept["DECOM"]) <= start:
                current[e["CHILD"]] = e
    uasc_children = {u["CHILD"] for u in uasc if not u["DUC"] or _day(u["DUC"]) > as_at}
    out = {}
    for child, e in current.items():
        if child in uasc_children:
            cohort = "excluded_uasc"
        elif e["LS"] in ("V3", "V4"):
            cohort = "excluded_short_break"
        else:
            cohort = "included"
        out[child] = cohort
    return out


def test_validator_folder_with_the_whole_return():
    data = read_placements(VALIDATOR)
    roles = {s.file: s for s in data.sources}
    assert roles["episodes.csv"].role == "episodes"
    assert roles["header.csv"].role == "header" and roles["uasc.csv"].role == "uasc"
    for name, title in UNUSED.items():
        assert roles[name].role == "ignored", name
        assert title in roles[name].note and "does not use" in roles[name].note, roles[name].note
    assert data.rejects.empty

    census = take_census(data, as_at=AS_AT)
    expected = _independent_census(
        _rows(VALIDATOR / "episodes.csv"), _rows(VALIDATOR / "uasc.csv"), AS_AT
    )
    got = dict(zip(census.children["CHILD"], census.children["cohort"], strict=True))
    assert got == expected
    # Header facts come from the Header, never from Missing / Reviews (which also have DOB).
    header = {r["CHILD"]: r for r in _rows(VALIDATOR / "header.csv")}
    for row in census.children.head(25).itertuples():
        h = header[row.CHILD]
        assert h["SEX"] == row.SEX
        assert row.DOB.date() == _day(h["DOB"])
    # Fake postcodes: no distance is known, and none is guessed.
    assert census.children["HOME_POST"].notna().any()


def test_validator_xml_return():
    path = CORPUS / "dfe-validator-fake-data-xml" / "fake_903_first40.xml"
    root = ET.parse(path).getroot()
    episodes, uasc = [], []
    for child in root.iter("CHILD"):
        h = child.find("HEADER")
        cid = h.findtext("CHILDID")
        if (h.findtext("UASC") or "").strip() == "1":
            uasc.append({"CHILD": cid, "DUC": h.findtext("DUC") or ""})
        for e in child.findall("EPISODE"):
            episodes.append(
                {
                    "CHILD": cid,
                    "DECOM": e.findtext("DECOM") or "",
                    "DEC": (e.findtext("DEC") or "").strip(),
                    "LS": e.findtext("LS") or "",
                }
            )
    data = read_placements(path)
    census = take_census(data, as_at=AS_AT)
    got = dict(zip(census.children["CHILD"], census.children["cohort"], strict=True))
    assert got == _independent_census(episodes, uasc, AS_AT)
    assert len(got) > 10


def test_sex_letters_keep_unaccompanied_children_out_of_the_headline(tmp_path):
    folder = CORPUS / "shapes" / "sex-letters"
    data = read_placements(folder)
    assert data.rejects.empty, data.rejects
    census = take_census(data, as_at=date(2018, 12, 31)).children.set_index("CHILD")
    assert census.loc["S1", "SEX"] == "1" and census.loc["S2", "SEX"] == "2"
    assert census.loc["S4", "SEX"] == "1" and census.loc["S5", "SEX"] == "2"
    assert census["SEX"].isna()["S3"]  # U: not known, the row kept
    assert census.loc["S4", "cohort"] == "excluded_uasc"
    assert census.loc["S5", "cohort"] == "excluded_short_break"

    out = tmp_path / "out"
    assert (
        main(["analyse", "--placements", str(folder), "--as-at", "2018-12-31", "--out", str(out)])
        == 0
    )
    summary = _strict_json(out / "summary.json")
    # DESIGN.md §3 distances: S1 24.1, S2 15.1, S3 48.4 (S4 UASC, S5 short break excluded).
    assert summary["headline"]["children"] == 3
    assert summary["headline"]["within_20"] == 1
    assert summary["headline"]["pct_within_20"] == pytest.approx(33.3)


def _strict_json(path: Path) -> dict:
    def refuse(token: str) -> None:
        raise ValueError(f"{path.name} holds {token}, which is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_every_json_placemap_writes_is_strict(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            ["analyse", "--placements", str(VALIDATOR), "--as-at", "2018-03-31", "--out", str(out)]
        )
        == 0
    )
    console = capsys.readouterr().out
    assert "None%" not in console and "none with a known distance" in console
    summary = _strict_json(out / "summary.json")
    for f in summary["validation"]["files"]:
        for key in ("rows_read", "rows_rejected", "rows_used"):
            assert isinstance(f[key], int), (f["file"], key, f[key])
        assert f["in_census"] is None or isinstance(f["in_census"], int)


def test_regional_multi_year_extract():
    """LA given as the DfE number (886), the GSS code and the name; Medway (887) and Bromley
    (305) rows set aside and counted; each Kent episode in both years' returns counted once,
    the 2019 copy winning (K4's DEC filled in 2019 ends it before the census)."""
    from geo import analyse, load_authority

    folder = CORPUS / "shapes" / "regional-extract"
    rows = _rows(folder / "consortium_episodes.csv")
    kent_values = {"886", "E10000016", "KENT"}
    ours = [r for r in rows if r["LA"].upper() in kent_values]
    others: dict[str, int] = {}
    for r in rows:
        if r["LA"].upper() not in kent_values:
            others[r["LA"]] = others.get(r["LA"], 0) + 1
    latest = {r["CHILD"]: r for r in sorted(ours, key=lambda r: r["YEAR"])}  # later year wins

    kent = load_authority("E10000016")
    data = read_placements(folder, authority=kent)
    as_at = date(2019, 3, 31)
    expected = _independent_census(list(latest.values()), [], as_at)
    census = take_census(data, as_at=as_at)
    assert dict(zip(census.children["CHILD"], census.children["cohort"], strict=True)) == expected
    totals = analyse(data, kent, as_at=as_at).summary["placements_rows"]
    assert totals["other_authorities"] == others
    assert totals["merged_duplicates"] == len(ours) - len(latest)
    assert totals["reconciles"]
    assert {s.return_label for s in data.sources} == {
        "consortium_episodes.csv[YEAR=2018]",
        "consortium_episodes.csv[YEAR=2019]",
    }
    dec = data.merge_differences[data.merge_differences["column"] == "DEC"]
    assert dec[["CHILD", "later_value"]].values.tolist() == [["K4", "2019-01-31"]]


def test_ages_are_whole_years_whatever_other_rows_hold(tmp_path):
    # A child without a date of birth once turned every age in placements.csv into 14.0.
    folder = CORPUS / "shapes" / "sex-letters"
    lines = (folder / "Header.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = "S3,U,,WBRI,,,"  # no DOB
    for name in ("Episodes.csv", "UASC.csv"):
        (tmp_path / name).write_text((folder / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "Header.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(["analyse", "--placements", str(tmp_path), "--as-at", "2018-12-31", "--out", str(out)])
        == 0
    )
    with (out / "placements.csv").open(encoding="utf-8") as fh:
        ages = {r["CHILD"]: r["age_years"] for r in csv.DictReader(fh)}
    assert ages["S3"] == "" and ages["S1"] == "13" and ages["S2"] == "11", ages


def test_liia_tools_samples_short_rows_extra_column_duplicates():
    """The London (LIIA) pipeline's own 903 samples: an extra TEST_COLUMN that most rows leave
    off (short rows), a blank LS, a '*DUMMY*' RNE, malformed postcodes, a Header listing each
    child several times. Figures worked out by hand from the 5 + 5 rows."""
    folder = CORPUS / "liia-tools-samples"
    data = read_placements(folder)
    rejects = data.rejects
    # Episodes: row 3 (the file's line 3) has no LS; every other row is used (short rows are
    # read with their missing last field blank). Header: 689661 three times, 249901 twice.
    ep = rejects[rejects["file"] == "SSDA903_2020_episodes.csv"]
    assert ep[["row", "column"]].values.tolist() == [[3, "LS"]]
    hd = rejects[rejects["file"] == "SSDA903_2020_header.csv"]
    assert sorted(hd["row"].tolist()) == [3, 4, 6]
    assert set(hd["column"]) == {"CHILD"}
    census = take_census(data, as_at=date(2019, 5, 31)).children.set_index("CHILD")
    assert sorted(census.index) == ["249901", "689661"]
    assert census.loc["689661", "LS"] == "J2" and census.loc["689661", "cohort"] == "included"
    assert census.loc["249901", "cohort"] == "excluded_short_break"  # V3
    assert census.loc["689661", "SEX"] == "1"  # the first Header row
    assert census.loc["689661", "DOB"].date() == date(2015, 7, 11)
