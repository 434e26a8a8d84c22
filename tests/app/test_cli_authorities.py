"""Every English authority: a single-district authority (unitary, London borough) by postcode
district, a region by authority; the total row always distinct. Expected counts are computed
here from the generated rows (plain string handling), not with placemap's own functions."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from app.cli import main
from geo.spatial import postcodes as pc

HEAD = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)


def _spaced(compact: str) -> str:
    return compact[:-3] + " " + compact[-3:]


@pytest.fixture(scope="module")
def medway_and_barking(tmp_path_factory):
    """120 children from Medway homes, 80 from Barking and Dagenham, 20 from Kent (Maidstone)."""
    rng = np.random.default_rng(16)
    homes = {
        "E06000035": pc.postcodes_in_districts(["E06000035"]).index.to_numpy(),
        "E09000002": pc.postcodes_in_districts(["E09000002"]).index.to_numpy(),
        "E07000110": pc.postcodes_in_districts(["E07000110"]).index.to_numpy(),
    }
    places = pc.postcodes_in_districts(["E06000035", "E07000110", "E09000002"]).index.to_numpy()
    rows, truth = [HEAD], []
    for code, n in (("E06000035", 120), ("E09000002", 80), ("E07000110", 20)):
        for i in range(n):
            home = _spaced(str(rng.choice(homes[code])))
            place = _spaced(str(rng.choice(places)))
            child = f"{code[-3:]}{i:03d}"
            rows.append(f"{child},01/06/2018,S,C2,N1,U1,PR1,,,,{home},{place},")
            truth.append((child, code, home.split(" ")[0]))
    folder = tmp_path_factory.mktemp("authorities")
    (folder / "episodes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder, truth


def _analyse(folder, code, tmp_path):
    out = tmp_path / code
    args = ["analyse", "--authority", code, "--placements", str(folder), "--as-at", "2018-12-31"]
    assert main([*args, "--out", str(out)]) == 0
    return pd.read_csv(out / "district_compliance.csv", dtype={"district_code": str})


def test_unitary_by_postcode_district(medway_and_barking, tmp_path):
    folder, truth = medway_and_barking
    table = _analyse(folder, "E06000035", tmp_path)
    codes = table["district_code"].tolist()
    assert codes.count("E06000035") == 1 and codes[-1] == "E06000035"  # the total, once
    expected = Counter(outward for _, code, outward in truth if code == "E06000035")
    areas = table[~table["district_code"].isin(["OUTSIDE", "E06000035"])]
    assert dict(zip(areas["district_code"], areas["children"], strict=True)) == dict(expected)
    assert all(name.endswith(", Medway") for name in areas["district_name"])
    assert int(table.loc[table["district_code"] == "OUTSIDE", "children"].iloc[0]) == 100
    assert int(table["children"].iloc[-1]) == 220
    # natural order: ME1, ME2, ..., ME10 ...
    nums = [int("".join(ch for ch in c[2:] if ch.isdigit())) for c in areas["district_code"]]
    assert nums == sorted(nums)


def test_region_by_authority(medway_and_barking, tmp_path):
    folder, truth = medway_and_barking
    table = _analyse(folder, "E12000008", tmp_path)  # South East
    by_code = table.set_index("district_code")["children"]
    assert len(table) == 19 + 2  # the region's 19 authorities, outside, the total
    assert by_code["E06000035"] == 120 and by_code["E10000016"] == 20
    assert by_code["OUTSIDE"] == 80  # Barking and Dagenham is in London
    england = _analyse(folder, "E92000001", tmp_path)
    assert (
        len(england) == 153 + 2
        and england.set_index("district_code")["children"]["E09000002"] == 80
    )


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "html", "csv"])
def test_report_for_a_london_borough_in_every_format(medway_and_barking, tmp_path, fmt):
    folder, truth = medway_and_barking
    out = tmp_path / f"report.{fmt}"
    args = ["report", "--authority", "E09000002", "--placements", str(folder)]
    assert main([*args, "--as-at", "2018-12-31", "--out", str(out)]) == 0
    assert out.stat().st_size > 300
    if fmt == "csv":
        table = pd.read_csv(out, dtype=str)
        codes = table.iloc[:, 0].tolist()
        assert codes.count("E09000002") == 1
        expected = Counter(o for _, code, o in truth if code == "E09000002")
        assert {c for c in codes if c not in ("E09000002", "OUTSIDE")} == set(expected)


def test_coverage_for_a_unitary_by_postcode_district(medway_and_barking, tmp_path):
    folder, truth = medway_and_barking
    rng = np.random.default_rng(3)
    medway = pc.postcodes_in_districts(["E06000035"]).index.to_numpy()
    lines = ["CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES"]
    carers = []
    for i in range(40):
        post = _spaced(str(rng.choice(medway)))
        lines.append(f"H{i:02d},{post},approved,2,0,in_house,0-4;5-10;11-15;16+")
        carers.append(post.split(" ")[0])
    register = tmp_path / "carers.csv"
    register.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "cov"
    args = ["coverage", "--authority", "E06000035", "--placements", str(folder)]
    assert main([*args, "--carers", str(register), "--as-at", "2018-12-31", "--out", str(out)]) == 0
    table = pd.read_csv(out / "district_coverage.csv", dtype={"district_code": str})
    codes = table["district_code"].tolist()
    assert codes.count("E06000035") == 1 and codes[-1] == "E06000035"
    rows = table.set_index("district_code")
    for outward, n in Counter(carers).items():
        assert rows.loc[outward, "carers"] == n, outward
    children = Counter(o for _, code, o in truth if code == "E06000035")
    for outward, n in children.items():
        assert rows.loc[outward, "children"] == n, outward
    assert rows.loc["E06000035", "carers"] == 40
    for path in out.glob("*.json"):  # strict JSON: no NaN/Infinity anywhere
        json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse)


def _refuse(token: str) -> None:
    raise ValueError(f"{token} is not JSON")
