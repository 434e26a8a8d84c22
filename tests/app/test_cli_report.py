"""`placemap report` end to end: the report's district figures equal `placemap analyse`."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from app.cli import main
from tests.app.reports.test_reports import write_report_input
from tests.conftest import shared_path

COMPARED = {
    "Children": "children",
    "% within 20 miles": "pct_within_20",
    "% within 10 miles": "pct_within_10",
    "Median miles": "median_miles",
    "Distance not known": "not_known",
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_report_input(tmp_path_factory.mktemp("cli"), children=250, seed=5)


def _args(inputs, *extra):
    return [
        "--placements",
        str(inputs.episodes),
        "--header",
        str(inputs.header),
        "--uasc",
        str(inputs.uasc),
        "--as-at",
        "2018-12-31",
        *extra,
    ]


@pytest.fixture(scope="module")
def analysed(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("analyse")
    assert main(["analyse", *_args(inputs), "--out", str(out)]) == 0
    return pd.read_csv(out / "district_compliance.csv")


def _districts_sheet(path) -> pd.DataFrame:
    ws = load_workbook(io.BytesIO(path.read_bytes()))["Districts"]
    rows = list(ws.values)
    end = next(i for i, r in enumerate(rows) if r[0] is None)  # the table ends at a blank row
    return pd.DataFrame(rows[1:end], columns=rows[0])


def test_report_xlsx_matches_analyse_unsuppressed(inputs, analysed, tmp_path, capsys):
    out = tmp_path / "report.xlsx"
    assert main(["report", *_args(inputs), "--out", str(out), "--no-suppress", "--no-map"]) == 0
    assert "DISCLOSURE CONTROL OFF" in capsys.readouterr().out
    sheet = _districts_sheet(out)
    assert sheet["Code"].tolist() == analysed["district_code"].tolist()
    for label, col in COMPARED.items():
        np.testing.assert_array_equal(
            sheet[label].to_numpy(dtype=float), analysed[col].to_numpy(dtype=float), err_msg=col
        )


def test_report_xlsx_protected_shows_figures_within_the_published_change(
    inputs, analysed, tmp_path
):
    """The cell-key method: counts of 1-5 are c, other counts within 2 of the truth (c stands
    for 0 to 6), percentages within a few points for districts of 50+ children."""
    out = tmp_path / "report.xlsx"
    assert main(["report", *_args(inputs), "--out", str(out), "--no-map"]) == 0
    sheet = _districts_sheet(out)
    for label, col in COMPARED.items():
        shown = sheet[label] != "c"
        true = analysed[col].to_numpy(dtype=float)
        values = sheet.loc[shown, label].to_numpy(dtype=float)
        if col in ("children", "not_known"):
            assert not (shown & analysed[col].between(1, 5)).any(), col
            assert analysed.loc[~shown, col].between(0, 6).all(), col
            assert np.all(np.abs(values - true[shown.to_numpy()]) <= 2), col
        elif col.startswith("pct"):
            big = (analysed["children"] >= 50).to_numpy() & shown.to_numpy()
            assert np.all(np.abs(sheet.loc[big, label].astype(float) - true[big]) <= 5), col
    assert (sheet["Children"] != "c").sum() >= 13  # every district of 7+ children is shown


def test_report_html_and_pdf_with_boundaries_file(inputs, tmp_path, capsys):
    boundaries = shared_path("data", "boundaries", "kent_medway_lad_dec2024_bgc.geojson")
    out = tmp_path / "r.html"
    assert main(["report", *_args(inputs), "--boundaries", str(boundaries), "--out", str(out)]) == 0
    page = out.read_text()
    assert page.count('class="plotly-graph-div"') == 3 and "Tunbridge Wells" in page
    assert "disclosure control on" in capsys.readouterr().out


def test_report_format_from_suffix_and_errors(inputs, tmp_path, capsys):
    out = tmp_path / "districts.csv"
    assert main(["report", *_args(inputs), "--out", str(out), "--no-map"]) == 0
    assert out.read_text().startswith("Code,District,Children,% within 20 miles")
    bad = tmp_path / "report.docx"
    assert main(["report", *_args(inputs), "--out", str(bad)]) == 2
    assert "--format" in capsys.readouterr().err and not bad.exists()
    empty = tmp_path / "x.pdf"
    assert (
        main(
            [
                "report",
                *_args(inputs)[:-2],
                "--as-at",
                "2010-01-01",
                "--out",
                str(empty),
                "--no-map",
            ]
        )
        == 2
    )
    assert "No child is looked after" in capsys.readouterr().err and not empty.exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_report_with_carers_adds_supply_and_shortage(inputs, tmp_path, capsys):
    from tests.app.reports.test_reports import _spaced, kent_postcodes

    rng = np.random.default_rng(2)
    pcs = kent_postcodes().index.to_numpy()
    lines = ["CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES"]
    for i in range(60):
        places = int(rng.integers(1, 3))
        lines.append(
            f"H{i},{_spaced(pcs[rng.integers(len(pcs))])},approved,{places},"
            f"{int(rng.integers(0, places + 1))},in_house,0-4;5-10;11-15;16+"
        )
    lines.append("=H99,ME14 1XQ,approved,x,0,in_house,0-4")  # rejected row: bad places
    carers = tmp_path / "carers.csv"
    carers.write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.xlsx"
    assert (
        main(
            [
                "report",
                *_args(inputs),
                "--carers",
                str(carers),
                "--households",
                "0",
                "--out",
                str(out),
                "--no-map",
            ]
        )
        == 0
    )
    wb = load_workbook(out)
    assert "Shortage areas" in wb.sheetnames
    head = [c.value for c in wb["Districts"][1]]
    assert {"Carer households", "Vacant places", "Coverage gap (children)"} <= set(head)
    total = list(wb["Districts"].iter_rows(min_row=15, max_row=15, values_only=True))[0]
    assert total[head.index("Carer households")] == 60
    notes = " ".join(str(c.value) for c in wb["Notes"]["A"] if c.value)
    assert "60 carer households" in notes and "1 rejected" in notes
