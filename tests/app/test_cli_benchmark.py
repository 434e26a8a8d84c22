"""`placemap benchmark` end to end: the long CSV, the reconciliation, a newer DfE file, errors."""

from __future__ import annotations

import json

import pandas as pd

from app.cli import main
from geo.measures import AREA_TYPES, BENCHMARK_COLUMNS
from tests.geo.measures.test_reconciliation import EPISODES


def test_benchmark_with_own_data(tmp_path, capsys):
    (tmp_path / "episodes.csv").write_text("\n".join(EPISODES) + "\n", encoding="utf-8")
    (tmp_path / "uasc.csv").write_text("CHILD,SEX,DOB,DUC\nC7,1,01/01/2007,\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["benchmark", "--authority", "E10000016", "--year", "2024",
                 "--placements", str(tmp_path / "episodes.csv"), "--uasc", str(tmp_path / "uasc.csv"),
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    b = pd.read_csv(out / "benchmark.csv", dtype=str, keep_default_na=False)
    assert list(b.columns) == BENCHMARK_COLUMNS
    assert set(b["area_type"]) == set(AREA_TYPES)
    kent = b[(b["area_type"] == "authority") & (b["measure"] == "pct_within_20_miles")]
    assert kent["value"].tolist() == ["53"]  # 31 March 2024, as published
    own = b[b["area_type"] == "own_data"].set_index("measure")["value"]
    # the cell-key method: 7 children shown within 2, a share of a hidden count hidden
    assert own["children_looked_after"] in ("6", "7", "8", "9")
    assert own["pct_within_20_miles"] == "c"
    rec = pd.read_csv(out / "reconciliation.csv", dtype=str, keep_default_na=False)
    row = rec.set_index("measure").loc["pct_within_20_miles"]
    assert (row["published_year"], row["published_value"], row["placemap_headline"]) == (
        "2024",
        "53",
        "c",  # 3 of 5 with a known distance: a share of hidden counts
    )
    assert "UASC" in row["why_headline_differs"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["own_data"]["year"] == 2024 and summary["own_data"]["hidden_cells"] > 0
    assert "Kent, year ending 31 March 2024" in capsys.readouterr().out


def test_newer_dfe_folder_and_unusable_input(tmp_path, capsys):
    folder = tmp_path / "dfe"
    folder.mkdir()
    (folder / "statistical_neighbours.csv").write_text(
        "la_name,old_la_code,sn_rank,sn_la_name,sn_old_la_code\nKent,886,1,Medway,887\n",
        encoding="utf-8",
    )
    assert main(["benchmark", "--dfe-data", str(folder), "--year", "2025",
                 "--out", str(tmp_path / "o")]) == 0  # fmt: skip
    n = pd.read_csv(tmp_path / "o" / "neighbours.csv", dtype=str)
    assert n["area_name"].tolist() == ["Medway"]
    capsys.readouterr()
    assert (
        main(["benchmark", "--dfe-data", str(tmp_path / "none"), "--out", str(tmp_path / "x")]) == 2
    )
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("placemap: error:") and "is not a folder" in err
    assert not (tmp_path / "x").exists()
