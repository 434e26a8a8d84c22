"""``placemap forecast`` on the Kent demo: the files, strict JSON, and exit 2 on a snapshot."""

from __future__ import annotations

import json

import pandas as pd

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
    } <= names
    summary = json.loads((out / "summary.json").read_text(), parse_constant=lambda c: 1 / 0)
    assert (
        summary["projection"]["2_year"]["lower_80"] <= summary["projection"]["2_year"]["upper_80"]
    )
    assert "model" in summary["backtest"]["1_year"]
    assert set(summary["recruitment"]["targets"]["1_year"]) == {"in_house_foster", "ifa_foster"}
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
