"""``placemap forecast`` on the Kent demo: the files, strict JSON, and exit 2 on a snapshot."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from app.cli import main


def test_forecast_writes_tables_and_targets(tmp_path):
    from geo.demo import demo_dataset, write_demo

    demo = tmp_path / "demo"
    write_demo(demo, demo_dataset())
    out = tmp_path / "out"
    code = main(
        [
            "forecast",
            "--placements",
            str(demo),
            "--as-at",
            "2018-12-31",
            "--years",
            "2",
            "--carers",
            str(demo / "carers.csv"),
            "--uasc-arrivals",
            "10",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "forecast_districts.csv",
        "forecast_detail.csv",
        "forecast_uasc.csv",
        "backtest.csv",
        "recruitment_targets.csv",
        "forecast_coverage.csv",
        "recruitment_sites.csv",
    } <= names
    summary = json.loads((out / "summary.json").read_text(), parse_constant=lambda c: 1 / 0)
    assert (
        summary["projection"]["2_year"]["lower_80"] <= summary["projection"]["2_year"]["upper_80"]
    )
    assert "model" in summary["backtest"]["1_year"]
    assert set(summary["recruitment"]["targets"]["1_year"]) == {"in_house_foster", "ifa_foster"}
    # The demo register has a year of deregistration dates: attrition comes from it.
    attrition = summary["recruitment"]["attrition"]
    assert attrition["source"].startswith("the carers register")
    assert attrition["rate"] == round(attrition["deregistered"] / attrition["at_start"], 3)
    targets = pd.read_csv(out / "recruitment_targets.csv", keep_default_na=False)
    assert list(targets.columns[:6]) == [
        "years_ahead", "year_end", "district_code", "district_name", "placement_kind", "need",
    ]  # fmt: skip
    assert set(targets["need"]) == {"all", "0-4", "5-10", "11-15", "16+", "disability", "siblings"}
    year1 = targets[(targets["years_ahead"] == 1) & (targets["district_code"] != "E10000016")]
    allr = year1[year1["need"] == "all"].set_index(["district_code", "placement_kind"])
    bands = year1[year1["need"].isin(["0-4", "5-10", "11-15", "16+"])]
    by = bands.groupby(["district_code", "placement_kind"])["children_forecast"].sum()
    assert (by - allr["children_forecast"].reindex(by.index)).abs().max() < 0.05
    dis = year1[year1["need"] == "disability"].set_index(["district_code", "placement_kind"])
    assert (dis["children_forecast"] <= allr["children_forecast"].reindex(dis.index) + 0.01).all()
    assert (year1["gross_places"] >= year1["net_places"]).all()
    # The gap on the forecast demand: year 0 is today's gap, and the targets' gap shares are
    # each year's gap; where to recruit for each year end.
    cover = pd.read_csv(out / "forecast_coverage.csv", keep_default_na=False)
    total = cover[(cover["district_code"] == "E10000016") & (cover["placement_kind"] == "all")]
    assert list(total["years_ahead"]) == [0, 1, 2]
    on = summary["recruitment"]["coverage_on_forecast_demand"]
    assert total["gap"].iloc[0] == summary["recruitment"]["coverage_gap_now"] == on["now"]["gap"]
    assert list(total["gap"].iloc[1:]) == [on["1_year"]["gap"], on["2_year"]["gap"]]
    kinds = cover[(cover["placement_kind"] != "all") & (cover["district_code"] != "E10000016")]
    assert (
        kinds.groupby("years_ahead")["gap"].sum() == total.set_index("years_ahead")["gap"]
    ).all()
    share = year1[year1["need"] == "all"]["coverage_gap_share"].sum()
    assert abs(share - on["1_year"]["gap"]) < 0.05
    sites = pd.read_csv(out / "recruitment_sites.csv", keep_default_na=False)
    assert set(sites["years_ahead"]) <= {1, 2} and len(sites) > 0
    for y in (1, 2):
        plan = summary["recruitment"]["sites"][f"{y}_year"]
        rows = sites[sites["years_ahead"] == y]
        assert len(rows) == plan["suggested"] <= plan["households"]
        assert rows["marginal_gain"].sum() == plan["gap_before"] - plan["gap_after"]
    uasc = pd.read_csv(out / "forecast_uasc.csv")
    assert (uasc["arrivals"].iloc[1:] == 10.0).all() and len(uasc) == 9
    assert summary["uasc"]["arrivals_per_quarter"] == 10
    assert summary["uasc"]["arrivals_source"] == "--uasc-arrivals"
    assert summary["uasc"]["reference_arrivals_per_quarter"] > 10  # the demo's mean: ~36
    fc = pd.read_csv(out / "forecast_districts.csv")
    assert fc["quarter_end"].iloc[-1] == "2020-12-31"
    assert "E10000016" in set(fc["district_code"])


def test_snapshot_exits_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "snapshot.csv"
    path.write_text(
        "CHILD,HOME_POST,PL_POST,PLACE,PLACE_PROVIDER,DECOM,DOB\n"
        "1,ME14 1XQ,CT1 2RX,U1,PR1,01/03/2018,01/01/2010\n"
    )
    out = tmp_path / "out"
    assert main(["forecast", "--placements", str(path), "--out", str(out)]) == 2
    assert "forecast needs" in capsys.readouterr().err.replace("\n", " ")
    assert not out.exists()


def test_site_households_caps_or_skips_the_siting_search(tmp_path):
    """--site-households N sites at most N households a year (0: none, the table's header
    only); the targets do not change (a region or England needs it: the search for thousands
    of households takes hours)."""
    from geo.demo import demo_dataset, write_demo

    demo = tmp_path / "demo"
    write_demo(demo, demo_dataset())
    runs = {}
    for cap in ("1", "0"):
        out = tmp_path / f"out{cap}"
        args = ["forecast", "--placements", str(demo), "--as-at", "2018-12-31", "--years", "1"]
        args += ["--carers", str(demo / "carers.csv"), "--site-households", cap]
        assert main([*args, "--out", str(out)]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["recruitment"]["sites"]["households_a_year_at_most"] == int(cap)
        sites = pd.read_csv(out / "recruitment_sites.csv", keep_default_na=False)
        runs[cap] = (sites, pd.read_csv(out / "recruitment_targets.csv"))
        assert "sector" in sites.columns
    assert 0 < len(runs["1"][0]) <= 1 and len(runs["0"][0]) == 0
    pd.testing.assert_frame_equal(runs["1"][1], runs["0"][1])
    with pytest.raises(SystemExit) as bad:  # argparse: a usage message, exit 2
        main([*args[:-2], "--site-households", "-1", "--out", str(tmp_path / "x")])
    assert bad.value.code == 2
