"""`placemap analyse` end to end on a generated Episodes file with real Kent postcodes."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.cli import main
from geo.spatial import postcodes as pc
from geo.spatial.authority import load_authority
from geo.spatial.distance import dfe_miles

HEAD = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)


@pytest.fixture(scope="module")
def kent_postcodes():
    t = pc.reference_table(["C", "D", "M", "T"])
    kent = load_authority()
    t = t[t["district_code"].isin(kent.district_codes) & t["easting_m"].notna()]
    return t


def spaced(compact: str) -> str:
    return compact[:-3] + " " + compact[-3:]


@pytest.fixture
def episodes_file(tmp_path, kent_postcodes):
    rng = np.random.default_rng(7)
    n = 400
    homes = kent_postcodes.sample(n, random_state=1)
    places = kent_postcodes.sample(n, random_state=2)
    lines = [HEAD]
    for i in range(n):
        ls = "V3" if i % 40 == 5 else "C2"
        dec = "01/03/2018" if i % 10 == 0 else ""
        place = rng.choice(["U1", "U4", "K2", "P1"])
        lines.append(
            f"C{i:04d},01/01/2018,S,{ls},N1,{place},PR1,{dec},,,"
            f"{spaced(homes.index[i])},{spaced(places.index[i])},"
        )
    lines.append("BAD1,99/99/2018,S,C2,N1,U1,PR1,,,,ME14 1XQ,CT1 2RX,")
    lines.append("C9999,01/01/2018,S,C2,N1,U1,PR1,,,,NOT A PC,CT1 2RX,")
    path = tmp_path / "episodes.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, homes, places


def test_analyse_end_to_end(tmp_path, episodes_file):
    path, homes, places = episodes_file
    out = tmp_path / "out"
    assert (
        main(["analyse", "--placements", str(path), "--as-at", "2018-12-31", "--out", str(out)])
        == 0
    )
    placements = pd.read_csv(out / "placements.csv", dtype={"CHILD": str})
    summary = json.loads((out / "summary.json").read_text())
    comp = pd.read_csv(out / "district_compliance.csv")
    rejected = pd.read_csv(out / "rejected.csv")
    rows = summary["placements_rows"]
    assert rows["read"] == 402
    assert rows["read"] == rows["in_census"] + rows["not_current"] + rows["rejected"]
    assert rows["reconciles"] and rows["rejected"] == 1 and rows["not_current"] == 40
    assert rejected.iloc[0]["row"] == 402 and rejected.iloc[0]["column"] == "DECOM"
    assert summary["cohorts"]["excluded_short_break"] == 10
    # distances agree with an independent computation on the postcode table
    ok = placements[placements["distance_status"] == "ok"].set_index("CHILD")
    i = ok.index.str[1:].astype(int)
    expected = dfe_miles(
        homes["easting_m"].to_numpy()[i],
        homes["northing_m"].to_numpy()[i],
        places["easting_m"].to_numpy()[i],
        places["northing_m"].to_numpy()[i],
    )
    assert np.array_equal(ok["distance_miles"].to_numpy(), expected)
    assert placements.set_index("CHILD").loc["C9999", "distance_status"] == "invalid_postcode"
    total = comp.iloc[-1]
    included = placements[placements["cohort"] == "included"]
    assert total["district_code"] == "E10000016"
    assert total["children"] == len(included)
    assert total["within_20"] == included["within_20"].sum()
    assert comp["children"].iloc[:-1].sum() == total["children"]
    assert summary["postcode_data_version"]


def test_analyse_unusable_input_exits_2_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("CHILD,DECOM\n1,01/01/2018\n")
    out = tmp_path / "out"
    assert main(["analyse", "--placements", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "missing required column" in err and "\n\n" not in err
    assert not out.exists()


def test_console_script_distance():
    exe = Path(sys.executable).with_name("placemap")
    r = subprocess.run(
        [str(exe), "distance", "ME14 1XQ", "CT1 2RX"], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0 and r.stdout.strip() == "24.1"
    r = subprocess.run(
        [str(exe), "distance", "ME14 1XQ", "XX"], capture_output=True, text=True, check=False
    )
    assert r.returncode == 2 and "placement postcode" in r.stderr
