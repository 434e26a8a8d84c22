"""Synthetic demo data (geo/demo/, `placemap demo`): the generated dataset end to end.

The Kent demo is generated with the real CLI and measured with the real `placemap analyse`; every
calibration target of DESIGN.md §7 is checked within the tolerance stated in CALIBRATION.
"""

from __future__ import annotations

import csv
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.cli import main
from geo.demo import (
    CARER_FILE_COLUMNS,
    DEMO_VERSION,
    EPISODE_FILE_COLUMNS,
    FAULT_COLUMNS,
    HEADER_FILE_COLUMNS,
    UASC_FILE_COLUMNS,
    demo_cache_root,
    demo_dataset,
    ensure_demo,
    write_demo,
)
from geo.demo import dataset as demo_dataset_module
from geo.errors import InputError
from geo.spatial.authority import load_authority
from geo.ssda903 import Category, read_carers, read_placements, take_census

AS_AT = "2018-12-31"
FILES = ["episodes.csv", "header.csv", "uasc.csv", "carers.csv", "README.txt"]
# name: (target, tolerance) — absolute, in the unit of the measure (children, or % points).
CALIBRATION = {
    "children in care": (1604, 0.05 * 1604),
    "% male": (61.8, 3.0),
    "% disabled": (19.0, 3.0),
    "% aged 10+": (77.8, 4.0),
    "% UASC": (15.0, 3.0),
    "% within 20 miles (headline cohort)": (76.6, 2.5),
    "in-house foster": (942, 0.10 * 942),
    "IFA foster": (216, 0.10 * 216),
    "residential": (98, 0.10 * 98),
    "short-break units (LS V3/V4)": (20, 0.10 * 20 + 1),
}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def kent(tmp_path_factory) -> tuple[Path, Path]:
    """The default Kent demo written by `placemap demo`, analysed by `placemap analyse`."""
    data = tmp_path_factory.mktemp("kent_demo")
    assert main(["demo", "--out", str(data)]) == 0
    out = data / "analysis"
    args = ["analyse", "--placements", str(data / "episodes.csv")]
    args += ["--header", str(data / "header.csv"), "--uasc", str(data / "uasc.csv")]
    assert main([*args, "--as-at", AS_AT, "--out", str(out)]) == 0
    return data, out


def measure(out: Path) -> dict[str, float]:
    """The calibration measures, from what `placemap analyse` wrote."""
    p = read(out / "placements.csv")
    summary = json.loads((out / "summary.json").read_text())
    short_break = p["LS"].isin(["V3", "V4"])
    kind = p["placement_kind"].where(~short_break, "short_break")
    n = len(p)
    return {
        "children in care": n,
        "% male": 100 * (p["SEX"] == "1").sum() / n,
        "% disabled": 100 * (p["DISABLED"] == "True").sum() / n,
        "% aged 10+": 100 * (p["age_years"].astype(int) >= 10).sum() / n,
        "% UASC": 100 * summary["cohorts"]["excluded_uasc"] / n,
        "% within 20 miles (headline cohort)": summary["headline"]["pct_within_20"],
        "in-house foster": int((kind == "in_house_foster").sum()),
        "IFA foster": int((kind == "ifa_foster").sum()),
        "residential": int((kind == "residential").sum()),
        "short-break units (LS V3/V4)": int((kind == "short_break").sum()),
    }


def test_kent_demo_files_and_readme(kent):
    data, _ = kent
    for name in FILES:
        assert (data / name).is_file(), name
    assert list(read(data / "episodes.csv").columns) == EPISODE_FILE_COLUMNS
    assert list(read(data / "header.csv").columns) == HEADER_FILE_COLUMNS
    assert list(read(data / "uasc.csv").columns) == UASC_FILE_COLUMNS
    assert list(read(data / "carers.csv").columns) == CARER_FILE_COLUMNS
    readme = (data / "README.txt").read_text()
    for text in ("NO REAL PERSON", "Seed:        2018", "31/12/2018", "Open Government Licence"):
        assert text in readme
    ep = read(data / "episodes.csv")
    assert ep["DECOM"].str.fullmatch(r"\d\d/\d\d/\d{4}").all()
    assert ep["DISABLED"].isin(["0", "1"]).all()
    assert not (data / "faults.csv").exists()


def test_kent_calibration_measured_by_analyse(kent):
    _, out = kent
    got = measure(out)
    lines = [f"{'measure':40} {'target':>8} {'achieved':>9}"]
    lines += [f"{k:40} {t:8.1f} {got[k]:9.1f}" for k, (t, _) in CALIBRATION.items()]
    print("\n" + "\n".join(lines))
    for name, (target, tol) in CALIBRATION.items():
        assert abs(got[name] - target) <= tol, f"{name}: {got[name]} vs {target} ± {tol}"


def test_distance_worse_for_disabled_children_and_west_kent(kent):
    _, out = kent
    p = read(out / "placements.csv")
    inc = p[p["cohort"] == "included"]
    within = inc["within_20"] == "True"
    disabled = inc["DISABLED"] == "True"
    pct_dis, pct_not = 100 * within[disabled].mean(), 100 * within[~disabled].mean()
    assert pct_dis < pct_not - 5, (pct_dis, pct_not)

    table = read(out / "district_compliance.csv").set_index("district_code")
    kent_auth = load_authority()

    def group_pct(group: str) -> float:
        rows = table.loc[list(kent_auth.groups[group])]
        return 100 * rows["within_20"].astype(int).sum() / rows["known"].astype(int).sum()

    west, east = group_pct("West Kent"), group_pct("East Kent")
    assert west < east - 5, (west, east)
    # Some placements are outside Kent: Medway, London, Sussex, Essex, further afield.
    outside = p.loc[~p["placement_district_code"].isin(kent_auth.district_codes)]
    assert len(outside) > 50
    assert {"Medway"} <= set(outside["placement_district_name"])
    assert outside["placement_district_code"].str.startswith("E09").any()  # London


def test_episodes_chain_and_two_years_of_history(kent):
    data, _ = kent
    ep = read(data / "episodes.csv")
    start = pd.to_datetime(ep["DECOM"], format="%d/%m/%Y")
    end = pd.to_datetime(ep["DEC"].replace("", None), format="%d/%m/%Y")
    frame = pd.DataFrame({"child": ep["CHILD"], "start": start, "end": end, "rec": ep["REC"]})
    frame = frame.sort_values(["child", "start"], kind="stable")
    same_child = frame["child"].eq(frame["child"].shift(-1))
    next_start = frame["start"].shift(-1)
    # A child's next episode starts the day the previous one ends; only the last may be open.
    assert (frame.loc[same_child, "end"] == next_start[same_child]).all()
    assert frame.loc[same_child, "end"].notna().all()
    assert (frame["end"].isna() | (frame["end"] > frame["start"])).all()
    assert (frame.loc[same_child, "rec"] == "X1").all()
    last = frame[~same_child]
    assert last["end"].isna().sum() == 1604  # one open episode per child in care
    assert (last["rec"].str.startswith("E")).sum() > 500  # children who left care
    assert frame["start"].min() < pd.Timestamp("2017-01-01")
    assert frame["end"].dropna().min() < pd.Timestamp("2017-03-01")
    assert (ep["RNE"] == "L").any() and (ep["RNE"] == "S").any()


def test_quarterly_census_exists_for_two_years(kent):
    data, _ = kent
    pd_data = read_placements(
        data / "episodes.csv", header=data / "header.csv", uasc=data / "uasc.csv"
    )
    counts = {}
    for q in pd.date_range("2017-03-31", "2018-12-31", freq="QE"):
        census = take_census(pd_data, as_at=q.date())
        counts[q.date().isoformat()] = len(census.children)
        assert census.not_current["superseded"] <= 10
    print(counts)
    assert all(abs(c - 1604) <= 0.15 * 1604 for c in counts.values()), counts


def test_carers_register_consistent_with_placements(kent):
    data, out = kent
    carers = read(data / "carers.csv")
    assert (carers["PROVIDER"] == "in_house").sum() == 870
    assert 200 <= (carers["PROVIDER"] == "ifa").sum() <= 500
    assert set(carers["STATUS"]) == {"approved", "in_assessment", "on_hold", "deregistered"}
    assert (carers["STATUS"] == "approved").mean() > 0.7
    approved = carers[carers["STATUS"] == "approved"]
    places = approved["APPROVED_PLACES"].astype(int)
    assert places.between(1, 4).all()
    occupied = carers["OCCUPIED_PLACES"].astype(int)
    assert (occupied <= carers["APPROVED_PLACES"].astype(int)).all()
    assert (occupied[carers["STATUS"] != "approved"] == 0).all()
    allowed = {c.value for c in Category}
    for cats in carers["CATEGORIES"]:
        assert set(cats.split(";")) <= allowed

    # Every foster child in care occupies a place of an approved carer at their placement
    # postcode, of the right provider.
    p = read(out / "placements.csv")
    foster = p[p["placement_kind"].isin(["in_house_foster", "ifa_foster"])]
    provider = np.where(foster["placement_kind"] == "in_house_foster", "in_house", "ifa")
    children = foster.assign(PROVIDER=provider).groupby(["PL_POST", "PROVIDER"]).size()
    places_at = (
        approved.assign(occ=approved["OCCUPIED_PLACES"].astype(int))
        .groupby(["POSTCODE", "PROVIDER"])["occ"]
        .sum()
    )
    joined = pd.concat([children.rename("children"), places_at.rename("occupied")], axis=1)
    assert joined["occupied"].notna()[joined["children"].notna()].all()
    kids = joined.dropna(subset=["children"])
    assert (kids["occupied"] >= kids["children"]).all()

    # Fewer in-house carers per child in the West and North than in the East.
    reg = read_carers(data / "carers.csv", as_at=date(2018, 12, 31))
    assert reg.summary["rejected_rows"] == 0 and len(reg.notes) == 0
    k = load_authority()
    inhouse = reg.carers[reg.carers["PROVIDER"] == "in_house"]
    per_child = {}
    for group, codes in k.groups.items():
        n_carers = inhouse["district_code"].isin(codes).sum()
        n_children = p["home_district_code"].isin(codes).sum()
        per_child[group] = n_carers / n_children
    assert per_child["West Kent"] < per_child["East Kent"]
    assert per_child["North Kent"] < per_child["East Kent"]


def test_same_seed_same_bytes_and_atomic_write(kent, tmp_path):
    data, _ = kent
    demo = demo_dataset()
    files = demo.files()
    assert sorted(files) == sorted(FILES)
    for name, blob in files.items():
        assert (data / name).read_bytes() == blob, name
    written = write_demo(tmp_path / "again", demo)
    assert sorted(p.name for p in written) == sorted(FILES)
    assert not list((tmp_path / "again").glob(".*"))  # no temporary files left behind


def test_ensure_demo_caches_by_version_and_seed(kent, tmp_path, monkeypatch):
    data, _ = kent
    # The library reads no environment: the cache folder comes in as an argument.
    monkeypatch.setenv("PLACEMAP_CACHE_DIR", str(tmp_path / "ignored"))
    folder = ensure_demo(cache_dir=tmp_path / "cache", seed=7)
    assert folder == tmp_path / "cache" / f"demo-{DEMO_VERSION}-7"
    assert all((folder / name).is_file() for name in FILES)
    assert (folder / "episodes.csv").read_bytes() != (data / "episodes.csv").read_bytes()
    assert "Seed:        7" in (folder / "README.txt").read_text()

    def boom(**kwargs):
        raise AssertionError("a complete cached demo must not be regenerated")

    monkeypatch.setattr(demo_dataset_module, "demo_dataset", boom)
    assert ensure_demo(cache_dir=tmp_path / "cache", seed=7) == folder
    assert ensure_demo(data) == data  # an explicit, complete folder is used as it is
    assert demo_cache_root(tmp_path / "x") == tmp_path / "x"
    assert demo_cache_root() != tmp_path / "ignored"
    assert not (tmp_path / "ignored").exists()


def test_messy_variant_rejects_reconcile(tmp_path):
    data = tmp_path / "messy"
    assert main(["demo", "--messy", "--out", str(data)]) == 0
    faults = read(data / "faults.csv")
    assert list(faults.columns) == FAULT_COLUMNS
    out = tmp_path / "analysis"
    args = ["analyse", "--placements", str(data / "episodes.csv")]
    args += ["--header", str(data / "header.csv"), "--uasc", str(data / "uasc.csv")]
    assert main([*args, "--as-at", AS_AT, "--out", str(out)]) == 0
    rejected = read(out / "rejected.csv")
    summary = json.loads((out / "summary.json").read_text())

    # Exactly the injected rows are rejected, file by file.
    want = faults[faults["expected"] == "row rejected"]
    want_rows = set(zip(want["file"], want["row"].astype(int), strict=True))
    got_rows = set(zip(rejected["file"], rejected["row"].astype(int), strict=True))
    assert got_rows == want_rows
    assert summary["placements_rows"]["reconciles"] is True
    assert summary["placements_rows"]["rejected"] == (want["file"] == "episodes.csv").sum()
    assert summary["rejected_rows"]["header"] == (want["file"] == "header.csv").sum()
    assert summary["rejected_rows"]["uasc"] == (want["file"] == "uasc.csv").sum()
    kinds = set(want["fault"])
    for fault in ("missing start date", "impossible date", "blank child identifier"):
        assert fault in kinds
    assert "row has one field too many" in kinds
    assert {"unknown PLACE code", "unknown LS code"} <= kinds

    # Postcode faults are kept: those children have a distance "not known", with the reason.
    with open(data / "episodes.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    placements = read(out / "placements.csv").set_index("CHILD")
    kept = faults[(faults["file"] == "episodes.csv") & faults["expected"].str.startswith("kept")]
    assert len(kept) >= 6
    for _, f in kept.iterrows():
        child = rows[int(f["row"]) - 1][0]
        status = f["expected"].split("(")[1].rstrip(")")
        assert placements.loc[child, "distance_status"] == status, f.to_dict()

    # Carer faults are reported by the carers reader.
    reg = read_carers(data / "carers.csv")
    carer_faults = set(faults.loc[faults["file"] == "carers.csv", "row"].astype(int))
    assert carer_faults and carer_faults <= set(reg.report()["row"].astype(int))


def test_bad_arguments():
    with pytest.raises(InputError, match="scale"):
        demo_dataset(scale="wales")
    with pytest.raises(InputError, match="seed"):
        demo_dataset(seed=-1)
    with pytest.raises(SystemExit):
        main(["demo", "--out", "x", "--seed", "many"])


@pytest.mark.xdist_group("synthetic_national")
def test_national_scale_counts():
    started = time.perf_counter()
    demo = demo_dataset(scale="national")
    seconds = time.perf_counter() - started
    print(f"national demo generated in {seconds:.1f} s")
    assert seconds < 60  # a benchmark input, made in seconds (a loaded CI machine is slower)
    ep = demo.episodes
    current = ep[ep["DEC"] == ""]
    assert current["CHILD"].is_unique
    assert abs(len(current) - 83_000) <= 0.01 * 83_000
    assert len(demo.carers) == 45_000
    assert (demo.carers["PROVIDER"] == "in_house").sum() == 30_000
    assert demo.header["CHILD"].is_unique and len(demo.header) == ep["CHILD"].nunique()
    # Homes across England, not only Kent: many postcode areas.
    areas = current["HOME_POST"].str.extract(r"^([A-Z]+)")[0]
    assert areas.nunique() > 80
