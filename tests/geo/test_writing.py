"""geo.writing: the one CSV-injection rule (every CSV/XLSX/audit export uses it) and atomic writes."""

from __future__ import annotations

import pandas as pd
import pytest

from app.cli import main
from geo.writing import FORMULA_STARTS, csv_bytes, neutralise_cell, neutralise_formulas


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised(start):
    assert neutralise_cell(start + "HYPERLINK(x)") == "'" + start + "HYPERLINK(x)"


def test_full_width_forms_are_covered():
    # The app's copy covered these and the report writer's did not; now there is one copy.
    for ch in "\uff1d\uff0b\uff0d\uff20":
        assert ch in FORMULA_STARTS


def test_numbers_and_plain_text_pass_through():
    frame = pd.DataFrame(
        {
            "n": [-3, 2],
            "x": [-1.5, 2.0],
            "t": ["Ashford", "=1+1"],
            "s": pd.array(["－1", None], dtype="string"),
        }
    )
    out = neutralise_formulas(frame)
    assert out["n"].tolist() == [-3, 2] and out["x"].tolist() == [-1.5, 2.0]
    assert out["t"].tolist() == ["Ashford", "'=1+1"]
    assert out["s"].iloc[0] == "'－1" and pd.isna(out["s"].iloc[1])
    assert "'=1+1" in csv_bytes(frame).decode()


def test_analyse_writes_rejected_rows_formula_safe(tmp_path):
    # `placemap analyse` wrote rejected.csv without neutralising before the rules were merged.
    head = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
    rows = [
        "A1,01/01/2018,S,C2,N1,U1,PR1,,,,ME14 1XQ,CT1 2RX,",
        "A2,01/01/2018,S,C2,N1,=HYPERLINK(1),PR1,,,,ME14 1XQ,CT1 2RX,",
        "A3,01/01/2018,S,C2,N1,\uff0bSUM(1),PR1,,,,ME14 1XQ,CT1 2RX,",
    ]
    path = tmp_path / "episodes.csv"
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["analyse", "--placements", str(path), "--out", str(out)]) == 0
    rejected = pd.read_csv(out / "rejected.csv", dtype=str)
    values = set(rejected["value"])
    assert {"'=HYPERLINK(1)", "'\uff0bSUM(1)"} <= values, values
